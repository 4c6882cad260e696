"""Key, value and header templates: text in which ``{i}`` is the record's index, and nothing else.

Templates come from files people share, so they are checked before any record is built:
Python's format language would otherwise look up attributes (``{i.__class__}``) or pad a
value to two billion characters (``{i:>2000000000}``).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from functools import lru_cache

from kafkalab.errors import Errors, KafkaError, quoted

#: Widest padding or precision a ``{i:...}`` spec may ask for; Kafka's max.request.size (1 MiB) bounds a record anyway.
MAX_TEMPLATE_WIDTH = 1_000_000
#: Python's format spec for a number: [[fill]align][sign][#][0][width][grouping][.precision][type].
_NUMBER_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?#?0?(?P<width>\d+)?[_,]?(?:\.(?P<precision>\d+))?[bdoxXneEfFgG%]?",
                          re.DOTALL)


def template_problem(template: str) -> str | None:
    """What is wrong with a template, or None when ``{i}`` (with a number format such as ``{i:05d}``) is all it uses."""
    return _cached_problem(template) if len(template) <= _CACHED_LENGTH else _problem(template)


#: Templates up to this long have their verdict cached (each record renders its template again).
_CACHED_LENGTH = 4096


def _problem(template: str) -> str | None:
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        return f"{quoted(template)} is not a template ({exc}); write {{{{ and }}}} for literal braces"
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        shown = quoted("{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}")
        if field != "i" or conversion is not None:
            return f"only {{i}} (the record's index) may be used, not {shown}"
        match = _NUMBER_SPEC.fullmatch(spec or "")
        if match is None:
            return f"{shown} is not a number format (try {{i:05d}} or {{i:>8}})"
        if any(int(match[part] or 0) > MAX_TEMPLATE_WIDTH for part in ("width", "precision")):
            return f"{shown} pads wider than {MAX_TEMPLATE_WIDTH:,} characters"
        try:
            format(0, spec or "")
        except ValueError as exc:
            return f"{shown} is not a number format ({exc})"
    return None


_cached_problem = lru_cache(maxsize=256)(_problem)


def templates_problem(templates: Mapping[str, str]) -> str | None:
    """The first problem among header templates, naming the header."""
    for name, template in templates.items():
        problem = template_problem(template)
        if problem is not None:
            return f"header {quoted(name)}: {problem}"
    return None


def optional_template_problem(template: str | None) -> str | None:
    """``template_problem`` for a template that may be absent (a null key or tombstone value)."""
    return None if template is None else template_problem(template)


def render(template: str | None, index: int) -> str | None:
    """Fill ``{i}`` in a key or value template (``"user-{i}"``) with the record's index."""
    if template is None:
        return None
    problem = template_problem(template)
    if problem is not None:
        raise KafkaError(Errors.INVALID_ARGUMENT, f"Bad template: {problem}.")
    return template.format_map({"i": index})
