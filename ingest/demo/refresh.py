"""`gapscope refresh-demo`: recompute every stored metrics summary of a store (and the demo's README tables) after a
change to the metrics, without rebuilding the store: held-out pairs first, then every other (dataset, model) that
has a summary. Projections, clusters and thumbnails are left as they are (no metric change touches them)."""
from __future__ import annotations

from pathlib import Path

from dashboard.precompute import precompute_summary
from dashboard.store import Store, artifacts
from ingest.demo.build import HELDOUT
from ingest.demo.compact import compact_store
from ingest.demo.diffusiondb import MODELS, PAIRS, SWEEPS
from ingest.demo.report import diffusiondb_section, refresh_tables, write_diffusiondb_section
from ingest.models.builtin import NAMES

REPO = Path(__file__).resolve().parents[2]


def summarised(store: Store) -> list[tuple[str, str]]:
    """Every (dataset, model) with a stored metrics summary, the held-out pairs first."""
    index = store.artifacts()
    rows = index[(index["kind"] == artifacts.METRICS) & (index["key"] == "summary")][["dataset", "model"]]
    return sorted(map(tuple, rows.drop_duplicates().to_numpy()), key=lambda p: (p[0] != HELDOUT, p))


def refresh_demo(store_path: str | Path, readmes: list[Path] | None = None) -> dict:
    """Recompute the summaries, compact the store, refresh the held-out table and the DiffusionDB section."""
    store = Store.open(store_path, read_only=False)
    done = summarised(store)
    for dataset, model in done:
        precompute_summary(store, dataset, model)
    compact_store(store)
    store = Store.open(store_path)
    paths = readmes if readmes is not None else [REPO / "README.md", Path(store_path) / "README.md"]
    if HELDOUT in set(store.datasets()["name"]):
        refresh_tables(store, HELDOUT, list(NAMES), [p for p in paths if Path(p).is_file()])
    if PAIRS in set(store.datasets()["name"]):
        regenerated = [s.folder for s in SWEEPS if not s.shipped]
        section = diffusiondb_section(store, PAIRS, [s.folder for s in SWEEPS], list(MODELS), regenerated)
        write_diffusiondb_section(Path(store_path) / "README.md", section)
    return {"summaries": len(done)}
