"""The demo's real models: Amumo's DiffusionDB exports (CLIP, CyCLIP, CLOOB, CLOOB_LAION400M) added to a store.

Amumo (Humer et al., JVI 2024; MIT) exported the Gram matrices of four real models on 100 DiffusionDB pairs
(images CC0) and on five sweeps of one DiffusionDB image with its prompt fixed. They are imported exactly as
`gapscope import amumo` does (embeddings rebuilt from the Gram matrix, float64; Amumo's meta numbers and
projections kept), without the `_nogap` matrices (the dashboard closes the gap itself), with thumbnails only.

Three sweeps ship without images; their strips are regenerated from the unaugmented image 0 with Amumo's own
augmentation code (amumo/data.py, step i of n = 100 on the 512 x 512 image, PIL defaults, black fill):
rotate  image.rotate(360 i / n);                      blur    GaussianBlur(radius = (width / 8) / n * i);
hshift  affine x offset linspace(-width, width, n)_i; vshift  the same vertically;
noise   (1 - i / n) image + (i / n) U{0..255} per pixel (Amumo drew unseeded noise; here seed 31415).
The similarities stay Amumo's: the strip only illustrates each step.

The step runs on an existing store (e.g. after `gapscope build-demo`) and can run again: a dataset already
present is checked and kept, and its artefacts are precomputed anew (UMAP and t-SNE stay Amumo's own). It works on
a copy `<store>.building` swapped in at the end, so a failure leaves the store as it was.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image, ImageFilter

from dashboard.errors import GapscopeError
from dashboard.importers.amumo import AmumoExport, read_amumo
from dashboard.importers.amumo_store import write_export
from dashboard.store import Store
from dashboard.thumbnails import open_image, thumbnail_bytes
from ingest.demo.compact import compact_store
from ingest.demo.report import diffusiondb_section, write_diffusiondb_section

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "amumo-reference"
SOURCE = "Amumo exports (github.com/ginihumer/Amumo, jovi_article 9c6bfb0, exported_data/)"
MODELS = ("CLIP", "CyCLIP", "CLOOB", "CLOOB_LAION400M")
PAIRS = "DiffusionDB_size-100"
STEPS = 100
NOISE_SEED = 31415
THUMBNAIL_PX = 96


@dataclass(frozen=True)
class Sweep:
    """One of Amumo's sweep exports: its folder, augmentation and whether its images ship with it."""

    folder: str
    op: str
    shipped: bool


SWEEPS = (Sweep("Rotated-0_size-100", "rotate", True), Sweep("Blurred-0_size-100", "blur", True),
          Sweep("Noisy-0_size-100", "noise", False), Sweep("HShift-0_size-100", "hshift", False),
          Sweep("VShift-0_size-100", "vshift", False))


def sweep_value(op: str, step: int, image: Image.Image, steps: int = STEPS) -> float:
    """Amumo's augmentation parameter at one step: degrees, blur radius, noise share or pixel offset."""
    if op == "rotate":
        return 360.0 / steps * step
    if op == "blur":
        return image.width / 8 / steps * step
    if op == "noise":
        return step / steps
    if op in ("hshift", "vshift"):
        size = image.width if op == "hshift" else image.height
        return float(np.linspace(-size, size, steps)[step])
    raise GapscopeError(f"augmentation {op!r}: unknown (known: {', '.join(s.op for s in SWEEPS)})")


def augmented(image: Image.Image, op: str, steps: int = STEPS) -> Iterator[Image.Image]:
    """Amumo's sweep of one image, step by step (amumo/data.py)."""
    rng = np.random.default_rng(NOISE_SEED)
    pixels = np.asarray(image)
    for step in range(steps):
        value = sweep_value(op, step, image, steps)
        if op == "rotate":
            yield image.rotate(value)
        elif op == "blur":
            yield image.filter(ImageFilter.GaussianBlur(radius=value))
        elif op == "noise":
            noise = rng.integers(0, 256, size=pixels.shape, dtype=np.uint8)
            yield Image.fromarray(np.clip((1 - value) * pixels + value * noise, 0, 255).astype(np.uint8))
        else:
            offset = (1, 0, value, 0, 1, 0) if op == "hshift" else (1, 0, 0, 0, 1, value)
            yield image.transform(image.size, Image.Transform.AFFINE, offset)


def _keep_models(export: AmumoExport) -> AmumoExport:
    """The export with only the four real models (no `_nogap` matrices); all four must be there."""
    found = {m.name: m for m in export.models}
    missing = [m for m in MODELS if m not in found]
    if missing:
        raise GapscopeError(f"{export.name}: no similarity matrix of {missing[0]} (expected {', '.join(MODELS)})")
    export.models = [found[m] for m in MODELS]
    return export


def _pairs_items(export: AmumoExport, folder: Path) -> None:
    """Thumbnails and export-relative image references of the DiffusionDB pairs."""
    paths = [folder / "images" / f"{i}.jpg" for i in export.items["item_id"]]
    export.items["thumbnail"] = [thumbnail_bytes(open_image(p), THUMBNAIL_PX) for p in paths]
    export.items["image_ref"] = [f"{folder.name}/images/{p.name}" for p in paths]


