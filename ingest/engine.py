"""The entry point of an ingest: open the dataset, describe the model, and run the local or the Ray engine.

The engines share their planning (ingest.plan) and writer (ingest.writer); the local engine is
ingest.local_engine, the Ray Data engine ingest.ray_engine (imported only when asked for: Ray is optional).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from dashboard.errors import GapscopeError
from ingest.datasets import open_dataset
from ingest.local_engine import ingest_source
from ingest.plan import ModelFactory, Options, resolve_device
from ingest.report import IngestReport
from ingest.writer import MAX_ITEMS

ENGINES = ("local", "ray")


def run_ingest(store_path: str | Path, dataset_type: str, source: str, model_spec: str, pretrained: str | None = None,
               name: str | None = None, device: str = "auto", batch_size: int | None = None, workers: int | None = None,
               limit: int | None = None, sample: int | None = None, seed: int = 0, precision: str = "auto",
               engine: str = "local", progress: bool = True, precompute: bool = True, umap: bool = True,
               tsne: bool = True, draft: int = 0, dataset_options: dict[str, Any] | None = None,
               model_name: str | None = None, commit_items: int = MAX_ITEMS) -> IngestReport:
    """Ingest a registered dataset type from `source` with a registered model into the store at `store_path`
    (under `model_name`, default the model's NAME), committing at most `commit_items` items at a time."""
    if int(commit_items) < 1:
        raise GapscopeError(f"--commit-items {commit_items}: must be at least 1")
    if engine not in ENGINES:
        raise GapscopeError(f"engine {engine!r}: unknown (known: {', '.join(ENGINES)})")
    opened = open_dataset(dataset_type, source, **(dataset_options or {}))
    device = resolve_device(device)
    batch_size = batch_size or (512 if device.startswith("cuda") else 64)
    options = Options(batch_size=int(batch_size), workers=Options.workers if workers is None else int(workers),
                      device=device, limit=limit, sample=sample, seed=seed, progress=progress, precompute=precompute,
                      umap=umap, tsne=tsne, draft=draft, commit_items=int(commit_items),
                      config={"spec": model_spec, "pretrained": pretrained, "precision": precision})
    factory = ModelFactory(model_spec, pretrained, device, precision, model_name)
    origin = str(Path(source).expanduser().resolve())
    if engine == "ray":
        from ingest.ray_engine import ingest_source_ray

        return ingest_source_ray(store_path, opened, factory, dataset_type, origin, name, options)
    return ingest_source(store_path, opened, factory, dataset_type, origin, name, options)
