"""The `gapscope` command line: import, metrics as JSON, list, precompute, app, and (with the ingest extra) ingest."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from dashboard.errors import GapscopeError
from dashboard.options import check_modalities

REPO_ROOT = Path(__file__).resolve().parents[1]
LOSSES = ["infonce", "image_to_text", "text_to_image", "infoloob"]


def _csv_list(text: str) -> list[str]:
    """Parse `a,b,c` into a list (empty entries kept, so that the option's check can name them)."""
    return [part.strip() for part in text.split(",")]


def _add_import(sub: argparse._SubParsersAction) -> None:
    """`gapscope import amumo|embeddings`."""
    parser = sub.add_parser("import", help="import an Amumo export folder or precomputed embeddings")
    kinds = parser.add_subparsers(dest="kind", required=True)
    amumo = kinds.add_parser("amumo", help="an Amumo export folder: prompts.txt, images/, similarities/*.csv",
                             description="Each similarity matrix becomes a model (named as the file, _nogap ones "
                                         "included); embeddings are rebuilt from the Gram matrix (exact up to rotation).")
    amumo.add_argument("folder", type=Path, help="export folder, e.g. exported_data/MSCOCO-Val_size-100")
    amumo.add_argument("--store", required=True, type=Path, help="store folder (created if missing)")
    amumo.add_argument("--modalities", type=_csv_list, default=["image", "text"],
                       help="the matrix blocks in order (default image,text; image,text,audio for 3N; image,molecule for CLOOME)")
    amumo.add_argument("--name", help="dataset name (default: the folder's name)")
    amumo.add_argument("--logit-scale", type=float, help="override the logit scale (default: Amumo's per model)")
    amumo.add_argument("--replace", action="store_true",
                       help="replace a dataset of the same name whose items or similarities differ (default: refuse)")
    amumo.add_argument("--model-prefix", default="",
                       help="prefix the models' names (a name already used by another model is refused otherwise)")
    amumo.set_defaults(handler=_run_import_amumo)
    emb = kinds.add_parser("embeddings", help="vectors from .npy/.npz/Parquet with a metadata CSV/Parquet")
    emb.add_argument("--store", required=True, type=Path, help="store folder (created if missing)")
    emb.add_argument("--dataset", required=True, help="dataset name")
    emb.add_argument("--model", required=True, help="model name")
    emb.add_argument("--vectors", required=True, nargs="+",
                     help="modality=file.npy pairs, or one .npz (arrays named by modality) or .parquet (list columns)")
    emb.add_argument("--metadata", help="CSV/Parquet, one row per item in vector order (item_id, text, image_ref, ...)")
    emb.add_argument("--modalities", type=_csv_list, help="which arrays/columns to take (default: all)")
    emb.add_argument("--logit-scale", type=float, default=1.0, help="exp of the model's learned logit scale")
    emb.set_defaults(handler=_run_import_embeddings)


def _run_import_amumo(args: argparse.Namespace) -> Any:
    """Import an Amumo export."""
    from dashboard.importers.amumo import import_amumo

    return import_amumo(args.folder, args.store, args.modalities, args.name, args.logit_scale,
                        replace=args.replace, model_prefix=args.model_prefix)


def _run_import_embeddings(args: argparse.Namespace) -> Any:
    """Import precomputed embeddings."""
    from dashboard.importers.embeddings import import_embeddings

    if args.modalities is not None:
        check_modalities(args.modalities, "--modalities")
    return import_embeddings(args.store, args.dataset, args.model, args.vectors, args.metadata,
                             args.modalities, args.logit_scale)


def _add_metrics(sub: argparse._SubParsersAction) -> None:
    """`gapscope metrics`."""
    parser = sub.add_parser("metrics", help="gap, loss, recall, clusters and more of one model on one dataset, as JSON")
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--modalities", type=_csv_list, help="the two (or more) modalities, first pair used for loss "
                        "and clusters (default: the dataset's)")
    parser.add_argument("--closed-gap", action="store_true", help="close the modality gap first (Amumo's closing)")
    parser.add_argument("--loss", choices=LOSSES, default="infonce", help="contrastive loss (default: symmetric InfoNCE)")
    parser.add_argument("--batch-size", type=int, help="loss batch size (default: all pairs at once)")
    parser.add_argument("--logit-scale", type=float, help="loss scale (default: the model's stored logit scale)")
    parser.add_argument("--logit-bias", type=float,
                        help="SigLIP logit bias for the sigmoid loss (default: the model's stored bias, if any)")
    parser.add_argument("--clusters", type=int, default=10, help="number of clusters (default 10)")
    parser.add_argument("--cluster-method", default="amumo", help="amumo (Amumo's exact method) or another method")
    parser.add_argument("--cluster-block", help="similarity block to cluster on, e.g. text_image (default: second_first)")
    parser.add_argument("--gap-fraction", type=float, default=1.0,
                        help="fraction of the gap the mean shift closes in gap_analysis.closing (default 1)")
    parser.add_argument("--bootstrap", type=int, default=0, metavar="B",
                        help="add bootstrap intervals (bias-corrected percentile) from B seeded resamples of "
                        "the items (key ci; default none)")
    parser.add_argument("--confidence", type=float, default=0.95, help="interval confidence (default 0.95)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    parser.set_defaults(handler=_run_metrics)


def _run_metrics(args: argparse.Namespace) -> Any:
    """Compute the metrics of one (dataset, model)."""
    from dashboard.store import Store

    store = Store.open(args.store)
    modalities = args.modalities if args.modalities is not None else store.dataset(args.dataset)["modalities"]
    check_modalities(modalities, "--modalities", at_least=2)
    model = store.model(args.model)
    paired = store.pairs(args.dataset, args.model, modalities)
    if len(paired) == 0:
        raise GapscopeError(f"model {args.model!r}: no items of dataset {args.dataset!r} have all of {', '.join(modalities)}")
    texts = store.items(args.dataset).set_index("item_id")["text"].reindex(paired.item_ids).fillna("").tolist()
    scale = args.logit_scale if args.logit_scale is not None else model["logit_scale"]
    from dashboard.metrics import compute_metrics, logit_bias_of

    bias = logit_bias_of(model) if args.logit_bias is None else args.logit_bias
    result = compute_metrics(paired.vectors, modalities, scale, texts, loss=args.loss, batch_size=args.batch_size,
                             closed_gap=args.closed_gap, clusters=args.clusters, cluster_method=args.cluster_method,
                             cluster_block=args.cluster_block, logit_bias=bias, gap_fraction=args.gap_fraction,
                             bootstrap=args.bootstrap, confidence=args.confidence, seed=args.seed)
    return {"dataset": args.dataset, "model": args.model, **result}


def _add_list(sub: argparse._SubParsersAction) -> None:
    """`gapscope list`."""
    parser = sub.add_parser("list", help="datasets, models and which model embedded which dataset")
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    parser.set_defaults(handler=_run_list)


def _run_list(args: argparse.Namespace) -> Any:
    """Describe a store's contents."""
    from dashboard.store import Store

    store = Store.open(args.store)
    coverage = store.coverage()
    datasets = []
    for row in store.datasets().itertuples():
        counts = coverage[coverage["dataset"] == row.name].groupby("modality")["count"].max().to_dict()
        datasets.append({"name": row.name, "modalities": list(row.modalities), "kind": row.kind, "items": int(row.items),
                         "embedded_items_per_modality": {m: int(counts.get(m, 0)) for m in row.modalities}})
    models = [{"name": r.name, "family": r.family, "modalities": list(r.modalities), "dim": int(r.dim),
               "logit_scale": float(r.logit_scale), "source": r.source} for r in store.models().itertuples()]
    embedded = [{"dataset": r.dataset, "model": r.model, "modality": r.modality, "count": int(r.count)}
                for r in coverage.itertuples()]
    return {"store": str(args.store), "datasets": datasets, "models": models, "embedded": embedded}


def _add_precompute(sub: argparse._SubParsersAction) -> None:
    """`gapscope precompute`."""
    parser = sub.add_parser("precompute", help="compute and store projections, clusters and metrics for the dashboard")
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--model", nargs="+", required=True, help="one or more model names")
    parser.add_argument("--no-umap", action="store_true", help="skip UMAP (slow to compile the first time)")
    parser.add_argument("--no-tsne", action="store_true", help="skip t-SNE")
    parser.add_argument("--summary-only", action="store_true",
                        help="only the metrics summary and the SQL pair ranks (what a change of the ranking needs)")
    parser.set_defaults(handler=_run_precompute)


def _run_precompute(args: argparse.Namespace) -> Any:
    """Precompute the dashboard's slow artefacts."""
    from dashboard.precompute import precompute, precompute_summary
    from dashboard.store import Store

    store = Store.open(args.store, read_only=False)
    for model in args.model:
        if args.summary_only:
            precompute_summary(store, args.dataset, model)
        else:
            precompute(store, args.dataset, model, umap=not args.no_umap, tsne=not args.no_tsne)
    return {"dataset": args.dataset, "models": args.model, "artifacts": int(len(store.artifacts()))}


def _add_gap_table(sub: argparse._SubParsersAction) -> None:
    """`gapscope gap-table`."""
    parser = sub.add_parser("gap-table", help="Markdown table of the gap analysis of every model of a dataset")
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--dataset", required=True)
    parser.set_defaults(handler=_run_gap_table)


def _run_gap_table(args: argparse.Namespace) -> int:
    """Print the gap analysis table (read-only)."""
    from dashboard.gap_table import gap_table
    from dashboard.store import Store

    print(gap_table(Store.open(args.store), args.dataset))
    return 0


def _add_app(sub: argparse._SubParsersAction) -> None:
    """`gapscope app`."""
    parser = sub.add_parser("app", help="open the dashboard (Streamlit) on a store")
    parser.add_argument("--store", type=Path, default=REPO_ROOT / "data" / "demo")
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--store-roots", nargs="+", type=Path, metavar="DIR",
                        help="serve only stores inside these folders (for shared deployments; default: any store)")
    parser.set_defaults(handler=_run_app)


