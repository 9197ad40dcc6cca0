"""LanceDB tables of a store: one table per (dataset, model), rows keyed by modality and item id.

Search is brute force (exact) below ANN_MIN_ROWS rows, LanceDB's own guidance ("an index is not needed under
~100k rows"). `build_index` (run at precompute time, never on a page view) adds scalar indices on key and
modality (exact lookups and filters without a scan) and, from ANN_MIN_ROWS rows, an IVF_PQ vector index on cosine
distance with one partition per PARTITION_ROWS rows; queries then probe NPROBES partitions and re-rank REFINE x k candidates by
their exact cosine distance (so the similarities shown are exact; only the candidate set is approximate).
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Iterator

import lancedb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from lancedb.index import Bitmap, BTree, IvfPq


ANN_MIN_ROWS = 100_000
NPROBES = 16
PARTITION_ROWS = 2048
REFINE = 10
READ_BATCH_ROWS = 8192
FILTER_KEYS = 1024  # keys per IN filter of read_items


def table_name(dataset: str, model: str) -> str:
    """A file-safe, stable table name for one dataset embedded by one model."""
    digest = hashlib.sha1(f"{dataset}\x00{model}".encode()).hexdigest()[:16]
    return f"emb_{digest}"


def _schema(dim: int, value_type: pa.DataType) -> pa.Schema:
    """Arrow schema of an embedding table of dimension `dim` (float32, or float64 for exact imports)."""
    return pa.schema([
        pa.field("key", pa.string()),
        pa.field("item_id", pa.string()),
        pa.field("modality", pa.string()),
        pa.field("vector", pa.list_(value_type, dim)),
    ])


class VectorTables:
    """The LanceDB side of a store."""

    def __init__(self, root: Path) -> None:
        self._db = lancedb.connect(str(root))

    def names(self) -> set[str]:
        """Names of the tables that exist."""
        listed = self._db.list_tables()
        return set(getattr(listed, "tables", listed))

    def drop(self, name: str) -> None:
        """Delete a table (nothing if it does not exist)."""
        if name in self.names():
            self._db.drop_table(name)

    def open(self, name: str) -> lancedb.table.Table:
        """Open an existing table."""
        return self._db.open_table(name)

    def upsert(self, name: str, modality: str, item_ids: list[str], vectors: np.ndarray) -> int:
        """Insert rows whose key is new; existing keys are left as they are (idempotent). Returns rows sent.

        float64 input makes a float64 table (exact imports); anything else is stored as float32."""
        if name in self.names():
            value_type = self.open(name).schema.field("vector").type.value_type
        else:
            value_type = pa.float64() if np.asarray(vectors).dtype == np.float64 else pa.float32()
            self._db.create_table(name, schema=_schema(np.shape(vectors)[1], value_type))
        vectors = np.ascontiguousarray(vectors, dtype=value_type.to_pandas_dtype())
        keys = [f"{modality}/{i}" for i in item_ids]
        flat = pa.array(vectors.reshape(-1), type=value_type)
        data = pa.table({
            "key": pa.array(keys, pa.string()),
            "item_id": pa.array([str(i) for i in item_ids], pa.string()),
            "modality": pa.array([modality] * len(keys), pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1]),
        })
        table = self.open(name)
        table.merge_insert("key").when_not_matched_insert_all().execute(data)
        return len(keys)

    def ensure(self, name: str, dim: int, value_type: pa.DataType = pa.float32()) -> pa.DataType:
        """Create the table if it does not exist; the value type of its vectors."""
        if name not in self.names():
            self._db.create_table(name, schema=_schema(dim, value_type))
            return value_type
        return self.open(name).schema.field("vector").type.value_type

    def append(self, name: str, chunks: list[tuple[str, pa.Array, np.ndarray]],
               value_type: pa.DataType = pa.float32()) -> int:
        """Append (modality, ids as an Arrow string array, vectors) chunks to an existing table in one commit (the
        keys must be new); each matrix goes in as one chunk of the vector column, not copied into one array first,
        and the key and modality columns are built by Arrow, not per row."""
        dtype = value_type.to_pandas_dtype()
        parts = [(m, ids, np.ascontiguousarray(v, dtype=dtype)) for m, ids, v in chunks if len(ids)]
        if not parts:
            return 0
        vector = pa.chunked_array([pa.FixedSizeListArray.from_arrays(pa.array(v.reshape(-1), type=value_type),
                                                                     v.shape[1]) for _, _, v in parts])
        data = pa.table({
            "key": pa.chunked_array([pc.binary_join_element_wise(m, ids, "/") for m, ids, _ in parts], pa.string()),
            "item_id": pa.chunked_array([ids for _, ids, _ in parts], pa.string()),
            "modality": pa.chunked_array([pa.repeat(m, len(ids)) for m, ids, _ in parts], pa.string()),
            "vector": vector,
        })
        self.open(name).add(data)
        return data.num_rows

    def read_batches(self, name: str, modality: str) -> tuple[list[str], Iterator[pa.RecordBatch]]:
        """One modality's item ids, and its (item_id, vector) rows in record batches, both read from one version of
        the table (an append in between is not seen), READ_BATCH_ROWS rows a batch, so the whole table is never
        held as read."""
        table = self.open(name)
        return _ids(table, modality), iter(_query(table, ["item_id", "vector"], modality).to_batches(READ_BATCH_ROWS))

    def read_items(self, name: str, modality: str, item_ids: list[str]) -> pa.Table:
        """The (item_id, vector) rows of some items of one modality, read by a filter on their keys (FILTER_KEYS
        at a time; the key column has a scalar index once the store's indices are built)."""
        table, parts = self.open(name), []
        for start in range(0, len(item_ids), FILTER_KEYS):
            keys = ", ".join(f"'{_quote(f'{modality}/{i}')}'" for i in item_ids[start:start + FILTER_KEYS])
            parts.append(table.search().where(f"key IN ({keys})").select(["item_id", "vector"]).limit(None).to_arrow())
        return pa.concat_tables(parts) if parts else pa.table({"item_id": pa.array([], pa.string()),
                                                               "vector": pa.array([], pa.list_(pa.float32(), 1))})

    def modality_ids(self, name: str, modality: str) -> list[str]:
        """One modality's item ids in read order (the order read_batches gives them), without the vectors."""
        return _ids(self.open(name), modality)

    def ids(self, name: str) -> dict[str, set[str]]:
        """Modality -> the item ids stored for it, read without the vectors."""
        arrow = _query(self.open(name), ["item_id", "modality"], None).to_arrow()
        modality = arrow.column("modality")
        return {str(m): set(arrow.column("item_id").filter(pc.equal(modality, m)).to_pylist())
                for m in pc.unique(modality).to_pylist()}

    def counts(self, name: str) -> dict[str, int]:
        """Number of rows per modality."""
        arrow = _query(self.open(name), ["modality"], None).to_arrow()
        counted = pc.value_counts(arrow.column("modality")).to_pylist()
        return {str(c["values"]): int(c["counts"]) for c in sorted(counted, key=lambda c: str(c["values"]))}

    def build_index(self, name: str, min_rows: int = ANN_MIN_ROWS) -> bool:
        """Scalar indices on key and modality; an IVF_PQ vector index when the table has min_rows rows or more.
        Returns whether the vector index exists."""
        table = self.open(name)
        table.create_index("key", config=BTree(), replace=True)
        table.create_index("modality", config=Bitmap(), replace=True)
        rows = table.count_rows()
        if rows < min_rows:
            return False
        dim = table.schema.field("vector").type.list_size
        config = IvfPq(distance_type="cosine", num_partitions=max(1, rows // PARTITION_ROWS),
                       num_sub_vectors=_sub_vectors(dim))
        table.create_index("vector", config=config, replace=True)
        return True

    def has_vector_index(self, name: str) -> bool:
        """Whether the table's vector column has an ANN index."""
        return any("vector" in list(getattr(i, "columns", [])) for i in self.open(name).list_indices())

    def search(self, name: str, query: np.ndarray, k: int, modality: str | None = None) -> pa.Table:
        """The k nearest rows to `query` by cosine distance, optionally within one modality (approximate
        candidates, exact distances, when the table has a vector index)."""
        builder = self.open(name).search(np.asarray(query, dtype=np.float32)).distance_type("cosine").limit(k)
        if self.has_vector_index(name):
            builder = builder.nprobes(NPROBES).refine_factor(REFINE)
        if modality is not None:
            builder = builder.where(f"modality = '{_quote(modality)}'", prefilter=True)
        return builder.select(["item_id", "modality", "_distance"]).to_arrow()


def _sub_vectors(dim: int) -> int:
    """PQ sub-vectors: dim / 8 (8-d pieces), or the largest divisor of dim below that."""
    wanted = max(1, dim // 8)
    return next(d for d in range(wanted, 0, -1) if dim % d == 0)


def _quote(text: str) -> str:
    """Escape a string literal for a Lance filter."""
    return text.replace("'", "''")


def _ids(table: Any, modality: str) -> list[str]:
    """One modality's item ids in read order."""
    return _query(table, ["item_id"], modality).to_arrow().column("item_id").to_pylist()


def _query(table: Any, columns: list[str], modality: str | None) -> Any:
    """A full scan of `columns` (one modality's rows if given)."""
    query = table.search().select(columns).limit(None)
    return query if modality is None else query.where(f"modality = '{_quote(modality)}'")
