from lab_clusters import Clusters


def test_create_produce_fetch(clusters: Clusters) -> None:
    cluster = clusters.open()
    cluster.wait(cluster.create_topic("orders", 3, 3, {"min.insync.replicas": 2}))
    result = cluster.wait(cluster.produce("orders", 0, [(b"k", b"v1"), (b"k", b"v2")]))
    assert result.base_offset == 0
    cluster.run_for(1000)
    records = cluster.wait(cluster.fetch("orders", 0, 0))
    assert [r.value for r in records] == [b"v1", b"v2"]
    view = cluster.snapshot()
    p0 = view.partition("orders", 0)
    assert p0.high_watermark == 2 and len(p0.isr) == 3
    for e in cluster.journal:
        print(e.time_ms - 1735689600000, e.describe())
