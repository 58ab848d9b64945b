"""LinkisMagics itself: the await rewriting and loading/unloading the extension."""

from __future__ import annotations

from typing import Any

import pytest

from linkis_magic.magics import LinkisMagics

# count(*) over a bare range is answered from statistics; the filter makes DuckDB work.
LONG_QUERY = "select count(*) from range(100000000000) t(x) where x % 7 = 3"


class TestAwaitRewrite:
    """Only kernels that can dispatch comm messages during an awaited cell get rewritten."""

    def test_terminal_shell_cells_stay_synchronous(self, shell: Any, magics: Any) -> None:
        code = shell.transform_cell("%%linkis sql -o df\nselect 1\n")
        assert code.startswith("get_ipython().run_cell_magic('linkis', 'sql -o df'")
        assert not magics.use_awaited_cells()


class TestExtensionLifecycle:
    """%unload_ext removes the magics and the hook; %load_ext brings them back once."""

    def test_reload_after_a_refused_and_a_secret_config(
        self, shell: Any, magics: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A password %config left in the shell's config is deep-copied into the reloaded
        magics; a value %config refused (IPython keeps it there) is dropped with a warning."""
        shell.run_cell("%config LinkisMagics.password = 'pw-left-behind'")
        shell.run_line_magic("unload_ext", "linkis_magic")
        shell.run_line_magic("load_ext", "linkis_magic")
        assert shell.find_cell_magic("linkis") is not None
        shell.run_cell("%config LinkisMagics.engine = 'hive'")  # refused: needs a version
        shell.run_line_magic("unload_ext", "linkis_magic")
        shell.run_line_magic("load_ext", "linkis_magic")
        assert shell.find_cell_magic("linkis") is not None
        err = capsys.readouterr().err
        assert "settings ignored" in err and "pw-left-behind" not in err

    def test_unload_and_reload(self, shell: Any, magics: Any) -> None:
        shell.run_line_magic("unload_ext", "linkis_magic")
        assert shell.find_cell_magic("linkis") is None
        assert magics.transform_await not in shell.input_transformers_post
        shell.run_line_magic("load_ext", "linkis_magic")
        shell.run_line_magic("load_ext", "linkis_magic")
        found = [c for c in shell.configurables if isinstance(c, LinkisMagics)]
        assert len(found) == 1
        assert shell.find_cell_magic("linkis") is not None
        hooks = [t for t in shell.input_transformers_post if getattr(t, "__self__", None)]
        assert sum(isinstance(t.__self__, LinkisMagics) for t in hooks) == 1
