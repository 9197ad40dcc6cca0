"""`gapscope train-heads` and `gapscope build-demo`: the demo models and the bundled store."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ingest.demo.openclipart import ROOT

DEMO_STORE = Path(__file__).resolve().parents[2] / "data" / "demo"


def _common(parser: argparse.ArgumentParser) -> None:
    """Options shared by both commands: data, cache, heads, slice and training."""
    parser.add_argument("--openclipart", type=Path, default=ROOT, help=f"openclipart folder (default {ROOT})")
    parser.add_argument("--cache", type=Path, help="feature cache folder (default ~/.cache/gapscope/demo)")
    parser.add_argument("--heads-dir", type=Path, help="where head weights go (default data/heads)")
    parser.add_argument("--limit", type=int, help="use only the first N drawings (a quick slice)")
    parser.add_argument("--epochs", type=int, help="training epochs (default 30)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")


def add_demo_parsers(sub: argparse._SubParsersAction) -> None:
    """Add `train-heads` and `build-demo` to the gapscope subcommands."""
    train = sub.add_parser("train-heads", help="train the demo models' projection heads (CLIP, CyCLIP, CLOOB) on "
                                               "openclipart with frozen MiniLM and EfficientNet-Lite0 towers")
    _common(train)
    train.set_defaults(handler=run_train_heads)
    build = sub.add_parser("build-demo", help="train the demo models and build the bundled demo store")
    build.add_argument("--store", type=Path, default=DEMO_STORE,
                       help="store folder to (re)build (default data/demo)")
    _common(build)
    build.add_argument("--no-umap", action="store_true", help="skip UMAP projections")
    build.add_argument("--no-tsne", action="store_true", help="skip t-SNE projections")
    build.add_argument("--steps", type=int, help="augmentation steps per sweep (default 100)")
    build.set_defaults(handler=run_build_demo)
    real = sub.add_parser("build-demo-diffusiondb",
                          help="add Amumo's DiffusionDB exports (CLIP, CyCLIP, CLOOB, CLOOB_LAION400M; pairs and five "
                               "augmentation sweeps) to an existing store, e.g. the demo after build-demo")
    real.add_argument("--store", type=Path, default=DEMO_STORE, help="store folder (default data/demo)")
    real.add_argument("--reference", type=Path, default=None,
                      help="folder of Amumo's exports (default ../shared/amumo-reference beside the repository)")
    real.set_defaults(handler=run_build_diffusiondb)
    refresh = sub.add_parser("refresh-demo", help="recompute every stored metrics summary of a store and the demo "
                                                  "README tables (after a change to the metrics)")
    refresh.add_argument("--store", type=Path, default=DEMO_STORE, help="store folder (default data/demo)")
    refresh.set_defaults(handler=run_refresh_demo)


def _options(args: argparse.Namespace) -> Any:
    """BuildOptions from the parsed arguments."""
    from dataclasses import replace

    from ingest.demo.build import BuildOptions

    options = BuildOptions(root=args.openclipart, cache=args.cache, limit=args.limit)
    config = replace(options.config, seed=args.seed, **({"epochs": args.epochs} if args.epochs else {}))
    options = replace(options, config=config)
    if args.heads_dir:
        options = replace(options, heads_dir=args.heads_dir)
    return options


def run_train_heads(args: argparse.Namespace) -> dict[str, Any]:
    """Train and save the three models' heads; returns their configs."""
    from ingest.demo import features
    from ingest.demo.build import select
    from ingest.demo.openclipart import find_drawings
    from ingest.demo.train import train_heads

    options = _options(args)
    drawings, skipped = find_drawings(options.root)
    drawings = select(drawings, options.limit)
    feats = features.drawing_features(drawings, options.cache or features.default_cache_dir(), features.Towers())
    ids = [i for i, ok in zip(feats.item_ids, feats.ok) if ok]
    trained = train_heads(ids, feats.image[feats.ok], feats.text[feats.ok], options.heads_dir, options.config,
                          options.heldout)
    return {"models": trained, "skipped": skipped + feats.skipped}


def run_build_demo(args: argparse.Namespace) -> dict[str, Any]:
    """Build the demo store."""
    from dataclasses import replace

    from ingest.demo.build import build_demo

    options = replace(_options(args), umap=not args.no_umap, tsne=not args.no_tsne,
                      **({"steps": args.steps} if args.steps else {}))
    return build_demo(args.store, options)


def run_build_diffusiondb(args: argparse.Namespace) -> dict[str, Any]:
    """Add the DiffusionDB exports to the store."""
    from ingest.demo.diffusiondb import REFERENCE, build_diffusiondb

    return build_diffusiondb(args.store, args.reference or REFERENCE)


def run_refresh_demo(args: argparse.Namespace) -> dict[str, Any]:
    """Recompute the store's summaries and the README tables."""
    from ingest.demo.refresh import refresh_demo

    return refresh_demo(args.store)
