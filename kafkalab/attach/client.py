"""The Kafka client kafkalab attaches with: confluent-kafka, imported only when someone attaches.

confluent-kafka (librdkafka) is an optional dependency (``pip install 'kafkalab[attach]'``):
a learner who never leaves the lab never needs it. ``--command-config`` takes a Kafka client
properties file as Kafka's own tools do (``kafka-topics.sh --command-config``): its keys
(``security.protocol``, ``sasl.mechanism``, ``ssl.ca.location`` ...) go to librdkafka as they
are, which names most of them as the Java client does.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import ModuleType
from typing import Any

MISSING_CLIENT = ("attaching to a Kafka cluster needs confluent-kafka, which is not installed: "
                  "pip install 'kafkalab[attach]'")
#: librdkafka's own log lines would draw over the TUI: they go to this logger instead, which keeps them (a handler of
#: its own, so Python's last-resort handler never prints them to the terminal either).
LOGGER = logging.getLogger("kafkalab.attach")
LOGGER.addHandler(logging.NullHandler())
LOGGER.propagate = False
#: Keys kafkalab sets itself: a properties file may not change where it connects or what it is called.
_OWN_KEYS = frozenset({"bootstrap.servers", "logger"})


class AttachError(Exception):
    """Attaching cannot start or go on: the client library is missing, a config file is unusable, or the
    cluster does not answer. ``str()`` is one line for the command line."""


def confluent() -> ModuleType:
    """The ``confluent_kafka`` module, or AttachError saying how to install it."""
    try:
        import confluent_kafka
    except ImportError:
        raise AttachError(MISSING_CLIENT) from None
    return confluent_kafka


def read_properties(path: Path) -> dict[str, str]:
    """A Java properties file's ``key=value`` (or ``key: value``) lines; ``#`` and ``!`` start comments.

    Line continuations and escapes, which client configs do not use, are not supported.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AttachError(f"cannot read --command-config {path}: {exc.strerror or exc}") from None
    properties: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        cut = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
        if cut <= 0:
            raise AttachError(f"{path}:{number}: expected key=value, got {line!r}")
        key, value = line[:cut].strip(), line[cut + 1:].strip()
        if key in _OWN_KEYS:
            raise AttachError(f"{path}:{number}: {key} is set by kafkalab (use --bootstrap)")
        properties[key] = value
    return properties


def client_config(bootstrap: str, properties: dict[str, str] | None = None) -> dict[str, Any]:
    """librdkafka's config for an admin client of the cluster at ``bootstrap`` with the user's properties."""
    return {**(properties or {}), "bootstrap.servers": bootstrap, "logger": LOGGER}
