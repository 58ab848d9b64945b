"""The embedded sandbox manager's state file: private, never trusted without a live process."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from linkis_magic.auth import Secret
from linkis_magic.embedded import EmbeddedSandbox, SandboxInfo


class TestSandboxState:
    """The embedded sandbox's state file: private, never trusted without a live process."""

    def test_info_repr_hides_the_password(self) -> None:
        info = SandboxInfo("http://127.0.0.1:1", "me", Secret("pw-SECRET"), 1, "/tmp")
        assert "SECRET" not in repr(info) and "SECRET" not in str(info)

    def test_state_file_is_private_and_dead_pids_are_ignored(self, tmp_path: Path) -> None:
        box = EmbeddedSandbox(state_dir=tmp_path / "run", data_dir=tmp_path / "data")
        dead = SandboxInfo("http://127.0.0.1:9", "me", Secret("pw"), 2**22 + 12345, str(tmp_path))
        box._write_state(dead)
        mode = stat.S_IMODE(os.stat(box.state_file).st_mode)
        assert mode == 0o600
        assert box._read_state() == dead
        assert "No local sandbox running" in box.describe()
        assert box.stop() is False
