"""``{{ expr }}`` in a cell body: Jinja2 rendered from the notebook's namespace before sending.

The convention jupysql users know: ``select * from {{ table }} where dt >= '{{ start }}'``,
``{% for %}`` and ``{% if %}`` too. ``${var}`` is not Jinja syntax and stays a Linkis variable
for the server to substitute. Only bodies that use ``{{`` or ``{%`` are rendered, so a shell
cell's ``${#array[@]}`` (which Jinja would read as a comment opening) is sent as written unless
the cell templates; ``--no-template`` sends any body as written.

An undefined name (StrictUndefined) or a template syntax error is a usage error naming it,
raised before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from linkis_magic.errors import ConfigurationError

__all__ = ["render", "uses_template"]


def uses_template(body: str) -> bool:
    """Whether the body has Jinja expressions or statements."""
    return "{{" in body or "{%" in body


def render(body: str, namespace: Mapping[str, Any], *, where: str = "the cell") -> str:
    """The body with its ``{{ }}`` / ``{% %}`` rendered from ``namespace``."""
    if not uses_template(body):
        return body
    import jinja2  # loaded by the first templated cell only

    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False
    )
    try:
        template = env.from_string(body)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigurationError(
            f"{where}: template error on line {exc.lineno}: {exc.message}; "
            "use --no-template to send the body as written"
        ) from None
    try:
        return template.render(dict(namespace))
    except jinja2.UndefinedError as exc:
        raise ConfigurationError(
            f"{where}: {exc.message} in the notebook namespace (in {{{{ }}}}); define it, "
            "or use --no-template to send the body as written"
        ) from None
    except Exception as exc:  # an expression raised: say which, without the traceback
        raise ConfigurationError(
            f"{where}: rendering {{{{ }}}} failed: {type(exc).__name__}: {exc}"
        ) from None
