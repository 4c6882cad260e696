"""Expectations as sentences: a tick or a box, what is expected, and what the cluster shows instead.

Shared by the lesson panel (goals ticking live) and the scenario panel (an ``expect`` step's checks).
A goal reads as the learner would say it: ``☐ at least 3 records with key alice in greetings-0``,
then ``now: 1 record``, never as the check's field names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text

from kafkalab.tui.flow import flow

if TYPE_CHECKING:
    from kafkalab.actions.results import CheckResult

Fields = dict[str, Any]


def _value(value: Any) -> str:
    return value if isinstance(value, str) else flow(value)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _either(flag: bool | None, yes: str, no: str) -> str:
    """``yes`` or ``no`` for a flag a check sets; nothing for one it leaves out."""
    return "" if flag is None else yes if flag else no


def _and(parts: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


#: How a field reads after "has" or "with" (the rest read as ``name value``).
_PHRASES: dict[str, Callable[[Any], str]] = {
    "leader": lambda v: "no leader" if v == -1 else f"leader {v}",
    "isr": lambda v: f"ISR {_value(v)}",
    "offline": lambda v: "no leader (offline)" if v else "a leader",
    "partitions": lambda v: _count(v, "partition"),
    "records": lambda v: _count(v, "readable record"),
    "partitions_with_records": lambda v: f"records in {_count(v, 'partition')}",
    "members": lambda v: _count(v, "member"),
    "state": lambda v: f"state {v}",
    "exists": lambda v: "existing" if v else "not existing",
}


#: Where a check's field reads otherwise in what the cluster shows now (``now: running``, not ``state running``).
_FOUND: dict[str, dict[str, Callable[[Any], str]]] = {
    "broker": {"state": str, "registered": lambda v: "registered" if v else "not registered",
               "controller": lambda v: "the controller" if v else "not the controller"},
    "link": {"up": lambda v: "up" if v else "cut"},
    "controller": {"controller": lambda v: "no controller" if v is None else f"broker {v}"},
    "znode": {"ephemeral": lambda v: "ephemeral" if v else "persistent",
              "owner": lambda v: f"owned by {v}'s session" if v else "owned by no session"},
}


def _phrase(name: str, value: Any, check: str = "") -> str:
    found = _FOUND.get(check, {}).get(name)
    if found is not None:
        return found(value)
    if value is None:
        return f"no {name.replace('_', ' ')}"
    rule = _PHRASES.get(name)
    return rule(value) if rule is not None else f"{name.replace('_', ' ')} {_value(value)}"


def _phrases(values: Fields, check: str = "") -> str:
    return _and([_phrase(name, value, check) for name, value in values.items()])


def _where(where: Fields) -> str:
    return f" ({', '.join(_phrase(key, value) for key, value in where.items())})" if where else ""


def _records(e: Fields) -> str:
    if "count" in e:
        amount = _count(e["count"], "record")
    elif "at_least" in e:
        amount = f"at least {_count(e['at_least'], 'record')}"
    else:
        amount = "a record"
    which = "".join(f" with {name} {e[name]}" for name in ("key", "value") if name in e)
    at = f" at offset {e['offset']}" if "offset" in e else ""
    replica = f" (broker {e['broker']}'s replica)" if "broker" in e else ""
    return f"{amount}{which}{at} in {e['topic']}-{e['partition']}{replica}"


def _consumed(e: Fields) -> str:
    who = (f"consumer {e['client_id']}" if "client_id" in e else "") + \
          (f" of group {e['group']}" if "group" in e and "client_id" in e else f"group {e['group']}" if "group" in e
           else "")
    amount = (_count(e["count"], "record") if "count" in e else f"at least {_count(e['at_least'], 'record')}"
              if "at_least" in e else "records")
    order = _either(e.get("in_order"), ", each partition in offset order and none twice", ", not all in order")
    return f"{who or 'consumers'} consumed {amount}{order}"


def _broker(e: Fields) -> str:
    said = {"state": lambda v: f"is {v}", "registered": lambda v: "is registered in ZooKeeper" if v
            else "is not registered in ZooKeeper", "controller": lambda v: "is the controller" if v
            else "is not the controller"}
    return f"broker {e['broker']} " + _and([said[name](e[name]) for name in said if name in e])


def _topic(e: Fields) -> str:
    if e.get("exists") is False:
        return f"topic {e['topic']} does not exist"
    rest = {name: value for name, value in e.items() if name not in ("topic", "exists")}
    return f"topic {e['topic']} exists" + (f" with {_phrases(rest)}" if rest else "")


def _group(e: Fields) -> str:
    rest = {name: value for name, value in e.items() if name not in ("group", "state")}
    state = f" is {e['state']}" if "state" in e else ""
    return f"group {e['group']}{state}" + (f"{' and' if state else ''} has {_phrases(rest)}" if rest else "")


def _znode(e: Fields) -> str:
    exists = _either(e.get("exists"), " exists", " does not exist")
    kind = _either(e.get("ephemeral"), ", ephemeral", ", persistent")
    owner = f", owned by {e['owner']}'s session" if "owner" in e else ""
    return f"znode {e['path']}{exists}{kind}{owner}"


def _event(e: Fields, happened: bool = True) -> str:
    if not happened:
        return f"no {e.get('type')}{_where(e.get('where', {}))}"
    times = f" at least {e['at_least']} times" if e.get("at_least", 1) != 1 else ""
    return f"{e.get('type')} happened{times}{_where(e.get('where', {}))}"


#: Each check as a sentence from its expected fields.
_SENTENCES: dict[str, Callable[[Fields], str]] = {
    "records": _records,
    "consumed": _consumed,
    "partition": lambda e: f"{e['topic']}-{e['partition']} has "
                           + _phrases({k: v for k, v in e.items() if k not in ("topic", "partition")}),
    "topic": _topic,
    "broker": _broker,
    "group": _group,
    "znode": _znode,
    "link": lambda e: f"the link between {_and([str(n) for n in e['between']])} is {'up' if e['up'] else 'cut'}",
    "key_partition": lambda e: f"every record with key {e['key']} is in {e['topic']}-{e['partition']}",
    "event": _event,
    "no_event": lambda e: _event(e, happened=False),
    "controller": lambda e: f"broker {e['controller']} is the controller",
    "last_error": lambda e: "the previous step succeeded" if e["last_error"] == "NONE"
                            else f"the previous step failed with {e['last_error']}",
}
#: Fields that name what a check is about rather than what it expects.
IDENTITY = frozenset({"topic", "partition", "broker", "group", "client_id", "path", "key", "between"})


def sentence(result: CheckResult) -> str:
    """What ``result``'s check expects, as a sentence (a check without a rule here shows its fields)."""
    rule = _SENTENCES.get(result.check)
    return rule(result.expected) if rule is not None else f"{result.check} {_phrases(result.expected)}"


def instead(result: CheckResult) -> str:
    """What the cluster shows instead of a check that does not hold ("" when there is nothing more to say)."""
    expected, actual = result.expected, result.actual
    if actual.get("exists") is False:
        return "it does not exist"
    if actual.get("online") is False:
        return "no replica online to read"
    if result.check in ("records", "consumed"):
        found = _count(actual.get("count", 0), "record")
        return found + (f", {actual['out_of_order']} out of order" if actual.get("out_of_order") else "")
    if result.check in ("event", "no_event"):
        return f"seen {actual.get('count', 0)}"
    differs = {name: actual.get(name) for name, value in expected.items()
               if name not in IDENTITY and actual.get(name) != value}
    return _phrases(differs, result.check) if differs else ""


def check_line(result: CheckResult, live: bool = True) -> Text:
    """``✓ orders-1 has leader 2``; one that does not hold yet (``live``) or failed also says what is found."""
    if result.ok:
        line = Text("✓ ", style="bold green")
    else:
        line = Text("☐ ", style="bold yellow") if live else Text("✗ ", style="bold red")
    line.append(sentence(result), "bold")
    shown = "" if result.ok else instead(result)
    if shown:
        line.append(f"\n  {'now' if live else 'found'}: {shown}", "dim")
    return line
