"""Coverage analysis (SPEC §6): readings → point and cell verdicts → blind spots and the plan."""
