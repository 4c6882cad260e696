"""The interfaces between layers are typed end to end: mypy knows an action's result, a request's response, an event.

A small client module is type-checked with the project's mypy settings; what mypy
infers (``reveal_type``) and the mistakes it must reject are asserted line by line.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[2]

CLIENT = '''
from kafkalab.actions.client_actions import Consume, Produce
from kafkalab.actions.execute import execute
from kafkalab.clients.network_client import ClientNode
from kafkalab.events.cluster import LinkCut
from kafkalab.protocol.metadata import MetadataRequest
from kafkalab.session.session import Session


def use(session: Session, client: ClientNode) -> None:
    consumed = session.cluster.wait(execute(session, Consume("g", "c")))
    reveal_type(consumed.result)  # line 12
    produced = session.cluster.wait(execute(session, Produce("orders")))
    if produced.result is not None and consumed.result is not None:
        produced.result.records[0].offset
        produced.result.records[0].value  # line 16: a produced record says where it went, not what it held
        consumed.result.records[0].value
        consumed.result.records[0].error  # line 18: a consumed record has no send error
    reveal_type(client.send(1, MetadataRequest()))  # line 19
    client.send(1, MetadataRequest()).add_done_callback(lambda f: f.result().brokers)  # line 20: may be Errors
    reveal_type(session.cluster.journal.emit(LinkCut, a="broker-1", b="zk"))  # line 21
    session.cluster.journal.emit(LinkCut, a="broker-1", to="zk")  # line 22: an event's fields are its own
'''


def test_mypy_infers_results_and_responses_and_rejects_their_misuse(tmp_path: Path) -> None:
    client = tmp_path / "typed_client.py"
    client.write_text(CLIENT)
    result = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent", str(client)],
                            cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    found: dict[int, str] = {}
    for line, text in re.findall(r"typed_client\.py:(\d+): (?:error|note): (.*)", result.stdout):
        found[int(line)] = found.get(int(line), "") + text + "\n"
    assert 'Revealed type is "kafkalab.actions.results.ConsumeResult | None"' in found[12], result.stdout
    assert '"ProducedRecord" has no attribute "value"' in found[16]
    assert '"ConsumedRecord" has no attribute "error"' in found[18]
    assert ('Revealed type is "kafkalab.sim.process.Future[kafkalab.protocol.metadata.MetadataResponse'
            ' | kafkalab.errors.Errors]"') in found[19], result.stdout
    assert 'Item "Errors" of "MetadataResponse | Errors" has no attribute "brokers"' in found[20]
    assert 'Revealed type is "kafkalab.events.cluster.LinkCut"' in found[21], result.stdout
    assert 'Unexpected keyword argument "to"' in found[22]
    assert set(found) == {12, 16, 18, 19, 20, 21, 22}, result.stdout
