"""`gapscope ingest`: embed a dataset with a model into a store (local engine or Ray Data)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dashboard.errors import GapscopeError
from ingest.writer import MAX_ITEMS

PRECISIONS = ["auto", "fp32", "bf16", "fp16"]


def add_ingest_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `ingest` subcommand (its handler is `run`)."""
    parser = subparsers.add_parser("ingest", help="embed a dataset with a model into a store (resumable)",
                                   description="Decode a dataset in parallel workers, embed it in batches and commit "
                                               "groups of batches to the store from a writer thread (at most ~1 s "
                                               "of work uncommitted); run it again to resume. The report gives "
                                               "each stage's ms per batch (decode, wait, model, write).")
    parser.add_argument("--store", type=Path, help="store folder (created if missing)")
    parser.add_argument("--dataset-type", help="registered dataset type (see --list-datasets)")
    parser.add_argument("--source", help="dataset path (folder, file or shard)")
    parser.add_argument("--model", help="FAMILY:NAME, e.g. open_clip:ViT-B-32 (see --list-models)")
    parser.add_argument("--pretrained", help="pretrained tag, checkpoint path, or none for random weights")
    parser.add_argument("--name", help="dataset name in the store (default: from the source)")
    parser.add_argument("--model-name", help="model name in the store (default: the NAME of --model); needed to "
                                             "keep two checkpoints of one architecture apart")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="dataset option, e.g. caption_index=random-seeded (repeatable)")
    parser.add_argument("--list-models", action="store_true", help="list model families and names, then exit")
    parser.add_argument("--list-datasets", action="store_true", help="list dataset types, then exit")
    parser.add_argument("--device", default="auto", help="auto (cuda when present), cpu, cuda, cuda:1, ...")
    parser.add_argument("--batch-size", type=int, help="items per batch (default: 512 on CUDA, 64 on CPU)")
    parser.add_argument("--workers", type=int,
                        help="decoding worker processes (default: CPUs - 1, at most 32; 0: decode in this process)")
    parser.add_argument("--limit", type=int, help="only the first N records (after --sample)")
    parser.add_argument("--sample", type=int, help="a random sample of N records")
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample")
    parser.add_argument("--engine", choices=["local", "ray"], default="local")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto", help="auto: bf16 on GPU, fp32 on CPU")
    parser.add_argument("--draft", type=int, default=0, metavar="PIXELS",
                        help="fast JPEG decoding at a reduced DCT scale keeping both sides >= PIXELS (e.g. 224: "
                             "decode + resize ~1.7x faster on 640x480; pixels differ slightly from a full decode)")
    parser.add_argument("--no-precompute", action="store_true", help="skip projections/clusters after embedding")
    parser.add_argument("--no-umap", action="store_true", help="precompute without UMAP")
    parser.add_argument("--no-tsne", action="store_true", help="precompute without t-SNE")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--commit-items", type=int, default=MAX_ITEMS, metavar="N",
                        help=f"most items per commit (default {MAX_ITEMS}; smaller loses less to a crash, costs speed)")
    parser.set_defaults(handler=run)
    return parser


def _options(pairs: list[str]) -> dict[str, Any]:
    """KEY=VALUE strings as a dict (integers converted)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise GapscopeError(f"--option {pair!r}: expected KEY=VALUE")
        options[key.strip()] = int(value) if value.strip().lstrip("-").isdigit() else value
    return options


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run `gapscope ingest`; returns the report (or the listing) as a dict."""
    if args.list_datasets:
        from ingest.datasets import list_datasets

        return {"datasets": list_datasets()}
    if args.list_models:
        from ingest.models.registry import list_models

        return {"models": list_models()}
    missing = [flag for flag, value in (("--store", args.store), ("--dataset-type", args.dataset_type),
                                        ("--source", args.source), ("--model", args.model)) if not value]
    if missing:
        raise GapscopeError(f"ingest: missing {', '.join(missing)}")
    from ingest.engine import run_ingest

    report = run_ingest(args.store, args.dataset_type, args.source, args.model, pretrained=args.pretrained,
                        name=args.name, device=args.device, batch_size=args.batch_size, workers=args.workers,
                        limit=args.limit, sample=args.sample, seed=args.seed, precision=args.precision,
                        engine=args.engine, progress=not args.no_progress, precompute=not args.no_precompute,
                        umap=not args.no_umap, tsne=not args.no_tsne, draft=args.draft,
                        dataset_options=_options(args.option), model_name=args.model_name,
                        commit_items=args.commit_items)
    print(report.summary(), file=sys.stderr)
    return report.to_dict()
