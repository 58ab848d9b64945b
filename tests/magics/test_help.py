"""``%linkis?``: the help a user reads names every cell option and every line command."""

from __future__ import annotations

from typing import Any

from linkis_magic.magics._parse import cell_parser
from linkis_magic.magics.commands import all_commands


class TestHelp:
    """The help is built from the parsers, so it lists what the magic really accepts."""

    def test_names_every_line_command(self, shell: Any) -> None:
        doc = shell.find_magic("linkis", "line").__doc__
        for name, command in all_commands().items():
            assert f"%linkis {name} " in doc
            assert str(command.parser.description) in doc

    def test_names_every_cell_option(self, shell: Any) -> None:
        doc = shell.find_magic("linkis", "cell").__doc__
        for action in cell_parser()._actions:
            if action.option_strings:
                assert any(option in doc for option in action.option_strings), action.dest
