"""The README table of the demo models on the held-out pairs, read from the metrics the build stored.

Columns: logit scale, gap distance ||mean(image) - mean(text)||, symmetric InfoNCE loss of all held-out pairs at
once at the model's logit scale, Recall@1/5/10 image-to-text and text-to-image; the last row is chance, K / N.
"""
from __future__ import annotations

from pathlib import Path

from dashboard.errors import GapscopeError
from dashboard.store import Store, artifacts

KS = ("1", "5", "10")


def table_rows(store: Store, dataset: str, models: list[str]) -> list[dict[str, float | str]]:
    """One row per model from the stored metrics summary, then a chance row."""
    rows, n = [], 0
    for model in models:
        summary = store.get_json(dataset, model, artifacts.METRICS, "summary")
        if summary is None:
            raise GapscopeError(f"model {model!r}: no stored metrics for dataset {dataset!r} (run the precompute)")
        n = summary["n"]
        row: dict[str, float | str] = {"model": model, "logit_scale": summary["logit_scale"],
                                       "gap_distance": summary["gap_distance"], "loss": summary["loss"]}
        for direction, short in (("image_to_text", "i2t"), ("text_to_image", "t2i")):
            for k in KS:
                row[f"{short}@{k}"] = summary["recall_at_k"][direction][k]
        rows.append(row)
    chance = {"model": f"chance (N = {n})", "logit_scale": "", "gap_distance": "", "loss": ""}
    chance.update({f"{d}@{k}": int(k) / max(n, 1) for d in ("i2t", "t2i") for k in KS})
    return rows + [chance]


