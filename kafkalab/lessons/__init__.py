"""Guided lessons: files, a live lesson run, headless verification and saved progress."""
