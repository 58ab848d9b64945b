"""The users' workspaces: which `file://` and `hdfs://` URIs exist, where they live on disk, and
who may touch them (docs/linkis-protocol.md §15).

Linkis gives every user two roots and `getUserRootPath` names them: a local one,
`file:///tmp/linkis/<user>` with the shipped configuration, and an HDFS one,
`hdfs:///tmp/linkis/<user>/linkis/`. The sandbox has no HDFS, so `hdfs:///X` lives under
`<data dir>/hdfs/X`; its local root is `<data dir>/workspace/<user>`. Jobs' result and log
directories (`result|log/<date>/<creator>/<user>/...`) are the user's too, as on Linkis.

Every check runs on the resolved path (symlinks followed), so no URI reaches another user's
files: Linkis matches a substring of the lower-cased path, the sandbox asks for a real prefix.
The engines use `local_path_text` to read what a push uploaded (`parquet.\\`hdfs:///...\\``).
"""

from __future__ import annotations

import re
from pathlib import Path

HDFS_USER_PREFIX = "/tmp/linkis/"
"""Linkis's shipped `wds.linkis.filesystem.hdfs.root.path` (without the scheme)."""
HDFS_USER_SUFFIX = "/linkis/"
"""`wds.linkis.workspace.filesystem.hdfsuserrootpath.suffix` (its default)."""
SCHEMES = ("file://", "hdfs://", "s3://")
"""What Linkis's path validator accepts as "a path with a schema" (80025 otherwise)."""


class Workspace:
    """URIs <-> local paths for one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.local_base = data_dir / "workspace"
        self.hdfs_base = data_dir / "hdfs"

    # -- roots --------------------------------------------------------------------------------

    def hdfs_root_uri(self, user: str) -> str:
        """`hdfs:///tmp/linkis/<user>/linkis/`, exactly as Linkis returns it (trailing `/`)."""
        return f"hdfs://{HDFS_USER_PREFIX}{user}{HDFS_USER_SUFFIX}"

    def local_root(self, user: str) -> Path:
        return (self.local_base / user).resolve()

    def hdfs_root(self, user: str) -> Path:
        return (self.hdfs_base / HDFS_USER_PREFIX.strip("/") / user / "linkis").resolve()

    def local_root_uri(self, user: str) -> str:
        """`file:///<data dir>/workspace/<user>` (no trailing `/`, as Linkis)."""
        return "file://" + self.local_root(user).as_posix()

    def roots(self, user: str) -> tuple[Path, Path]:
        """The user's two workspace roots (created on first use, like Linkis's auto-create)."""
        return self.local_root(user), self.hdfs_root(user)

    # -- URIs ---------------------------------------------------------------------------------

    def local_path(self, uri: str) -> Path | None:
        """Where `file:///x` or `hdfs:///x` lives here (not resolved, not checked); None for any
        other scheme or a URI with a host."""
        for scheme, base in (("file://", None), ("hdfs://", self.hdfs_base)):
            if uri.startswith(scheme):
                rest = uri[len(scheme) :]
                if not rest.startswith("/"):
                    return None  # a host or a relative path: nothing of ours
                return Path(rest) if base is None else base / rest.lstrip("/")
        return None

    def uri_for(self, path: Path, like: str) -> str:
        """The URI of `path` in the scheme of the URI `like` it was reached through."""
        resolved = path.resolve()
        if like.startswith("hdfs://") and resolved.is_relative_to(self.hdfs_base.resolve()):
            return "hdfs:///" + resolved.relative_to(self.hdfs_base.resolve()).as_posix()
        return "file://" + resolved.as_posix()

    def owns(self, user: str, resolved: Path) -> bool:
        """Whether a resolved path is inside one of the user's workspace roots."""
        return any(resolved == root or resolved.is_relative_to(root) for root in self.roots(user))


_HDFS_IN_BACKTICKS = re.compile(r"`hdfs://(/[^`]*)`")


def local_path_text(sql: str, hdfs_base: Path) -> str:
    """Spark SQL with every backtick-quoted `hdfs:///x` path (a `parquet.\\`...\\`` source)
    pointing at the sandbox's local copy of that HDFS namespace (`file://<hdfs base>/x`)."""
    base = hdfs_base.resolve().as_posix()
    return _HDFS_IN_BACKTICKS.sub(lambda m: f"`file://{base}{m.group(1)}`", sql)
