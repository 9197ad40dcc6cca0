"""The `gap_analysis` block of the metrics object: what kind of gap, where it lives, what closing it costs, whether
it splits joint clusters, and where the model's temperature sits, for the first pair of modalities.

Each figure comes from one pure module of dashboard/analysis/ (maths and sources in their docstrings): frechet
(shift versus shape), gap_dimensions (shares of ||g||^2, ablation curve), closing_methods (mean shift at `fraction`,
centring, whitening, Procrustes on a seeded split), joint_clustering (k-means on the union) and temperature.
Every seeded sample and split uses `seed`. Below MIN_PAIRS pairs (too few to split, cluster and fit covariances)
the block is None.
"""

import numpy as np

from dashboard.analysis.closing_methods import compare_closings
from dashboard.analysis.frechet import shift_or_shape
from dashboard.analysis.gap_dimensions import ablation, gap_location
from dashboard.analysis.joint_clustering import joint_clustering
from dashboard.analysis.similarity import normalize
from dashboard.analysis.temperature import temperature_curve

MIN_PAIRS = 8


def explain_gap(a: np.ndarray, b: np.ndarray, scale: float, k: int = 10, fraction: float = 1.0,
                seed: int = 0) -> dict | None:
    """Every figure of the gap analysis of the pairs (a_i, b_i) as plain JSON values (None below MIN_PAIRS)."""
    if len(a) < MIN_PAIRS:
        return None
    x, y = normalize(a, "first modality"), normalize(b, "second modality")
    return {"shift_or_shape": shift_or_shape(x, y, seed), "location": gap_location(x, y),
            "ablation": ablation(x, y, scale, seed), "closing": compare_closings(x, y, scale, fraction, seed),
            "joint_clustering": joint_clustering(x, y, max(2, min(int(k), len(x))), seed),
            "temperature": temperature_curve(x, y, scale, seed), "seed": int(seed)}
