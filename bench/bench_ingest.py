"""The ingest engine's own cost, JPEG decoding per core, and the Ray engine's overhead, in one run.

1. Engine overhead: `gapscope ingest` with precomputed 512-d vectors (no model runs) on a generic manifest of N
   pairs (text + SMILES "C", so decoding is near free), against a raw LanceDB append of the same rows (key, item_id,
   modality, vector; appends of --raw-chunk pairs into a fresh table) timed in the same run, at each batch size.
   Target: the engine at >= 50 % of the raw append's speed at batch >= 512, and 100k pairs within 6x of 20k.
   `less load`: the ratio without the model's load (reading the vectors file: the raw append has them in memory
   already). Also the CPU seconds of each (the engine's with its decoding workers'), and their ratio: on a machine shared with
   other work the wall-clock ratio moves with the load; the CPU ratio much less. A small warm-up run goes first.
   One line at batch 512 repeats it with one tiny shared PNG as the image (the issue's set-up): decode + thumbnail.
2. Decoding: 640x480 JPEGs decoded and resized to 224 px (shorter side, centre crop: open_clip's CPU transform) in
   one process, per CPU-second (process time: other load on the machine does not count), with and without
   --draft 224, alone and with the thumbnail the engine makes of every image; the cores a 3,000 images/s run
   needs, and the bottleneck of a 16-core GPU box (15 decoding workers).
3. `--engine ray` on a local Ray instance: the same precomputed pairs; Ray's start-up is reported apart.
All rates come from this machine as it is (shared machines: compare the ratios, not the absolute figures).

    python bench/bench_ingest.py                       # everything
    python bench/bench_ingest.py --sizes 20000 --batches 512 --ray-n 5000 --images 64   # shorter
    python bench/bench_ingest.py images --folder DIR --n 20000 [--with-captions]        # make JPEGs (gpu_check.sh)
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORDS = "a photo of dog cat pizza train surf tennis bus horse kite plane bird on the street with people".split()
DIM = 512
TARGET_RATE = 3000
GPU_BOX_WORKERS = 15


def make_images(folder: Path, n: int, seed: int = 0) -> None:
    """n distinct 640x480 JPEGs (smooth colour fields with detail, quality 90), those not already there."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    (folder / "img").mkdir(parents=True, exist_ok=True)
    y, x = np.mgrid[0:480, 0:640].astype(np.float32)
    base = [np.stack([np.sin(x / (20 + 7 * k) + k) * 127 + 128, np.cos(y / (15 + 5 * k)) * 127 + 128,
                      np.sin((x + y) / (30 + k)) * 127 + 128], axis=-1) for k in range(8)]
    for i in range(n):
        if not (folder / "img" / f"{i}.jpg").exists():
            pixels = base[i % 8] + rng.normal(0, 12, size=(480, 640, 3))
            Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(folder / "img" / f"{i}.jpg", quality=90)


def write_manifest(folder: Path, n: int, images_only: bool, seed: int = 0) -> None:
    """manifest.csv of the generic dataset: id, image and (unless images only) a random caption."""
    rng = np.random.default_rng(seed)
    rows = ["id,image" + ("" if images_only else ",text")]
    rows += [f"{i},img/{i}.jpg" + ("" if images_only else f",{' '.join(rng.choice(WORDS, 8))}") for i in range(n)]
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")


def make_pairs(folder: Path, n: int, other: str) -> dict[str, np.ndarray]:
    """A generic manifest of n (text, `other`) pairs and their precomputed vectors (vecs.npz); the vectors."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    value = "tiny.png" if other == "image" else "C"
    if other == "image":
        Image.new("RGB", (8, 8), (200, 30, 30)).save(folder / "tiny.png")
    (folder / "manifest.csv").write_text(f"id,{other},text\n" + "".join(f"i{k},{value},caption {k}\n" for k in range(n)))
    rng = np.random.default_rng(n)
    vectors = {"item_id": np.array([f"i{k}" for k in range(n)]),
               other: rng.normal(size=(n, DIM)).astype(np.float32), "text": rng.normal(size=(n, DIM)).astype(np.float32)}
    np.savez(folder / "vecs.npz", **vectors)
    return vectors


def cpu_seconds() -> float:
    """CPU seconds of this process and its finished (reaped) children so far: the decoding workers count."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def raw_append(folder: Path, vectors: dict[str, np.ndarray], chunk: int) -> tuple[float, float]:
    """Seconds and CPU seconds to append the same rows to a fresh LanceDB table with lancedb alone, `chunk` pairs
    per append."""
    import lancedb
    import pyarrow as pa

    ids = [str(i) for i in vectors["item_id"]]
    modalities = [m for m in vectors if m != "item_id"]
    schema = pa.schema([("key", pa.string()), ("item_id", pa.string()), ("modality", pa.string()),
                        ("vector", pa.list_(pa.float32(), DIM))])
    started, cpu = time.perf_counter(), cpu_seconds()
    table = lancedb.connect(str(folder)).create_table("raw", schema=schema)
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        flat = np.concatenate([vectors[m][start:start + chunk].reshape(-1) for m in modalities])
        table.add(pa.table({"key": [f"{m}/{i}" for m in modalities for i in part],
                            "item_id": part * len(modalities), "modality": [m for m in modalities for _ in part],
                            "vector": pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), DIM)}))
    return time.perf_counter() - started, cpu_seconds() - cpu


