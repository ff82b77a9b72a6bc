"""The distillation warehouse: agent-run logs in, trusted training data out."""

__version__ = "0.1.0"
SCHEMA_VERSION = 1
