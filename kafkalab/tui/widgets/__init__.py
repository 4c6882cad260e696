"""The TUI's widgets, one public widget per module."""
