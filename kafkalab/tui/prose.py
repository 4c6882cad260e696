"""Short texts from lessons and action docs drawn as Rich text, with their `code` spans styled as code.

Lesson bodies are Markdown, which styles `code` itself; hints, questions, answers, the folded
strip and form docs are single lines drawn as ``Text``, where backticks would show as they are.
"""

from __future__ import annotations

from rich.text import Text

#: The style Rich's Markdown gives inline code, so a hint's `produce` looks like the lesson text's.
CODE_STYLE = "markdown.code"


def prose(text: str, style: str = "") -> Text:
    """``text`` with each `span` between backticks styled as code (an unpaired backtick stays as it is)."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an odd number of backticks: the last one is a character, not a delimiter
        parts[-2:] = [parts[-2] + "`" + parts[-1]]
    result = Text(style=style)
    for index, part in enumerate(parts):
        result.append(part, CODE_STYLE if index % 2 else None)
    return result
