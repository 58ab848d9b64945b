"""How stored cells read back: Linkis's nullValue rules, and normalizing other writers' text.

openFile and resultsetToExcel turn SQL NULLs, the text "NULL" and empty cells into the
request's `nullValue` by the rules of docs/linkis-protocol.md §5.3 and §5.7 (`NullPolicy`).
Cells of files we did not write are normalized the way Linkis's DataType.toValue +
valueToString would show them (§6.5: "007" -> "7", "1.5E10" -> "15000000000" in a double
column, ...); our own files are canonical already and skip that.

Each rule exists twice: per cell (`NullPolicy.cell`, `normalize`) for the row-by-row reader,
and per Arrow column (`apply_policy`, `normalize_column`) for big pages and exports; the
tests check that both agree.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import re

import pyarrow as pa
import pyarrow.compute as pc

from linkis_magic.sandbox.dolphin.format import (
    NEVER_BLANK,
    NULL_TOKEN,
    OLD_NULL_TOKEN,
    STRING_LIKE,
    decimal_text,
    double_text,
    float_text,
    render_arrow,
    timestamp_text,
)

_INT_RE = re.compile(r"[+-]?[0-9]+")
_FLOAT_RE = re.compile(r"[+-]?(NaN|Infinity|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[fFdD]?)")
_DECIMAL_RE = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_TS_RE = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2}) ([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(\.[0-9]{1,9})?"
)
_INT_RANGE = {"short": 1 << 15, "int": 1 << 31, "long": 1 << 63, "bigint": 1 << 63}


def _java_float(text: str) -> float | None:
    s = text.strip(" \t\n\r\x0b\x0c")
    if not _FLOAT_RE.fullmatch(s):
        return None
    s = s.rstrip("fFdD") if not s.endswith("NaN") else s
    return float(s.replace("Infinity", "inf"))


def normalize(kind: str, s: str) -> str:
    """What Linkis' DataType.toValue + valueToString make of a stored cell (failures: as is)."""
    if kind == "boolean":
        low = s.lower()
        return low if low in ("true", "false") else s
    if kind in _INT_RANGE:
        if _INT_RE.fullmatch(s):
            v = int(s)
            limit = _INT_RANGE[kind]
            if -limit <= v < limit:
                return str(v)
        return s
    if kind in ("float", "double"):
        f = _java_float(s)
        if f is None:
            return s
        return double_text(f) if kind == "double" else float_text(f)
    if kind == "decimal":
        return decimal_text(decimal.Decimal(s)) if _DECIMAL_RE.fullmatch(s) else s
    if kind == "date":
        m = _DATE_RE.fullmatch(s)
        if m:
            try:
                return _dt.date(*(int(g) for g in m.groups())).isoformat()
            except ValueError:
                return s
        return s
    if kind == "timestamp":
        m = _TS_RE.fullmatch(s)
        if m:
            try:
                y, mo, d, h, mi, sec = (int(g) for g in m.groups()[:6])
                ts = _dt.datetime(y, mo, d, h, mi, sec)
            except ValueError:
                return s
            text = timestamp_text(ts)
            frac = (m.group(7) or ".")[1:].ljust(9, "0").rstrip("0")
            return f"{text}.{frac}" if frac else text
        return s
    return s


