"""``%linkis run PATH [RUNTYPE] [the %%linkis options]``: a script file as a Linkis job.

The runType comes from the file's extension unless given; the code is rendered as a cell's
is (``{{ expr }}`` from the notebook, ``--no-template`` to send it as written), then it runs
the one way every cell runs (the Session's launch and its Runner).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from linkis_magic.magics._parse import build_request, cell_parser
from linkis_magic.magics.commands._base import Command

if TYPE_CHECKING:
    from linkis_magic.magics._session import Session

__all__ = ["RUN_TYPES_BY_SUFFIX", "commands"]

RUN_TYPES_BY_SUFFIX = {".sql": "sql", ".hql": "hql", ".py": "python", ".sh": "shell",
                       ".scala": "scala"}  # fmt: skip


def _run(session: Session, args: argparse.Namespace) -> Any:
    path = Path(args.path).expanduser()
    run_type = args.run_type or RUN_TYPES_BY_SUFFIX.get(path.suffix.lower())
    if run_type is None:
        known = " ".join(RUN_TYPES_BY_SUFFIX)
        raise UsageError(
            f"%linkis run: cannot tell the runType of {path.name} (known: {known}); "
            "give it after the path, e.g. %linkis run job.txt sql"
        )
    try:
        code = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise UsageError(f"%linkis run: cannot read {path}: {reason}") from None
    if not code.strip():
        raise UsageError(f"%linkis run: {path} is empty")
    request = build_request(
        args,
        code,
        run_type,
        settings=lambda _connection, **overrides: session.settings(**overrides),
        namespace=session.namespace,
        where=f"%linkis run {path.name}",
    )
    run = session.launch(request)
    return None if run.background else session.runner.block(run)


def commands() -> list[Command]:
    """The run command."""
    return [Command("run", cell_parser("%linkis run", path=True), _run)]
