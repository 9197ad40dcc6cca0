"""Reading an export's text files (UTF-8 text, JSON, CSV) with one-line errors that name the file and line."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from dashboard.errors import GapscopeError


def read_utf8(path: Path) -> str:
    """The file's text as UTF-8 (a leading BOM dropped); other bytes are an error naming the line and column."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise GapscopeError(f"{path}: line {line} is not UTF-8 (byte 0x{data[exc.start]:02x} at column {column}; "
                            "save the file as UTF-8)") from exc


def read_meta(path: Path) -> dict | None:
    """A JSON object file (None if absent); bad bytes or bad JSON is an error naming the file and line."""
    if not path.is_file():
        return None
    try:
        value = json.loads(read_utf8(path))
    except json.JSONDecodeError as exc:
        raise GapscopeError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
    if not isinstance(value, dict):
        raise GapscopeError(f"{path}: expected a JSON object, found {type(value).__name__}")
    return value


def read_csv(path: Path, **options) -> pd.DataFrame:
    """A CSV file as a DataFrame; unreadable bytes or a malformed table is an error naming the file."""
    text = read_utf8(path)
    try:
        return pd.read_csv(io.StringIO(text), **options)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, IndexError) as exc:
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise GapscopeError(f"{path}: not a readable CSV table ({message})") from exc
