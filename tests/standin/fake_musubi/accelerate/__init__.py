"""Stand-in for the `accelerate` package (tests only; see tests/standin/README.md)."""
