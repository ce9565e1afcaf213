"""File formats the graders read, each parsed in one place (YAML with line numbers)."""
