"""Build the bundled demo store: train the three demo models, embed the held-out clip-art pairs and the augmentation
sweeps with them, add thumbnails, precompute every artefact the dashboard reads, and write the README table.

The store is built in a sibling folder `<store>.building` and swapped in at the end, so an interrupted build
leaves the previous store as it was. Frozen-tower features are cached (ingest/demo/features.py), so a second
build only trains the heads and precomputes.
"""
from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dashboard.errors import GapscopeError
from dashboard.store import Store
from dashboard.thumbnails import thumbnail_bytes
from ingest.base import BadItem
from ingest.demo import augment_sweeps, features
from ingest.demo.compact import compact_store
from ingest.demo.heads import DemoHeads, load_heads
from ingest.demo.openclipart import ROOT, Drawing, find_drawings, load_png
from ingest.demo.report import write_readme
from ingest.demo.train import TrainConfig, embed, heldout_mask, train_heads

HEADS_DIR = Path(__file__).resolve().parents[2] / "data" / "heads"
HELDOUT = "openclipart-heldout"
MODALITIES = ["image", "text"]
THUMBNAIL_PX = 80
CLIPART_SWEEPS = ("emperor_penguin_ralf_ste_01", "bicycle_philippe_colin_01")
PHOTO_SWEEPS = ("astronaut", "chelsea")


@dataclass
class BuildOptions:
    """What to build: data source, slice, training config, sweeps and precomputation."""

    root: Path = ROOT
    cache: Path | None = None
    heads_dir: Path = HEADS_DIR
    limit: int | None = None
    heldout: float = 0.2
    config: TrainConfig = field(default_factory=TrainConfig)
    photos: tuple[str, ...] = PHOTO_SWEEPS
    cliparts: tuple[str, ...] = CLIPART_SWEEPS
    steps: int = augment_sweeps.STEPS
    umap: bool = True
    tsne: bool = True


class Timer:
    """Wall-clock seconds per build phase, printed as they finish."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._start = time.perf_counter()

    def done(self, phase: str) -> None:
        """Record the time since the previous phase."""
        now = time.perf_counter()
        self.seconds[phase] = round(now - self._start, 1)
        self._start = now
        print(f"[build-demo] {phase}: {self.seconds[phase]:.1f} s", file=sys.stderr, flush=True)


def select(drawings: list[Drawing], limit: int | None) -> list[Drawing]:
    """The first `limit` drawings in id order (all when None)."""
    return drawings if limit is None else drawings[:limit]


def _register_models(store: Store, trained: dict[str, dict[str, Any]]) -> dict[str, DemoHeads]:
    """Add the demo models to the store; returns their heads read back from the saved files."""
    heads = {}
    for name, record in trained.items():
        heads[name], config = load_heads(Path(record["path"]))
        store.add_model(name, MODALITIES, config["dim"], config["logit_scale"], family="builtin",
                        source=f"builtin:{name}", config=config)
    return heads


def _add_pairs(store: Store, dataset: str, items: pd.DataFrame, image: np.ndarray, text: np.ndarray,
               heads: dict[str, DemoHeads]) -> None:
    """Items plus each model's image and text embeddings of their tower features."""
    store.add_items(dataset, items)
    ids = items["item_id"].astype(str).tolist()
    for name, model in heads.items():
        store.add_embeddings(dataset, name, "image", ids, embed(model, "image", image))
        store.add_embeddings(dataset, name, "text", ids, embed(model, "text", text))


def _heldout_items(drawings: list[Drawing]) -> pd.DataFrame:
    """Item rows of held-out drawings with thumbnails (a drawing that fails to load again is left out)."""
    rows = []
    for d in drawings:
        try:
            thumb = thumbnail_bytes(load_png(d.png), THUMBNAIL_PX)
        except BadItem as exc:
            print(f"  skipped {exc}", file=sys.stderr)
            continue
        rows.append({"item_id": d.item_id, "text": d.caption, "image_ref": str(d.png), "thumbnail": thumb,
                     "category": d.category, "svg": str(d.svg)})
    return pd.DataFrame(rows)


def _sweeps(store: Store, options: BuildOptions, drawings: list[Drawing], cache: Path, models: features.Towers,
            heads: dict[str, DemoHeads]) -> list[str]:
    """One dataset per (augmentation, source image): 100 augmented images, the caption fixed."""
    by_id = {d.item_id: d for d in drawings}
    missing = [c for c in options.cliparts if c not in by_id]
    if missing:
        raise GapscopeError(f"sweep source {missing[0]!r}: not among the openclipart drawings")
    sources = augment_sweeps.photo_sources(options.photos) + [
        augment_sweeps.SweepSource(c, by_id[c].caption, str(by_id[c].png), lambda p=by_id[c].png: load_png(p))
        for c in options.cliparts]
    names = []
    for source in sources:
        caption_features = features.text_features([source.caption], cache, models)
        for op in augment_sweeps.OPS:
            names.append(_sweep(store, source, op, options.steps, cache, models, heads, caption_features))
    return names


