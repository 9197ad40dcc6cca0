"""The one ranking: exact against a float64 reference on the canonical rows, the same for any block size, input
dtype and item order, duplicates tied optimistically, and log-sum-exps within float tolerance of scipy's."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

from dashboard.analysis import pairwise as pw
from dashboard.analysis import ranking as rk
from dashboard.analysis.retrieval import partner_ranks, ranks_both
from dashboard.errors import GapscopeError
from dashboard.sql.figures import pair_ranks


def reference(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact similarities of the canonical rows (float64 on integers) and the ranks by the definition."""
    qa, qb = rk.canonical(a).q, rk.canonical(b).q
    sims = np.array([[float(np.dot(qa[i], qb[j])) for j in range(len(qb))] for i in range(len(qa))]) / rk.GRID
    diagonal = np.diag(sims).copy()
    np.fill_diagonal(sims, -np.inf)
    rows = 1 + (sims > diagonal[:, None] + rk.TIE_TOLERANCE).sum(axis=1)
    cols = 1 + (sims > diagonal[None, :] + rk.TIE_TOLERANCE).sum(axis=0)
    return sims, rows, cols


@pytest.fixture(scope="module")
def duplicated() -> tuple[np.ndarray, np.ndarray]:
    """90 noisy pairs in 24-d; 30 texts repeat earlier ones (shared captions), 10 are earlier ones plus 1e-8 noise."""
    rng = np.random.default_rng(7)
    a = rng.normal(size=(90, 24))
    b = a + 1.5 * rng.normal(size=(90, 24))
    b[60:90] = b[0:30]
    b[50:60] = b[10:20] + 1e-8 * rng.normal(size=(10, 24))
    return a, b


def test_ranks_equal_the_exact_definition(duplicated) -> None:
    a, b = duplicated
    _, rows, cols = reference(a, b)
    forward, backward = ranks_both(a, b)
    assert np.array_equal(forward, rows) and np.array_equal(backward, cols)
    assert np.array_equal(partner_ranks(b, a), cols)


def test_duplicates_get_identical_ranks_in_every_path(duplicated) -> None:
    a, b = duplicated
    ab, ba = ranks_both(a, a)
    assert (ab == 1).all() and (ba == 1).all()
    scanned = pw.scan(a, b, 30.0)
    _, sql_ab, sql_ba = pair_ranks(b, a)
    assert np.array_equal(sql_ba, scanned.row_rank) and np.array_equal(sql_ab, scanned.col_rank)
    same = b[:, None, :] == b[None, :, :]
    twins = [(i, j) for i in range(90) for j in range(i + 1, 90) if same[i, j].all()]
    assert len(twins) >= 30
    text_to_image = scanned.col_rank
    b_only = pw.scan(b, b, 1.0, lse=False)
    assert all(b_only.row_rank[i] == b_only.row_rank[j] == 1 for i, j in twins)
    assert sum(text_to_image[i] != text_to_image[j] for i, j in twins) > 0  # different images: ranks may differ


@pytest.mark.parametrize("chunk", [1, 7, 64, 4096])
def test_block_size_does_not_change_ranks(duplicated, monkeypatch, chunk: int) -> None:
    a, b = duplicated
    whole = ranks_both(a, b)
    monkeypatch.setattr(pw, "CHUNK", chunk)
    assert all(np.array_equal(x, y) for x, y in zip(whole, ranks_both(a, b)))


def test_float32_and_float64_input_and_item_order(duplicated) -> None:
    a, b = duplicated
    forward, backward = ranks_both(a, b)
    as32 = ranks_both(a.astype(np.float32), b.astype(np.float32))
    assert np.array_equal(as32[0], forward) and np.array_equal(as32[1], backward)
    order = np.random.default_rng(3).permutation(len(a))
    shuffled = ranks_both(a[order], b[order])
    assert np.array_equal(shuffled[0], forward[order]) and np.array_equal(shuffled[1], backward[order])


def test_near_ties_count_for_the_query() -> None:
    """Twin items (same image, captions equal up to float32 noise) are tied: both get the same rank."""
    rng = np.random.default_rng(2)
    a = np.repeat(rng.normal(size=(20, 16)), 2, axis=0).astype(np.float32)
    b = (a + 0.8 * rng.normal(size=a.shape)).astype(np.float32)
    b[1::2] = b[0::2] * (1 + 3e-7 * rng.normal(size=(20, 16))).astype(np.float32)
    forward, backward = ranks_both(a, b)
    sims, rows, cols = reference(a, b)
    assert np.array_equal(forward, rows) and np.array_equal(backward, cols)
    assert np.array_equal(forward[0::2], forward[1::2]) and np.array_equal(backward[0::2], backward[1::2])
    twin = np.arange(40) ^ 1
    diagonal = (rk.canonical(a).q * rk.canonical(b).q).sum(axis=1) / rk.GRID
    assert (sims[np.arange(40), twin] > diagonal).any()  # strict comparison would rank these twins apart


