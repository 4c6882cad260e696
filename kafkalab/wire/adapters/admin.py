"""CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs and IncrementalAlterConfigs.

Topic admin goes to the controller (ZooKeeper mode: any other broker answers
NOT_CONTROLLER and the admin client retries at the controller Metadata names).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kafkalab.errors import Errors
from kafkalab.protocol.admin import (
    AlterConfigOp,
    ApiResult,
    ConfigResourceType,
    CreatableTopic,
    CreatePartitionsRequest,
    CreatePartitionsResponse,
    CreateTopicsRequest,
    CreateTopicsResponse,
    DeleteTopicsRequest,
    DescribeConfigsRequest,
    DescribeConfigsResponse,
    IncrementalAlterConfigsRequest,
    IncrementalAlterConfigsResponse,
)
from kafkalab.wire.adapters.base import Plan, RequestContext, Tree, adapts
from kafkalab.wire.apis import (
    CREATE_PARTITIONS,
    CREATE_TOPICS,
    DELETE_TOPICS,
    DESCRIBE_CONFIGS,
    INCREMENTAL_ALTER_CONFIGS,
)
from kafkalab.wire.build import millis, topic_id_of

#: DeleteTopics v6 (KIP-516) names topics in entries that may carry an id instead of a name.
DELETE_TOPICS_BY_ENTRY_VERSION = 6
#: Kafka's ``DescribeConfigsResponse.ConfigType`` codes.
_CONFIG_TYPES = {"BOOLEAN": 1, "STRING": 2, "INT": 3, "LONG": 5, "DOUBLE": 6, "LIST": 7}


def _error(result: ApiResult) -> dict[str, Any]:
    return {"error_code": result.error, "error_message": result.message if result.error != Errors.NONE else None}


@adapts(CREATE_TOPICS)
def create_topics(body: Any, ctx: RequestContext) -> Plan:
    """New topics; a manual replica assignment is refused (kafkalab places replicas as Kafka's default does)."""
    topics: list[CreatableTopic] = []
    refused: dict[str, ApiResult] = {}
    for topic in body.topics:
        if topic.assignments:
            refused[topic.name] = ApiResult(Errors.INVALID_REPLICA_ASSIGNMENT,
                                            "kafkalab places replicas itself; leave the assignment out.")
            continue
        configs = {c.name: c.value for c in topic.configs if c.value is not None}
        topics.append(CreatableTopic(topic.name, topic.num_partitions, topic.replication_factor, configs))
    calls = (CreateTopicsRequest(tuple(topics), millis(body.timeout), body.validate_only),) if topics else ()
    asked = {t.name: t for t in body.topics}

    def finish(results: Sequence[Any]) -> Tree:
        outcome = dict(refused)
        if results:
            response: CreateTopicsResponse = results[0]
            outcome.update(response.results)
        entries = []
        for name, result in outcome.items():
            created = result.error == Errors.NONE
            entries.append({"name": name, **_error(result), "topic_id": ctx.topic_ids.get(name, ""),
                            "num_partitions": asked[name].num_partitions if created else -1,
                            "replication_factor": asked[name].replication_factor if created else -1,
                            "configs": None})
        return {"topics": entries}

    return Plan(calls, finish)


@adapts(DELETE_TOPICS)
def delete_topics(body: Any, ctx: RequestContext) -> Plan:
    """Delete topics named (or, from v6, identified by id)."""
    if ctx.api_version >= DELETE_TOPICS_BY_ENTRY_VERSION:
        wanted = [(t.name or ctx.topic_named(topic_id_of(t.topic_id)), topic_id_of(t.topic_id)) for t in body.topics]
    else:
        wanted = [(name, "") for name in body.topic_names]
    names = tuple(name for name, _ in wanted if name is not None)
    ids = dict(ctx.topic_ids)
    calls = (DeleteTopicsRequest(names, millis(body.timeout)),) if names else ()

    def finish(results: Sequence[Any]) -> Tree:
        outcome = results[0].results if results else {}
        entries = []
        for name, topic_id in wanted:
            if name is None:
                entries.append({"name": None, "topic_id": topic_id, "error_code": Errors.UNKNOWN_TOPIC_ID})
                continue
            response: ApiResult = outcome[name]
            entries.append({"name": name, "topic_id": ids.get(name, topic_id), **_error(response)})
        return {"responses": entries}

    return Plan(calls, finish)


@adapts(CREATE_PARTITIONS)
def create_partitions(body: Any, ctx: RequestContext) -> Plan:
    """Grow topics; a manual assignment of the new partitions is refused, as for CreateTopics."""
    refused = {t.name: ApiResult(Errors.INVALID_REPLICA_ASSIGNMENT,
                                 "kafkalab places replicas itself; leave the assignment out.")
               for t in body.topics if t.assignments}
    grow = tuple((t.name, t.count) for t in body.topics if t.name not in refused)
    calls = (CreatePartitionsRequest(grow, millis(body.timeout), body.validate_only),) if grow else ()

    def finish(results: Sequence[Any]) -> Tree:
        outcome = dict(refused)
        if results:
            response: CreatePartitionsResponse = results[0]
            outcome.update(response.results)
        return {"results": [{"name": t.name, **_error(outcome[t.name])} for t in body.topics]}

    return Plan(calls, finish)


@adapts(DESCRIBE_CONFIGS)
def describe_configs(body: Any, ctx: RequestContext) -> Plan:
    """Topic and broker configs, one engine request per resource."""
    resources = list(body.resources)
    known = {t.value for t in ConfigResourceType}
    calls = tuple(DescribeConfigsRequest(ConfigResourceType(r.resource_type), r.resource_name,
                                         None if not r.configuration_keys else tuple(r.configuration_keys))
                  for r in resources if r.resource_type in known)
    synonyms = bool(getattr(body, "include_synonyms", False))
    documentation = bool(getattr(body, "include_documentation", False))

    def entry(resource: Any, response: DescribeConfigsResponse | None) -> dict[str, Any]:
        head = {"resource_type": resource.resource_type, "resource_name": resource.resource_name}
        if response is None:
            return {**head, "error_code": Errors.INVALID_REQUEST,
                    "error_message": f"Unsupported resource type {resource.resource_type}", "configs": []}
        configs = [{"name": c.name, "value": c.value, "read_only": c.read_only, "config_source": c.source.value,
                    "is_sensitive": False, "config_type": _CONFIG_TYPES.get(c.config_type, 0),
                    "documentation": c.documentation if documentation else None,
                    "synonyms": [{"name": n, "value": v, "source": s.value} for n, v, s in c.synonyms]
                    if synonyms else []}
                   for c in response.configs]
        return {**head, **_error(response.result), "configs": configs}

    def finish(results: Sequence[Any]) -> Tree:
        answers = iter(results)
        return {"results": [entry(r, next(answers) if r.resource_type in known else None) for r in resources]}

    return Plan(calls, finish)


@adapts(INCREMENTAL_ALTER_CONFIGS)
def incremental_alter_configs(body: Any, ctx: RequestContext) -> Plan:
    """KIP-339 SET and DELETE on topic configs; broker configs are fixed for a cluster's life here."""
    outcome: dict[int, ApiResult] = {}
    calls = []
    for index, resource in enumerate(body.resources):
        if resource.resource_type != ConfigResourceType.TOPIC.value:
            outcome[index] = ApiResult(Errors.INVALID_REQUEST, "kafkalab's broker configs are set when the cluster "
                                                               "is created and cannot change while it runs.")
            continue
        ops = [(c.name, c.config_operation, c.value) for c in resource.configs]
        unsupported = [name for name, op, _ in ops if op not in (AlterConfigOp.SET.value, AlterConfigOp.DELETE.value)]
        if unsupported:
            outcome[index] = ApiResult(Errors.INVALID_CONFIG, f"Only SET and DELETE are supported, not APPEND or "
                                                              f"SUBTRACT ({', '.join(unsupported)}).")
            continue
        calls.append((index, IncrementalAlterConfigsRequest(
            resource.resource_name, tuple((name, AlterConfigOp(op), value) for name, op, value in ops),
            body.validate_only)))

    def finish(results: Sequence[Any]) -> Tree:
        answers: dict[int, ApiResult] = dict(outcome)
        for (index, _), response in zip(calls, results, strict=True):
            answers[index] = response.result if isinstance(response, IncrementalAlterConfigsResponse) else \
                ApiResult(Errors.UNKNOWN_SERVER_ERROR)
        return {"responses": [{"resource_type": r.resource_type, "resource_name": r.resource_name,
                               **_error(answers[i])} for i, r in enumerate(body.resources)]}

    return Plan(tuple(call for _, call in calls), finish)
