"""Loss landscape along the modality gap (Liang et al., "Mind the Gap", NeurIPS 2022, Fig. 3; as Amumo exports it
in `MSCOCO-Val_size-5000/<Model>_loss_landscape.json`, with `get_gap_direction` from amumo/utils.py).

With L2-normalised A, B, gap g = mean(A) - mean(B) and unit gap u = g / ||g||, for every delta in
arange(-5, 5, 0.25):  A_d = normalise(A - delta u / 2),  B_d = normalise(B + delta u / 2)  (positive delta moves
the modalities towards each other). Reported per delta: the loss of (A_d, B_d) (Amumo's: a-to-b cross-entropy,
batches of 50, the model's scale) and the signed gap distance ||mean(A_d) - mean(B_d)||, negative once the
modalities have crossed: its sign is that of the first principal component (PCA of the original [A; B]) of
mean(B_d) - mean(A_d), relative to the same quantity before shifting. Also: the distance and loss before shifting
and after Amumo's closing (closing.close_gap, fraction 1) and their loss difference.
"""

import numpy as np
from scipy.linalg import eigh

from dashboard.analysis.closing import close_gap
from dashboard.analysis.gap import gap_distance, gap_vector
from dashboard.analysis.loss import contrastive_loss
from dashboard.analysis.similarity import normalize

DELTAS = np.arange(-5, 5, 0.25)


def _first_component(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """First principal axis of the rows of [x; y]."""
    z = np.concatenate([x, y]).astype(np.float64)
    z -= z.mean(axis=0)
    dim = z.shape[1]
    return eigh(z.T @ z, subset_by_index=[dim - 1, dim - 1])[1][:, 0]


def loss_landscape(a: np.ndarray, b: np.ndarray, scale: float, deltas: np.ndarray = DELTAS,
                   kind: str = "image_to_text", batch_size: int | None = 50) -> dict:
    """Signed gap distance and loss for every shift delta along the unit gap, plus the original and closed values."""
    x, y = normalize(a, "first modality"), normalize(b, "second modality")
    size = batch_size if batch_size is None or batch_size <= len(x) else None
    g = gap_vector(x, y)
    unit = (g / np.linalg.norm(g)).astype(x.dtype)
    axis = _first_component(x, y)
    reference = np.sign((y.mean(axis=0) - x.mean(axis=0)) @ axis)
    distances, losses = [], []
    for delta in deltas:
        xd, yd = normalize(x - 0.5 * delta * unit), normalize(y + 0.5 * delta * unit)
        sign = np.sign((yd.mean(axis=0) - xd.mean(axis=0)) @ axis) * reference
        distances.append(float((sign if sign != 0 else 1.0) * gap_distance(xd, yd)))
        losses.append(contrastive_loss(xd, yd, kind, scale, size))
    cx, cy = close_gap(x, y)
    original, closed = contrastive_loss(x, y, kind, scale, size), contrastive_loss(cx, cy, kind, scale, size)
    return {"deltas": [float(d) for d in deltas], "distances": distances, "losses": losses,
            "original_distance": gap_distance(x, y), "original_loss": original,
            "closed_distance": gap_distance(cx, cy), "closed_loss": closed, "loss_difference": closed - original}
