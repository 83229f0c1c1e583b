"""RegionExtractor against nilearn 0.14.1: regions, index, signals."""

from __future__ import annotations

import inspect
import warnings

import nibabel as nib
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from sklearn.metrics import adjusted_rand_score

nilearn_regions = pytest.importorskip("nilearn.regions")

from regionkit.regions import RegionExtractor  # noqa: E402

AFFINE = np.diag([3.0, 3.0, 3.0, 1.0])
AFFINE[:3, 3] = [-30.0, -36.0, -30.0]
SHAPE = (20, 24, 20)


# ------------------------------------------------------------------- data
def signed_ica_maps(n_maps=4, seed=0):
    """Dense signed smooth maps with unit variance, as ICA gives."""
    rng = np.random.default_rng(seed)
    maps = gaussian_filter(rng.standard_normal((*SHAPE, n_maps)), (2.0, 2.0, 2.0, 0))
    return (maps / maps.std(axis=(0, 1, 2))).astype(np.float32)


def probabilistic_atlas(n_maps=5, seed=1):
    """Overlapping positive Gaussian blobs (two per map), values in [0, 1]."""
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(*[np.arange(s) for s in SHAPE], indexing="ij"), -1)
    maps = np.zeros((*SHAPE, n_maps), dtype=np.float32)
    for k in range(n_maps):
        for _ in range(2):
            center = rng.uniform(3, np.array(SHAPE) - 3)
            width = rng.uniform(1.5, 3.0)
            maps[..., k] += np.exp(-((grid - center) ** 2).sum(-1) / (2 * width**2))
    maps[maps < 0.05] = 0
    return np.minimum(maps, 1.0)


def tiny_region_maps(seed=2):
    """Sparse specks of 1-20 voxels plus one larger blob per map."""
    rng = np.random.default_rng(seed)
    maps = np.zeros((*SHAPE, 3), dtype=np.float32)
    for k in range(3):
        for _ in range(12):
            corner = rng.integers(0, np.array(SHAPE) - 3)
            size = rng.integers(1, 4, 3)
            box = tuple(slice(c, c + s) for c, s in zip(corner, size))
            maps[box + (k,)] = rng.uniform(0.5, 3) * rng.choice([-1, 1])
        maps[4:10, 4:10, 4:10, k] += 2.0 + k
    return maps


MAPS = {"ica": signed_ica_maps, "atlas": probabilistic_atlas, "tiny": tiny_region_maps}


def _img(kind):
    return nib.Nifti1Image(MAPS[kind](), AFFINE)


def _mask_img():
    mask = np.zeros(SHAPE, dtype=np.int8)
    mask[2:-2, 3:-3, 2:-4] = 1
    return nib.Nifti1Image(mask, AFFINE)


def _fit_both(img, **params):
    ours = RegionExtractor(img, **params).fit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = nilearn_regions.RegionExtractor(img, **params).fit()
    return ours, theirs


def _region_labels(regions_img):
    data = np.asarray(regions_img.dataobj)
    labels = np.zeros(data.shape[:3], dtype=np.int64)
    for k in range(data.shape[3]):
        labels[data[..., k] != 0] = k + 1
    return labels


# ------------------------------------------------------------------ tests
def test_signature_is_nilearns():
    assert inspect.signature(RegionExtractor) == inspect.signature(
        nilearn_regions.RegionExtractor
    )


STRATEGIES = [
    ("ratio_n_voxels", 1.0, False),
    ("ratio_n_voxels", 2.5, False),
    ("img_value", 0.3, True),
    ("img_value", 0.3, False),
    ("percentile", 90, True),
    ("percentile", 75, False),
]


@pytest.mark.parametrize("kind", sorted(MAPS))
@pytest.mark.parametrize(("strategy", "threshold", "two_sided"), STRATEGIES)
def test_connected_components_voxel_exact(kind, strategy, threshold, two_sided):
    if kind != "ica" and strategy == "ratio_n_voxels" and threshold > 1:
        threshold = 1.5  # <= n_maps for the 3-map set
    ours, theirs = _fit_both(
        _img(kind), extractor="connected_components", min_region_size=100,
        thresholding_strategy=strategy, threshold=threshold, two_sided=two_sided,
    )
    assert ours.index_.tolist() == list(theirs.index_)
    ours_data = np.asarray(ours.regions_img_.dataobj)
    theirs_data = np.asarray(theirs.regions_img_.dataobj)
    assert ours_data.dtype == theirs_data.dtype
    np.testing.assert_array_equal(ours_data, theirs_data)
    assert ours.n_elements_ == theirs.n_elements_


@pytest.mark.parametrize("kind", ["ica", "atlas"])
@pytest.mark.parametrize(("strategy", "threshold", "two_sided"),
                         [STRATEGIES[0], STRATEGIES[2], STRATEGIES[5]])
def test_local_regions_same_index_and_ari(kind, strategy, threshold, two_sided):
    ours, theirs = _fit_both(
        _img(kind), extractor="local_regions", min_region_size=200, smoothing_fwhm=6,
        thresholding_strategy=strategy, threshold=threshold, two_sided=two_sided,
    )
    assert ours.index_.tolist() == list(theirs.index_)
    ours_labels = _region_labels(ours.regions_img_)
    theirs_labels = _region_labels(theirs.regions_img_)
    labelled = (ours_labels > 0) | (theirs_labels > 0)
    assert adjusted_rand_score(theirs_labels[labelled], ours_labels[labelled]) >= 0.99


