"""`gapscope gap-table`: one Markdown table of the gap analysis (dashboard.gap_explained) for every model of a
dataset, read from the store's precomputed metrics summary (computed from the stored embeddings, without writing,
when a summary predates the gap analysis), so that the README's table is written from the store, not by hand."""

from dashboard.analysis.gap import gap_distance
from dashboard.gap_explained import explain_gap
from dashboard.store import Store, artifacts

METHODS = ("original", "mean_shift", "centring", "whitening", "procrustes")
HEADER = ("model", "gap", "Fréchet: shift share", "energy kept after centring", "dims for 50 % / 90 %",
          "PCs for 50 % / 90 %", "gap without top 8 dims", "pair in same cluster (chance)", "modality purity",
          "V-measure", *(f"R@1 i→t {m}" for m in METHODS), "own scale / lowest-loss scale")


def analysis_of(store: Store, dataset: str, model: str) -> tuple[dict, float, str]:
    """The stored gap analysis, gap distance and source of a model (computed when the summary lacks it)."""
    summary = store.get_json(dataset, model, artifacts.METRICS, "summary")
    if summary is not None and summary.get("gap_analysis"):
        return summary["gap_analysis"], summary["gap_distance"], "store"
    paired = store.pairs(dataset, model)
    modalities = list(paired.vectors)[:2]
    scale = float(store.model(model)["logit_scale"])
    block = explain_gap(paired.vectors[modalities[0]], paired.vectors[modalities[1]], scale)
    return block, gap_distance(paired.vectors[modalities[0]], paired.vectors[modalities[1]]), "computed"


def row_of(model: str, block: dict, gap: float) -> list[str]:
    """One table row."""
    shape, where, joint = block["shift_or_shape"], block["location"], block["joint_clustering"]
    curve, temperature = block["ablation"], block["temperature"]
    without = curve["gap"][curve["k"].index(8)] if 8 in curve["k"] else float("nan")
    lowest = temperature["scale"][min(range(len(temperature["loss"])), key=temperature["loss"].__getitem__)]
    recalls = [f"{block['closing']['methods'][m]['a_to_b']['1']:.3f}" for m in METHODS]
    return [model, f"{gap:.3f}", f"{shape['shift_share']:.2f}", f"{shape['energy_kept_share']:.2f}",
            f"{where['dimensions']['count_50']} / {where['dimensions']['count_90']}",
            f"{where['directions']['count_50']} / {where['directions']['count_90']}", f"{without:.3f}",
            f"{joint['pair_same_cluster']:.2f} ({joint['chance_same_cluster']:.2f})", f"{joint['modality_purity']:.2f}",
            f"{joint['v_measure']:.2f}", *recalls, f"{temperature['model_scale']:.1f} / {lowest:.1f}"]


def gap_table(store: Store, dataset: str) -> str:
    """The Markdown table for every model that embedded `dataset`, with a line naming its sources."""
    coverage = store.coverage()
    models = sorted(set(coverage[coverage["dataset"] == dataset]["model"]))
    lines = ["| " + " | ".join(HEADER) + " |", "|---|" + "---:|" * (len(HEADER) - 1)]
    sources = []
    for model in models:
        block, gap, source = analysis_of(store, dataset, model)
        if block is not None:
            lines.append("| " + " | ".join(row_of(model, block, gap)) + " |")
            sources.append(f"{model}: {source}")
    return "\n".join(lines) + f"\n\n({dataset}; " + ", ".join(sources) + ")"
