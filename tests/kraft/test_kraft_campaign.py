"""The seeded KRaft cluster fault campaign (kraft_campaign.py), a few seeds per run.

``KAFKALAB_KRAFT_CAMPAIGN_SEEDS=N`` runs seeds 0..N-1; a failure names its seed and the
command that replays it; ``python tests/kraft/kraft_campaign.py --seeds A-B`` runs many.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kraft_campaign import run_campaign


@pytest.mark.parametrize("seed", range(int(os.environ.get("KAFKALAB_KRAFT_CAMPAIGN_SEEDS", "4"))),
                         ids=lambda seed: f"seed-{seed}")
def test_a_kraft_cluster_stays_safe_and_recovers_under_controller_and_broker_faults(seed: int,
                                                                                    tmp_path: Path) -> None:
    faults = run_campaign(seed, tmp_path / "data")
    assert len(faults) > 0
