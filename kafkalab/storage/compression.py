"""Compression codecs of a record batch's records section (Kafka's ``CompressionType``).

kafkalab ships only what the standard library can do: ``none`` and ``gzip`` (a gzip
stream, as Java's ``GZIPOutputStream`` writes it). Batches compressed with snappy, lz4
or zstd are recognised by name but rejected with a sentence saying so.
"""

from __future__ import annotations

import zlib
from enum import IntEnum

from kafkalab.errors import Errors, KafkaError

#: zlib's window-bits value that selects the gzip container instead of raw zlib.
_GZIP_WBITS = 31


class CompressionType(IntEnum):
    """The codec id stored in bits 0-2 of a batch's attributes."""

    NONE = 0
    GZIP = 1
    SNAPPY = 2
    LZ4 = 3
    ZSTD = 4

    @property
    def codec_name(self) -> str:
        """Kafka's lower-case name, as ``kafka-dump-log.sh`` prints it (``compresscodec: gzip``)."""
        return self.name.lower()

    @classmethod
    def from_id(cls, codec_id: int) -> CompressionType:
        """The codec with ``codec_id``, or CORRUPT_MESSAGE for an id Kafka does not define."""
        try:
            return cls(codec_id)
        except ValueError:
            raise KafkaError(Errors.CORRUPT_MESSAGE,
                             f"Unknown compression codec id {codec_id} in record batch attributes.") from None


def _unsupported(codec: CompressionType) -> KafkaError:
    return KafkaError(
        Errors.CORRUPT_MESSAGE,
        f"Record batch is compressed with {codec.codec_name}, which kafkalab cannot read; only none and gzip are supported.",
    )


def compress(codec: CompressionType, data: bytes | bytearray | memoryview) -> bytes:
    """Compress a records section with ``codec``."""
    if codec is CompressionType.NONE:
        return bytes(data)
    if codec is CompressionType.GZIP:
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, _GZIP_WBITS)
        return compressor.compress(data) + compressor.flush()
    raise _unsupported(codec)


def decompress(codec: CompressionType, data: bytes | bytearray | memoryview) -> bytes | bytearray | memoryview:
    """Decompress a records section; CORRUPT_MESSAGE if the stream is damaged or the codec unsupported."""
    if codec is CompressionType.NONE:
        return data
    if codec is CompressionType.GZIP:
        try:
            return zlib.decompress(data, _GZIP_WBITS)
        except zlib.error as exc:
            raise KafkaError(Errors.CORRUPT_MESSAGE, f"Record batch gzip data is corrupt: {exc}.") from None
    raise _unsupported(codec)


def target_compression(topic_compression_type: str) -> CompressionType | None:
    """The codec a topic's ``compression.type`` stores batches with; None for ``producer``, which keeps theirs.

    Kafka's ``BrokerCompressionType.targetCompression``: ``uncompressed`` means none.
    """
    if topic_compression_type == "producer":
        return None
    if topic_compression_type == "uncompressed":
        return CompressionType.NONE
    return CompressionType[topic_compression_type.upper()]