def test_error_bound_covers_the_float32_products(duplicated) -> None:
    a, b = duplicated
    ca, cb = rk.canonical(a), rk.canonical(b)
    exact = (ca.q @ cb.q.T) / rk.GRID
    assert np.abs((ca.unit @ cb.unit.T).astype(np.float64) - exact).max() < ca.error_bound()
    assert ca.error_bound() < 1e-4


@pytest.mark.parametrize("scale", [1.0, 30.0, 100.0])
def test_log_sum_exps_match_scipy(duplicated, scale: float, monkeypatch) -> None:
    a, b = duplicated
    monkeypatch.setattr(pw, "CHUNK", 16)
    result = pw.scan(a, b, scale)
    sims, _, _ = reference(a, b)
    logits = scale * sims
    np.testing.assert_allclose(result.row_lse_others, logsumexp(logits, axis=1), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(result.col_lse_others, logsumexp(logits, axis=0), rtol=1e-5, atol=1e-4)
    np.fill_diagonal(logits, scale * np.diag(rk.canonical(a).q @ rk.canonical(b).q.T) / rk.GRID)
    np.testing.assert_allclose(result.row_lse(), logsumexp(logits, axis=1), rtol=1e-5, atol=1e-4)


def test_columns_whose_block_underflows_in_float32() -> None:
    """With scale 100, columns far below every row's maximum underflow in float32 and are summed in float64."""
    a = np.array([[1.0, 0.0], [1.0, 0.01], [0.0, 1.0], [0.0, 1.0]])
    b = np.array([[1.0, 0.0], [-1.0, 0.0], [-1.0, 0.05], [0.3, 1.0]])
    result = pw.scan(a, b, 100.0)
    sims, _, _ = reference(a, b)
    np.testing.assert_allclose(result.col_lse_others, logsumexp(100.0 * sims, axis=0), rtol=1e-6)
    assert np.isfinite(result.col_lse_others).all()


def test_bad_rows_are_one_line_errors() -> None:
    with pytest.raises(GapscopeError, match="row 1 is a zero"):
        ranks_both(np.array([[1.0, 0.0], [0.0, 0.0]]), np.eye(2))
    with pytest.raises(GapscopeError, match="differ in shape"):
        ranks_both(np.eye(3), np.eye(2))
    assert rk.ties() == {"rule": "optimistic", "tolerance": 2.0 ** -20}


def test_tied_ranks_of_scores_share_the_better_rank() -> None:
    scores = np.array([0.9, 0.5, 0.9 - 1e-7, 0.7, 0.5, 0.1])
    assert rk.tied_ranks(scores).tolist() == [1, 4, 1, 3, 4, 6]
    order = np.random.default_rng(0).permutation(6)
    assert np.array_equal(rk.tied_ranks(scores[order]), rk.tied_ranks(scores)[order])


def _scans(a: np.ndarray, b: np.ndarray, scale: float, monkeypatch, threads: int) -> pw.Scan:
    """scan with tiles of 16 rows x 10 columns, computed by `threads` threads."""
    monkeypatch.setattr(pw, "CHUNK", 16)
    monkeypatch.setattr(pw, "TILE_ENTRIES", 160)
    monkeypatch.setattr(pw.tiles, "workers", lambda n: threads)
    return pw.scan(a, b, scale)


@pytest.mark.parametrize("scale", [1.0, 100.0])
def test_tiles_and_threads_do_not_change_the_scan(duplicated, monkeypatch, scale: float) -> None:
    """Column tiles give the exact ranks; 1 or 3 threads give bit-identical log-sum-exps (folded in tile order)."""
    a, b = duplicated
    sims, rows, cols = reference(a, b)
    inline, threaded = (_scans(a, b, scale, monkeypatch, k) for k in (1, 3))
    assert np.array_equal(inline.row_rank, rows) and np.array_equal(inline.col_rank, cols)
    for name in ("row_rank", "col_rank", "row_lse_others", "col_lse_others"):
        assert np.array_equal(getattr(inline, name), getattr(threaded, name)), name
    np.testing.assert_allclose(threaded.row_lse_others, logsumexp(scale * sims, axis=1), rtol=1e-6)
    np.testing.assert_allclose(threaded.col_lse_others, logsumexp(scale * sims, axis=0), rtol=1e-6)


def test_tile_grid_covers_every_pair_once() -> None:
    covered = np.zeros((23, 23), dtype=int)
    for r0, r1, c0, c1 in pw.tiles.grid(23, 5, 5 * 7):
        assert r1 - r0 <= 5 and (r1 - r0) * (c1 - c0) <= 35
        covered[r0:r1, c0:c1] += 1
    assert (covered == 1).all()


def test_concurrent_scans_restore_the_blas_threads(duplicated, monkeypatch) -> None:
    """Scans running their own threads side by side leave BLAS's thread count as it was."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info

    a, b = duplicated
    monkeypatch.setattr(pw.tiles, "workers", lambda n: 2)
    monkeypatch.setattr(pw, "CHUNK", 8)
    before = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert before
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda k: pw.scan(a, b, 10.0).row_rank, range(6)))
    assert all(np.array_equal(r, results[0]) for r in results)
    assert [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"] == before
