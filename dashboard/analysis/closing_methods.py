"""Ways to close the modality gap side by side: what each costs in loss, retrieval and in-modal structure.

Rows are L2-normalised; every method is fitted on a seeded FIT_SHARE of the pairs and evaluated on the held-out
rest, so that the maps that use the pairing (Procrustes) are not scored on the pairs they were fitted to:
- "original": nothing changed;
- "mean_shift" (Liang et al., NeurIPS 2022; Amumo's `get_closed_modality_gap`): A' = n(A - f g/2),
  B' = n(B + f g/2) with g the fitted gap vector, n() the row normalisation and f the closed fraction;
- "centring": each modality minus its own fitted mean, renormalised: A' = n(A - mu_A), B' = n(B - mu_B);
- "whitening" (ZCA, Kessy et al., Am. Stat. 2018): A' = n((A - mu_A) W_A) with W_A = (S_A + eps I)^(-1/2),
  eps = 1e-6 Tr(S_A)/d, likewise B;
- "procrustes" (Schönemann, Psychometrika 1966): the orthogonal W minimising ||A W - B||_F over the fit pairs,
  W = U V^T from the SVD A^T B = U S V^T; A' = A W (a rotation: norms and in-modal similarities unchanged), B' = B.
Reported per method on the held-out pairs: the gap distance ||mean(A') - mean(B')||, InfoNCE at the model's logit
scale and Recall@1/5/10 both ways (one pairwise.scan on at most EVAL_PAIRS held-out pairs, seeded), and how much
in-modal structure moved: the Pearson correlation between cos(a_i, a_j) before and after the map over all pairs
i < j of STRUCTURE_ROWS seeded held-out rows (1 = the in-modal geometry is kept up to scale), per side.
"""

from collections.abc import Callable

import numpy as np

from dashboard.analysis.evaluation import EVAL_PAIRS, gap_norm, loss_and_recall, rownorm, seeded_rows
from dashboard.errors import GapscopeError

FIT_SHARE = 0.5
STRUCTURE_ROWS = 400
Map = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def split(n: int, seed: int = 0, fit_share: float = FIT_SHARE) -> tuple[np.ndarray, np.ndarray]:
    """Sorted fit and held-out positions of a seeded split of n pairs (each side at least one pair)."""
    if n < 4:
        raise GapscopeError(f"closing methods: need at least 4 pairs to fit and hold out, got {n}")
    chosen = np.random.default_rng(seed).permutation(n)
    cut = min(max(int(round(fit_share * n)), 2), n - 2)
    return np.sort(chosen[:cut]), np.sort(chosen[cut:])


def procrustes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The orthogonal W minimising ||a W - b||_F (Schönemann 1966)."""
    u, _, vt = np.linalg.svd(np.asarray(a, np.float64).T @ np.asarray(b, np.float64))
    return u @ vt


def _whitener(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and ZCA whitening matrix (S + eps I)^(-1/2) of the rows of x."""
    mean = x.mean(axis=0)
    cov = np.cov(x, rowvar=False, bias=True)
    values, vectors = np.linalg.eigh(cov + (1e-6 * np.trace(cov) / len(cov)) * np.eye(len(cov)))
    return mean, (vectors / np.sqrt(np.clip(values, 1e-300, None))) @ vectors.T


def fit_methods(a: np.ndarray, b: np.ndarray, fraction: float = 1.0) -> dict[str, Map]:
    """Every method fitted on the pairs (a, b) (float64, L2-normalised), as maps of new pairs."""
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    half = 0.5 * float(fraction) * (mean_a - mean_b)
    (wa_mean, wa), (wb_mean, wb) = _whitener(a), _whitener(b)
    rotation = procrustes(a, b)
    return {
        "original": lambda x, y: (x, y),
        "mean_shift": lambda x, y: (rownorm(x - half), rownorm(y + half)),
        "centring": lambda x, y: (rownorm(x - mean_a), rownorm(y - mean_b)),
        "whitening": lambda x, y: (rownorm((x - wa_mean) @ wa), rownorm((y - wb_mean) @ wb)),
        "procrustes": lambda x, y: (x @ rotation, y),
    }


def cosines(x: np.ndarray) -> np.ndarray:
    """Cosine matrix of the rows of x."""
    unit = rownorm(x)
    return unit @ unit.T


def structure_kept(before: np.ndarray, after: np.ndarray) -> float:
    """Pearson correlation of the cosines of all pairs i < j of rows before and after a map (their cosine
    matrices)."""
    upper = np.triu_indices(len(before), 1)
    old, new = before[upper], after[upper]
    if old.std() == 0 or new.std() == 0:
        return 1.0 if np.allclose(old, new) else 0.0
    return float(np.corrcoef(old, new)[0, 1])


def evaluate(x: np.ndarray, y: np.ndarray, mapped: tuple[np.ndarray, np.ndarray], scale: float, seed: int,
             before: dict[str, np.ndarray], keep: dict | None = None) -> dict:
    """Gap, loss, recalls and in-modal structure of one method on held-out pairs (x, y) -> mapped, `before` the
    sides' cosine matrices of the structure rows (structure_rows); `keep` (if given) receives the per-pair
    differences mx_i - my_i, the evaluation rows, their per-pair terms and the in-modal cosine matrices of the
    structure rows before and after ("structure_a", "structure_b")."""
    mx, my = mapped
    rows, kept = seeded_rows(len(x), seed), structure_rows(len(x), seed)
    pairs = {f"structure_{side}": (before[side], cosines(after[kept])) for side, after in (("a", mx), ("b", my))}
    if keep is not None:
        keep |= {"difference": (mx - my).astype(np.float32), "rows": rows} | pairs
    return {"gap": gap_norm(mx, my), **loss_and_recall(mx[rows], my[rows], scale, keep),
            **{name: structure_kept(*matrices) for name, matrices in pairs.items()}}


def structure_rows(n: int, seed: int) -> np.ndarray:
    """The seeded held-out rows whose in-modal cosines measure the structure kept."""
    return seeded_rows(n, seed + 1, STRUCTURE_ROWS)


def compare_closings(a: np.ndarray, b: np.ndarray, scale: float, fraction: float = 1.0, seed: int = 0,
                     keep: dict | None = None) -> dict:
    """Every method fitted on a seeded split of L2-normalised pairs and evaluated on the held-out pairs (`keep`, if
    given, receives the held-out positions and each method's per-pair terms)."""
    if not 0.0 <= float(fraction) <= 1.0:
        raise GapscopeError(f"closing methods: the closed fraction must be between 0 and 1, got {fraction}")
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    fit, held = split(len(a), seed)
    x, y = a[held], b[held]
    methods = fit_methods(a[fit], b[fit], fraction)
    kept = {name: {} for name in methods} if keep is not None else {}
    structure = structure_rows(len(x), seed)
    before = {"a": cosines(x[structure]), "b": cosines(y[structure])}
    rows = {name: evaluate(x, y, method(x, y), scale, seed, before, kept.get(name)) for name, method in methods.items()}
    if keep is not None:
        keep |= {"held": held, "methods": kept}
    return {"fit_pairs": int(len(fit)), "held_out_pairs": int(len(held)),
            "eval_pairs": int(min(len(held), EVAL_PAIRS)), "fraction": float(fraction), "methods": rows}
