"""The process that runs users' SQL: read-only attached data, locked settings, an address-space limit.

Started by dashboard.sql.sandbox as `python -I worker.py SPEC_JSON` with a private folder as its working and home
directory. It imports nothing from gapscope (a small address space, no access to the store), attaches the data
files READ_ONLY, offers their tables as views in `main`, switches off external access, extensions, spilling and
further configuration, then limits its own address space (RLIMIT_AS) so no query can take memory from the
dashboard server. It runs only single SELECT statements (a DETACH or SET would change its state for the next
query). Requests and replies are length-prefixed frames on stdin/stdout: a JSON request
{"sql", "max_rows", "ids"}, a JSON reply header {"ok", "kind", "message", "rows"} and, when ok, an Arrow IPC stream.
"""
from __future__ import annotations

import json
import resource
import struct
import sys

import duckdb
import pyarrow as pa

HEADER = struct.Struct(">Q")
ERROR_KINDS = {duckdb.InterruptException: "interrupt", duckdb.PermissionException: "permission",
               duckdb.OutOfMemoryException: "memory", duckdb.CatalogException: "catalog"}


def read_frame(stream) -> bytes | None:
    """One length-prefixed frame, or None at end of input."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    return stream.read(HEADER.unpack(head)[0])


def write_frame(stream, payload: bytes) -> None:
    """One length-prefixed frame, flushed."""
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


def connect(spec: dict) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the data files attached read-only as views, then locked."""
    con = duckdb.connect(":memory:", config={"threads": 1, "memory_limit": spec["memory_limit"], "temp_directory": "",
                                             "max_temp_directory_size": "0B", "autoload_known_extensions": False,
                                             "autoinstall_known_extensions": False, "python_enable_replacements": False,
                                             "allow_community_extensions": False, "allow_unsigned_extensions": False})
    for alias, path in spec["files"].items():
        con.execute(f"ATTACH '{path}' AS \"{alias}\" (READ_ONLY)")
    for view, alias in spec["views"].items():
        con.execute(f'CREATE VIEW main."{view}" AS SELECT * FROM "{alias}"."{view}"')
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def limit_address_space(headroom_mb: int) -> None:
    """Cap this process's address space at what it maps now plus headroom_mb."""
    with open("/proc/self/status") as status:
        size_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    limit = size_kb * 1024 + headroom_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def result(con: duckdb.DuckDBPyConnection, request: dict) -> pa.Table:
    """The rows of the request (capped at max_rows + 1), or the distinct non-null item ids in order."""
    statements = duckdb.extract_statements(request["sql"])
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise PermissionError("only one read statement (SELECT) is allowed")
    relation = con.sql(request["sql"])
    if not request["ids"]:
        return relation.limit(request["max_rows"] + 1).arrow().read_all()
    if "item_id" not in relation.columns:
        raise LookupError(", ".join(relation.columns) or "none")
    ids = relation.select('CAST("item_id" AS VARCHAR) AS item_id').filter("item_id IS NOT NULL")
    column = ids.limit(request["max_rows"] + 1).arrow().read_all().column(0).to_pylist()
    return pa.table({"item_id": list(dict.fromkeys(column))})


def serialise(table: pa.Table, max_bytes: int) -> bytes:
    """The table as an Arrow IPC stream; a result over max_bytes is refused."""
    if table.nbytes > max_bytes:
        raise BufferError(f"{table.nbytes}")
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def answer(con: duckdb.DuckDBPyConnection, request: dict, max_bytes: int) -> tuple[dict, bytes | None]:
    """The reply header and payload of one request."""
    try:
        table = result(con, request)
        return {"ok": True, "rows": table.num_rows}, serialise(table, max_bytes)
    except duckdb.Error as exc:
        kind = next((k for cls, k in ERROR_KINDS.items() if isinstance(exc, cls)), "error")
        return {"ok": False, "kind": kind, "message": str(exc)}, None
    except LookupError as exc:
        return {"ok": False, "kind": "no_item_id", "message": str(exc)}, None
    except PermissionError as exc:
        return {"ok": False, "kind": "not_read", "message": str(exc)}, None
    except BufferError as exc:
        return {"ok": False, "kind": "too_large", "message": str(exc)}, None
    except MemoryError:
        return {"ok": False, "kind": "memory", "message": "Out of Memory Error: the worker's address space is full"}, None
    except (pa.ArrowException, ValueError, OverflowError, TypeError) as exc:
        return {"ok": False, "kind": "error", "message": f"the result cannot be converted ({exc})"}, None


def main() -> None:
    """Serve requests until stdin closes."""
    spec = json.loads(sys.argv[1])
    con = connect(spec)
    limit_address_space(spec["headroom_mb"])
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    write_frame(stdout, json.dumps({"ok": True, "ready": True}).encode())
    while (frame := read_frame(stdin)) is not None:
        header, payload = answer(con, json.loads(frame), spec["max_bytes"])
        write_frame(stdout, json.dumps(header).encode())
        if payload is not None:
            write_frame(stdout, payload)


if __name__ == "__main__":
    main()
