"""``--export``: cells and %linkis attach write tables to disk straight from the gateway."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from linkis_magic.errors import RequestFailedError
from linkis_magic.results import ExportSummary
from tests.support.double import EXEC_ID, LinkisDouble, Reply, dir_tree_data, task_data
from tests.support.proxy import FaultProxy

TWO_TABLES = "select x, x * 2 as y from range(4) t(x); select 'a' as s union all select null"


def pages_read(seen: list[Any]) -> list[str]:
    """openFile calls that read rows (not the one-row probe that tells a table from text)."""
    return [s.path for s in seen if "openFile" in s.path and "pageSize=1&" not in s.path + "&"]


@pytest.mark.usefixtures("magics")
class TestExportCell:
    """Files from resultsetToExcel, in result-set order; pandas only with -o."""

    def test_without_o_nothing_is_loaded_and_the_value_is_a_summary(
        self, shell: Any, proxy: FaultProxy, tmp_path: Path
    ) -> None:
        before = len(proxy.seen)
        value = shell.run_cell_magic("linkis", f"--export {tmp_path / 'out.csv'}", TWO_TABLES)
        assert isinstance(value, ExportSummary)
        assert [f.path.name for f in value] == ["out_1.csv", "out_2.csv"]
        first = pd.read_csv(tmp_path / "out_1.csv")
        assert first.to_dict("list") == {"x": [0, 1, 2, 3], "y": [0, 2, 4, 6]}
        assert (tmp_path / "out_2.csv").read_text().splitlines() == ["s", "a", "NULL"]
        assert pages_read(proxy.seen[before:]) == []
        assert "wrote 2 files" in repr(value) and "out_2.csv" in repr(value)

    def test_with_o_it_loads_and_exports(
        self, shell: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        target = tmp_path / "one.csv"
        value = shell.run_cell_magic("linkis", f"-o df --export {target}", "select 7 as n")
        assert value is None and shell.user_ns["df"]["n"].tolist() == [7]
        assert target.read_text() == "n\n7\n"
        assert f"{target}" in capsys.readouterr().out

    def test_xlsx_has_typed_cells(self, shell: Any, tmp_path: Path) -> None:
        target = tmp_path / "out.xlsx"
        shell.run_cell_magic("linkis", f"--export {target}", "select 1 as a, 2.5 as b, 'x' as c")
        back = pd.read_excel(target)
        assert back.to_dict("records") == [{"a": 1, "b": 2.5, "c": "x"}]

    def test_attach_exports_an_earlier_task(self, shell: Any, magics: Any, tmp_path: Path) -> None:
        shell.run_cell_magic("linkis", "-q", "select 3 as z")
        task_id = magics.session.last_run.job.task_id
        target = tmp_path / "again.csv"
        value = shell.run_line_magic("linkis", f"attach {task_id} --export {target}")
        assert isinstance(value, ExportSummary)
        assert target.read_text() == "z\n3\n"


class TestExportRefused:
    """A text/plain ``error(错误):`` export body fails the cell with the server's message."""

    def test_no_permission_fails_the_cell_and_writes_nothing(
        self, shell: Any, gw: LinkisDouble, connect: Any, tmp_path: Path
    ) -> None:
        root = "hdfs:///tmp/linkis/result/2024-01-01/IDE/alice/1234"
        gw.on("POST", "entrance/submit", {"execID": EXEC_ID, "taskID": 1234})
        gw.on("GET", f"entrance/{EXEC_ID}/status", {"status": "Succeed", "execID": EXEC_ID})
        gw.on("GET", f"entrance/{EXEC_ID}/log", {"fromLine": 1, "log": ["", "", "", ""]})
        gw.on("GET", "jobhistory/1234/get", task_data(result_location=root))
        gw.on("GET", "filesystem/getDirFileTrees", dir_tree_data(root, ["_0.dolphin"]))
        gw.on(
            "GET",
            "filesystem/openFile",
            {
                "type": "2",
                "metadata": [{"columnName": "a", "comment": "NULL", "dataType": "int"}],
                "fileContent": [["1"]],
                "page": 1,
                "totalPage": 0,
                "totalLine": 1,
            },
        )
        gw.on(
            "GET",
            "filesystem/resultsetToExcel",
            Reply.text(
                "error(错误):errCode: 80010 ,desc: no permission to export result sets "
                ",ip: host2 ,port: 9105 ,serviceKind: linkis-ps-publicservice",
                content_type="text/plain; charset=utf-8",
            ),
        )
        connect(gw.url)
        with pytest.raises(RequestFailedError, match="no permission to export") as info:
            shell.run_cell_magic("linkis", f"-o never --export {tmp_path / 'x.csv'}", "select 1")
        assert info.value.err_code == 80010
        assert list(tmp_path.iterdir()) == []
        assert "never" not in shell.user_ns
