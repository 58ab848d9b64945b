"""What a running gateway holds, and the FastAPI dependency that hands it to routes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

from fastapi import Depends, Request

from linkis_magic.sandbox.catalog import Catalog
from linkis_magic.sandbox.config import SandboxConfig
from linkis_magic.sandbox.engineconns import EngineConns
from linkis_magic.sandbox.jobs import JobManager
from linkis_magic.sandbox.store import TaskStore
from linkis_magic.sandbox.workspace import Workspace

if TYPE_CHECKING:
    from linkis_magic.sandbox.auth import Sessions


@dataclass(frozen=True)
class Gateway:
    """The parts every route may use; built once by `app.create_app`."""

    config: SandboxConfig
    data_dir: Path
    """The resolved data directory: result/, log/, tmp/, the databases."""
    store: TaskStore
    manager: JobManager
    sessions: Sessions
    catalog: Catalog
    """Databases, tables and columns of the engines, for `routes/datasource.py`."""
    engineconns: EngineConns
    """The users' engine connections, for `routes/linkismanager.py` (the job manager's too)."""

    @property
    def instance(self) -> str:
        """host:port as Linkis names the entrance instance (execIDs, error payloads)."""
        return self.config.instance

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"

    @property
    def workspace(self) -> Workspace:
        """The users' `file://` and `hdfs://` workspaces (docs/linkis-protocol.md §15)."""
        return Workspace(self.data_dir)

    @property
    def user_roots(self) -> tuple[Path, Path]:
        """Where users' own files live: result/<date>/<creator>/<user>/..., log/... ."""
        return self.data_dir / "result", self.data_dir / "log"


async def get_gateway(request: Request) -> Gateway:
    return cast(Gateway, request.app.state.gateway)


GatewayDep = Annotated[Gateway, Depends(get_gateway)]
"""A route parameter of this type receives the app's `Gateway`."""
