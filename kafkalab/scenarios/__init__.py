"""YAML scenarios: load and validate them with line marks, run them headless, report."""
