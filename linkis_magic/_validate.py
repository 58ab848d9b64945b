"""Every argument rule, written once: the client, jobs, results, settings and magics call these.

A rule returns the value in its canonical form (stripped, lower-cased, a float pair, ...) or
raises :class:`~linkis_magic.errors.ConfigurationError` whose message says what was wrong and
what to write instead. Checking before sending matters because Linkis reports many of these
mistakes only after a round trip, some of them after it has stored a failed task
(docs/linkis-protocol.md §3.2, §10.13); the magics turn the same errors into short usage errors.

The name rules follow Linkis's own: a creator is letters, digits, ``_`` or ``.`` (Linkis's
name pattern, minus ``-``, which separates user and creator in ``userCreator``); an engine
label is ``<engine>-<version>``; an execID goes into URL paths verbatim, so it must not hold
``/ ? # %`` or blanks (§3.1).
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from linkis_magic.errors import ConfigurationError
from linkis_magic.protocol import API_PREFIX

__all__ = [
    "DISPLAY_SETTINGS",
    "ENGINE_EXAMPLES",
    "DisplaySetting",
    "check_base_url",
    "check_code",
    "check_creator",
    "check_credentials",
    "check_display",
    "check_engine",
    "check_engine_name",
    "check_epoch_ms",
    "check_exec_id",
    "check_export_path",
    "check_identifier",
    "check_int",
    "check_job_ref",
    "check_mapping",
    "check_name",
    "check_path",
    "check_proxy_user",
    "check_run_type",
    "check_seconds",
    "check_task_id",
    "check_timeout",
    "check_verify",
    "is_run_type",
    "parse_int",
    "parse_pairs",
    "parse_seconds",
    "parse_verify",
]

#: What a user may set as the display: ``auto`` picks widget or text from the frontend.
DisplaySetting = Literal["auto", "widget", "text", "none"]
DISPLAY_SETTINGS: tuple[DisplaySetting, ...] = ("auto", "widget", "text", "none")

#: An example label per engine family, for messages that suggest a fix (Linkis needs the
#: version in ``labels.engineType``, §3.2).
ENGINE_EXAMPLES: dict[str, str] = {
    "spark": "spark-2.4.3",
    "hive": "hive-2.3.3",
    "python": "python-python3",
    "shell": "shell-1",
    "jdbc": "jdbc-4",
    "presto": "presto-0.234",
    "trino": "trino-371",
    "flink": "flink-1.12.2",
    "pipeline": "pipeline-1",
    "elasticsearch": "elasticsearch-7.6.2",
}

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_URL = re.compile(r"^https?://[^/\s]+")
_API_PREFIX = API_PREFIX.rstrip("/")  # what a pasted gateway URL may end with
_CREATOR = re.compile(r"^[A-Za-z0-9_.]+$")
_RUN_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_ENGINE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")
_ENGINE_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*-[A-Za-z0-9_.+]+(?:-[A-Za-z0-9_.+]+)*$")
_EXEC_ID_FORBIDDEN = re.compile(r"[/?#%\s]")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --------------------------------------------------------------------------- numbers


def check_int(value: Any, name: str, *, minimum: int = 0, hint: str = "") -> int:
    """An int (not a bool) >= ``minimum``; ``hint`` is appended to the message."""
    if not _is_int(value) or value < minimum:
        extra = f" ({hint})" if hint else ""
        raise ConfigurationError(f"{name} must be an integer >= {minimum}{extra}, got {value!r}")
    return int(value)


def check_seconds(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """A finite number of seconds > 0 (>= 0 with ``allow_zero``)."""
    ok = _is_number(value) and math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        what = "a number of seconds >= 0" if allow_zero else "a positive number of seconds"
        raise ConfigurationError(f"{name} must be {what}, got {value!r}")
    return float(value)


def check_timeout(value: Any) -> tuple[float, float]:
    """A ``(connect, read)`` pair of positive finite seconds (one number means both)."""
    pair = (value, value) if _is_number(value) else value
    if (
        not isinstance(pair, tuple)
        or len(pair) != 2
        or not all(_is_number(t) and 0 < t < math.inf for t in pair)
    ):
        raise ConfigurationError(
            f"timeout must be a positive number or a (connect, read) pair, got {value!r}"
        )
    return (float(pair[0]), float(pair[1]))


def check_epoch_ms(value: datetime | int | None, name: str) -> int | None:
    """A datetime or epoch milliseconds -> epoch milliseconds (jobhistory's date unit, §4.2)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if _is_int(value):
        return int(value)
    raise ConfigurationError(f"{name} must be a datetime or epoch milliseconds, got {value!r}")


def parse_int(text: str | None, option: str, *, minimum: int = 1) -> int | None:
    """A whole number typed on a magic line (``--limit 10``); None when the option is absent."""
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ConfigurationError(f"{option} expects a whole number >= {minimum}, got {text!r}")
    return value


def parse_seconds(text: str | None, option: str) -> float | None:
    """A number of seconds > 0 typed on a magic line; None when the option is absent."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not (value > 0 and math.isfinite(value)):
        raise ConfigurationError(f"{option} expects a number of seconds > 0, got {text!r}")
    return value


# --------------------------------------------------------------------------- gateway and auth


def check_base_url(url: Any, name: str = "base_url") -> str:
    """``http(s)://host[:port]`` without a trailing ``/`` or a pasted ``/api/rest_j/v1``."""
    text = url.strip() if isinstance(url, str) else ""
    if not _URL.match(text) or _CONTROL.search(text):
        raise ConfigurationError(
            f"{name} must look like http://host:9001 or https://host (it must start with "
            f"http:// or https://), got {url!r}"
        )
    text = text.rstrip("/")
    if text.endswith(_API_PREFIX):
        text = text[: -len(_API_PREFIX)]
    return text


def check_credentials(user: Any, password: Any, token: Any) -> str | None:
    """The user name, after checking that the combination of credentials makes sense."""
    if user is not None and (not isinstance(user, str) or not user.strip()):
        raise ConfigurationError("user must be a non-empty string (the Linkis user name)")
    if password is not None and token is not None:
        raise ConfigurationError("give either password= or token=, not both")
    for what, value in (("password", password), ("token", token)):
        if value is None:
            continue
        plain = value.reveal() if hasattr(value, "reveal") else value  # a Secret
        if not isinstance(plain, str) or not (plain if what == "password" else plain.strip()):
            raise ConfigurationError(f"{what} must be a non-empty string")
    if (password is not None or token is not None) and not user:
        raise ConfigurationError(
            "user= is required with password= or token= (Linkis needs a user name)"
        )
    return user.strip() if isinstance(user, str) else None


def check_verify(value: Any, *, exists: bool = True) -> bool | str:
    """TLS verification: True, False, or the path of a CA bundle (that ``exists``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip():
        if exists and not Path(value).exists():
            raise ConfigurationError(f"verify: CA bundle {value!r} does not exist")
        return value
    raise ConfigurationError("verify must be True, False or a CA bundle path")


def parse_verify(text: str | bool) -> bool | str:
    """A verify setting from text (env var): a boolean word, or a CA bundle path.

    The path is checked when a client is made, so a setting can be shown before it is fixed.
    """
    if isinstance(text, bool):
        return text
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on", ""}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    return check_verify(text.strip(), exists=False)


def check_display(value: Any, name: str = "display") -> DisplaySetting:
    """One of ``auto``, ``widget``, ``text``, ``none`` (case-insensitive)."""
    text = value.strip().lower() if isinstance(value, str) else value
    for mode in DISPLAY_SETTINGS:
        if text == mode:
            return mode
    raise ConfigurationError(f"{name} {value!r} must be one of {', '.join(DISPLAY_SETTINGS)}")


# --------------------------------------------------------------------------- jobs


def check_proxy_user(user: Any) -> str:
    """A user to run jobs as: it goes into the ``<user>-<creator>`` label, so no ``-``."""
    if not isinstance(user, str) or not user.strip() or "-" in user or _CONTROL.search(user):
        raise ConfigurationError(
            f"proxy_user must be a Linkis user name without '-' (it goes into the label "
            f"'<user>-<creator>'), got {user!r}"
        )
    return user.strip()


def check_creator(creator: Any) -> str:
    """A creator Linkis accepts in ``<user>-<creator>`` labels: letters, digits, ``_``, ``.``."""
    if not isinstance(creator, str) or not _CREATOR.fullmatch(creator.strip()):
        raise ConfigurationError(
            f"creator must be letters, digits, '_' or '.' (no '-'), e.g. 'IDE'; Linkis builds "
            f"the label '<user>-<creator>' from it; got {creator!r}"
        )
    return creator.strip()


def is_run_type(text: str) -> bool:
    """Does ``text`` look like a runType (a word such as ``sql``)?"""
    return _RUN_TYPE.fullmatch(text) is not None


def check_run_type(run_type: Any) -> str:
    """A runType word such as ``sql``, ``hql``, ``python``, ``scala`` or ``shell``."""
    if not isinstance(run_type, str) or not _RUN_TYPE.fullmatch(run_type):
        raise ConfigurationError(
            "run_type (RUNTYPE) must be a word such as sql, hql, python, scala or shell "
            f"(a letter, then letters, digits or '_'); got {run_type!r}"
        )
    return run_type


def check_engine(label: Any, name: str = "engine_type") -> str:
    """An engine label ``<engine>-<version>`` (what ``labels.engineType`` needs, §3.2)."""
    text = label if isinstance(label, str) else ""
    if _ENGINE_LABEL.fullmatch(text):
        return text
    family = text.split("-", 1)[0].lower()
    example = ENGINE_EXAMPLES.get(family, f"{family or 'spark'}-<version>")
    if text and "-" not in text and family in ENGINE_EXAMPLES:
        raise ConfigurationError(
            f"{name} must be an engine label '<engine>-<version>': {label!r} needs a version, "
            f"e.g. {example!r}"
        )
    raise ConfigurationError(
        f"{name} must be an engine label '<engine>-<version>', e.g. {example!r}; got {label!r}"
    )


def check_engine_name(engine: Any) -> str:
    """An engine name (``spark``) or label (``spark-3.2.1``), as the 0.x execute body allows."""
    text = engine if isinstance(engine, str) else ""
    if _ENGINE_NAME.fullmatch(text):
        return text
    return check_engine(engine)


def check_code(code: Any) -> str:
    """The script to run: a string that is not blank."""
    if not isinstance(code, str) or not code.strip():
        raise ConfigurationError("the code must be a non-blank string (the script to run)")
    return code


def check_mapping(value: Any, name: str, *, stringify: bool) -> dict[str, Any]:
    """A mapping of names to strings/numbers (variables, startup, runtime, labels, ...)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{name} must be a mapping of names to values, got {value!r}")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip() or _CONTROL.search(key):
            raise ConfigurationError(
                f"{name} keys must be non-empty strings without control characters, got {key!r}"
            )
        if item is not None and not isinstance(item, (str, int, float, bool)):
            raise ConfigurationError(
                f"{name}[{key!r}] must be a string or number, got {type(item).__name__}"
            )
        out[key] = str(item) if stringify and item is not None else item
    return out


def parse_pairs(items: list[str], option: str) -> dict[str, str]:
    """``K=V`` words from a magic line -> a dict; a malformed item names the option."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or any(c.isspace() for c in key):
            raise ConfigurationError(
                f"{option} expects KEY=VALUE, got {item!r} (e.g. {option} dt=2024-01-01; "
                "put RUNTYPE before the options)"
            )
        out[key] = value
    return check_mapping(out, option, stringify=True)


def check_exec_id(exec_id: Any) -> str:
    """A Linkis execID, safe to put verbatim into a URL path (§3.1, §10.3)."""
    if not isinstance(exec_id, str) or not exec_id or _EXEC_ID_FORBIDDEN.search(exec_id):
        raise ConfigurationError(
            "exec_id must be a Linkis execID such as 'exec_id018010linkis-cg-entrance"
            f"host:9104IDE_alice_spark_7' (no '/', '?', '#', '%' or blanks); got {exec_id!r}"
        )
    return exec_id


def check_task_id(task_id: Any) -> int:
    """A taskID: a positive integer (the database id of a job)."""
    if not _is_int(task_id) or task_id <= 0:
        raise ConfigurationError(f"task_id must be a positive integer, got {task_id!r}")
    return int(task_id)


def check_job_ref(text: str) -> int | str:
    """A job named on a magic line: a taskID (digits) -> int, an execID -> str."""
    if text.isdigit():
        return check_task_id(int(text))
    if text.startswith("exec_id"):
        return check_exec_id(text)
    raise ConfigurationError(
        f"ID must be a taskID (a number) or an execID (exec_id…), got {text!r}"
    )


# --------------------------------------------------------------------------- files and names


def check_name(value: Any, what: str) -> str:
    """A database or table name: not blank, no control characters (sent as a parameter)."""
    if not isinstance(value, str) or not value.strip() or _CONTROL.search(value):
        raise ConfigurationError(f"{what} must be a non-empty name, got {value!r}")
    return value.strip()


def check_path(path: Any) -> str:
    """A gateway file URI such as ``hdfs:///tmp/linkis/...`` (not blank)."""
    if not isinstance(path, str) or not path.strip():
        raise ConfigurationError("path must be a non-empty file URI such as hdfs:///tmp/x")
    return path


_WORKSPACE_SCHEMES = ("file:///", "hdfs:///", "s3://")


def check_workspace_path(path: Any, what: str = "path") -> str:
    """A fully qualified workspace URI (``file:///…``, ``hdfs:///…``) without ``..``.

    Linkis's path validator refuses a path without a scheme (80025) and one with ``../``
    (80026); asking first gives a clear message and sends nothing.
    """
    if not isinstance(path, str) or not path.strip():
        raise ConfigurationError(
            f"{what} must be a workspace URI such as hdfs:///tmp/linkis/alice/linkis/x"
        )
    if _CONTROL.search(path):
        raise ConfigurationError(f"{what} must not contain control characters: {path!r}")
    if not path.startswith(_WORKSPACE_SCHEMES):
        raise ConfigurationError(
            f"{what} must be fully qualified (file:///... or hdfs:///...), got {path!r}; "
            "Linkis refuses paths without a scheme"
        )
    rest = path.split("://", 1)[1]
    if ".." in rest.split("/"):
        raise ConfigurationError(f"{what} must not contain '..' (Linkis refuses it), got {path!r}")
    return path


_TABLE_PART = re.compile(r"^[A-Za-z0-9_]+$")


def check_table_name(name: Any) -> tuple[str | None, str]:
    """``[db.]table`` of letters, digits and ``_`` (Hive's rule) -> (database or None, table)."""
    if not isinstance(name, str) or not name.strip():
        raise ConfigurationError("the table must be named as [DB.]TABLE, got an empty name")
    parts = name.strip().split(".")
    if len(parts) > 2 or not all(_TABLE_PART.fullmatch(p) for p in parts):
        raise ConfigurationError(
            f"the table must be [DB.]TABLE of letters, digits and _, got {name!r}"
        )
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


def check_identifier(name: str | None, option: str) -> str | None:
    """A Python variable name to bind a result to (``-o NAME``)."""
    if name is None:
        return None
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ConfigurationError(f"{option} expects a Python variable name, got {name!r}")
    return name


def check_export_path(text: str | None) -> Path | None:
    """A local ``.csv``/``.xlsx`` path whose directory exists (``--export PATH``)."""
    if text is None:
        return None
    path = Path(text).expanduser()
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise ConfigurationError(f"--export writes .csv or .xlsx files, got {text!r}")
    if not path.parent.is_dir():
        raise ConfigurationError(f"--export: directory {str(path.parent)!r} does not exist")
    return path
