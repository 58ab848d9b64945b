"""Upload progress drawn in the style of the job's display (display/_transfer.py)."""

from __future__ import annotations

from typing import Any

import pytest

from linkis_magic.display import NullDisplay, TextDisplay, WidgetDisplay, transfer_progress


class TestTransferProgress:
    """Text displays print a few lines; -q prints nothing; the last line is always shown."""

    def test_text_lines(self, capsys: pytest.CaptureFixture[str]) -> None:
        now = [100.0]
        progress = transfer_progress(
            TextDisplay(title="t"), "Uploading df (3 rows)", clock=lambda: now[0]
        )
        progress(0, 4 * 2**20)
        for sent in range(1, 3):
            now[0] += 0.3
            progress(sent * 2**20, 4 * 2**20)  # within a second of the last line: not drawn
        now[0] += 0.5
        progress(3 * 2**20, 4 * 2**20)  # a second after the first line
        progress(4 * 2**20, 4 * 2**20)  # the end is always drawn
        progress.close()
        lines = capsys.readouterr().out.splitlines()
        assert lines[0] == "Uploading df (3 rows): 0.0 MiB of 4.0 MiB (0%)"
        assert lines[1:] == [
            "Uploading df (3 rows): 3.0 MiB of 4.0 MiB (75%)",
            "Uploading df (3 rows): 4.0 MiB of 4.0 MiB (100%)",
        ]

    def test_quiet_draws_nothing(self, capsys: pytest.CaptureFixture[str]) -> None:
        progress = transfer_progress(NullDisplay(), "Uploading")
        progress(5, 10)
        progress(10, 10)
        progress.close()
        assert capsys.readouterr().out == ""
        assert progress.line() == "Uploading: 0.0 MiB of 0.0 MiB (100%)"

    def test_widget_bar_then_a_static_line(
        self, shell: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        now = [0.0]
        progress = transfer_progress(WidgetDisplay(title="t"), "Uploading df", clock=lambda: now[0])
        progress(0, 2 * 2**20)
        bar, label = progress._bar, progress._label  # type: ignore[attr-defined]
        assert (bar.value, bar.max) == (0, 2 * 2**20)
        now[0] += 0.2
        progress(2**20, 2 * 2**20)
        assert bar.value == 2**20 and label.value == "Uploading df: 1.0 MiB of 2.0 MiB (50%)"
        progress(2 * 2**20, 2 * 2**20)
        progress.close()
        assert "Uploading df: 2.0 MiB of 2.0 MiB (100%)" in capsys.readouterr().out
