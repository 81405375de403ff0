# Generated from ../_async by scripts/generate.py: edit that, not this.
"""The clients' code: ``_sync`` is generated from ``_async`` by scripts/generate.py."""
