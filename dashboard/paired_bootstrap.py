"""Compare's paired bootstrap as table rows, and the rows of the whole dataset stored at precompute.

Per later model, modality pair and metric: its difference to the first model on the same items, the
BOOTSTRAP_B-resample interval of that difference and whether it excludes 0 (dashboard.intervals.paired_differences:
both models resampled on the same items, Efron & Tibshirani 1993, ch. 16). The items are those every compared model
embedded, in view order, then the seeded metrics sample of at most METRICS_SAMPLE of them (the rows the metrics
table uses). The per-item terms of 2,000 pairs take ~0.25 s per model, so `store_paired` keeps each ordered pair of
models' rows for the whole dataset's sample (kind "metrics", key "paired:<first>", under the later model) with the
count and SHA-256 of the sample's ids; Compare reads them only when the digest is its own sample's, and otherwise
computes the rows live with the same functions (so the stored rows are the live ones).
"""
from __future__ import annotations

from dashboard.analysis.evaluation import seeded_rows
from dashboard.analysis.similarity import normalize
from dashboard.intervals import DEFAULT_B, ItemTerms, every_pair_terms, paired_differences
from dashboard.store import Store
from dashboard.store import artifacts
from dashboard.store.store import Paired
from dashboard.streamed_heatmap import ids_digest

BOOTSTRAP_B = DEFAULT_B
CONFIDENCE = 0.95
SEED = 0
LABEL = f"{CONFIDENCE:.0%} CI"
METRICS_SAMPLE = 2000


def sample_ids(ids: list[str], seed: int) -> list[str]:
    """The seeded metrics sample of at most METRICS_SAMPLE of `ids`, in their order."""
    return [ids[i] for i in seeded_rows(len(ids), seed, METRICS_SAMPLE)]


def sample_pairs(store: Store, dataset: str, model: str, item_ids: list[str]) -> Paired:
    """The unit-norm embeddings of some items, read by key (Store.some_pairs)."""
    return store.some_pairs(dataset, model, item_ids, transform=lambda v, m: normalize(v, f"{model} {m}"))


def terms_of(pairs: Paired, scale: float) -> ItemTerms:
    """Per-item terms of every modality pair of some pairs."""
    return every_pair_terms(pairs.vectors, scale)


def format_interval(interval: list[float]) -> str:
    """"[lo, hi]" with three decimals."""
    return f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def pair_columns(tree: dict, a: str, b: str) -> dict:
    """The leaves of one pair's figures in a per-pair tree (paired_differences'), keyed by the table's column names."""
    pair, out = f"{a}_{b}", {"distance": tree["gap_distances"][f"{a}_{b}"]}
    out |= {name: tree[name][pair] for name in ("loss", "alignment", "relative_gap", "matched_cosine",
                                                 "unmatched_cosine") if pair in tree.get(name, {})}
    for x, y in ((a, b), (b, a)):
        out |= {f"R@{k} {x}→{y}": v for k, v in tree["recall_at_k"].get(f"{x}_to_{y}", {}).items()}
    out |= {f"uniformity {m}": tree["uniformity"][m] for m in (a, b)}
    return out


def paired_rows(base: ItemTerms, other: ItemTerms, model: str) -> list[dict]:
    """The table rows of `model` (terms `other`) against the first model (terms `base`) on the same items."""
    verdicts, rows = paired_differences(base, other, BOOTSTRAP_B, CONFIDENCE, SEED), []
    for a, b in base.pairs:
        for column, verdict in pair_columns(verdicts, a, b).items():
            rows.append({"model": model, "pair": f"{a}_{b}", "metric": column,
                         "difference": float(verdict["difference"]), LABEL: format_interval(verdict["interval"]),
                         "significant": bool(verdict["significant"])})
    return rows


def paired_key(first: str) -> str:
    """Artefact key of a model's paired-bootstrap rows against `first`."""
    return f"paired:{first}"


def store_paired(store: Store, dataset: str, model: str) -> None:
    """Store the whole dataset's paired-bootstrap rows of `model` against every other model, and theirs against it
    (seed 0's sample of the items both embedded, in item order)."""
    coverage = store.coverage()
    others = sorted(set(coverage.loc[coverage["dataset"] == dataset, "model"]) - {model})
    order, embedded = store.items(dataset)["item_id"].tolist(), set(store.paired_ids(dataset, model))
    for other in others:
        common = embedded & set(store.paired_ids(dataset, other))
        ids = sample_ids([i for i in order if i in common], SEED)
        if len(ids) < 3:
            continue
        mine, theirs = (terms_of(sample_pairs(store, dataset, name, ids), float(store.model(name)["logit_scale"]))
                        for name in (model, other))
        for first, later, base, terms in ((other, model, theirs, mine), (model, other, mine, theirs)):
            store.put_json(dataset, later, artifacts.METRICS, paired_key(first),
                           {"ids": ids_digest(ids), "rows": paired_rows(base, terms, later)})


def stored_paired(store: Store, dataset: str, model: str, first: str, ids: list[str]) -> list[dict] | None:
    """The stored rows of `model` against `first` when they were computed for exactly the sample `ids`, else None."""
    stored = store.get_json(dataset, model, artifacts.METRICS, paired_key(first))
    return stored["rows"] if stored and stored.get("ids") == ids_digest(ids) else None

