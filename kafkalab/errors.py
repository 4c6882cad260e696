"""Kafka's error names and codes, and the exception that carries one.

The names and codes are Apache Kafka's (``org.apache.kafka.common.protocol.Errors``)
so what a learner reads here is what a real client would report.
"""

from __future__ import annotations

from enum import Enum


class Errors(Enum):
    """A Kafka protocol error: its wire code and a short default description."""

    NONE = (0, "No error.")
    UNKNOWN_SERVER_ERROR = (-1, "The server experienced an unexpected error when processing the request.")
    OFFSET_OUT_OF_RANGE = (1, "The requested offset is not within the range of offsets maintained by the server.")
    CORRUPT_MESSAGE = (2, "This message has failed its CRC checksum, exceeds the valid size, or is otherwise corrupt.")
    UNKNOWN_TOPIC_OR_PARTITION = (3, "This server does not host this topic-partition.")
    LEADER_NOT_AVAILABLE = (5, "There is no leader for this topic-partition as we are in the middle of a leadership election.")
    NOT_LEADER_OR_FOLLOWER = (6, "For requests intended only for the leader, this error indicates that the broker is not the current leader.")
    REQUEST_TIMED_OUT = (7, "The request timed out.")
    BROKER_NOT_AVAILABLE = (8, "The broker is not available.")
    REPLICA_NOT_AVAILABLE = (9, "The replica is not available for the requested topic-partition.")
    MESSAGE_TOO_LARGE = (10, "The request included a message larger than the max message size the server will accept.")
    STALE_CONTROLLER_EPOCH = (11, "The controller moved to another broker.")
    OFFSET_METADATA_TOO_LARGE = (12, "The metadata field of the offset request was too large.")
    NETWORK_EXCEPTION = (13, "The server disconnected before a response was received.")
    COORDINATOR_LOAD_IN_PROGRESS = (14, "The coordinator is loading and hence can't process requests.")
    COORDINATOR_NOT_AVAILABLE = (15, "The coordinator is not available.")
    NOT_COORDINATOR = (16, "This is not the correct coordinator.")
    INVALID_TOPIC_EXCEPTION = (17, "The request attempted to perform an operation on an invalid topic.")
    RECORD_LIST_TOO_LARGE = (18, "The request included message batch larger than the configured segment size on the server.")
    NOT_ENOUGH_REPLICAS = (19, "Messages are rejected since there are fewer in-sync replicas than required.")
    NOT_ENOUGH_REPLICAS_AFTER_APPEND = (20, "Messages are written to the log, but to fewer in-sync replicas than required.")
    INVALID_REQUIRED_ACKS = (21, "Produce request specified an invalid value for required acks.")
    ILLEGAL_GENERATION = (22, "Specified group generation id is not valid.")
    INCONSISTENT_GROUP_PROTOCOL = (23, "The group member's supported protocols are incompatible with those of existing members or first group member tried to join with empty protocol type or empty protocol list.")
    INVALID_GROUP_ID = (24, "The configured groupId is invalid.")
    UNKNOWN_MEMBER_ID = (25, "The coordinator is not aware of this member.")
    INVALID_SESSION_TIMEOUT = (26, "The session timeout is not within the range allowed by the broker.")
    REBALANCE_IN_PROGRESS = (27, "The group is rebalancing, so a rejoin is needed.")
    INVALID_COMMIT_OFFSET_SIZE = (28, "The committing offset data size is not valid.")
    TOPIC_AUTHORIZATION_FAILED = (29, "Topic authorization failed.")
    INVALID_TIMESTAMP = (32, "The timestamp of the message is out of acceptable range.")
    INVALID_REQUEST = (42, "This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker.")
    TOPIC_ALREADY_EXISTS = (36, "Topic with this name already exists.")
    INVALID_PARTITIONS = (37, "Number of partitions is below 1.")
    INVALID_REPLICATION_FACTOR = (38, "Replication factor is below 1 or larger than the number of available brokers.")
    INVALID_REPLICA_ASSIGNMENT = (39, "Replica assignment is invalid.")
    INVALID_CONFIG = (40, "Configuration is invalid.")
    NOT_CONTROLLER = (41, "This is not the correct controller for this cluster.")
    POLICY_VIOLATION = (44, "Request parameters do not satisfy the configured policy.")
    OUT_OF_ORDER_SEQUENCE_NUMBER = (45, "The broker received an out of order sequence number.")
    DUPLICATE_SEQUENCE_NUMBER = (46, "The broker received a duplicate sequence number.")
    INVALID_PRODUCER_EPOCH = (47, "Producer attempted to produce with an old epoch.")
    INVALID_TXN_STATE = (48, "The producer attempted a transactional operation in an invalid state.")
    INVALID_PRODUCER_ID_MAPPING = (49, "The producer attempted to use a producer id which is not currently assigned to its transactional id.")
    INVALID_TRANSACTION_TIMEOUT = (50, "The transaction timeout is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms).")
    CONCURRENT_TRANSACTIONS = (51, "The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing.")
    TRANSACTION_COORDINATOR_FENCED = (52, "Indicates that the transaction coordinator sending a WriteTxnMarker is no longer the current coordinator for a given producer.")
    PRODUCER_FENCED = (90, "There is a newer producer with the same transactionalId which fences the current one.")
    TRANSACTIONAL_ID_NOT_FOUND = (105, "The transactionalId could not be found.")
    UNKNOWN_PRODUCER_ID = (59, "This exception is raised by the broker if it could not locate the producer metadata associated with the producerId in question.")
    KAFKA_STORAGE_ERROR = (56, "Disk error when trying to access log file on the disk.")
    FENCED_LEADER_EPOCH = (74, "The leader epoch in the request is older than the epoch on the broker.")
    UNKNOWN_LEADER_EPOCH = (75, "The leader epoch in the request is newer than the epoch on the broker.")
    UNSUPPORTED_VERSION = (35, "The version of API is not supported.")
    FETCH_SESSION_ID_NOT_FOUND = (70, "The fetch session ID was not found.")
    INVALID_FETCH_SESSION_EPOCH = (71, "The fetch session epoch is invalid.")
    UNSUPPORTED_COMPRESSION_TYPE = (76, "The requesting client does not support the compression type of given partition.")
    UNKNOWN_TOPIC_ID = (100, "This server does not host this topic ID.")
    INCONSISTENT_TOPIC_ID = (103, "The log's topic ID did not match the topic ID in the request.")
    GROUP_ID_NOT_FOUND = (69, "The group id does not exist.")
    NON_EMPTY_GROUP = (68, "The group is not empty.")
    STALE_BROKER_EPOCH = (77, "Broker epoch has changed.")
    MEMBER_ID_REQUIRED = (79, "The group member needs to have a valid member id before actually entering a consumer group.")
    PREFERRED_LEADER_NOT_AVAILABLE = (80, "The preferred leader was not available.")
    GROUP_MAX_SIZE_REACHED = (81, "The consumer group has reached its max size.")
    FENCED_INSTANCE_ID = (82, "The broker rejected this static consumer since another consumer with the same group.instance.id has registered with a different member.id.")
    ELIGIBLE_LEADERS_NOT_AVAILABLE = (83, "Eligible topic partition leaders are not available.")
    ELECTION_NOT_NEEDED = (84, "Leader election not needed for topic partition.")
    INVALID_UPDATE_VERSION = (95, "The given update version was invalid.")
    UNSTABLE_OFFSET_COMMIT = (88, "There are unstable offsets that need to be cleared.")
    INVALID_RECORD = (87, "This record has failed the validation on broker and hence will be rejected.")
    SNAPSHOT_NOT_FOUND = (98, "Requested snapshot was not found.")
    POSITION_OUT_OF_RANGE = (99, "Requested position is not greater than or equal to zero, and less than the size of the snapshot.")
    INCONSISTENT_CLUSTER_ID = (104, "The clusterId in the request does not match that found on the server.")
    DUPLICATE_BROKER_REGISTRATION = (101, "This broker ID is already in use.")
    BROKER_ID_NOT_REGISTERED = (102, "The given broker ID was not registered.")
    INELIGIBLE_REPLICA = (107, "The new ISR contains at least one ineligible replica.")
    TRANSACTION_ABORTABLE = (120, "The server encountered an error with the transaction. The client can abort the "
                                  "transaction to continue using this transactional ID.")
    NO_OFFSET_FOR_PARTITION = (-1001, "No committed offset for the partition and auto.offset.reset is none.")
    ILLEGAL_STATE = (-1002, "The operation is not allowed in the client's current state.")
    INVALID_ARGUMENT = (-1003, "An argument is not valid.")
    BROKER_ALREADY_RUNNING = (-1004, "The broker is already running.")
    DATA_DIR_LOCKED = (-1005, "Another process is using this data directory.")
    DATA_DIR_INVALID = (-1006, "The directory is not a kafkalab data directory.")
    TRANSACTION_ABORTED = (-1008, "Failing batch since transaction was aborted (Kafka's TransactionAbortedException).")
    COMMIT_FAILED = (-1007, "The commit cannot be completed: the group has rebalanced and the partitions belong to "
                            "another member (Kafka's CommitFailedException).")
    LAB_ONLY = (-1009, "The step needs the lab (a broker process, a network link, virtual time); an attached cluster cannot run it.")
    CLUSTER_READ_ONLY = (-1010, "The attached cluster is read-only: kafkalab attach changes it only with --allow-writes.")

    @property
    def code(self) -> int:
        """Kafka's numeric error code (negative codes are kafkalab's client-side errors)."""
        return self.value[0]

    @property
    def description(self) -> str:
        """Kafka's default description of the error."""
        return self.value[1]


class KafkaError(Exception):
    """An operation failed with a Kafka error; ``str()`` reads ``NAME: sentence``."""

    def __init__(self, error: Errors, message: str | None = None) -> None:
        self.error = error
        self.message = message or error.description
        super().__init__(f"{error.name}: {self.message}")

    @property
    def name(self) -> str:
        """The Kafka error name, e.g. ``NOT_ENOUGH_REPLICAS``."""
        return self.error.name


#: How many characters of user data an error message quotes at most.
QUOTE_LIMIT = 60


def quoted(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` cut to about ``limit`` characters, saying how long it was: errors never echo a whole input."""
    if isinstance(value, (str, bytes)) and len(value) > limit:
        unit = "characters" if isinstance(value, str) else "bytes"
        return f"{value[:limit]!r}... ({len(value):,} {unit})"
    if isinstance(value, int) and value.bit_length() > 4 * limit:
        # repr() of an integer with more than 4,300 digits raises; its size is what matters.
        return f"an integer of {value.bit_length():,} bits"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"
