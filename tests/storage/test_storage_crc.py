"""The CRC-32C that batches and producer snapshots carry, from the crc32c package's C extension alone."""

from __future__ import annotations

import subprocess
import sys

import crc32c as package
from hypothesis import given
from hypothesis import strategies as st

from kafkalab.storage.crc import crc32c


def test_the_check_value_of_crc32c() -> None:
    # The standard check value: CRC-32C of the ASCII digits 1 to 9 (RFC 3720, iSCSI, which Kafka's Crc32C follows).
    assert crc32c(b"123456789") == 0xE3069283


@given(st.binary(max_size=512), st.integers(min_value=0, max_value=512))
def test_it_is_the_packages_crc32c_in_one_pass_or_continued(data: bytes, cut: int) -> None:
    cut = min(cut, len(data))
    assert crc32c(data) == package.crc32c(data)
    assert crc32c(data[cut:], crc32c(data[:cut])) == package.crc32c(data)
    assert crc32c(memoryview(data)) == package.crc32c(data)


def test_loading_it_reads_no_package_metadata() -> None:
    code = "import sys\nimport kafkalab.storage.crc\nprint(' '.join(sys.modules))\n"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split())
    assert not {"crc32c", "importlib.metadata", "argparse"} & loaded
