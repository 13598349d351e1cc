"""What a scenario would do, run by the engine against a throw-away copy (CONTRACTS-2 §A)."""
