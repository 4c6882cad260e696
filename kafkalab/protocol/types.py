"""Small value types shared by every API, and the base of every request."""

from __future__ import annotations

import dataclasses
from typing import Any, Generic, NamedTuple, TypeVar

#: The response type a request is answered with.
R_co = TypeVar("R_co", covariant=True)
T = TypeVar("T")


class Request(Generic[R_co]):
    """A request answered by an ``R_co``: senders get a future of that type (or of a transport error)."""

    __slots__ = ()


class TopicPartition(NamedTuple):
    """A partition of a topic, printed as Kafka prints it: ``orders-0``.

    A named tuple rather than a dataclass: it keys most dictionaries of the engine, and a
    tuple hashes and compares in C, which a dataclass's generated methods do not.
    """

    topic: str
    partition: int

    def __str__(self) -> str:
        return f"{self.topic}-{self.partition}"


#: Kafka's sentinel for "no leader" in metadata and partition state.
NO_LEADER = -1



def direct_init(cls: type[T]) -> type[T]:
    """Give a frozen dataclass an ``__init__`` that stores its fields straight into the instance's ``__dict__``.

    A frozen dataclass's own ``__init__`` sets each field through ``object.__setattr__``; the messages every
    acks=all produce request builds (a produce request and response, two fetch requests and four fetch responses)
    set 44 fields that way, 2 % of the request's instructions. Applied above ``@dataclass(frozen=True)``:
    the class stays a frozen dataclass (assigning a field raises ``FrozenInstanceError``, ``fields``, ``replace``
    and equality are the dataclass's); only the way the values get in is cheaper. Plain positional-or-keyword
    fields with plain defaults only, which is what these messages have.
    """
    params = dataclasses.fields(cls)  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__") or any(
            not field.init or field.kw_only or field.default_factory is not dataclasses.MISSING for field in params):
        raise TypeError(f"direct_init takes only plain fields and no __post_init__, which {cls.__name__} has")
    defaults: dict[str, Any] = {field.name: field.default for field in params
                                if field.default is not dataclasses.MISSING}
    signature = ", ".join(f"{field.name}=_defaults[{field.name!r}]" if field.name in defaults else field.name
                          for field in params)
    stores = "".join(f"\n    _values[{field.name!r}] = {field.name}" for field in params)
    namespace: dict[str, Any] = {"_defaults": defaults}
    exec(f"def __init__(self, {signature}) -> None:\n    _values = self.__dict__{stores}", namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