def _sweep_items(export: AmumoExport, folder: Path, sweep: Sweep, base: Image.Image) -> None:
    """Op, step, value and a thumbnail of each step: Amumo's image when shipped, else regenerated."""
    n = len(export.items)
    if n != STEPS:
        raise GapscopeError(f"{folder}: {n} prompts, a sweep has {STEPS}")
    if sweep.shipped:
        images: Iterator[Image.Image] = (open_image(folder / "images" / f"{i}.jpg") for i in range(n))
        refs = [f"{folder.name}/images/{i}.jpg" for i in range(n)]
    else:
        images = augmented(base, sweep.op)
        refs = [f"{PAIRS}/images/0.jpg#{sweep.op}={sweep_value(sweep.op, i, base):.4g} (regenerated)"
                for i in range(n)]
    export.items["thumbnail"] = [thumbnail_bytes(im, THUMBNAIL_PX) for im in images]
    export.items["image_ref"] = refs
    export.items["op"] = sweep.op
    export.items["step"] = np.arange(n)
    export.items["value"] = [sweep_value(sweep.op, i, base) for i in range(n)]
    export.items["source_image"] = "diffusiondb-0"


def _import(store: Store, reference: Path, name: str, sweep: Sweep | None, base: Image.Image) -> None:
    """Read, check and write one export (skipped when the store holds it already, after a check)."""
    if name in set(store.datasets()["name"]):
        _check_present(store, name)
        return
    folder = reference / name
    export = _keep_models(read_amumo(folder, thumbnails=False))
    if sweep is None:
        _pairs_items(export, folder)
    else:
        _sweep_items(export, folder, sweep, base)
    write_export(export, store, SOURCE)
    kind, what = ("sweep", f"{sweep.op} of DiffusionDB image 0 in {STEPS} steps, prompt fixed") if sweep else (
        "amumo", "100 DiffusionDB prompts and images")
    strip = " (image strip regenerated with Amumo's augmentation code)" if sweep and not sweep.shipped else ""
    store.add_dataset(name, export.modalities, kind=kind, source=f"{SOURCE} {name}",
                      description=f"Amumo export {name}: {what}{strip}")


def _check_present(store: Store, name: str) -> None:
    """A dataset already in the store must hold the 100 items and the four models."""
    embedded = set(store.coverage().query("dataset == @name")["model"])
    if len(store.items(name)) != STEPS or not set(MODELS) <= embedded:
        raise GapscopeError(f"dataset {name!r}: in the store but not as the demo step writes it "
                            f"({len(store.items(name))} items, models {', '.join(sorted(embedded))})")


def add_diffusiondb(store: Store, reference: Path) -> list[str]:
    """Import the DiffusionDB pairs and sweeps into an open writable store, precompute; returns the datasets."""
    from dashboard.precompute import precompute

    if not (reference / PAIRS).is_dir():
        raise GapscopeError(f"{reference}: no {PAIRS} folder (give the Amumo reference exports' folder)")
    base = open_image(reference / PAIRS / "images" / "0.jpg")
    names = [PAIRS, *(s.folder for s in SWEEPS)]
    for name, sweep in zip(names, (None, *SWEEPS)):
        _import(store, reference, name, sweep, base)
    for name in names:
        for model in MODELS:
            precompute(store, name, model, umap=False, tsne=False)
    return names


def build_diffusiondb(store_path: str | Path, reference: str | Path = REFERENCE) -> dict:
    """Run the step on a copy of the store at `store_path` and swap it in; returns what was added."""
    store_path, reference = Path(store_path), Path(reference)
    Store.open(store_path)
    building = store_path.with_name(store_path.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    shutil.copytree(store_path, building)
    try:
        names = _build_copy(building, reference)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    old = store_path.with_name(store_path.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    store_path.rename(old)
    building.rename(store_path)
    shutil.rmtree(old)
    store = Store.open(store_path)
    summary = {name: {m: _headline(store, name, m) for m in MODELS} for name in names}
    return {"store": str(store_path), "datasets": names, "models": list(MODELS), "metrics": summary}


def _build_copy(building: Path, reference: Path) -> list[str]:
    """The step on the copy: import, precompute, compact, README section; returns the datasets."""
    names = add_diffusiondb(Store.open(building, read_only=False), reference)
    built = Store.open(building, read_only=False)
    compact_store(built)
    section = diffusiondb_section(built, PAIRS, names[1:], list(MODELS), [s.folder for s in SWEEPS if not s.shipped])
    write_diffusiondb_section(building / "README.md", section)
    return names


def _headline(store: Store, dataset: str, model: str) -> dict:
    """Gap distance and loss of the stored summary, for the step's printout."""
    summary = store.get_json(dataset, model, "metrics", "summary") or {}
    return {"gap_distance": summary.get("gap_distance"), "loss": summary.get("loss")}

