"""NiftiMapsMasker vs nilearn 0.14.1: least squares, masks, resampling, cleaning, overlap."""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from regionkit import EmptyRegionWarning, NonFiniteDataWarning
from regionkit.maskers import NiftiMapsMasker

nilearn_maskers = pytest.importorskip("nilearn.maskers")

SHAPE = (10, 12, 11)
N_VOLUMES = 40
N_MAPS = 6
RTOL = 1e-4


def _affine(voxel=3.0, shift=0.0):
    affine = np.diag([voxel, voxel, voxel, 1.0])
    affine[:3, 3] = [-30.0 + shift, -36.0 + shift, -27.0]
    return affine


def _bold(seed=0, dtype=np.float64, affine=None, n_volumes=N_VOLUMES):
    rng = np.random.default_rng(seed)
    base = 10 + 2 * rng.standard_normal(SHAPE)
    drift = rng.standard_normal((*SHAPE, n_volumes)).cumsum(axis=3) * 0.5
    data = base[..., None] + drift + rng.standard_normal((*SHAPE, n_volumes))
    return nib.Nifti1Image(data.astype(dtype), _affine() if affine is None else affine)


def _maps(seed=4, n_maps=N_MAPS, threshold=0.01, disjoint=False):
    """Smooth probabilistic maps (zero below a threshold)."""
    rng = np.random.default_rng(seed)
    maps = np.stack(
        [
            ndimage.gaussian_filter(rng.random(SHAPE) * (rng.random(SHAPE) < 0.15), 1.5)
            for _ in range(n_maps)
        ],
        axis=-1,
    )
    maps[maps < threshold] = 0
    if disjoint:
        winner = maps.argmax(axis=-1)
        maps = np.where(np.arange(n_maps) == winner[..., None], maps, 0)
    return nib.Nifti1Image(maps.astype(np.float32), _affine())


def _mask(seed=1, fraction=0.85):
    rng = np.random.default_rng(seed)
    return nib.Nifti1Image((rng.random(SHAPE) < fraction).astype(np.uint8), _affine())


