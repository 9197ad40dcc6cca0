"""2-D projections of embeddings.

- PCA, as Amumo (scikit-learn's PCA, fitted on the concatenation [A; B] of the L2-normalised embeddings): the
  centred rows projected on the top-2 eigenvectors of the covariance X_c^T X_c (d x d: one BLAS product and a
  partial symmetric eigendecomposition, LAPACK's evr for two eigenpairs, instead of an SVD of the N x d data); each
  axis is signed so that its largest loading is positive (scikit-learn's convention; coordinates equal
  scikit-learn's up to sign).
- UMAP (McInnes et al. 2018, umap-learn) and t-SNE (van der Maaten & Hinton 2008, openTSNE), metric cosine,
  random_state 31415 as in Amumo's exports. umap is imported lazily (its numba compilation takes 30-45 s).
- UMAP out-of-sample: fitted on one modality only, the others placed with `transform`, so the layout of the fitted
  modality is not distorted by the gap.
- Pair projection: one point per pair, the projection of the concatenated pair vector [a_i | b_i].
"""

import numpy as np

from dashboard.analysis.similarity import normalize
from dashboard.errors import GapscopeError

METHODS = ("pca", "umap", "tsne")
SEED = 31415


def project(x: np.ndarray, method: str = "pca", seed: int = SEED) -> np.ndarray:
    """N x 2 coordinates of the rows of x by PCA, UMAP (cosine) or t-SNE (cosine)."""
    x = np.asarray(x)
    if method == "pca":
        return pca(x)
    if method == "umap":
        return _umap(seed, len(x)).fit_transform(x)
    if method == "tsne":
        from openTSNE import TSNE

        return np.asarray(TSNE(n_components=2, metric="cosine", random_state=seed, n_jobs=1).fit(x))
    raise GapscopeError(f"projection: unknown method {method!r} (choose from {', '.join(METHODS)})")


def pca(x: np.ndarray, components: int = 2) -> np.ndarray:
    """Coordinates of the centred rows on the top principal axes (eigenvectors of the covariance)."""
    from scipy.linalg import eigh

    x = np.asarray(x)
    if x.ndim != 2 or len(x) < 2 or x.shape[1] < components:
        raise GapscopeError(f"PCA: needs at least two row vectors of {components}+ dimensions, got shape {x.shape}")
    centred = x - x.mean(axis=0, dtype=np.float64).astype(x.dtype)
    dim = x.shape[1]
    _, vectors = eigh((centred.T @ centred).astype(np.float64), subset_by_index=[dim - components, dim - 1])
    axes = vectors[:, ::-1]
    axes *= np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(axes.shape[1])])
    return centred @ axes.astype(x.dtype)


def _umap(seed: int, n: int):
    """A 2-D cosine UMAP for n points (lazy import; fewer than 15 neighbours for tiny sets)."""
    import umap

    return umap.UMAP(n_components=2, metric="cosine", random_state=seed, n_jobs=1, n_neighbors=max(2, min(15, n - 1)))


def project_modalities(blocks: list[np.ndarray], method: str = "pca", seed: int = SEED) -> list[np.ndarray]:
    """Project the concatenation of the normalised blocks; one coordinate array per block."""
    z = np.concatenate([normalize(b, f"block {i}") for i, b in enumerate(blocks)])
    coords = project(z, method, seed)
    return np.split(coords, np.cumsum([len(b) for b in blocks])[:-1])


def project_out_of_sample(fit: np.ndarray, others: list[np.ndarray], seed: int = SEED) -> list[np.ndarray]:
    """UMAP fitted on one modality; coordinates of that modality, then of each other block via transform."""
    reducer = _umap(seed, len(fit))
    fitted = reducer.fit_transform(normalize(fit, "fitted modality"))
    return [fitted] + [reducer.transform(normalize(o, f"block {i + 1}")) for i, o in enumerate(others)]


def project_pairs(blocks: list[np.ndarray], method: str = "pca", seed: int = SEED) -> np.ndarray:
    """One point per pair: the projection of [normalise(a_i) | normalise(b_i) | ...]."""
    lengths = {len(b) for b in blocks}
    if len(lengths) != 1:
        raise GapscopeError(f"pair projection: blocks have different numbers of rows {sorted(lengths)}")
    return project(np.concatenate([normalize(b, f"block {i}") for i, b in enumerate(blocks)], axis=1), method, seed)
