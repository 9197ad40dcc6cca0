"""The `gap_analysis` block of the metrics object: what kind of gap, where it lives, what closing it costs, whether
it splits joint clusters, and where the model's temperature sits, for the first pair of modalities.

Each figure comes from one pure module of dashboard/analysis/ (maths and sources in their docstrings): frechet
(shift versus shape), gap_dimensions (shares of ||g||^2, ablation curve), closing_methods (mean shift at `fraction`,
centring, whitening, Procrustes on a seeded split), joint_clustering (k-means on the union) and temperature.
Every seeded sample and split uses `seed`; with a bootstrap, dashboard.gap_intervals gives the intervals. Below
MIN_PAIRS pairs (too few to split, cluster and fit covariances), or when a modality is one point repeated (an
augmentation sweep's fixed caption: its shape, centring and whitening are undefined), the block is None.
"""

import numpy as np

from dashboard.analysis.closing_methods import compare_closings
from dashboard.analysis.frechet import moments, shift_or_shape
from dashboard.analysis.gap_dimensions import ablation, gap_location
from dashboard.analysis.joint_clustering import joint_clustering
from dashboard.analysis.similarity import normalize
from dashboard.analysis.temperature import temperature_curve
from dashboard.gap_intervals import gap_intervals

MIN_PAIRS = 8
PARTS = ("shift_or_shape", "location", "ablation", "closing", "joint_clustering", "temperature")


def explain_gap(a: np.ndarray, b: np.ndarray, scale: float, k: int = 10, fraction: float = 1.0,
                seed: int = 0, keep: dict | None = None) -> dict | None:
    """Every figure of the gap analysis of the pairs (a_i, b_i) as plain JSON values (None below MIN_PAIRS
    pairs or for a modality of one repeated point);
    `keep` (if given) receives the normalised pairs and each analysis' per-pair terms (for gap_intervals)."""
    if len(a) < MIN_PAIRS or any(np.all(np.asarray(m) == np.asarray(m)[0]) for m in (a, b)):
        return None
    # float64 once (the float32 values exactly), so that no analysis makes its own copy
    x, y = (normalize(m, name).astype(np.float64) for m, name in ((a, "first modality"), (b, "second modality")))
    kept = {name: {} for name in PARTS} if keep is not None else dict.fromkeys(PARTS)
    given = moments(x, y)
    block = {"shift_or_shape": shift_or_shape(x, y, seed, kept["shift_or_shape"], given),
             "location": gap_location(x, y, keep=kept["location"], given=given),
             "ablation": ablation(x, y, scale, seed, kept["ablation"]),
             "closing": compare_closings(x, y, scale, fraction, seed, kept["closing"]),
             "joint_clustering": joint_clustering(x, y, max(2, min(int(k), len(x))), seed, kept["joint_clustering"]),
             "temperature": temperature_curve(x, y, scale, seed, kept["temperature"]), "seed": int(seed)}
    if keep is not None:
        keep |= kept | {"pairs": (x, y), "moments": given}
    return block


def gap_analysis_with_intervals(a: np.ndarray, b: np.ndarray, scale: float, k: int, fraction: float,
                                bootstrap: int, confidence: float = 0.95, seed: int = 0) -> tuple[dict | None, dict]:
    """The block and, for bootstrap B > 0 and enough pairs, its intervals (dashboard.gap_intervals; else {})."""
    keep = {} if bootstrap else None
    block = explain_gap(a, b, scale, k, fraction, seed, keep)
    if not bootstrap or block is None:
        return block, {}
    return block, gap_intervals(*keep["pairs"], block, keep, bootstrap, confidence, seed)
