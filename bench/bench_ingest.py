"""Items/s of the local ingest engine end to end on generated 640x480 JPEGs, and which stage is the bottleneck.

Default: open_clip ViT-B-32 with random weights (built by the real loading code; no download) on CPU. On a GPU box:
    python bench/bench_ingest.py --device cuda --n 30000 --batch-size 1024 --workers 15 --draft 224 --images-only
(the target there is at least 3,000 images/s on one H100). Besides the end-to-end rate it measures the two stages
alone: decoding + CPU preprocessing in one process (times the workers: the decode capacity), and the model on
ready batches (the encode capacity); the slower one is named as the bottleneck.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORDS = "a photo of dog cat pizza train surf tennis bus horse kite plane bird on the street with people".split()


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


def decode_rate(source, encoder, records: list, modalities: list[str]) -> float:
    """Items/s of decoding + preprocessing in this one process."""
    from ingest.prepare import prepare

    started = time.perf_counter()
    for k, record in enumerate(records):
        prepare(source, encoder, k, record, modalities)
    return len(records) / (time.perf_counter() - started)


def encode_rate(source, encoder, records: list, modalities: list[str], batch_size: int, device: str, rounds: int) -> float:
    """Items/s of the model alone on ready (collated, device-resident) batches."""
    from ingest.engine import encode_batch
    from ingest.prepare import collate, prepare

    prepared = [prepare(source, encoder, k, records[k % len(records)], modalities) for k in range(batch_size)]
    batch = collate(prepared)
    encode_batch(encoder, batch, device)
    started = time.perf_counter()
    for _ in range(rounds):
        encode_batch(encoder, batch, device)
    if device.startswith("cuda"):
        import torch
        torch.cuda.synchronize()
    return rounds * batch_size / (time.perf_counter() - started)


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256, help="images (default 256)")
    parser.add_argument("--model", default="open_clip:ViT-B-32")
    parser.add_argument("--pretrained", default="none", help="tag, checkpoint path, or none (random weights)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--draft", type=int, default=0, help="fast JPEG decoding at >= this size (e.g. 224); 0: off")
    parser.add_argument("--images-only", action="store_true", help="embed images only (no captions)")
    parser.add_argument("--folder", type=Path, help="reuse/keep the generated images here")
    args = parser.parse_args()

    from ingest.datasets import open_dataset
    from ingest.engine import run_ingest
    from ingest.models.registry import load_model

    with tempfile.TemporaryDirectory() as scratch:
        data = args.folder or Path(scratch) / "data"
        started = time.perf_counter()
        make_images(data, args.n)
        write_manifest(data, args.n, args.images_only)
        print(f"{args.n} 640x480 JPEGs ready in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        report = run_ingest(Path(scratch) / "store", "generic", str(data), args.model, pretrained=args.pretrained,
                            device=args.device, batch_size=args.batch_size, workers=args.workers,
                            precision=args.precision, precompute=False, draft=args.draft)
        source = open_dataset("generic", str(data))
        source.draft = args.draft or None
        encoder = load_model(args.model, args.pretrained, args.device, args.precision)
        records = list(source.records())[:min(64, args.n)]
        modalities = [m for m in source.modalities if m in encoder.modalities]
        decode = decode_rate(source, encoder, records, modalities)
        encode = encode_rate(source, encoder, records, modalities, args.batch_size, args.device,
                             rounds=3 if args.device == "cpu" else 20)
    capacity = decode * max(1, args.workers)
    bottleneck = "decode (JPEG decoding + resize in the workers)" if capacity < encode else "model (encode on " + args.device + ")"
    print(f"device {args.device}, model {args.model} ({args.pretrained}), {args.n} images 640x480, "
          f"{'images only' if args.images_only else 'image + caption pairs'}, batch {args.batch_size}, "
          f"workers {args.workers}, draft {args.draft or 'off'}, CPUs {os.cpu_count()}, load {os.getloadavg()[0]:.1f}")
    print(f"end to end: {report.embedded / report.seconds:.1f} items/s ({report.embedded} items in {report.seconds:.1f} s, "
          f"including model load and store writes)")
    print(f"decode + preprocess: {decode:.1f} items/s per process -> {capacity:.1f} items/s with {args.workers} workers")
    print(f"model alone: {encode:.1f} items/s (batch {args.batch_size}, {'+'.join(modalities)})")
    print(f"bottleneck: {bottleneck}; {int(np.ceil(3000 / decode))} decoding workers at this per-process rate "
          f"would feed 3,000 items/s")


if __name__ == "__main__":
    main()
