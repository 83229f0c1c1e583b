"""ReNA: graph kernels, estimator contract and errors."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from scipy import sparse

from regionkit.regions import ReNA, recursive_neighbor_agglomeration
from regionkit.regions._rena import (
    grid_edges,
    nearest_neighbor_graph,
    reduce_data_and_connectivity,
    weighted_connectivity,
)


def test_grid_edges_counts_six_connected_pairs():
    mask = np.ones((3, 4, 5), dtype=bool)
    sources, targets = grid_edges(mask)
    # 3 * 4 * 4 + 3 * 3 * 5 + 2 * 4 * 5 edges on a full 3x4x5 grid
    assert len(sources) == 48 + 45 + 40
    assert np.all(sources < targets)
    coords = np.argwhere(mask)
    steps = np.abs(coords[sources] - coords[targets]).sum(axis=1)
    assert np.all(steps == 1)


def test_grid_edges_skips_voxels_outside_mask(grid_mask):
    sources, targets = grid_edges(grid_mask)
    coords = np.argwhere(grid_mask)
    assert sources.max() < grid_mask.sum() and targets.max() < grid_mask.sum()
    assert np.all(np.abs(coords[sources] - coords[targets]).sum(axis=1) == 1)
    # the hole at (4, 5, 3) has no edges: its 6 neighbours lost one each
    hole_neighbours = {(3, 5, 3), (5, 5, 3), (4, 4, 3), (4, 6, 3), (4, 5, 2), (4, 5, 4)}
    degree = np.bincount(np.concatenate([sources, targets]), minlength=grid_mask.sum())
    for voxel in hole_neighbours:
        rank = np.flatnonzero((coords == voxel).all(axis=1))[0]
        assert degree[rank] == 5


def test_weighted_connectivity_is_squared_distance(grid_mask, grid_data):
    connectivity = weighted_connectivity(grid_data, grid_mask)
    assert (connectivity != connectivity.T).nnz == 0
    coo = sparse.triu(connectivity).tocoo()
    expected = ((grid_data[:, coo.row] - grid_data[:, coo.col]) ** 2).sum(axis=0)
    np.testing.assert_allclose(coo.data, expected, rtol=1e-5)


def test_weighted_connectivity_drops_identical_neighbours():
    mask = np.ones((1, 1, 3), dtype=bool)
    X = np.array([[1.0, 1.0, 3.0], [2.0, 2.0, 0.0]], dtype=np.float32)
    connectivity = weighted_connectivity(X, mask).toarray()
    assert connectivity[0, 1] == 0  # identical signals: no edge (as nilearn)
    assert connectivity[1, 2] == pytest.approx(4.0 + 4.0)


def test_nearest_neighbor_graph_points_to_closest():
    # path 0 - 1 - 2 - 3 with weights 1, 5, 2
    rows = np.array([0, 1, 2])
    cols = np.array([1, 2, 3])
    weights = np.array([1.0, 5.0, 2.0])
    connectivity = sparse.coo_matrix((weights, (rows, cols)), shape=(4, 4))
    connectivity = (connectivity + connectivity.T).tocsr()
    nn = nearest_neighbor_graph(connectivity).tocsr()
    assert sorted(zip(*nn.nonzero())) == [(0, 1), (1, 0), (2, 3), (3, 2)]


def test_nearest_neighbor_graph_keeps_ties():
    connectivity = sparse.csr_matrix(
        np.array([[0, 2.0, 2.0], [2.0, 0, 0], [2.0, 0, 0]])
    )
    nn = nearest_neighbor_graph(connectivity).tocsr()
    assert nn[0, 1] == 1 and nn[0, 2] == 1


def test_reduce_averages_and_links_clusters():
    X = np.arange(8, dtype=np.float32).reshape(2, 4)
    chain = sparse.diags([np.ones(3), np.ones(3)], [-1, 1], shape=(4, 4)).tocsr()
    labels = np.array([0, 0, 1, 1])
    reduced_connectivity, reduced_X = reduce_data_and_connectivity(X, labels, 2, chain)
    np.testing.assert_allclose(reduced_X, [[0.5, 2.5], [4.5, 6.5]])
    assert reduced_connectivity.shape == (2, 2)
    assert reduced_connectivity[0, 1] == pytest.approx(8.0)
    assert reduced_connectivity[0, 0] == 0


def test_recursive_agglomeration_reaches_n_clusters(grid_mask, grid_data):
    n_components, labels = recursive_neighbor_agglomeration(grid_data, grid_mask, 25)
    assert n_components == 25
    assert labels.shape == (grid_mask.sum(),)
    assert set(np.unique(labels)) == set(range(25))


def test_clusters_are_spatially_connected(grid_mask, grid_data):
    rena = ReNA(mask_img=grid_mask, n_clusters=40).fit(grid_data)
    sources, targets = grid_edges(grid_mask)
    for cluster in range(rena.n_clusters_):
        members = np.flatnonzero(rena.labels_ == cluster)
        keep = np.isin(sources, members) & np.isin(targets, members)
        graph = sparse.coo_matrix(
            (np.ones(keep.sum()), (sources[keep], targets[keep])),
            shape=(grid_mask.sum(),) * 2,
        ).tocsr()[members][:, members]
        n_parts = sparse.csgraph.connected_components(graph, directed=False)[0]
        assert n_parts == 1


def test_estimator_transform_and_inverse(grid_mask, grid_data):
    rena = ReNA(mask_img=grid_mask, n_clusters=30).fit(grid_data)
    reduced = rena.transform(grid_data)
    assert reduced.shape == (30, rena.n_clusters_)
    assert reduced.dtype == np.float32
    cluster = 7
    np.testing.assert_allclose(
        reduced[:, cluster], grid_data[:, rena.labels_ == cluster].mean(axis=1), rtol=1e-5
    )
    restored = rena.inverse_transform(reduced)
    assert restored.shape == grid_data.shape
    np.testing.assert_allclose(restored[:, rena.labels_ == cluster],
                               np.repeat(reduced[:, [cluster]], rena.sizes_[cluster], axis=1))
    assert rena.get_feature_names_out()[0] == "rena0"


def test_scaling_preserves_norm_of_piecewise_constant(grid_mask, grid_data):
    rena = ReNA(mask_img=grid_mask, n_clusters=20, scaling=True).fit(grid_data)
    piecewise = rena.inverse_transform(np.arange(1, 21, dtype=np.float32)[None, :])
    reduced = rena.transform(piecewise)
    np.testing.assert_allclose(
        np.linalg.norm(reduced), np.linalg.norm(piecewise), rtol=1e-5
    )
    np.testing.assert_allclose(rena.inverse_transform(reduced), piecewise, rtol=1e-5)


def test_mask_as_image_and_none(grid_mask, grid_data):
    img = nib.Nifti1Image(grid_mask.astype(np.int8), np.eye(4))
    from_img = ReNA(mask_img=img, n_clusters=15).fit(grid_data)
    from_array = ReNA(mask_img=grid_mask, n_clusters=15).fit(grid_data)
    np.testing.assert_array_equal(from_img.labels_, from_array.labels_)
    line = ReNA(n_clusters=3).fit(grid_data[:, :12])
    assert line.n_clusters_ == 3
    # on a line, clusters are runs of consecutive features
    assert np.all(np.diff(np.unique(line.labels_, return_index=True)[1]) > 0)
    assert np.count_nonzero(np.diff(line.labels_)) == 2


def test_memory_caches(tmp_path, grid_mask, grid_data):
    rena = ReNA(mask_img=grid_mask, n_clusters=10, memory=str(tmp_path)).fit(grid_data)
    again = ReNA(mask_img=grid_mask, n_clusters=10, memory=str(tmp_path)).fit(grid_data)
    np.testing.assert_array_equal(rena.labels_, again.labels_)
    assert any(tmp_path.rglob("*.pkl"))


@pytest.mark.parametrize("n_clusters", [0, -3])
def test_n_clusters_below_one(grid_mask, grid_data, n_clusters):
    with pytest.raises(ValueError, match=rf"'n_clusters' parameter of ReNA.*Got {n_clusters}"):
        ReNA(mask_img=grid_mask, n_clusters=n_clusters).fit(grid_data)


def test_n_clusters_above_n_voxels(grid_mask, grid_data):
    n_voxels = grid_data.shape[1]
    with pytest.raises(ValueError, match=rf"at most .* {n_voxels}\. Got {n_voxels + 1}"):
        ReNA(mask_img=grid_mask, n_clusters=n_voxels + 1).fit(grid_data)


def test_mask_mismatch(grid_mask, grid_data):
    with pytest.raises(ValueError, match=r"mask_img has \d+ voxels but X has 50"):
        ReNA(mask_img=grid_mask, n_clusters=3).fit(grid_data[:, :50])


def test_bad_parameters(grid_mask, grid_data):
    with pytest.raises(ValueError, match=r"'threshold' parameter of ReNA.*Got 1\.5"):
        ReNA(mask_img=grid_mask, threshold=1.5).fit(grid_data)
    with pytest.raises(ValueError, match=r"'n_iter' parameter of ReNA.*Got 0"):
        ReNA(mask_img=grid_mask, n_iter=0).fit(grid_data)
    with pytest.raises(ValueError, match=r"3D mask, got data of shape \(2, 2\)"):
        ReNA(mask_img=np.ones((2, 2), bool), n_clusters=2).fit(grid_data[:, :4])


def test_transform_before_fit_and_wrong_width(grid_mask, grid_data):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        ReNA(mask_img=grid_mask).transform(grid_data)
    rena = ReNA(mask_img=grid_mask, n_clusters=5).fit(grid_data)
    with pytest.raises(ValueError, match="X has 10 features, but ReNA was fitted with"):
        rena.transform(grid_data[:, :10])
    with pytest.raises(ValueError, match=r"expects 5 columns.*shape \(30, 4\)"):
        rena.inverse_transform(np.zeros((30, 4)))


def test_fit_leaves_parameters_untouched(grid_mask, grid_data):
    rena = ReNA(mask_img=grid_mask, n_clusters=12)
    before = rena.get_params()
    rena.fit(grid_data)
    assert rena.get_params() == before
