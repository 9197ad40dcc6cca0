"""Names of the artefacts a store keeps (computed once, at ingest or import, read by the dashboard); payloads over
64 KB are files beside the metadata (dashboard/store/payloads.py).

kind "metrics",    key "summary"                     JSON: the `gapscope metrics` object with default options.
kind "metrics",    key "faithfulness"                JSON: pair preservation and trustworthiness per projection key.
kind "metrics",    key "paired:<first model>"        JSON: Compare's paired-bootstrap rows of this model against the
                   first, with the count and SHA-256 of their sample's ids (dashboard.paired_bootstrap).
kind "projection", key "<method>:<variant>"          Parquet: item_id, modality, x, y
                   method in pca, umap, tsne, umap_oos, pairs_pca; variant "gap" or "closed".
kind "clusters",   key "<method>:<k>:<block>"        Parquet: item_id, cluster, label
                   method "amumo" or the default; block e.g. "text_image".
kind "landscape",  key "<modality_a>_<modality_b>"   JSON: deltas, distances, losses (Liang et al. 2022).
kind "pairs",      key "figures:<modality>,..."       Parquet: the SQL pairs view of one model (dashboard.sql.figures).
kind "heatmap",    key "order:<variant>", "matrix:<variant>"
                   Parquet: the whole dataset's PC 1 order with pair cosines, and its heatmap's block means
                   (dashboard.stored_heatmap); variant "gap" or "closed".
kind "heatmap",    key "compared:<first model>"     Parquet: Compare's block means of this model in the first
                   model's PC 1 order; key "compared-ids:<first model>" JSON: their rows' count and SHA-256
                   (dashboard.streamed_heatmap).
"""

METRICS = "metrics"
PROJECTION = "projection"
CLUSTERS = "clusters"
LANDSCAPE = "landscape"
PAIR_FIGURES = "pairs"
HEATMAP = "heatmap"


def projection_key(method: str, closed: bool = False) -> str:
    """Artefact key of a projection."""
    return f"{method}:{'closed' if closed else 'gap'}"


def clusters_key(method: str, k: int, block: str) -> str:
    """Artefact key of a clustering."""
    return f"{method}:{k}:{block}"


def pair_figures_key(modalities: list[str]) -> str:
    """Artefact key of the pair figures over these modalities."""
    return "figures:" + ",".join(modalities)


def heatmap_key(part: str, closed: bool = False) -> str:
    """Artefact key of a stored heatmap part ("order" or "matrix")."""
    return f"{part}:{'closed' if closed else 'gap'}"


def compared_key(first: str, ids: bool = False) -> str:
    """Artefact key of a model's compared heatmap in the PC 1 order of `first` (or of its rows' digest)."""
    return f"compared{'-ids' if ids else ''}:{first}"
