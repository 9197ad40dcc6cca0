"""The Overview's data: one row of headline metrics per (dataset, model), the datasets split into real ones and
augmentation sweeps, and the links from a model into the other pages with the state in the URL."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from dashboard.app_files import app_root
from dashboard.ui import compute, loaders, state
from dashboard.ui.guard import one_line

MODEL_PAGES = (("pages/explore.py", "Explore", "model"), ("pages/gap.py", "Gap", "model"),
               ("pages/compare.py", "Compare", "models"))


def metrics_row(path: str, version: float, dataset: str, model: str) -> dict:
    """One row of a (dataset, model): the headline metrics (recall image-to-text), or the error that stopped them."""
    try:
        m = compute.metrics_summary(path, version, dataset, model)
    except Exception as exc:  # noqa: BLE001 - one broken model must not hide the others
        return {"dataset": dataset, "model": model, "error": one_line(exc)}
    recall = m.get("recall_at_k", {})
    recalls = recall.get("image_to_text") or next(iter(recall.values()), {})
    uniform = m.get("uniformity", {})
    return {"dataset": dataset, "model": model, "n": m.get("n"), "gap_distance": m.get("gap_distance"),
            "gap_ci": (m.get("ci") or {}).get("gap_distance"), "loss": m.get("loss"),
            **{f"R@{k}": v for k, v in recalls.items()}, "alignment": m.get("alignment"),
            "uniformity": float(np.mean(list(uniform.values()))) if uniform else None,
            "relative_gap": m.get("relative_gap"), "source": m.get("source")}


def metrics_table(path: str, version: float) -> pd.DataFrame:
    """Every embedded (dataset, model) with its metrics and its dataset's kind; real datasets first."""
    pairs = loaders.coverage(path, version)[["dataset", "model"]].drop_duplicates()
    kinds = loaders.datasets(path, version).set_index("name")["kind"]
    table = pd.DataFrame([metrics_row(path, version, r.dataset, r.model) for r in pairs.itertuples()])
    if table.empty:
        return table
    for column in ("gap_distance", "gap_ci", "loss", "error"):
        if column not in table:
            table[column] = None
    table["kind"] = table["dataset"].map(kinds).fillna("")
    table["sweep"] = table["kind"] == "sweep"
    order = {name: k for k, name in enumerate(kinds.index)}
    table["_order"] = table["dataset"].map(order)
    return table.sort_values(["sweep", "_order"], kind="stable").drop(columns="_order").reset_index(drop=True)


def sweep_of(path: str, version: float, dataset: str) -> dict[str, str]:
    """The Augmentations page's URL keys of a sweep dataset: its source image and augmentation."""
    extra = loaders.items(path, version, dataset)["extra"].iloc[0]
    first = json.loads(extra) if isinstance(extra, str) and extra.startswith("{") else {}
    return {"src": str(first.get("source_image", dataset)), "aug": str(first.get("op", ""))}


def sweeps_tables(table: pd.DataFrame, path: str, version: float) -> dict[str, pd.DataFrame]:
    """Gap distance of each sweep (rows: source image and augmentation) per model (columns), one table per set of
    models, keyed by the models' names."""
    sweeps = table[table["sweep"]] if not table.empty else table
    groups: dict[str, list[str]] = {}
    for dataset, rows in sweeps.groupby("dataset", sort=False):
        groups.setdefault(", ".join(rows["model"]), []).append(dataset)
    found = {}
    for models, names in groups.items():
        keys = pd.DataFrame([{"dataset": d, **sweep_of(path, version, d)} for d in names])
        mine = sweeps[sweeps["dataset"].isin(names)]
        wide = mine.pivot_table(index="dataset", columns="model", values="gap_distance", sort=False)
        frame = keys.set_index("dataset").join(wide[models.split(", ")]).reset_index()
        found[models] = frame.rename(columns={"src": "source image", "aug": "augmentation"})
    return found


def model_links(dataset: str, model: str, models: list[str], where=st) -> None:
    """One click from a model into Explore, Gap or Compare on this dataset and model (state in the URL)."""
    base = {k: v for k, v in state.shared_params().items() if k == "store"}
    columns = where.columns([2, 1, 1, 1])
    columns[0].markdown(f"**{model}**")
    others = [m for m in models if m != model]
    for column, (page, label, key) in zip(columns[1:], MODEL_PAGES):
        value = model if key == "model" else ",".join([model, *others][:4])
        if (app_root() / page).is_file():
            column.page_link(page, label=label, query_params={**base, "dataset": dataset, key: value})


def sweep_link(dataset: str, keys: dict[str, str], models: list[str], where=st) -> None:
    """A link to the Augmentations page on one sweep with its models (up to six)."""
    base = {k: v for k, v in state.shared_params().items() if k == "store"}
    if (app_root() / "pages/augmentations.py").is_file():
        where.page_link("pages/augmentations.py", label=f"{keys['src']} · {keys['aug']}",
                        query_params={**base, "dataset": dataset, "models": ",".join(models[:6]), **keys})
