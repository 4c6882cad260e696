"""The seeded fault campaign, one test per seed (see fault_campaign.py).

``KAFKALAB_CAMPAIGN_SEEDS=N`` runs seeds 0..N-1 (default 200); ``KAFKALAB_CAMPAIGN_SEED=S``
runs only seed S. A failure names its seed and the command that replays it.
"""

from __future__ import annotations

import os

import pytest
from fault_campaign import run_campaign


def _seeds() -> list[int]:
    if os.environ.get("KAFKALAB_CAMPAIGN_SEED"):
        return [int(os.environ["KAFKALAB_CAMPAIGN_SEED"])]
    return list(range(int(os.environ.get("KAFKALAB_CAMPAIGN_SEEDS", "200"))))


@pytest.mark.parametrize("seed", _seeds(), ids=lambda seed: f"seed-{seed}")
def test_no_acknowledged_record_is_lost_and_replicas_agree(seed, tmp_path):
    report = run_campaign(seed, tmp_path / "data")
    assert report.acknowledged > 0, f"seed {seed}: nothing was acknowledged, so nothing was tested"