class NullPolicy:
    """The nullValue rules of openFile/resultsetToExcel (docs/linkis-protocol.md §5.3, §5.7)."""

    def __init__(self, null_value: str | None, *, export: bool = False) -> None:
        self.keep_none = null_value == NULL_TOKEN
        if export:
            repl = "" if null_value is None or null_value.upper() == "BLANK" else null_value
            self.null_repl: str | None = repl
            self.empty_repl = repl
        elif null_value is None or null_value == "" or null_value.upper() == "BLANK":
            self.null_repl, self.empty_repl = OLD_NULL_TOKEN, ""
        else:
            self.null_repl = self.empty_repl = null_value

    def cell(self, kind: str, raw: str, canonical: bool) -> str | None:
        # DataType.toValue: tokens and (for typed columns) "NULL"/blank become null.
        value: str | None
        if raw == NULL_TOKEN or kind == "void":
            value = None
        elif kind in STRING_LIKE:
            value = raw
        elif raw.upper() == OLD_NULL_TOKEN or not raw.strip():
            value = None
        else:
            value = raw if canonical else normalize(kind, raw)
        # ResultsetFileSource.shuffle: null/"NULL" -> nullValue, "" -> nullValue.
        if self.keep_none:
            return value
        if value is None or value == OLD_NULL_TOKEN:
            return self.null_repl
        if value == "":
            return self.empty_repl
        return value


def apply_policy(policy: NullPolicy, kind: str, raw: pa.Array, canonical: bool) -> pa.Array:
    """Vectorized `NullPolicy.cell` over one column of raw stored strings."""
    is_null = pc.equal(raw, NULL_TOKEN)
    if kind == "void":
        is_null = pc.is_valid(raw)
    elif kind not in STRING_LIKE and not (canonical and kind in NEVER_BLANK):
        blank = pc.or_(pc.equal(pc.binary_length(raw), 0), pc.utf8_is_space(raw))
        null_text = pc.match_like(raw, OLD_NULL_TOKEN, ignore_case=True)
        is_null = pc.or_(pc.or_(is_null, null_text), blank)
        if not canonical:
            raw = normalize_column(kind, raw)
    if pc.any(is_null).as_py():
        value = pc.if_else(is_null, pa.scalar(None, pa.string()), raw)
    else:
        value = raw
    if policy.keep_none:
        return value
    nullish = pc.or_kleene(pc.is_null(value), pc.equal(value, OLD_NULL_TOKEN))
    if pc.any(nullish).as_py():
        value = pc.if_else(nullish, pa.scalar(policy.null_repl, pa.string()), value)
    if policy.empty_repl != "":
        empty = pc.equal(pc.binary_length(value), 0)
        if pc.any(empty).as_py():
            value = pc.if_else(empty, pa.scalar(policy.empty_repl, pa.string()), value)
    return value


_CANONICAL_RE = {
    "boolean": r"^(true|false)$",
    "short": r"^-?(0|[1-9][0-9]{0,3})$",
    "int": r"^-?(0|[1-9][0-9]{0,8})$",
    "long": r"^-?(0|[1-9][0-9]{0,17})$",
    "bigint": r"^-?(0|[1-9][0-9]{0,17})$",
    "date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "timestamp": r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{0,8}[1-9])?$",
    "decimal": r"^(0|-?[1-9][0-9]*)(\.[0-9]+)?$|^-0\.[0-9]*[1-9][0-9]*$",
    "double": r"^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$",
}


def normalize_column(kind: str, raw: pa.Array) -> pa.Array:
    """Normalize only the cells that are not already in canonical form (rare: foreign files)."""
    pattern = _CANONICAL_RE.get(kind)
    odd = pc.is_valid(raw) if pattern is None else pc.invert(pc.match_substring_regex(raw, pattern))
    odd = pc.fill_null(odd, False)
    if kind == "double":
        # Plain decimals are canonical when they survive a float round trip unchanged.
        plain = pc.and_(pc.invert(odd), pc.is_valid(raw))
        if pc.any(plain).as_py():
            back = render_arrow(pc.cast(pc.filter(raw, plain), pa.float64()))
            mismatch = pc.invert(pc.equal(back, pc.filter(raw, plain)))
            odd = pc.replace_with_mask(odd, plain, mismatch)
    if not pc.any(odd).as_py():
        return raw
    fixed = pa.array([normalize(kind, v) for v in pc.filter(raw, odd).to_pylist()], pa.string())
    return pc.replace_with_mask(raw, odd, fixed)
