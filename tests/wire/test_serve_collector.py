"""``kafkalab serve``'s garbage collector: what start-up built is frozen, and full passes come rarely."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from kafkalab.gc_pause import FULL_PASS_EVERY, freeze_with_rare_full_passes


@pytest.fixture
def collector() -> Iterator[None]:
    """The collector as the test found it, afterwards (the test process goes on to other tests)."""
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_start_up_is_frozen_and_full_passes_wait_for_many_younger_ones(collector: None) -> None:
    built_at_start_up = [object() for _ in range(3)], {"kept": [1, 2]}
    young, middle, _ = gc.get_threshold()
    freeze_with_rare_full_passes()
    # Frozen objects sit in no generation: no pass walks them again.
    assert not any(o is built_at_start_up for generation in range(3) for o in gc.get_objects(generation))
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (young, middle, FULL_PASS_EVERY)
    assert FULL_PASS_EVERY > 10  # Python's default: a full pass every 10 middle ones
