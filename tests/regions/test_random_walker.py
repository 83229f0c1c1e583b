"""The compiled random walker against nilearn's: systems, iterations and labels bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage, sparse
from scipy.sparse.linalg import cg

from regionkit.regions._random_walker import (
    _build_system,
    _solve,
    walk_labels,
)

segmentation = pytest.importorskip("nilearn._utils.segmentation")

BETA = 130.0


def _problem(seed, shape=(14, 16, 12), n_labels=3, prune=True, dtype=np.float32):
    rng = np.random.default_rng(seed)
    data = ndimage.gaussian_filter(rng.standard_normal(shape), 1.5).astype(dtype)
    seeds = np.zeros(shape, dtype=np.int32)
    for label in range(1, n_labels + 1):
        for _ in range(2):
            seeds[tuple(rng.integers(0, s) for s in shape)] = label
    if prune:
        seeds[(data < -0.15) & (seeds == 0)] = -1
    # what random_walker_labels hands over (and nilearn computes): unknowns no
    # seed reaches, and seeds touching no unknown, are out of the graph
    reached = ndimage.binary_propagation(seeds > 0, mask=seeds >= 0)
    seeds[(seeds == 0) & ~reached] = -1
    reaches = ndimage.binary_propagation(seeds == 0, mask=seeds >= 0)
    seeds[(seeds > 0) & ~reaches] = -1
    return data, seeds


def _scale(data):
    # nilearn: ``beta /= 10 * data.std()`` on the (x, y, z, 1) array, in its dtype
    beta = BETA
    beta /= 10 * data[..., np.newaxis].std()
    return beta


def _nilearn_system(data, seeds):
    labels = np.atleast_3d(seeds)
    mask = labels >= 0 if np.any(labels < 0) else None
    lap = segmentation._build_laplacian(
        data[..., np.newaxis], np.ones(3), mask=mask, beta=BETA
    )
    lap, rhs = segmentation._build_ab(lap, labels)
    return lap.tocsc(), [-np.asarray(b.todense()).ravel() for b in rhs]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("prune", [True, False])
def test_system_is_nilearn_s_bit_for_bit(seed, prune, dtype):
    data, seeds = _problem(seed, prune=prune, dtype=dtype)
    lap, rhs = _nilearn_system(data, seeds)
    _, neighbours, weights, diagonal, ours_rhs = _build_system(
        data, seeds, _scale(data)
    )
    n = diagonal.size
    np.testing.assert_array_equal(diagonal, lap.diagonal())
    rows = np.repeat(np.arange(n), 6)
    present = neighbours.ravel() >= 0
    off_diagonal = sparse.csr_array(
        (-weights.ravel()[present], (rows[present], neighbours.ravel()[present])),
        shape=(n, n),
    )
    theirs = (lap - sparse.diags_array(lap.diagonal())).tocsr()
    theirs.eliminate_zeros()
    assert (off_diagonal != theirs).nnz == 0  # every weight identical
    np.testing.assert_array_equal(ours_rhs, np.array(rhs))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_probabilities_equal_nilearn_s_cg(seed):
    data, seeds = _problem(seed, shape=(20, 18, 16), n_labels=4)
    lap, rhs = _nilearn_system(data, seeds)
    reference = np.array([cg(lap, b, rtol=1e-3, atol=0)[0] for b in rhs])
    _, ours = _solve(
        data, seeds, _scale(data), 1e-3
    )  # unknowns in voxel order, as nilearn's
    np.testing.assert_array_equal(ours, reference)  # the same iterations, bit for bit
    # nilearn's labels for the whole problem
    labels = segmentation.random_walker(data, seeds.copy())
    labels[labels < 0] = 0
    np.testing.assert_array_equal(walk_labels(data, seeds, _scale(data)), labels)


def test_labels_where_no_walk_arrived_go_to_label_1():
    # two components; the walk along the long one stops (rtol 0.5) before its
    # far end, where every label's probability is 0: nilearn's argmax gives
    # label 1, whose seed is in the other component
    data = np.linspace(0.0, 1.0, 120).reshape(1, 3, 40)
    seeds = np.full(data.shape, -1)
    seeds[0, 0, :3] = [1, 0, 0]
    seeds[0, 2, :] = 0
    seeds[0, 2, 0] = 2
    labels = walk_labels(data, seeds, _scale(data), rtol=0.5)
    assert labels[0, 0, :3].tolist() == [1, 1, 1]
    assert labels[0, 2, 1] == 2
    assert labels[0, 2, -1] == 1  # the walk of label 2 never got there
    reference = segmentation.random_walker(data, seeds.copy(), tol=0.5)
    reference[reference < 0] = 0
    np.testing.assert_array_equal(labels, reference)


def test_seeds_and_pruned_voxels():
    data = np.arange(10.0).reshape(1, 1, 10)
    seeds = np.array([[[1, 0, 0, 0, 3, -1, 2, -1, -1, -1]]])  # label 2 is cut off by -1
    flat, probabilities = _solve(data, seeds, 0.01, 1e-3)
    assert flat.tolist() == [1, 2, 3]
    assert probabilities.shape == (3, 3)
    np.testing.assert_array_equal(probabilities[1], 0)  # no unknown next to label 2
    np.testing.assert_allclose(probabilities.sum(axis=0), 1.0, atol=1e-3)
    labels = walk_labels(data, seeds, 0.01)
    assert labels.ravel().tolist() == [1, 1, 1, 3, 3, 0, 2, 0, 0, 0]


def test_bad_shapes():
    with pytest.raises(
        ValueError,
        match=r"data and seeds must be 3D arrays of one shape; got \(2, 2, 2\) and \(2, 2\)",
    ):
        walk_labels(np.zeros((2, 2, 2)), np.zeros((2, 2), dtype=int), 1.0)


def test_sparse_dot_products_are_numpy_s_bit_for_bit():
    from regionkit.regions._random_walker import (
        _dot,
        _dot_chunks,
        _emulation_holds,
        _numpy_blas_threads,
    )

    n_threads = _numpy_blas_threads()
    if n_threads is None:
        pytest.skip("numpy's BLAS is not OpenBLAS: whole-vector dot products are used")
    assert _emulation_holds(n_threads)
    assert _dot_chunks(10000, 4).tolist() == [
        0,
        10000,
    ]  # OpenBLAS threads only above 10,000
    assert _dot_chunks(10001, 2).tolist() == [0, 5001, 10001]
    assert _dot_chunks(20003, 3).tolist() == [0, 6668, 13336, 20003]
    rng = np.random.default_rng(4)
    for n, lo, hi in [
        (30000, 14990, 15020),
        (30000, 0, 30000),
        (8000, 7000, 7999),
        (54321, 1, 54000),
    ]:
        a, b = np.zeros(n), np.zeros(n)
        a[lo:hi] = rng.standard_normal(hi - lo)
        b[lo:hi] = rng.standard_normal(hi - lo)
        assert _dot(a, b, lo, hi, np.empty(0, dtype=np.int64)) == np.dot(
            a, b
        )  # the fallback
        from threadpoolctl import threadpool_limits

        expected = np.dot(a, b)
        with threadpool_limits(1, user_api="blas"):
            assert _dot(a, b, lo, hi, _dot_chunks(n, n_threads)) == expected


def test_labels_equal_nilearn_s_under_one_blas_thread():
    from threadpoolctl import threadpool_limits

    data, seeds = _problem(5, shape=(30, 28, 24), n_labels=5)
    with threadpool_limits(1, user_api="blas"):
        labels = segmentation.random_walker(data, seeds.copy())
        ours = walk_labels(data, seeds, _scale(data))
    labels[labels < 0] = 0
    np.testing.assert_array_equal(ours, labels)