def test_mask_parity():
    ours, theirs = _fit_both(
        _img("ica"), mask_img=_mask_img(), extractor="connected_components",
        min_region_size=100, thresholding_strategy="percentile", threshold=80,
        two_sided=True,
    )
    assert ours.index_.tolist() == list(theirs.index_)
    np.testing.assert_array_equal(np.asarray(ours.regions_img_.dataobj),
                                  np.asarray(theirs.regions_img_.dataobj))


def test_thresholding_keeps_nothing():
    img = _img("atlas")
    with pytest.warns(UserWarning, match="exceeds the largest value"):
        with pytest.raises(ValueError, match="keeps no voxel"):
            RegionExtractor(img, thresholding_strategy="img_value", threshold=5.0).fit()
    # nilearn warns, then fails deep inside its masker
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TypeError):
            nilearn_regions.RegionExtractor(
                img, thresholding_strategy="img_value", threshold=5.0
            ).fit()
    assert any("No supra threshold" in str(w.message) for w in caught)


def test_no_region_large_enough():
    img = _img("tiny")
    with pytest.raises(ValueError, match="larger than min_region_size=100000"):
        RegionExtractor(img, extractor="connected_components", min_region_size=1e5).fit()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TypeError):
            nilearn_regions.RegionExtractor(
                img, extractor="connected_components", min_region_size=1e5
            ).fit()
    assert any("No supra threshold" in str(w.message) for w in caught)


@pytest.fixture(scope="module")
def run_img():
    rng = np.random.default_rng(11)
    data = gaussian_filter(rng.standard_normal((*SHAPE, 60)), (1, 1, 1, 0)) + 50
    return nib.Nifti1Image(data.astype(np.float32), AFFINE)


@pytest.mark.parametrize(
    "params",
    [
        {"extractor": "connected_components"},
        {"extractor": "connected_components", "standardize": "zscore_sample",
         "detrend": True, "low_pass": 0.2, "high_pass": 0.01, "t_r": 2.0},
        {"extractor": "connected_components", "mask_img": "mask", "smoothing_fwhm": None,
         "standardize": "psc"},
    ],
    ids=["plain", "cleaned", "masked"],
)
def test_signals_match(run_img, params):
    params = dict(params)
    if params.get("mask_img") == "mask":
        params["mask_img"] = _mask_img()
    confounds = np.random.default_rng(3).standard_normal((60, 2))
    img = _img("ica")
    ours = RegionExtractor(img, min_region_size=100, **params)
    ours_signals = ours.fit_transform(run_img, confounds=confounds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = nilearn_regions.RegionExtractor(img, min_region_size=100, **params)
        theirs_signals = theirs.fit_transform(run_img, confounds=confounds)
    np.testing.assert_array_equal(_region_labels(ours.regions_img_),
                                  _region_labels(theirs.regions_img_))
    assert ours_signals.dtype == np.float32
    # nilearn solves the least squares in float32 (errors ~2e-5 of the signal
    # scale, amplified by psc); ours is float64-accurate (see the next test).
    scale = float(np.abs(theirs_signals).max())
    np.testing.assert_allclose(ours_signals, theirs_signals, rtol=1e-4, atol=5e-4 * scale)
    back_ours = ours.inverse_transform(ours_signals[:2])
    back_theirs = theirs.inverse_transform(theirs_signals[:2])
    scale = float(np.abs(np.asarray(back_theirs.dataobj)).max())
    np.testing.assert_allclose(np.asarray(back_ours.dataobj),
                               np.asarray(back_theirs.dataobj), rtol=1e-4, atol=5e-4 * scale)


def test_signals_are_float64_accurate(run_img):
    """Closer to the float64 least-squares solution than nilearn's float32 one."""
    ours = RegionExtractor(_img("ica"), extractor="connected_components",
                           min_region_size=100, smoothing_fwhm=None)
    ours_signals = ours.fit_transform(run_img)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs_signals = nilearn_regions.RegionExtractor(
            _img("ica"), extractor="connected_components", min_region_size=100,
            smoothing_fwhm=None,
        ).fit_transform(run_img)
    regions = np.asarray(ours.regions_img_.dataobj, dtype=np.float64)
    voxels = np.asarray(run_img.dataobj, dtype=np.float64).reshape(-1, 60)
    truth = np.linalg.lstsq(regions.reshape(-1, ours.n_elements_), voxels, rcond=None)[0].T
    scale = np.abs(truth).max()
    ours_error = np.abs(ours_signals - truth).max() / scale
    theirs_error = np.abs(theirs_signals - truth).max() / scale
    assert ours_error < 1e-6 and ours_error <= theirs_error


def test_local_regions_voxel_exact():
    """nilearn's solver (plain CG) gives nilearn's regions, voxel for voxel."""
    ours, theirs = _fit_both(
        _img("ica"), extractor="local_regions", min_region_size=200,
        thresholding_strategy="percentile", threshold=75, two_sided=False,
    )
    assert ours.random_walker_mode_ == "cg"
    assert ours.index_.tolist() == list(theirs.index_)
    np.testing.assert_array_equal(np.asarray(ours.regions_img_.dataobj),
                                  np.asarray(theirs.regions_img_.dataobj))


def test_local_regions_signals(run_img):
    """Same regions up to boundary voxels, hence near-identical signals."""
    ours, theirs = _fit_both(_img("ica"), extractor="local_regions", min_region_size=200)
    ours_signals = ours.transform(run_img)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs_signals = theirs.transform(run_img)
    assert ours_signals.shape == theirs_signals.shape
    for column in range(ours_signals.shape[1]):
        correlation = np.corrcoef(ours_signals[:, column], theirs_signals[:, column])[0, 1]
        assert correlation > 0.99
