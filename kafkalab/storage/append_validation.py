"""Checks on record batches before they are appended (Kafka's ``analyzeAndValidateRecords`` and ``LogValidator``).

Validation walks batch headers and checks CRCs; only for compacted topics, which must
reject records without keys, does it look inside records, and then only at key lengths. Everything is checked before anything
is written, so a rejected append leaves the log untouched. A topic's own ``compression.type`` is
applied here too (``recompress``), as ``LogValidator`` converts codecs.
"""

from __future__ import annotations

from collections.abc import Sequence

from kafkalab.config import TopicConfig
from kafkalab.errors import Errors, KafkaError
from kafkalab.storage.compression import CompressionType
from kafkalab.storage.records import (
    LOG_OVERHEAD,
    BatchHeader,
    all_records_have_keys,
    compute_crc,
    crc_problem,
    encode_batch,
    iter_records,
    read_batch_header,
)

Batches = list[tuple[int, BatchHeader]]


def _corrupt(buf: bytes, position: int, header: BatchHeader, partition: str) -> KafkaError:
    """CORRUPT_MESSAGE for a batch whose CRC32C does not match (Kafka's ``CorruptRecordException`` message)."""
    return KafkaError(Errors.CORRUPT_MESSAGE, f"{crc_problem(buf, position, header)} in topic partition {partition}.")


def validate_leader_batches(buf: bytes, config: TopicConfig, partition: str, allow_control: bool = False) -> Batches:
    """The batches of a produce request, checked as a leader checks them; raises the first problem found.

    ``allow_control`` admits the transaction markers a coordinator writes (they carry no sequence).
    """
    batches: Batches = []
    position, end = 0, len(buf)
    while position < end:  # iter_batch_headers' walk without its generator: every produce request passes here
        header = read_batch_header(buf, position, True)
        size = header.batch_length + LOG_OVERHEAD
        if size > config.max_message_bytes:
            raise KafkaError(Errors.MESSAGE_TOO_LARGE,
                             f"The record batch size in the append to {partition} is {size} bytes "
                             f"which exceeds the maximum configured value of {config.max_message_bytes}.")
        # The CRC compared here and its sentence built only for a batch that fails it: every append checks each batch.
        if compute_crc(buf, position, size) != header.crc:
            raise _corrupt(buf, position, header, partition)
        if header.base_offset != 0:
            raise KafkaError(Errors.INVALID_RECORD, f"The baseOffset of the record batch in the append to {partition} "
                                                    f"should be 0, but it is {header.base_offset}.")
        if header.record_count <= 0 or header.last_offset_delta + 1 != header.record_count:
            raise KafkaError(Errors.INVALID_RECORD,
                             f"Inconsistent batch offset range [0, {header.last_offset_delta}] and count of records "
                             f"{header.record_count} in topic partition {partition}.")
        control = header.is_control
        if header.producer_id >= 0 and header.base_sequence < 0 and not (control and allow_control):
            raise KafkaError(Errors.INVALID_RECORD, f"Invalid sequence number {header.base_sequence} in record batch with "
                                                    f"producerId {header.producer_id} in topic partition {partition}.")
        if control and not allow_control:
            raise KafkaError(Errors.INVALID_RECORD,
                             f"Clients are not allowed to write control records in topic partition {partition}.")
        if config.compact and not all_records_have_keys(buf, position, header):
            raise KafkaError(Errors.INVALID_RECORD,
                             f"Compacted topic cannot accept message without key in topic partition {partition}.")
        # Kafka compares the whole appended set with segment.bytes; kafkalab rolls between the
        # batches of one append, so only a single batch has to fit in an empty segment.
        if size > config.segment_bytes:
            raise KafkaError(Errors.RECORD_LIST_TOO_LARGE,
                             f"Message batch size is {size} bytes in append to partition {partition}, "
                             f"which exceeds the maximum configured segment size of {config.segment_bytes}.")
        batches.append((position, header))
        position += size
    return batches


def validate_follower_batches(buf: bytes, config: TopicConfig, partition: str, log_end_offset: int) -> Batches:
    """The batches a follower fetched, which must continue its log; raises the first problem found.

    Offsets must rise from the log end offset; on a topic that is not compacted they must
    follow it without gaps. Kafka raises ``UnexpectedAppendOffsetException`` /
    ``OffsetsOutOfOrderException`` here, which reach a client as UNKNOWN_SERVER_ERROR.
    """
    batches: Batches = []
    expected = log_end_offset
    position, end = 0, len(buf)
    while position < end:  # as in validate_leader_batches
        header = read_batch_header(buf, position, True)
        size = header.batch_length + LOG_OVERHEAD
        if compute_crc(buf, position, size) != header.crc:
            raise _corrupt(buf, position, header, partition)
        if header.base_offset < expected or (not config.compact and header.base_offset != expected):
            what = "Unexpected offset" if not batches else "Out of order offsets"
            raise KafkaError(Errors.UNKNOWN_SERVER_ERROR,
                             f"{what} in append to {partition}: a batch starts at offset {header.base_offset} "
                             f"but the next offset is {expected}.")
        if header.last_offset_delta < 0:
            raise KafkaError(Errors.CORRUPT_MESSAGE, f"Record batch at offset {header.base_offset} in append to "
                                                     f"{partition} has a negative last offset delta.")
        # No segment.bytes check: the leader accepted this batch, perhaps before segment.bytes was
        # lowered, and a follower that refused it could never catch up (KAFKA-17375). An oversized
        # batch gets a segment of its own.
        expected = header.base_offset + header.last_offset_delta + 1  # the next offset, without the property
        batches.append((position, header))
        position += size
    return batches


def recompress(buf: bytes, batches: Sequence[tuple[int, BatchHeader]], codec: CompressionType) -> bytes:
    """Producer batches rewritten with ``codec`` where theirs differs (Kafka's ``LogValidator`` for a topic's
    ``compression.type``).

    Producer id, epoch, sequences, timestamps and headers are kept. This is the one leader
    path that decodes records, and only for topics that ask for a codec of their own.
    """
    out = bytearray()
    for position, header in batches:
        if header.compression is codec:
            out += buf[position:position + header.size_in_bytes]
            continue
        records = [(r.key, r.value, r.headers, r.timestamp) for r in iter_records(buf, position, header)]
        out += encode_batch(records, producer_id=header.producer_id, producer_epoch=header.producer_epoch,
                            base_sequence=header.base_sequence, timestamp_type=header.timestamp_type,
                            compression=codec, is_transactional=header.is_transactional)
    return bytes(out)
