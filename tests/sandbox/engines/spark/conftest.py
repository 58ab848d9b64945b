"""A sandbox with the real Spark engine (local[2]) for the spark test group (engines/spark.py).

The group is skipped without pyspark, except on CI, where a missing extra is an error."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator

import pytest

from tests.support.sandbox import SandboxProcess, start_sandbox

if importlib.util.find_spec("pyspark") is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI runs the spark group: install the [spark] extra (pyspark)")
    pytest.skip("the [spark] extra is not installed", allow_module_level=True)


@pytest.fixture(scope="session")
def spark_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """One sandbox running spark-* engineTypes on local[2] Spark."""
    box = start_sandbox(tmp_path_factory.mktemp("spark-sandbox"), "--spark-master", "local[2]")
    yield box
    box.stop()
