"""What the command line configures (`python -m linkis_magic.sandbox --help`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class SandboxConfig:
    """Settings of one sandbox gateway; secrets are kept out of the repr."""

    data_dir: Path
    users: dict[str, str] = field(repr=False)
    tokens: frozenset[str] = field(default=frozenset(), repr=False)
    session_timeout: float = 3600.0
    workers: int = 4
    job_retention: float = 3600.0
    job_retention_count: int = 1000
    instance: str = "127.0.0.1:9001"
    demo_data: bool = True
    spark_master: str | None = None
    spark_conf: dict[str, str] = field(default_factory=dict, repr=False)
    """Spark configuration set on the session builder after the sandbox's own defaults
    (`--spark-conf KEY=VALUE`), so it overrides them; values may be credentials."""
    engine_idle_timeout: float = 600.0
    """Seconds an engine connection may stay idle before it stops (docs/linkis-protocol.md
    §14.2); 0 stops it as soon as its job ends."""
    upload_max_bytes: int = 500 * 1024 * 1024
    """The largest `/filesystem/upload` request body: Linkis's shipped Spring multipart cap
    (500 MB, docs/linkis-protocol.md §15.2); `--upload-max-bytes` lowers it to test the cap."""
