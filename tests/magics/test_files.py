"""``%linkis push | files | upload | download`` in a real IPython shell against the sandbox.

The magics go through the recording proxy in front of the session's sandbox, so a usage error
is shown to have sent nothing; ``alice`` (straight to the sandbox) checks what is left behind.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError

from linkis_magic.client import LinkisClient
from linkis_magic.errors import JobFailed
from tests.support.proxy import Fault, FaultProxy
from tests.support.shell import interrupt_when


def _leftovers(client: LinkisClient) -> list[str]:
    entries = client.files(client.user_root("hdfs")) or []
    return [e.name for e in entries if e.name.startswith("linkis_magic_push_")]


def _typed() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": pd.array([1, 2, None], dtype="Int64"),
            "score": [0.25, None, 3.0],
            "price": [Decimal("9.99"), Decimal("0.01"), None],
            "ok": pd.array([True, False, None], dtype="boolean"),
            "name": pd.array(["ann", None, "李"], dtype="string"),
            "day": pd.Series(
                [dt.datetime(2024, 5, 1), None, dt.datetime(2024, 5, 3)], dtype="datetime64[s]"
            ),
            "at": pd.Series(
                [dt.datetime(2024, 5, 1, 8, 0, 0, 5), None, dt.datetime(2024, 5, 3)],
                dtype="datetime64[us]",
            ),
        }
    )


class TestPush:
    """push, then query with %%linkis -o: the same frame comes back."""

    def test_push_then_pull(
        self, shell: Any, magics: Any, alice: LinkisClient, capsys: pytest.CaptureFixture[str]
    ) -> None:
        name = "scores_" + uuid.uuid4().hex[:8]
        shell.user_ns["scores"] = frame = _typed()
        assert shell.run_line_magic("linkis", f"push scores default.{name}") is None
        out = capsys.readouterr().out
        assert "Uploading scores (3 rows):" in out and "(100%)" in out
        assert f"Pushed 3 rows of scores to default.{name} (create)." in out
        shell.run_cell_magic("linkis", "-o back", f"select * from default.{name}")
        pd.testing.assert_frame_equal(shell.user_ns["back"], frame)
        assert name in shell.run_line_magic("linkis", "tables")["table"].tolist()
        assert _leftovers(alice) == []

    def test_modes_and_partition(self, shell: Any, magics: Any, alice: LinkisClient) -> None:
        name = "p_" + uuid.uuid4().hex[:8]
        shell.user_ns["one"] = pd.DataFrame({"x": [1]})
        shell.run_line_magic("linkis", f"push one {name} --partition ds=a -q")
        with pytest.raises(UsageError, match="already exists"):
            shell.run_line_magic("linkis", f"push one {name}")
        shell.run_line_magic("linkis", f"push one {name} --mode append --partition ds=b -q")
        back = shell.run_cell_magic("linkis", "-q", f"select x, ds from {name} order by ds")
        assert back.values.tolist() == [[1, "a"], [1, "b"]]

    def test_a_failed_load_fails_the_cell_and_cleans_up(
        self, shell: Any, magics: Any, alice: LinkisClient
    ) -> None:
        name = "f_" + uuid.uuid4().hex[:8]
        shell.user_ns["one"] = pd.DataFrame({"x": [1]})
        shell.user_ns["wide"] = pd.DataFrame({"x": [1], "y": [2], "z": [3]})
        shell.run_line_magic("linkis", f"push one {name} -q")
        with pytest.raises(JobFailed) as info:
            shell.run_line_magic("linkis", f"push wide {name} --mode append -q")
        assert "column" in str(info.value).lower()
        assert _leftovers(alice) == []

    @pytest.mark.parametrize(
        ("line", "message"),
        [
            ("push frame t -e hive-2.3.3", "push needs a Spark engine, -e spark-"),
            ("push missing t", "no variable 'missing'"),
            ("push notaframe t", "not a pandas DataFrame"),
            ("push frame a.b.c", "[DB.]TABLE"),
            ("push frame t --mode merge", "invalid choice"),
            ("push frame t --partition nope", "--partition expects K=V"),
        ],
    )
    def test_usage_errors_send_nothing(
        self, shell: Any, magics: Any, proxy: FaultProxy, line: str, message: str
    ) -> None:
        shell.user_ns["frame"] = pd.DataFrame({"x": [1]})
        shell.user_ns["notaframe"] = [1, 2]
        before = len(proxy.seen)
        with pytest.raises(UsageError) as info:
            shell.run_line_magic("linkis", line)
        assert message in str(info.value)
        assert not [s for s in proxy.seen[before:] if "/user/" not in s.path]

    def test_ctrl_c_during_the_upload_cleans_up(
        self,
        shell: Any,
        connect: Any,
        sandbox: Any,
        alice: LinkisClient,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """The proxy holds the upload's reply, so the interrupt lands while parts are in
        flight; the directory (with the part already written) is deleted."""

        def hold_uploads(method: str, path: str, n: int) -> Fault | None:
            return Fault.DELAY if "filesystem/upload" in path else None

        name = "big_" + uuid.uuid4().hex[:8]
        shell.user_ns["big"] = pd.DataFrame({"n": range(1000)})
        with FaultProxy(sandbox.url, policy=hold_uploads, delay=30.0) as proxy:
            connect(proxy.url)
            watcher, sent = interrupt_when(lambda: proxy.count("POST", "filesystem/upload") > 0)
            with pytest.raises(KeyboardInterrupt):
                shell.run_line_magic("linkis", f"push big {name}")
            watcher.join(30)
            assert sent.is_set()
        assert "Push interrupted during the upload" in capsys.readouterr().out
        assert _leftovers(alice) == []
        assert name not in [t.name for t in alice.tables("default")]


class TestFiles:
    """files / upload / download on the workspace (the local root by default)."""

    def test_upload_list_download(
        self, shell: Any, magics: Any, alice: LinkisClient, tmp_path: Path
    ) -> None:
        local = tmp_path / f"notes_{uuid.uuid4().hex[:6]}.txt"
        local.write_text("hello 世界\n", encoding="utf-8")
        uri = shell.run_line_magic("linkis", f"upload {local} -q")
        assert uri == alice.user_root("file") + "/" + local.name
        listing = shell.run_line_magic("linkis", "files")
        row = listing[listing["name"] == local.name].iloc[0]
        assert row["path"] == uri and not row["isDir"]
        assert row["size"] == local.stat().st_size
        target = tmp_path / "back.txt"
        assert shell.run_line_magic("linkis", f"download {uri} {target} -q") == str(target)
        assert target.read_text(encoding="utf-8") == "hello 世界\n"
        with pytest.raises(Exception, match="create new file error"):
            shell.run_line_magic("linkis", f"upload {local} -q")  # the local root refuses

    def test_hdfs_directory_and_errors(
        self, shell: Any, magics: Any, alice: LinkisClient, tmp_path: Path
    ) -> None:
        directory = alice.user_root("hdfs") + "d_" + uuid.uuid4().hex[:6]
        alice.mkdir(directory)
        local = tmp_path / "a.csv"
        local.write_text("a\n1\n")
        shell.run_line_magic("linkis", f"upload {local} {directory} -q")
        assert shell.run_line_magic("linkis", f"files {directory}")["name"].tolist() == ["a.csv"]
        with pytest.raises(UsageError, match="fully qualified"):
            shell.run_line_magic("linkis", "files /tmp/linkis/alice")
        with pytest.raises(UsageError, match=r"'\.\.'"):
            shell.run_line_magic("linkis", f"download {directory}/../x")
        with pytest.raises(Exception, match="80011"):
            shell.run_line_magic("linkis", f"download {directory}/none.csv {tmp_path}/n.csv")
        assert not (tmp_path / "n.csv").exists()
        with pytest.raises(Exception, match="80010"):
            shell.run_line_magic("linkis", "files hdfs:///tmp/linkis/bob/linkis/")
        alice.delete(directory)
