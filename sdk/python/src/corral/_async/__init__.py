"""The clients' code: ``_sync`` is generated from ``_async`` by scripts/generate.py."""
