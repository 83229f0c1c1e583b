"""Parcellations against nilearn 0.14.1 (oracle) on small synthetic runs.

Agreement of the voxels' labels by adjusted Rand index (>= 0.99 for ward,
complete and average; >= 0.8 for kmeans, rena and hierarchical_kmeans), the
group components, and transform / inverse_transform / score given the same
labels image.
"""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from sklearn.metrics import adjusted_rand_score

from regionkit.regions import Parcellations

nilearn_regions = pytest.importorskip("nilearn.regions")

SHAPE = (14, 16, 13)
N_VOLUMES = 60  # with 36 volumes and seeds 0-2 one ward merge is decided by float32 rounding
THRESHOLDS = {"ward": 0.99, "complete": 0.99, "average": 0.99, "kmeans": 0.8, "rena": 0.8, "hierarchical_kmeans": 0.8}


def _affine():
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    affine[:3, 3] = [-20.0, -25.0, -18.0]
    return affine


def _run(seed, n_volumes=N_VOLUMES):
    rng = np.random.default_rng(seed)
    grid = np.indices(SHAPE, dtype=float)
    center = (np.array(SHAPE) - 1) / 2
    brain = (((grid - center[:, None, None, None]) / np.array([5.5, 6.5, 5.0])[:, None, None, None]) ** 2).sum(0) < 1
    networks = gaussian_filter(rng.standard_normal((*SHAPE, 6)), (1.5, 1.5, 1.5, 0))
    courses = rng.standard_normal((6, n_volumes))
    data = 500 + 50 * np.einsum("xyzk,kt->xyzt", networks, courses) + 5 * rng.standard_normal((*SHAPE, n_volumes))
    return nib.Nifti1Image((data * brain[..., None]).astype(np.float32), _affine())


@pytest.fixture(scope="module")
def runs():
    return [_run(seed) for seed in range(3)]


def _nilearn(runs, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nilearn_regions.Parcellations(**kwargs).fit(runs)


def _labels(model):
    mask = np.asarray(model.mask_img_.dataobj).astype(bool)
    return np.asarray(model.labels_img_.dataobj)[mask], mask


@pytest.mark.parametrize("method", ["ward", "complete", "average", "kmeans", "rena", "hierarchical_kmeans"])
def test_labels_agree_with_nilearn(runs, method):
    kwargs = {"method": method, "n_parcels": 25}
    theirs = _nilearn(runs, **kwargs)
    ours = Parcellations(**kwargs).fit(runs)
    their_labels, their_mask = _labels(theirs)
    our_labels, our_mask = _labels(ours)
    np.testing.assert_array_equal(our_mask, their_mask)
    assert adjusted_rand_score(their_labels, our_labels) >= THRESHOLDS[method]
    assert ours.n_elements_ == theirs.n_elements_
    # group components equal up to sign, to float32 tolerance
    signs = np.sign(np.sum(ours.components_ * theirs.components_, axis=1))
    np.testing.assert_allclose(ours.components_ * signs[:, None], theirs.components_, atol=2e-3)
    if method in ("ward", "complete", "average"):
        assert (ours.connectivity_ != theirs.connectivity_).nnz == 0


@pytest.mark.slow
@pytest.mark.parametrize("method", ["ward", "complete", "average", "kmeans", "rena", "hierarchical_kmeans"])
def test_labels_agree_with_nilearn_preprocessing(method):
    """Cleaning options, confounds and resampling to a coarser grid.

    Runs are long (260 volumes) so that the 200 kept components per subject
    stay inside the cleaned data's rank: with fewer volumes than 200 plus the
    degrees of freedom cleaning removes, nilearn keeps null-space singular
    vectors (set by rounding errors) and scales them to unit norm, which no
    other implementation can reproduce. For the same reason the filter is a
    high-pass (a low-pass at 0.2 Hz leaves too few degrees of freedom).
    """
    n_volumes = 260
    runs = [_run(seed, n_volumes) for seed in range(2)]
    # resampled by half a voxel: more mask voxels than the 200 group components
    # (with fewer, all voxels are equidistant in component space and every
    # agglomeration is decided by rounding)
    target = _affine()
    target[:3, 3] += 1.5
    confounds = [np.random.default_rng(10 + i).standard_normal((n_volumes, 3)) for i in range(2)]
    kwargs = {
        "method": method, "n_parcels": 15, "detrend": True, "standardize": True, "smoothing_fwhm": 5.0,
        "high_pass": 0.01, "t_r": 2.0, "target_affine": target, "target_shape": SHAPE,
    }  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = nilearn_regions.Parcellations(**kwargs).fit(runs, confounds=confounds)
        ours = Parcellations(**kwargs).fit(runs, confounds=confounds)
    their_labels, their_mask = _labels(theirs)
    our_labels, our_mask = _labels(ours)
    np.testing.assert_array_equal(our_mask, their_mask)
    assert adjusted_rand_score(their_labels, our_labels) >= THRESHOLDS[method]


def _pair(runs, **kwargs):
    theirs = _nilearn(runs, method="ward", n_parcels=20, **kwargs)
    ours = Parcellations(method="ward", n_parcels=20, **kwargs).fit(runs)
    return ours, theirs


@pytest.fixture(scope="module")
def fitted_pair(runs):
    """Fitted with cleaning; nilearn given our labels image."""
    ours, theirs = _pair(runs, detrend=True, standardize=True)
    theirs.labels_img_ = ours.labels_img_
    return ours, theirs


def test_transform_equals_nilearn_given_same_labels(fitted_pair, runs):
    ours, theirs = fitted_pair
    confounds = [np.random.default_rng(i).standard_normal((N_VOLUMES, 2)) for i in range(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs.transform(runs[:2], confounds=confounds)
    got = ours.transform(runs[:2], confounds=confounds)
    assert len(got) == len(expected) == 2
    for g, e in zip(got, expected):
        assert g.shape == e.shape == (N_VOLUMES, 20)
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = theirs.transform(runs[2])
    np.testing.assert_allclose(ours.transform(runs[2]), single, rtol=1e-4, atol=1e-5)


def test_inverse_transform_equals_nilearn(fitted_pair):
    ours, theirs = fitted_pair
    signals = np.random.default_rng(0).standard_normal((7, 20)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs.inverse_transform(signals)
    got = ours.inverse_transform(signals)
    assert got.shape == expected.shape
    np.testing.assert_allclose(np.asarray(got.dataobj), expected.get_fdata(), rtol=1e-6)


def test_score_equals_nilearn(runs):
    ours, theirs = _pair(runs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs.score(runs)
        expected_per_component = theirs.score(runs, per_component=True)
    assert ours.score(runs) == pytest.approx(expected, rel=1e-4)
    np.testing.assert_allclose(ours.score(runs, per_component=True), expected_per_component, rtol=1e-3, atol=1e-5)
