"""The seeded corruption campaign, one test per seed (see corruption_campaign.py).

CI runs a fixed set of seeds chosen to cover every fault and mode: damage read under a
running leader, a torn leader tail under the clean-shutdown marker that loses
acknowledged records (as Kafka loses them), zeroed ranges, unreadable checkpoints and
indexes, crash restarts. ``KAFKALAB_CORRUPTION_SEEDS=0-199`` runs a range instead; a
failure names its seed and the command that replays it.
"""

from __future__ import annotations

import os

import pytest
from corruption_campaign import parse_seeds, run_campaign

#: 237: a flipped lastOffsetDelta under a running leader once read as "not yet committed", forever.
CI_SEEDS = [2, 5, 7, 8, 9, 12, 20, 36, 237]


def _seeds() -> list[int]:
    chosen = os.environ.get("KAFKALAB_CORRUPTION_SEEDS")
    return parse_seeds(chosen) if chosen else CI_SEEDS


@pytest.mark.parametrize("seed", _seeds(), ids=lambda seed: f"seed-{seed}")
def test_damage_is_never_delivered_and_every_loss_is_narrated(seed, tmp_path):
    report = run_campaign(seed, tmp_path / "data")
    assert report.acknowledged > 0 and report.faults, f"seed {seed} tested nothing"
