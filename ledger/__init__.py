"""Double-entry ledger and the small shared kernel every domain builds on (money, errors, base types)."""