def _sweep(store: Store, source: augment_sweeps.SweepSource, op: str, steps: int, cache: Path,
           models: features.Towers, heads: dict[str, DemoHeads], caption_features: np.ndarray) -> str:
    """Add one sweep dataset with its embeddings; returns its name."""
    name = augment_sweeps.sweep_dataset_name(op, source.name)
    spec = [source.ref, op, steps]
    image = features.image_list_features("sweep", spec, lambda: augment_sweeps.sweep_images(source, op, steps),
                                         cache, models)
    values = augment_sweeps.sweep_values(op, steps)
    thumbs = [thumbnail_bytes(im, THUMBNAIL_PX) for im in augment_sweeps.sweep_images(source, op, steps)]
    items = pd.DataFrame({"item_id": [f"{k:03d}" for k in range(steps)], "text": source.caption,
                          "image_ref": [f"{source.ref}#{op}={v:.4g}" for v in values], "thumbnail": thumbs,
                          "op": op, "step": np.arange(steps), "value": values, "source_image": source.name})
    store.add_dataset(name, MODALITIES, kind="sweep", source=source.ref,
                      description=f"{source.name}: {op} in {steps} steps, caption fixed: {source.caption}")
    _add_pairs(store, name, items, image, np.repeat(caption_features, steps, axis=0), heads)
    return name


def _precompute(store: Store, datasets: list[str], heads: dict[str, DemoHeads], options: BuildOptions) -> None:
    """Metrics, projections, clusters and loss landscape of every (dataset, model); UMAP and t-SNE only for the
    held-out pairs (the dashboard computes them on demand for the 100-item sweeps in a second)."""
    from dashboard.precompute import precompute

    for dataset in datasets:
        full = dataset == HELDOUT
        for name in heads:
            precompute(store, dataset, name, umap=options.umap and full, tsne=options.tsne and full)


def build_demo(store_path: str | Path, options: BuildOptions | None = None) -> dict[str, Any]:
    """Build the demo store at `store_path` (replacing one that is there); returns counts, results and timings."""
    options = options or BuildOptions()
    timer, store_path = Timer(), Path(store_path)
    cache = Path(options.cache or features.default_cache_dir())
    drawings, skipped = find_drawings(options.root)
    drawings = select(drawings, options.limit)
    timer.done("find drawings")
    models = features.Towers()
    feats = features.drawing_features(drawings, cache, models)
    skipped += feats.skipped
    timer.done("tower features (openclipart)")
    ok_ids = [i for i, ok in zip(feats.item_ids, feats.ok) if ok]
    trained = train_heads(ok_ids, feats.image[feats.ok], feats.text[feats.ok], options.heads_dir, options.config,
                          options.heldout)
    timer.done("train heads")
    building = store_path.with_name(store_path.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    store = Store.create(building)
    heads = _register_models(store, trained)
    test = heldout_mask(feats.item_ids, options.heldout) & feats.ok
    held = [d for d, t in zip(drawings, test) if t]
    items = _heldout_items(held)
    keep = np.isin([d.item_id for d in held], items["item_id"])
    store.add_dataset(HELDOUT, MODALITIES, kind="pairs", source=str(options.root),
                      description="openclipart drawings held out from training: PNG and caption (name, title, "
                                  "description, keywords of the SVG)")
    _add_pairs(store, HELDOUT, items, feats.image[test][keep], feats.text[test][keep], heads)
    timer.done("held-out pairs")
    datasets = [HELDOUT] + _sweeps(store, options, drawings, cache, models, heads)
    timer.done("augmentation sweeps")
    _precompute(store, datasets, heads, options)
    timer.done("precompute")
    compact_store(store)
    if store_path.exists():
        if not (store_path / "meta.duckdb").exists() and any(store_path.iterdir()):
            raise GapscopeError(f"{store_path}: exists and is not a gapscope store; not replacing it")
        shutil.rmtree(store_path)
    building.rename(store_path)
    table = write_readme(Store.open(store_path), HELDOUT, list(heads), store_path / "README.md", timer.seconds)
    timer.done("swap and README")
    return {"store": str(store_path), "datasets": len(datasets), "heldout_pairs": int(len(items)),
            "skipped": skipped, "models": {k: {x: v[x] for x in ("logit_scale", "heldout_recall_i2t_at_10")}
                                           for k, v in trained.items()},
            "seconds": timer.seconds, "table": table}