def engine_run(folder: Path, store: Path, batch: int, workers: int, engine: str = "local") -> tuple[Any, float]:
    """The ingest report of the precomputed pairs in `folder` into a fresh store, and the CPU seconds of the run
    (report.seconds' span: the model's load to the report; the manifest's parsing before it is not counted)."""
    from ingest.datasets import open_dataset
    from ingest.local_engine import ingest_source
    from ingest.plan import ModelFactory, Options

    shutil.rmtree(store, ignore_errors=True)
    opened = open_dataset("generic", str(folder))
    factory = ModelFactory(f"precomputed:{folder / 'vecs.npz'}", None, "cpu", "auto")
    options = Options(batch_size=batch, workers=workers, device="cpu", progress=False, precompute=False)
    cpu = cpu_seconds()
    if engine == "ray":
        from ingest.ray_engine import ingest_source_ray

        report = ingest_source_ray(store, opened, factory, "generic", str(folder), None, options)
    else:
        report = ingest_source(store, opened, factory, "generic", str(folder), None, options)
    return report, cpu_seconds() - cpu


def overhead(scratch: Path, sizes: list[int], batches: list[int], workers: int, chunk: int) -> None:
    """Section 1: engine vs raw append per size and batch, and the time ratio between the largest and smallest N."""
    print(f"\n== engine overhead: precomputed {DIM}-d vectors, (text, molecule) pairs, {workers} decoding worker(s) ==")
    print(f"{'pairs':>8} {'batch':>6} {'engine s':>9} {'pairs/s':>9} {'raw s':>7} {'raw pairs/s':>11} {'engine/raw':>10} "
          f"{'load s':>6} {'less load':>9} {'cpu s':>6} {'raw cpu':>7} {'cpu ratio':>9}  "
          f"ms/batch decode/wait/model/write, commits")
    seconds: dict[tuple[int, int], float] = {}
    warm = scratch / "warm-up"
    make_pairs(warm, 256, "molecule")
    engine_run(warm, scratch / "store", 64, workers)  # imports and first-call costs, outside the figures
    raw_append(scratch / "raw-warm-up", make_pairs(warm, 256, "molecule"), chunk)
    for n in sizes:
        folder = scratch / f"pairs-{n}"
        vectors = make_pairs(folder, n, "molecule")
        for batch in batches:
            report, cpu = engine_run(folder, scratch / "store", batch, workers)
            raw, raw_cpu = raw_append(scratch / f"raw-{n}-{batch}", vectors, chunk)
            seconds[(n, batch)] = report.seconds
            ms = report.timing.per_batch_ms()
            print(f"{n:>8} {batch:>6} {report.seconds:>9.2f} {n / report.seconds:>9.0f} {raw:>7.2f} {n / raw:>11.0f} "
                  f"{raw / report.seconds:>10.0%} {report.timing.load:>6.2f} "
                  f"{raw / (report.seconds - report.timing.load):>9.0%} {cpu:>6.2f} {raw_cpu:>7.2f} {raw_cpu / cpu:>9.0%}  "
                  f"{ms['decode']}/{ms['wait']}/{ms['model']}/{ms['write']}, {report.timing.commits}")
            shutil.rmtree(scratch / f"raw-{n}-{batch}", ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        for batch in batches:
            ratio = seconds[(large, batch)] / seconds[(small, batch)]
            print(f"time {large} / {small} pairs at batch {batch}: {ratio:.2f}x (N ratio {large / small:.0f}x; "
                  f"target within 6x)")


def tiny_image_line(scratch: Path, n: int, workers: int) -> None:
    """The issue's set-up: (tiny shared PNG, text) pairs at batch 512 (image decode + thumbnail per item)."""
    folder = scratch / "tiny-image"
    make_pairs(folder, n, "image")
    report, _ = engine_run(folder, scratch / "store", 512, workers)
    print(f"(image: one tiny PNG, text) pairs, {n} at batch 512: {n / report.seconds:.0f} pairs/s; "
          f"{report.timing.line()}")
    shutil.rmtree(folder, ignore_errors=True)


def per_core_rates(folder: Path, n: int) -> dict[tuple[bool, bool], float]:
    """Images per CPU-second of this one process (single-threaded work, so a shared machine's load does not count):
    (draft, with thumbnail) -> rate of decode + resize to 224 (+ thumbnail)."""
    import open_clip

    from ingest.datasets import open_dataset
    from ingest.prepare import thumbnail

    transform = open_clip.image_transform(224, is_train=False)
    resize = transform.transforms[0], transform.transforms[1]
    source = open_dataset("generic", str(folder))
    records = list(source.records())[:n]
    rates = {}
    for draft in (False, True):
        source.draft = 224 if draft else None
        for thumb in (False, True):
            started = time.process_time()
            for record in records:
                image = source.decode(record, "image")
                resize[1](resize[0](image))
                if thumb:
                    thumbnail(image, "image")
            rates[(draft, thumb)] = len(records) / (time.process_time() - started)
    return rates


def decoding(scratch: Path, n: int) -> None:
    """Section 2: per-core decode rates, the cores 3,000 images/s need, and the 16-core box's bottleneck."""
    folder = scratch / "jpegs"
    make_images(folder, n)
    write_manifest(folder, n, images_only=True)
    rates = per_core_rates(folder, n)
    print(f"\n== decoding: {n} 640x480 JPEGs, one process, per CPU-second, resize to 224 (open_clip's transform) ==")
    for (draft, thumb), rate in rates.items():
        what = f"decode + resize{' + 96 px thumbnail' if thumb else ''}, {'--draft 224' if draft else 'full decode'}"
        print(f"{what:<58} {rate:>7.0f} images/s per core -> {math.ceil(TARGET_RATE / rate):>3} cores for "
              f"{TARGET_RATE:,} images/s")
    best = rates[(True, True)]
    capacity = best * GPU_BOX_WORKERS
    verdict = ("decoding (CPU): 15 workers fall short of 3,000 images/s" if capacity < TARGET_RATE else
               "the model on the GPU: 15 decoding workers keep up")
    print(f"16-core GPU box, {GPU_BOX_WORKERS} decoding workers with --draft 224 and thumbnails: ~{capacity:,.0f} "
          f"images/s of decoding -> bottleneck: {verdict} (per CPU-second on this machine's cores)")
    shutil.rmtree(folder, ignore_errors=True)


def ray_overhead(scratch: Path, n: int, batch: int, workers: int, chunk: int) -> None:
    """Section 3: the Ray engine on a local instance, start-up apart, against the raw append."""
    import ray

    folder = scratch / "pairs-ray"
    vectors = make_pairs(folder, n, "molecule")
    started = time.perf_counter()
    ray.init(num_cpus=max(1, workers + 1), include_dashboard=False, log_to_driver=False)
    startup = time.perf_counter() - started
    try:
        report, _ = engine_run(folder, scratch / "store", batch, workers, engine="ray")
    finally:
        ray.shutdown()
    raw, _ = raw_append(scratch / "raw-ray", vectors, chunk)
    print(f"\n== --engine ray, local instance ({max(1, workers + 1)} CPUs), {n} precomputed pairs, batch {batch} ==")
    print(f"ray start-up {startup:.1f} s (apart); ingest {report.seconds:.2f} s = {n / report.seconds:.0f} pairs/s; "
          f"raw append {n / raw:.0f} pairs/s; ray/raw {raw / report.seconds:.0%}; {report.timing.line()}")
    shutil.rmtree(folder, ignore_errors=True)


def images_command(args: argparse.Namespace) -> None:
    """`images`: generate the JPEGs and manifest gpu_check.sh ingests."""
    started = time.perf_counter()
    make_images(args.folder, args.n)
    write_manifest(args.folder, args.n, images_only=not args.with_captions)
    print(f"{args.n} 640x480 JPEGs in {args.folder} ({time.perf_counter() - started:.1f} s)")


def parse() -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="all", choices=["all", "overhead", "decode", "ray", "images"])
    parser.add_argument("--sizes", default="20000,100000", help="pairs per overhead run (comma-separated)")
    parser.add_argument("--batches", default="64,512,4096", help="batch sizes (comma-separated)")
    parser.add_argument("--workers", type=int, default=1, help="decoding workers of the engine runs")
    parser.add_argument("--raw-chunk", type=int, default=5000, help="pairs per raw LanceDB append")
    parser.add_argument("--images", type=int, default=200, help="JPEGs for the per-core decode rate")
    parser.add_argument("--ray-n", type=int, default=20000, help="pairs of the Ray run")
    parser.add_argument("--folder", type=Path, help="images: where to write the JPEGs")
    parser.add_argument("--n", type=int, default=20000, help="images: how many")
    parser.add_argument("--with-captions", action="store_true", help="images: a caption column too")
    return parser.parse_args()


def main() -> None:
    """Run the chosen sections and print their figures."""
    args = parse()
    if args.command == "images":
        return images_command(args)
    sizes, batches = [int(v) for v in args.sizes.split(",")], [int(v) for v in args.batches.split(",")]
    print(f"CPUs {os.cpu_count()}, load {os.getloadavg()[0]:.1f} (a shared machine: compare ratios)")
    with tempfile.TemporaryDirectory() as scratch:
        if args.command in ("all", "overhead"):
            overhead(Path(scratch), sizes, batches, args.workers, args.raw_chunk)
            tiny_image_line(Path(scratch), min(sizes), args.workers)
        if args.command in ("all", "decode"):
            decoding(Path(scratch), args.images)
        if args.command in ("all", "ray"):
            ray_overhead(Path(scratch), args.ray_n, 512, args.workers, args.raw_chunk)


if __name__ == "__main__":
    main()
