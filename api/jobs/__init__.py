"""Periodic jobs: what runs when (registry), once per tick across processes (runner), and the
APScheduler that fires them inside `hezuo serve` (SQLite default) or a `hezuo worker` process."""