def markdown(rows: list[dict[str, float | str]]) -> str:
    """The rows as a Markdown table."""
    header = ("| model | logit scale | gap distance | loss | R@1 i→t | R@5 i→t | R@10 i→t | R@1 t→i | R@5 t→i "
              "| R@10 t→i |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    lines = []
    for row in rows:
        cells = [str(row["model"])] + [_cell(row[c]) for c in list(row)[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    return header + "\n".join(lines) + "\n"


def _cell(value: float | str) -> str:
    """A number with three decimals (scales with one), or the text as it is."""
    if isinstance(value, str):
        return value
    return f"{value:.1f}" if value >= 10 else f"{value:.3f}"


def write_readme(store: Store, dataset: str, models: list[str], path: Path, seconds: dict[str, float]) -> str:
    """Write the snippet file with the table and the build's timings; returns the table."""
    rows = table_rows(store, dataset, models)
    table = markdown(rows)
    n = str(rows[-1]["model"]).split("= ")[-1].rstrip(")")
    timing = ", ".join(f"{phase} {value:.0f} s" for phase, value in seconds.items())
    Path(path).write_text(
        "# The bundled demo store\n\n"
        f"Three CLIP-like models built by `gapscope build-demo` (`make demo-data`): frozen all-MiniLM-L6-v2 text and "
        f"EfficientNet-Lite0 (ImageNet) image towers with projection heads trained on openclipart drawings with "
        f"InfoNCE (demo-clip), CyCLIP (demo-cyclip) and CLOOB (demo-cloob). On the {n} held-out pairs "
        f"(dataset `{dataset}`; recall as a share of queries, chance K / N in the last row):\n\n"
        f"{table}\n"
        f"Build phases of the run that wrote this store ({sum(seconds.values()):.0f} s in all; tower features come "
        f"from the feature cache when it is warm): {timing}.\n", encoding="utf-8")
    return table


def refresh_tables(store: Store, dataset: str, models: list[str], paths: list[Path]) -> str:
    """Replace the table in each Markdown file (the README's and the store's) by the one the store now gives."""
    table = markdown(table_rows(store, dataset, models))
    header = table.splitlines()[0]
    for path in map(Path, paths):
        lines = Path(path).read_text(encoding="utf-8").splitlines(keepends=True)
        start = next(i for i, line in enumerate(lines) if line.startswith(header))
        stop = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
        Path(path).write_text("".join(lines[:start]) + table + "".join(lines[stop:]), encoding="utf-8")
    return table


DIFFUSIONDB_HEADING = "## Real models: Amumo's DiffusionDB exports"


def _diffusiondb_rows(store: Store, dataset: str, models: list[str]) -> str:
    """Table rows of the four real models on the DiffusionDB pairs: stored summary and Amumo's own loss."""
    lines = []
    for model in models:
        s = store.get_json(dataset, model, artifacts.METRICS, "summary")
        amumo = store.get_json(dataset, model, "amumo_meta", "meta_info") or {}
        recall = s["recall_at_k"]
        lines.append(f"| {model} | {_cell(s['logit_scale'])} | {_cell(s['gap_distance'])} | "
                     f"{_cell(amumo.get('gap_distance', float('nan')))} | {_cell(amumo.get('loss', float('nan')))} | "
                     f"{_cell(recall['image_to_text']['1'])} | {_cell(recall['image_to_text']['10'])} | "
                     f"{_cell(recall['text_to_image']['1'])} | {_cell(recall['text_to_image']['10'])} |")
    return "\n".join(lines)


def diffusiondb_section(store: Store, pairs: str, sweeps: list[str], models: list[str], regenerated: list[str]) -> str:
    """The README section of the DiffusionDB step: results, sweeps' gap distances, what was regenerated, credits."""
    head = ("| model | logit scale | gap distance | Amumo's gap | Amumo's loss (i→t, batch 50) | R@1 i→t | R@10 i→t "
            "| R@1 t→i | R@10 t→i |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    sweep_head = "| sweep | " + " | ".join(models) + " |\n|---|" + "---:|" * len(models) + "\n"
    sweep_rows = "\n".join(
        f"| {name} | " + " | ".join(_cell(store.get_json(name, m, artifacts.METRICS, "summary")["gap_distance"])
                                    for m in models) + " |" for name in sweeps)
    return (f"{DIFFUSIONDB_HEADING}\n\n"
            f"Added by `gapscope build-demo-diffusiondb` (the last step of `make demo-data`): Amumo's exports of four "
            f"real models, {', '.join(models)}, imported as `gapscope import amumo` does (embeddings rebuilt "
            f"from Amumo's similarity matrices, exact up to a rotation; Amumo's `_nogap` matrices left out since "
            f"the dashboard closes the gap itself). `{pairs}`: 100 DiffusionDB prompts and images (96 px "
            f"thumbnails only). On these pairs (recall as a share of queries):\n\n{head}"
            f"{_diffusiondb_rows(store, pairs, models)}\n\n"
            f"Five sweeps of DiffusionDB image 0, its prompt fixed, 100 steps each; gap distance per model:\n\n"
            f"{sweep_head}{sweep_rows}\n\n"
            f"The image strips of {', '.join(f'`{r}`' for r in regenerated)} were regenerated here from the "
            f"unaugmented DiffusionDB image with Amumo's augmentation code (`amumo/data.py`; Amumo's noise was "
            f"unseeded, ours uses seed 31415), since Amumo's exports ship without them; their similarities are "
            f"Amumo's, unchanged.\n\n"
            "### Credits and licences\n\n"
            "- Similarity matrices, projections and meta numbers: Amumo, Humer et al., *Exploring the Latent Space "
            "of CLIP-like Models Using Inter-Modal Pairs*, JVI 2024, github.com/ginihumer/Amumo (branch "
            "`jovi_article`, commit 9c6bfb0, `exported_data/`), MIT licence.\n"
            "- Images and prompts: DiffusionDB, Wang et al., *DiffusionDB: A Large-scale Prompt Gallery Dataset for "
            "Text-to-Image Generative Models*, ACL 2023, github.com/poloclub/diffusiondb: the dataset under CC0 1.0, "
            "its code under the MIT licence.\n"
            "- The openclipart drawings above are public domain (openclipart.org, Debian's openclipart packages).\n")


def write_diffusiondb_section(path: Path, section: str) -> None:
    """Put the section at the end of the README, replacing an earlier one."""
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.is_file() else "# The bundled demo store\n"
    kept = text.split(f"\n{DIFFUSIONDB_HEADING}")[0].rstrip("\n")
    path.write_text(f"{kept}\n\n{section}", encoding="utf-8")
