"""Metadata records as ``kafka-dump-log.sh --cluster-metadata-decoder`` prints them (``MetadataRecordSerde`` JSON).

``{"type":"TOPIC_RECORD","version":0,"data":{"name":"orders","topicId":"..."}}``: the record
type's name in Kafka's ``MetadataRecordType`` spelling, the version, and the fields by their
schema names in camelCase, leaving out tagged fields that hold their default.
"""

from __future__ import annotations

import json
import re
from typing import Any

from kafkalab.errors import KafkaError
from kafkalab.metadata.message_io import Field
from kafkalab.metadata.records import MetadataRecord, decode_record

#: Kafka's ``Uuid.ZERO_UUID`` (also ``DirectoryId.UNASSIGNED``) as it prints.
ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA"


def _camel(attr: str) -> str:
    head, *rest = attr.split("_")
    return head + "".join(part.capitalize() for part in rest)


def record_type_name(record: MetadataRecord) -> str:
    """The record's type as ``MetadataRecordType`` spells it: ``TopicRecord`` is ``TOPIC_RECORD``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(record).__name__).upper()


def _data(message: Any, schema: tuple[Field, ...]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in schema:
        value = getattr(message, field.attr)
        if field.tag is not None and value == field.default:
            continue
        if field.kind == "uuid":
            value = value or ZERO_UUID
        elif field.kind == "[]uuid" and value is not None:
            value = [item or ZERO_UUID for item in value]
        elif field.kind == "[]struct" and value is not None:
            value = [_data(item, item.FIELDS) for item in value]
        elif isinstance(value, tuple):
            value = list(value)
        data[_camel(field.attr)] = value
    return data


def record_json(record: MetadataRecord) -> str:
    """One record's JSON, as Kafka's metadata decoder prints it."""
    return json.dumps({"type": record_type_name(record), "version": record.VERSION, "data": _data(record, record.FIELDS)},
                      separators=(",", ":"))


def decode_payload(value: bytes) -> str:
    """A ``__cluster_metadata`` record value as JSON, or why it cannot be read."""
    try:
        return record_json(decode_record(value))
    except KafkaError as exc:
        return f"<{exc.message}>"