def _run_app(args: argparse.Namespace) -> Any:
    """Run `streamlit run app.py` with the store in GAPSCOPE_STORE."""
    from dashboard.store import Store

    Store.open(args.store)
    from dashboard.app_files import app_root

    root = app_root()
    env = app_environment(args.store, args.store_roots)
    command = [sys.executable, "-m", "streamlit", "run", str(root / "app.py"), "--server.port", str(args.port)]
    return subprocess.call(command, env=env, cwd=root)


def app_environment(store: Path, roots: list[Path] | None) -> dict[str, str]:
    """The dashboard's environment: the store to open and, when given, the only folders it may open stores in."""
    env = {**os.environ, "GAPSCOPE_STORE": str(Path(store).resolve())}
    if roots:
        env["GAPSCOPE_STORE_ROOTS"] = os.pathsep.join(str(Path(root).resolve()) for root in roots)
    return env


def _optional_parsers(sub: argparse._SubParsersAction) -> None:
    """Subcommands that live in the ingest package (present once the package is importable)."""
    for module, function in (("ingest.cli", "add_ingest_parser"), ("ingest.demo.cli", "add_demo_parsers")):
        try:
            adder: Callable = getattr(__import__(module, fromlist=[function]), function)
        except ImportError:
            continue
        adder(sub)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(prog="gapscope", description="Explore the modality gap of CLIP-like models: "
                                     "import or ingest embeddings into a store, compute metrics, open the dashboard.")
    sub = parser.add_subparsers(dest="command", required=True)
    for adder in (_add_import, _add_metrics, _add_list, _add_precompute, _add_gap_table, _add_app,
                  _optional_parsers):
        adder(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: run one subcommand, print its result as JSON; bad input is one line on stderr and exit 2."""
    args = build_parser().parse_args(argv)
    try:
        result = args.handler(args)
    except GapscopeError as exc:
        print(f"gapscope: error: {exc}", file=sys.stderr)
        return 2
    if isinstance(result, int):
        return result
    if result is not None:
        print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
