"""The interfaces between layers are typed end to end: mypy knows an action's result and a request's response.

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
from kafkalab.protocol.metadata import MetadataRequest
from kafkalab.session.session import Session


def use(session: Session, client: ClientNode) -> None:
    consumed = session.cluster.wait(execute(session, Consume("g", "c")))
    reveal_type(consumed.result)  # line 11
    produced = session.cluster.wait(execute(session, Produce("orders")))
    if produced.result is not None and consumed.result is not None:
        produced.result.records[0].offset
        produced.result.records[0].value  # line 15: a produced record says where it went, not what it held
        consumed.result.records[0].value
        consumed.result.records[0].error  # line 17: a consumed record has no send error
    reveal_type(client.send(1, MetadataRequest()))  # line 18
    client.send(1, MetadataRequest()).add_done_callback(lambda f: f.result().brokers)  # line 19: may be Errors
'''


def test_mypy_infers_results_and_responses_and_rejects_their_misuse(tmp_path: Path) -> None:
    client = tmp_path / "typed_client.py"
    client.write_text(CLIENT)
    result = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent", str(client)],
                            cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    found = {int(line): text for line, text in re.findall(r"typed_client\.py:(\d+): (?:error|note): (.*)", result.stdout)}
    assert found[11] == 'Revealed type is "kafkalab.actions.results.ConsumeResult | None"', result.stdout
    assert '"ProducedRecord" has no attribute "value"' in found[15]
    assert '"ConsumedRecord" has no attribute "error"' in found[17]
    assert found[18] == ('Revealed type is "kafkalab.sim.process.Future[kafkalab.protocol.metadata.MetadataResponse'
                         ' | kafkalab.errors.Errors]"'), result.stdout
    assert 'Item "Errors" of "MetadataResponse | Errors" has no attribute "brokers"' in found[19]
    assert set(found) == {11, 15, 17, 18, 19}, result.stdout
