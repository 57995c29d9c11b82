"""The app's version, stamped into builds and shown by /api/health."""

__version__ = "0.1.0"
