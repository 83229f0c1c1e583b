"""ReNA against nilearn 0.14.1 (oracle): same labels on the same float32 data."""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np
import pytest
from clustering_parity_checks import assert_same_clustering
from scipy.ndimage import gaussian_filter
from sklearn.metrics import adjusted_rand_score

from regionkit.regions import ReNA

nilearn_regions = pytest.importorskip("nilearn.regions")


def _data(shape, n_samples, mask, seed, sigma):
    rng = np.random.default_rng(seed)
    volumes = rng.standard_normal((*shape, n_samples))
    if sigma:
        volumes = gaussian_filter(volumes, (sigma, sigma, sigma, 0))
    return np.ascontiguousarray(volumes[mask].T, dtype=np.float32)


def _ellipsoid(shape):
    grid = np.indices(shape, dtype=float)
    center = (np.array(shape) - 1) / 2
    radii = np.array(shape) / 2.2
    return (((grid - center[:, None, None, None]) / radii[:, None, None, None]) ** 2).sum(0) < 1


@pytest.mark.parametrize(
    ("seed", "sigma", "n_clusters", "scaling"),
    [(0, 1.5, 2, False), (1, 0.0, 40, True), (2, 1.0, 150, False), (3, 2.0, 600, False)],
)
def test_rena_labels_match_nilearn(seed, sigma, n_clusters, scaling):
    shape = (14, 16, 13)
    mask = _ellipsoid(shape)
    X = _data(shape, 25, mask, seed, sigma)
    mask_img = nib.Nifti1Image(mask.astype(np.int8), np.eye(4))
    theirs = nilearn_regions.ReNA(mask_img=mask_img, n_clusters=n_clusters, scaling=scaling).fit(X)
    ours = ReNA(mask_img=mask_img, n_clusters=n_clusters, scaling=scaling).fit(X)
    assert ours.n_clusters_ == theirs.n_clusters_
    # the arithmetic follows nilearn's: in practice the labels are identical
    assert_same_clustering(ours, theirs, X)


def test_rena_constant_voxels_and_few_iterations_match_nilearn():
    """Identical neighbours (zero-weight edges) and an n_iter cap."""
    shape = (10, 10, 10)
    mask = _ellipsoid(shape)
    X = _data(shape, 12, mask, 5, 1.0)
    X[:, :40] = 0.0  # a block of flat voxels
    mask_img = nib.Nifti1Image(mask.astype(np.int8), np.eye(4))
    for n_iter in (1, 3):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # nilearn divides by 0
            theirs = nilearn_regions.ReNA(mask_img=mask_img, n_clusters=10, n_iter=n_iter).fit(X)
        ours = ReNA(mask_img=mask_img, n_clusters=10, n_iter=n_iter).fit(X)
        assert ours.n_clusters_ == theirs.n_clusters_ > 10
        assert adjusted_rand_score(theirs.labels_, ours.labels_) == pytest.approx(1.0)


@pytest.mark.slow
def test_rena_labels_identical_on_a_larger_grid():
    """~18k voxels x 120 samples: near-ties appear, summation order matters."""
    shape = (34, 40, 34)
    mask = _ellipsoid(shape)
    rng = np.random.default_rng(11)
    base = np.stack([gaussian_filter(rng.standard_normal(shape), 2)[mask] for _ in range(15)])
    X = rng.standard_normal((120, 15)) @ base + 0.3 * rng.standard_normal((120, mask.sum()))
    X = X.astype(np.float32)
    mask_img = nib.Nifti1Image(mask.astype(np.int8), np.eye(4))
    theirs = nilearn_regions.ReNA(mask_img=mask_img, n_clusters=800).fit(X)
    ours = ReNA(mask_img=mask_img, n_clusters=800).fit(X)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
