"""Artefact payloads over INLINE_MAX bytes live in files beside the metadata, named in their artefact's row.

DuckDB reads a BLOB column's blocks for the whole row group when a query selects one row's value, so reading one
artefact kept inline costs time in proportion to the bytes of every artefact in the store: on a store of 100,000
pairs and two models (44 MB of artefacts) one 1 MB read took ~80 ms in a fresh connection against ~2 ms for the
same row without its payload, and it grows with every model and dataset added. So a payload above INLINE_MAX is
written to <store>/artifacts/<sha256>.<format> (content-addressed: rewriting the same bytes reuses the file) and
the row holds the file name, with format "file:<format>"; reading it is one file read. The file is written, under
a temporary name, flushed and renamed, before the row that names it commits: the row is the commit point, so a
failed write leaves at most an unreferenced file, and a rolled-back import (dashboard/store/rollback.py, which
restores the metadata file) finds every file its restored rows name, because no file is deleted on the way.
Unreferenced files (replaced or removed artefacts, failed writes) are deleted by `sweep`, run after a precompute;
like every write, it assumes one writer at a time. Small payloads (JSON summaries) stay inline; stores written
before this layout (all inline) read as they are.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from dashboard.errors import GapscopeError

INLINE_MAX = 64 * 1024
FILE_FORMAT = "file:"
FOLDER = "artifacts"
NAME = re.compile(r"[0-9a-f]{64}\.[a-z]+")


def stage(root: Path, payload: bytes, fmt: str) -> tuple[bytes, str]:
    """The (payload, format) the artefact's row holds: the bytes when small, else the name of the file written now."""
    if len(payload) <= INLINE_MAX:
        return payload, fmt
    name = f"{hashlib.sha256(payload).hexdigest()}.{fmt}"
    folder = root / FOLDER
    folder.mkdir(exist_ok=True)
    if not (folder / name).is_file():
        partial = folder / f".{name}.{os.getpid()}.partial"
        with open(partial, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, folder / name)
    return name.encode(), FILE_FORMAT + fmt


def resolve(root: Path, payload: bytes, fmt: str) -> tuple[bytes, str]:
    """The artefact's bytes and format, read from its file when the row names one."""
    if not fmt.startswith(FILE_FORMAT):
        return payload, fmt
    name = payload.decode("ascii", errors="replace")
    if not NAME.fullmatch(name):
        raise GapscopeError(f"{root}: artefact row names {name[:80]!r}, not a payload file")
    try:
        return (root / FOLDER / name).read_bytes(), fmt[len(FILE_FORMAT):]
    except OSError as exc:
        raise GapscopeError(f"{root}: artefact payload {FOLDER}/{name} is missing ({exc.strerror})") from exc


def sweep(root: Path, referenced: set[str]) -> int:
    """Delete the payload files (and partial writes) no row names; the number deleted."""
    folder = root / FOLDER
    if not folder.is_dir():
        return 0
    stale = [p for p in folder.iterdir() if p.is_file() and p.name not in referenced
             and (NAME.fullmatch(p.name) or p.name.endswith(".partial"))]
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)
