"""Coverage analysis (docs/coverage.md): readings → point and cell verdicts → blind spots → plan."""