def _nilearn(img, maps_img, fit_img=True, confounds=None, sample_mask=None, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        masker = nilearn_maskers.NiftiMapsMasker(maps_img, **params)
        masker.fit(img if fit_img else None)
        return masker, masker.transform(img, confounds=confounds, sample_mask=sample_mask)


def _ours(img, maps_img, fit_img=True, confounds=None, sample_mask=None, **params):
    masker = NiftiMapsMasker(maps_img, **params)
    masker.fit(img if fit_img else None)
    return masker, masker.transform(img, confounds=confounds, sample_mask=sample_mask)


def _close(ours, theirs, rtol=RTOL):
    assert ours.shape == theirs.shape
    scale = np.abs(theirs).max()
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("use_mask", [False, True])
def test_least_squares_matches_nilearn(dtype, use_mask):
    img, maps_img = _bold(dtype=dtype), _maps()
    mask = _mask() if use_mask else None
    _, theirs = _nilearn(img, maps_img, mask_img=mask)
    masker, ours = _ours(img, maps_img, mask_img=mask)
    assert ours.dtype == theirs.dtype
    _close(ours, theirs)
    assert masker.n_elements_ == N_MAPS
    assert masker.region_coverage_.shape == (N_MAPS,)
    assert np.all((masker.region_coverage_ > 0) & (masker.region_coverage_ <= 1))
    if not use_mask:
        np.testing.assert_allclose(masker.region_coverage_, 1.0)


def test_dense_maps_take_the_dense_operator():
    """Maps non-zero everywhere (ICA-like) take the dense path: same numbers."""
    rng = np.random.default_rng(9)
    maps = np.stack(
        [ndimage.gaussian_filter(rng.standard_normal(SHAPE), 2.0) for _ in range(4)], axis=-1
    )
    maps_img = nib.Nifti1Image(maps.astype(np.float32), _affine())
    img = _bold()
    _, theirs = _nilearn(img, maps_img)
    masker, ours = _ours(img, maps_img)
    assert isinstance(masker.extraction_plan_.aggregations[0].func.matrix, np.ndarray)
    _close(ours, theirs)


@pytest.mark.parametrize(
    "clean",
    [
        {"detrend": True, "standardize": "zscore_sample"},
        {"standardize": "psc"},
        {"detrend": True, "low_pass": 0.1, "high_pass": 0.01, "t_r": 2.0},
        {"smoothing_fwhm": 6.0},
        {"high_variance_confounds": True},
    ],
    ids=["zscore", "psc", "bandpass", "smooth", "hv-confounds"],
)
def test_cleaning_matches_nilearn(clean):
    img, maps_img = _bold(), _maps()
    _, theirs = _nilearn(img, maps_img, mask_img=_mask(), **clean)
    _, ours = _ours(img, maps_img, mask_img=_mask(), **clean)
    _close(ours, theirs)


@pytest.mark.parametrize("kind", ["array", "dataframe", "path"])
def test_confounds_and_sample_mask(kind, tmp_path):
    img, maps_img = _bold(), _maps()
    confounds = np.random.default_rng(3).standard_normal((N_VOLUMES, 2))
    if kind != "array":
        frame = pd.DataFrame(confounds, columns=["x", "y"])
        confounds = frame
        if kind == "path":
            confounds = tmp_path / "confounds.csv"
            frame.to_csv(confounds, index=False)
    sample_mask = np.arange(N_VOLUMES) % 4 != 0
    params = {"detrend": True, "standardize": "zscore_sample"}
    _, theirs = _nilearn(img, maps_img, confounds=confounds, sample_mask=sample_mask, **params)
    _, ours = _ours(img, maps_img, confounds=confounds, sample_mask=sample_mask, **params)
    assert ours.shape == (sample_mask.sum(), N_MAPS)
    _close(ours, theirs)


@pytest.mark.parametrize("fit_img", [True, False], ids=["fit-on-data", "fit-without-data"])
@pytest.mark.parametrize("target", ["data", "maps", "mask"])
def test_resampling_targets(target, fit_img):
    img = _bold(affine=_affine(voxel=2.5, shift=1.5))
    maps_img, mask = _maps(), _mask(fraction=0.95)
    params = {"resampling_target": target, "mask_img": mask}
    _, theirs = _nilearn(img, maps_img, fit_img=fit_img, **params)
    _, ours = _ours(img, maps_img, fit_img=fit_img, **params)
    _close(ours, theirs)


def test_resampled_maps_cached_per_data_grid():
    data_affine = _affine(voxel=2.5, shift=1.5)
    masker = NiftiMapsMasker(_maps()).fit()
    masker.transform(_bold(affine=data_affine, seed=1))
    plans = dict(masker._plan_cache)
    second = masker.transform(_bold(affine=data_affine, seed=2))
    assert masker._plan_cache.keys() == plans.keys() and len(plans) == 2
    assert all(masker._plan_cache[k] is plans[k] for k in plans)
    _, theirs = _nilearn(_bold(affine=data_affine, seed=2), _maps(), fit_img=False)
    _close(second, theirs)


def test_allow_overlap_false():
    img = _bold()
    disjoint = _maps(disjoint=True)
    _, theirs = _nilearn(img, disjoint, allow_overlap=False)
    _, ours = _ours(img, disjoint, allow_overlap=False)
    _close(ours, theirs)
    with pytest.raises(ValueError, match="Overlap detected"):
        _ours(img, _maps(), allow_overlap=False)
    with pytest.raises(ValueError, match="Overlap detected"):
        _nilearn(img, _maps(), allow_overlap=False)


def test_keep_masked_maps():
    maps_img = _maps(disjoint=True)
    mask_data = (np.asarray(maps_img.dataobj)[..., 2] == 0).astype(np.uint8)  # hides map 2
    mask = nib.Nifti1Image(mask_data, _affine())
    img = _bold()
    _, theirs = _nilearn(img, maps_img, mask_img=mask)
    with pytest.warns(EmptyRegionWarning, match=r"\[2\]"):
        masker, ours = _ours(img, maps_img, mask_img=mask)
    assert ours.shape == (N_VOLUMES, N_MAPS - 1)
    np.testing.assert_array_equal(masker.maps_indices_, [0, 1, 3, 4, 5])
    _close(ours, theirs)

    _, theirs = _nilearn(img, maps_img, mask_img=mask, keep_masked_maps=True)
    with pytest.warns(EmptyRegionWarning, match="NaN"):
        masker, ours = _ours(img, maps_img, mask_img=mask, keep_masked_maps=True)
    assert ours.shape == theirs.shape == (N_VOLUMES, N_MAPS)
    assert np.isnan(ours[:, 2]).all() and (theirs[:, 2] == 0).all()
    kept = [0, 1, 3, 4, 5]
    _close(ours[:, kept], theirs[:, kept])
    assert masker.region_coverage_[2] == 0


def test_inverse_transform_matches_nilearn():
    img, maps_img, mask = _bold(), _maps(), _mask()
    theirs_masker, theirs = _nilearn(img, maps_img, mask_img=mask)
    ours_masker, ours = _ours(img, maps_img, mask_img=mask)
    for o, t in ((ours, theirs), (ours[3], theirs[3])):
        back_ours, back_theirs = ours_masker.inverse_transform(o), theirs_masker.inverse_transform(t)
        assert back_ours.shape == back_theirs.shape
        np.testing.assert_allclose(
            np.asarray(back_ours.dataobj), back_theirs.get_fdata(), rtol=1e-4, atol=1e-4
        )


def test_three_d_input_gives_one_d_output():
    img, maps_img = _bold(), _maps()
    volume = nib.Nifti1Image(np.asarray(img.dataobj)[..., 5], img.affine)
    _, theirs = _nilearn(volume, maps_img)
    _, ours = _ours(volume, maps_img)
    assert ours.shape == theirs.shape == (N_MAPS,)
    _close(ours, theirs)


def test_nan_voxels_zeroed_with_warning():
    maps_img = _maps()
    support = np.argwhere(np.asarray(maps_img.dataobj).any(axis=-1))
    data = np.asarray(_bold().dataobj).copy()
    for voxel in support[:3]:
        data[tuple(voxel)][4] = np.nan
    _, theirs = _nilearn(nib.Nifti1Image(data.copy(), _affine()), maps_img)
    with pytest.warns(NonFiniteDataWarning, match="3 voxel"):
        _, ours = _ours(nib.Nifti1Image(data, _affine()), maps_img)
    _close(ours, theirs)
