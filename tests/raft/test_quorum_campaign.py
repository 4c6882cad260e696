"""The seeded quorum fault campaign, one test per seed and quorum size (see quorum_campaign.py).

CI runs seeds 0-3 with 3 and with 5 voters; ``KAFKALAB_RAFT_CAMPAIGN_SEEDS=N`` runs seeds
0..N-1 and ``KAFKALAB_RAFT_CAMPAIGN_SEED=S`` only seed S. A failure names its seed and the
command that replays it; ``python tests/raft/quorum_campaign.py --seeds A-B --jobs N`` runs many.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from quorum_campaign import run_campaign, scratch_root


def _seeds() -> list[int]:
    if os.environ.get("KAFKALAB_RAFT_CAMPAIGN_SEED"):
        return [int(os.environ["KAFKALAB_RAFT_CAMPAIGN_SEED"])]
    return list(range(int(os.environ.get("KAFKALAB_RAFT_CAMPAIGN_SEEDS", "4"))))


@pytest.mark.parametrize("voters", [3, 5], ids=lambda voters: f"{voters}-voters")
@pytest.mark.parametrize("seed", _seeds(), ids=lambda seed: f"seed-{seed}")
def test_raft_stays_safe_and_recovers_under_faults(seed: int, voters: int) -> None:
    with tempfile.TemporaryDirectory(prefix="kafkalab-raft-campaign-", dir=scratch_root()) as tmp:
        report = run_campaign(seed, Path(tmp), voters)
    assert report.committed > 0 and report.elections > 0, f"seed {seed}: nothing was committed, so nothing was tested"
