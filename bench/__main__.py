"""`python -m bench`: run the ledger benchmark (see bench/ledger.py; `--help` for options)."""

import sys

from bench.ledger import main

if __name__ == "__main__":
    sys.exit(main())
