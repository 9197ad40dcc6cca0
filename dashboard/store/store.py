"""The Store facade: datasets, items, models, embeddings and computed artefacts in one folder."""
from __future__ import annotations

import contextlib
import copy
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dashboard.errors import GapscopeError
from dashboard.store import metadata, payloads, schema
from dashboard.store.appender import EmbeddingAppender
from dashboard.store.item_appender import ItemAppender, insert_items
from dashboard.store.validate import check_vectors
from dashboard.store.vectors import READ_BATCH_ROWS, VectorTables, table_name


@dataclass(frozen=True)
class Paired:
    """Embeddings of the items present in every requested modality, in item order."""

    item_ids: list[str]
    vectors: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.item_ids)


class Store:
    """A gapscope store folder; open read-only for the dashboard, writable for imports and ingest."""

    def __init__(self, path: Path, read_only: bool, snapshot: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._vectors = VectorTables(self.path / schema.VECTOR_DIR)
        self._pinned: Any = None
        self._records: dict[tuple[str, str], dict[str, Any]] | None = {} if snapshot and read_only else None

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path) -> "Store":
        """Open a writable store, creating the folder and schema if it does not exist."""
        path = Path(path)
        if (path / schema.META_FILE).exists():
            return cls.open(path, read_only=False)
        if path.exists() and not path.is_dir():
            raise GapscopeError(f"{path}: exists and is not a folder")
        (path / schema.VECTOR_DIR).mkdir(parents=True, exist_ok=True)
        with metadata.connect(path / schema.META_FILE, read_only=False) as con:
            for statement in schema.DDL:
                con.execute(statement)
            con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(schema.SCHEMA_VERSION)])
        return cls(path, read_only=False)

    @classmethod
    def open(cls, path: str | Path, read_only: bool = True, snapshot: bool = False) -> "Store":
        """Open an existing store and check its schema version; read-only opening changes nothing. A read-only
        `snapshot` keeps each dataset and model record it has read (one metadata connection each, ~25 ms, instead
        of one per call): for readers of one version of the store, such as the dashboard's, opened anew after
        every write."""
        path = Path(path)
        if not (path / schema.META_FILE).is_file():
            raise GapscopeError(f"{path}: not a gapscope store (no {schema.META_FILE})")
        version = cls._schema_version(path)
        if version != schema.SCHEMA_VERSION:
            raise GapscopeError(f"{path}: store has schema version {version}, this gapscope reads version {schema.SCHEMA_VERSION}")
        return cls(path, read_only=read_only, snapshot=snapshot)

    @staticmethod
    def _schema_version(path: Path) -> int | None:
        """The schema version recorded in a store's metadata, or None."""
        with metadata.connect(path / schema.META_FILE, read_only=True) as con:
            try:
                row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
            except Exception as exc:  # noqa: BLE001 - any failure means an unreadable schema
                raise GapscopeError(f"{path}: unreadable store metadata ({str(exc).splitlines()[0]})") from exc
        return int(row[0][0]) if row else None

    def _db(self, write: bool = False):
        """A short-lived metadata connection (the pinned one inside `registration`)."""
        if write and self.read_only:
            raise GapscopeError(f"{self.path}: store is open read-only")
        if self._pinned is not None:
            return contextlib.nullcontext(self._pinned)
        return metadata.connect(self.path / schema.META_FILE, read_only=not write)

    @contextlib.contextmanager
    def registration(self, dataset: str) -> Iterator[ItemAppender]:
        """An ingest's registration: this thread's calls inside run as one transaction (committed together or not
        at all) on the write connection that the yielded appender of `dataset`'s items then keeps for its first
        commits (one open for the run, not one per step: see dashboard.store.item_appender); the dataset must be
        registered by the end. While the appender holds the file, read-only connections of this process to it are
        refused (DuckDB opens a file one way per process): its user makes no other metadata calls until it lets go."""
        if self.read_only:
            raise GapscopeError(f"{self.path}: store is open read-only")
        items = ItemAppender(self.path / schema.META_FILE, dataset)
        with items.transaction() as con:
            self._pinned = con
            try:
                yield items
                self.dataset(dataset)
            finally:
                self._pinned = None

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a read query on the metadata and return a DataFrame."""
        with self._db() as con:
            return con.execute(sql, params or []).df()

    # -- datasets and items ------------------------------------------------------------------
    def add_dataset(self, name: str, modalities: Iterable[str], kind: str = "pairs",
                    source: str = "", description: str = "") -> None:
        """Register (or update) a dataset and its modalities."""
        modalities = list(modalities)
        if not name or len(modalities) < 1:
            raise GapscopeError(f"dataset {name!r}: needs a name and at least one modality")
        with self._db(write=True) as con:
            found = con.execute("SELECT modalities FROM datasets WHERE name = ?", [name]).fetchall()
            if found and list(found[0][0]) != modalities:
                raise GapscopeError(f"dataset {name!r}: already in the store with modalities {', '.join(found[0][0])}, "
                                    f"not {', '.join(modalities)}")
            con.execute("INSERT OR REPLACE INTO datasets (name, modalities, kind, source, description) "
                        "VALUES (?, ?, ?, ?, ?)", [name, modalities, kind, source, description])

    def remove_dataset(self, name: str) -> None:
        """Delete a dataset with its items, vector tables and artefacts (model records stay)."""
        self.dataset(name)
        tables = self.query("SELECT table_name FROM vector_tables WHERE dataset = ?", [name])["table_name"]
        with self._db(write=True) as con:
            for table in ["items", "vector_tables", "artifacts"]:
                con.execute(f"DELETE FROM {table} WHERE dataset = ?", [name])
            con.execute("DELETE FROM datasets WHERE name = ?", [name])
        for table in tables:
            self._vectors.drop(table)

    def datasets(self) -> pd.DataFrame:
        """All datasets with their modalities and item counts."""
        return self.query("SELECT d.name, d.modalities, d.kind, d.source, d.description, "
                          "count(i.item_id) AS items FROM datasets d LEFT JOIN items i ON i.dataset = d.name "
                          "GROUP BY ALL ORDER BY d.name")

    def dataset(self, name: str) -> dict[str, Any]:
        """One dataset's record; an unknown name is an error listing the known ones."""
        return self._record("datasets", "dataset", name)

    def _record(self, table: str, what: str, name: str) -> dict[str, Any]:
        """The row of `table` named `name` as a dict (a copy of the snapshot's), or an error listing the names that
        exist."""
        record = None if self._records is None else self._records.get((table, name))
        if record is None:
            frame = self.query(f"SELECT * FROM {table} WHERE name = ?", [name])
            if frame.empty:
                known = ", ".join(self.query(f"SELECT name FROM {table} ORDER BY name")["name"]) or "none"
                raise GapscopeError(f"{what} {name!r}: not in store {self.path} (known: {known})")
            record = frame.iloc[0].to_dict()
            record["modalities"] = list(record["modalities"])
            if self._records is not None:
                self._records[(table, name)] = record
        return copy.deepcopy(record)

    def add_items(self, dataset: str, items: pd.DataFrame) -> int:
        """Add items (column item_id plus any of text, image_ref, audio_ref, molecule, thumbnail; the rest
        goes to `extra` as JSON); items already present are kept as they are. Returns the number added."""
        self.dataset(dataset)
        frame = _normalise_items(items)
        frame.insert(0, "row", range(len(frame)))
        with self._db(write=True) as con:
            con.register("incoming", frame)
            con.execute("CREATE TEMP TABLE fresh AS SELECT i.* FROM incoming i ANTI JOIN "
                        "(SELECT item_id FROM items WHERE dataset = ?) t ON i.item_id = t.item_id", [dataset])
            con.execute("INSERT INTO items SELECT ?, item_id, coalesce(CAST(ordinal AS BIGINT), "
                        "(SELECT coalesce(max(ordinal) + 1, 0) FROM items WHERE dataset = ?) + row_number() OVER (ORDER BY row) - 1), "
                        "text, image_ref, audio_ref, molecule, thumbnail, extra FROM fresh", [dataset, dataset])
            added = con.execute("SELECT count(*) FROM fresh").fetchall()[0][0]
            con.execute("DROP TABLE fresh")
            con.unregister("incoming")
        return int(added)

    def append_items(self, dataset: str, items: pa.Table) -> int:
        """Add items given as Arrow in the table's layout (ITEM_COLUMNS, extra already JSON) in one transaction;
        items already present are kept. No per-row conversion. Returns the number added."""
        with self._db(write=True) as con:
            return insert_items(con, dataset, items)

    def items(self, dataset: str, thumbnails: bool = False) -> pd.DataFrame:
        """A dataset's items in order (thumbnails only when asked: they are the bulk of the metadata)."""
        self.dataset(dataset)
        columns = [c for c in schema.ITEM_COLUMNS if thumbnails or c != "thumbnail"]
        return self.query(f"SELECT {', '.join(columns)} FROM items WHERE dataset = ? ORDER BY ordinal", [dataset])

    def thumbnails(self, dataset: str, item_ids: list[str]) -> dict[str, bytes]:
        """Thumbnail bytes of the given items (items without one are left out)."""
        frame = self.query("SELECT item_id, thumbnail FROM items WHERE dataset = ? AND list_contains(?, item_id) "
                           "AND thumbnail IS NOT NULL", [dataset, list(map(str, item_ids))])
        return {r.item_id: bytes(r.thumbnail) for r in frame.itertuples()}

    # -- models ------------------------------------------------------------------------------
    def add_model(self, name: str, modalities: Iterable[str], dim: int, logit_scale: float = 1.0,
                  family: str = "", source: str = "", config: dict[str, Any] | None = None) -> None:
        """Register (or update) a model: its modalities, dimension (0: varies by dataset) and logit scale."""
        if dim < 0 or not np.isfinite(logit_scale) or logit_scale <= 0:
            raise GapscopeError(f"model {name!r}: dimension and logit scale must be positive")
        with self._db(write=True) as con:
            con.execute("INSERT OR REPLACE INTO models VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [name, family, list(modalities), int(dim), float(logit_scale), source, json.dumps(config or {})])

    def models(self) -> pd.DataFrame:
        """All registered models."""
        return self.query("SELECT * FROM models ORDER BY name")

    def model(self, name: str) -> dict[str, Any]:
        """One model's record; an unknown name is an error listing the known ones."""
        record = self._record("models", "model", name)
        record["config"] = json.loads(record["config"] or "{}")
        return record

    # -- embeddings --------------------------------------------------------------------------
    def add_embeddings(self, dataset: str, model: str, modality: str, item_ids: list[str], vectors: np.ndarray,
                       exact: bool = False) -> int:
        """Store embeddings of items (idempotent: a (modality, item) already stored is kept); float32 unless
        `exact`, which keeps float64 (for vectors rebuilt from a Gram matrix, where float32 costs 1e-5 in loss)."""
        info, record = self.dataset(dataset), self.model(model)
        if modality not in info["modalities"]:
            raise GapscopeError(f"dataset {dataset!r}: has no modality {modality!r} (has {', '.join(info['modalities'])})")
        item_ids = [str(i) for i in item_ids]
        dim = self._expected_dim(dataset, model, record["dim"], np.shape(vectors))
        check_vectors(f"dataset {dataset!r}, model {model!r}, {modality}", item_ids, vectors, dim)
        name = table_name(dataset, model)
        with self._db(write=True) as con:
            con.execute("INSERT OR IGNORE INTO vector_tables VALUES (?, ?, ?, ?)", [dataset, model, name, dim])
        vectors = np.asarray(vectors, dtype=np.float64 if exact else np.float32)
        return self._vectors.upsert(name, modality, item_ids, vectors)

    def embedding_appender(self, dataset: str, model: str) -> EmbeddingAppender:
        """A bulk writer of (dataset, model)'s embeddings, checked once here (see dashboard.store.appender)."""
        info, record = self.dataset(dataset), self.model(model)
        dim = self._expected_dim(dataset, model, record["dim"], ())
        if dim <= 0:
            raise GapscopeError(f"model {model!r}: no fixed dimension to append embeddings of")
        name = table_name(dataset, model)
        with self._db(write=True) as con:
            con.execute("INSERT OR IGNORE INTO vector_tables VALUES (?, ?, ?, ?)", [dataset, model, name, dim])
        return EmbeddingAppender(self._vectors, name, dim, info["modalities"], f"dataset {dataset!r}, model {model!r}")

    def _expected_dim(self, dataset: str, model: str, model_dim: int, shape: tuple[int, ...]) -> int:
        """The dimension new embeddings must have: the table's if it exists, else the model's (any if 0)."""
        found = self.query("SELECT dim FROM vector_tables WHERE dataset = ? AND model = ?", [dataset, model])
        if not found.empty:
            return int(found["dim"].iloc[0])
        return model_dim or (shape[1] if len(shape) == 2 else -1)

    def coverage(self) -> pd.DataFrame:
        """Which model embedded which dataset: one row per (dataset, model, modality) with the count."""
        tables = self.query("SELECT dataset, model, table_name FROM vector_tables ORDER BY dataset, model")
        existing = self._vectors.names()
        rows = [
            {"dataset": r.dataset, "model": r.model, "modality": m, "count": c}
            for r in tables.itertuples() if r.table_name in existing
            for m, c in self._vectors.counts(r.table_name).items()
        ]
        return pd.DataFrame(rows, columns=["dataset", "model", "modality", "count"])

    def _table(self, dataset: str, model: str) -> str:
        """The vector table of (dataset, model), or an error saying the model did not embed it."""
        self.dataset(dataset)
        self.model(model)
        name = table_name(dataset, model)
        if name not in self._vectors.names():
            raise GapscopeError(f"model {model!r}: has not embedded dataset {dataset!r}")
        return name

    def embedded_ids(self, dataset: str, model: str) -> dict[str, set[str]]:
        """Modality -> ids embedded for (dataset, model), read without the vectors (empty if it embedded none)."""
        name = table_name(dataset, model)
        return self._vectors.ids(name) if name in self._vectors.names() else {}

    def embeddings(self, dataset: str, model: str, modality: str,
                   transform: Callable[[np.ndarray], np.ndarray] | None = None) -> tuple[list[str], np.ndarray]:
        """Item ids and embeddings of one modality, in item order; `transform` (row by row, e.g. L2 normalisation)
        is applied in place, READ_BATCH_ROWS rows at a time. Batches as read are written straight to their rows of
        one numpy array, so the peak is that array plus one batch; the transform runs on that numpy-owned array,
        never on an Arrow buffer (float32 row norms can round differently with the buffer's alignment, and orders
        built on them must not depend on it)."""
        ids, batches = self.embedding_batches(dataset, model, modality)
        order = self._ordinals(dataset, ids)
        row = dict(zip((ids[i] for i in order), range(len(ids))))
        matrix = np.zeros((0, 0), np.float32)
        for batch_ids, values in batches:
            if not matrix.size:
                matrix = np.empty((len(ids), values.shape[1]), dtype=values.dtype)
            matrix[[row[i] for i in batch_ids]] = values
        if transform is not None:
            for start in range(0, len(matrix), READ_BATCH_ROWS):
                matrix[start:start + READ_BATCH_ROWS] = transform(matrix[start:start + READ_BATCH_ROWS])
        return [ids[i] for i in order], matrix

    def embedding_batches(self, dataset: str, model: str, modality: str
                          ) -> tuple[list[str], Iterator[tuple[list[str], np.ndarray]]]:
        """One modality's item ids (read order), and its rows as (ids, vectors) batches of READ_BATCH_ROWS read from
        the same table version; the vectors are the Arrow buffer's view (copy before changing them)."""
        ids, batches = self._vectors.read_batches(self._table(dataset, model), modality)
        return ids, ((batch.column("item_id").to_pylist(), _matrix(batch.column("vector"))) for batch in batches)

    def some_pairs(self, dataset: str, model: str, item_ids: list[str],
                   transform: Callable[[np.ndarray, str], np.ndarray] | None = None) -> Paired:
        """Embeddings of some items (those with every modality, in the order of `item_ids`), read by a filter on
        their keys, so the cost is that of the items, not of the table; `transform` runs on numpy-owned arrays."""
        modalities, name = self.dataset(dataset)["modalities"], self._table(dataset, model)
        wanted = list(map(str, item_ids))
        per = {}
        for m in modalities:
            found = self._vectors.read_items(name, m, wanted)
            per[m] = (found.column("item_id").to_pylist(), _matrix(found.column("vector").combine_chunks()))
        order = _in_every(wanted, [ids for ids, _ in per.values()], None)
        vectors = {}
        for m, (ids, matrix) in per.items():
            position = {item: k for k, item in enumerate(ids)}
            chosen = matrix[[position[i] for i in order]]  # a numpy-owned copy
            vectors[m] = chosen if transform is None or not len(chosen) else transform(chosen, m)
        return Paired(order, vectors)

    def _ordinals(self, dataset: str, ids: list[str]) -> np.ndarray:
        """Indices that sort `ids` by item ordinal (unknown items last; ties keep their order), looked up in Arrow."""
        with self._db() as con:
            known = con.sql("SELECT item_id, ordinal FROM items WHERE dataset = ?", params=[dataset]).arrow().read_all()
        where = pc.index_in(pa.array(ids, pa.string()), value_set=known.column("item_id"))
        ordinal = pc.take(known.column("ordinal"), where).fill_null(np.iinfo(np.int64).max)
        return np.argsort(ordinal.to_numpy().astype(np.int64), kind="stable")

    def pairs(self, dataset: str, model: str, modalities: list[str] | None = None,
              item_ids: list[str] | None = None, transform: Callable[[np.ndarray, str], np.ndarray] | None = None
              ) -> Paired:
        """Embeddings of the items that have every modality (optionally only `item_ids`), aligned row by row;
        `transform(matrix, modality)` (row by row, e.g. normalisation) is applied to each batch as it is read
        (see `embeddings`)."""
        modalities = modalities or self.dataset(dataset)["modalities"]
        per = {}
        for m in modalities:
            per[m] = self.embeddings(dataset, model, m, None if transform is None else lambda v, m=m: transform(v, m))
        order = _in_every(per[modalities[0]][0], [ids for ids, _ in per.values()], item_ids)
        vectors = {}
        for m, (ids, matrix) in per.items():
            if ids == order:  # every item has every modality: the matrix as read, not a copy
                vectors[m] = matrix
                continue
            position = {item: k for k, item in enumerate(ids)}
            vectors[m] = matrix[[position[i] for i in order]] if order else matrix[:0]
        return Paired(order, vectors)

    def paired_ids(self, dataset: str, model: str, modalities: list[str] | None = None) -> list[str]:
        """The item ids `pairs` would return (every modality embedded, in item order), read without the vectors."""
        modalities = modalities or self.dataset(dataset)["modalities"]
        name = self._table(dataset, model)
        per = [self._vectors.modality_ids(name, m) for m in modalities]
        first = per[0]
        return _in_every([first[i] for i in self._ordinals(dataset, first)], per, None)

    def search(self, dataset: str, model: str, query: np.ndarray, k: int = 10, modality: str | None = None) -> pd.DataFrame:
        """Nearest items to a query vector (cosine), with their distance."""
        return self._vectors.search(self._table(dataset, model), query, k, modality).to_pandas()

    def index_vectors(self, dataset: str, model: str, min_rows: int | None = None) -> bool:
        """Build the search indices of (dataset, model) (see dashboard/store/vectors.py); True when an ANN index
        exists afterwards."""
        from dashboard.store.vectors import ANN_MIN_ROWS

        if self.read_only:
            raise GapscopeError(f"{self.path}: store is open read-only")
        return self._vectors.build_index(self._table(dataset, model), ANN_MIN_ROWS if min_rows is None else min_rows)

    # -- artefacts ---------------------------------------------------------------------------
    def put_artifact(self, dataset: str, model: str, kind: str, key: str, payload: bytes, fmt: str) -> None:
        """Store a computed artefact (projection, clusters, metrics), replacing an older one; a large payload goes to
        a file the row names (dashboard/store/payloads.py)."""
        with self._db(write=True) as con:
            payload, fmt = payloads.stage(self.path, payload, fmt)
            con.execute("INSERT OR REPLACE INTO artifacts (dataset, model, kind, key, format, payload) VALUES (?, ?, ?, ?, ?, ?)",
                        [dataset, model, kind, key, fmt, payload])

    def get_artifact(self, dataset: str, model: str, kind: str, key: str) -> tuple[bytes, str] | None:
        """A stored artefact's bytes and format, or None."""
        with self._db() as con:
            row = con.execute("SELECT payload, format FROM artifacts WHERE dataset = ? AND model = ? AND kind = ? AND key = ?",
                              [dataset, model, kind, key]).fetchall()
        return payloads.resolve(self.path, bytes(row[0][0]), row[0][1]) if row else None

    def sweep_payloads(self) -> int:
        """Delete the artefact payload files no row names (replaced or removed artefacts); the number deleted."""
        with self._db(write=True) as con:
            rows = con.execute("SELECT payload FROM artifacts WHERE starts_with(format, ?)",
                               [payloads.FILE_FORMAT]).fetchall()
            return payloads.sweep(self.path, {bytes(r[0]).decode("ascii", errors="replace") for r in rows})

    def artifacts(self) -> pd.DataFrame:
        """Index of stored artefacts (without payloads)."""
        return self.query("SELECT dataset, model, kind, key, CASE WHEN starts_with(format, ?) THEN format[? + 1:] "
                          "ELSE format END AS format, created FROM artifacts ORDER BY ALL",
                          [payloads.FILE_FORMAT, len(payloads.FILE_FORMAT)])

    def put_frame(self, dataset: str, model: str, kind: str, key: str, frame: pd.DataFrame) -> None:
        """Store a DataFrame artefact as Parquet."""
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        self.put_artifact(dataset, model, kind, key, buffer.getvalue(), "parquet")

    def get_frame(self, dataset: str, model: str, kind: str, key: str) -> pd.DataFrame | None:
        """A stored DataFrame artefact, or None."""
        found = self.get_artifact(dataset, model, kind, key)
        return pd.read_parquet(io.BytesIO(found[0])) if found else None

    def put_json(self, dataset: str, model: str, kind: str, key: str, value: Any) -> None:
        """Store a JSON artefact."""
        self.put_artifact(dataset, model, kind, key, json.dumps(value).encode(), "json")

    def get_json(self, dataset: str, model: str, kind: str, key: str) -> Any:
        """A stored JSON artefact, or None."""
        found = self.get_artifact(dataset, model, kind, key)
        return json.loads(found[0]) if found else None


def _matrix(column: pa.FixedSizeListArray) -> np.ndarray:
    """A fixed-size-list vector column as an (n, dim) numpy array (a view of its buffer where possible)."""
    return column.flatten().to_numpy(zero_copy_only=False).reshape(len(column), column.type.list_size)


def _in_every(first: list[str], per: list[list[str]], wanted: list[str] | None) -> list[str]:
    """The items of `first` (in its order) present in every list of `per` and, when given, in `wanted`."""
    common = set.intersection(*(set(ids) for ids in per))
    if wanted is not None:
        common &= set(map(str, wanted))
    return [i for i in first if i in common]


def _normalise_items(items: pd.DataFrame) -> pd.DataFrame:
    """Items in the table's column layout: known columns kept, the others packed into `extra` JSON."""
    if "item_id" not in items.columns:
        raise GapscopeError("items: no item_id column")
    if items["item_id"].isna().any() or items["item_id"].astype(str).duplicated().any():
        raise GapscopeError("items: item_id values must be present and unique")
    known = [c for c in schema.ITEM_COLUMNS if c != "extra"]
    others = [c for c in items.columns if c not in known and c != "extra"]
    frame = pd.DataFrame({c: items[c] if c in items.columns else None for c in known}, index=items.index)
    frame["item_id"] = frame["item_id"].astype(str)
    frame["ordinal"] = pd.to_numeric(frame["ordinal"], errors="coerce").astype("Float64")
    frame["extra"] = items[others].apply(lambda r: json.dumps({k: _jsonable(v) for k, v in r.items()}), axis=1) if others else None
    for column in ["text", "image_ref", "audio_ref", "molecule"]:
        frame[column] = frame[column].astype("string")
    frame["thumbnail"] = frame["thumbnail"].astype(object)
    return frame.reset_index(drop=True)


def extra_json(fields: dict[str, Any]) -> str:
    """An item's extra fields as the JSON text of its `extra` column (as add_items writes it)."""
    return json.dumps({k: _jsonable(v) for k, v in fields.items()})


def _jsonable(value: Any) -> Any:
    """A value JSON can hold (numpy scalars to Python, NaN to None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else str(value)
