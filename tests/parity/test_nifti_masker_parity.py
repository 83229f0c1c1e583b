"""NiftiMasker / MultiNiftiMasker vs nilearn 0.14.1: masks, strategies, grids, cleaning."""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from regionkit import NonFiniteDataWarning
from regionkit.maskers import MultiNiftiMasker, NiftiMasker

nilearn_maskers = pytest.importorskip("nilearn.maskers")

SHAPE = (10, 12, 11)
N_VOLUMES = 40
RTOL, ATOL = 1e-4, 1e-5


def _affine(voxel=3.0):
    affine = np.diag([voxel, voxel, voxel, 1.0])
    affine[:3, 3] = [-30.0, -36.0, -27.0]
    return affine


def _bold(seed=0, dtype=np.float32, n_volumes=N_VOLUMES):
    """A bright 'head' inside a dark background, so mask strategies find it."""
    rng = np.random.default_rng(seed)
    data = np.zeros((*SHAPE, n_volumes))
    inner = (slice(2, 8), slice(2, 10), slice(2, 9))
    size = (6, 8, 7)
    data[inner] = (10 + 2 * rng.standard_normal(size))[..., None] + rng.standard_normal(
        (*size, n_volumes)
    ).cumsum(axis=3) * 0.5
    data += 0.05 * rng.standard_normal(data.shape)
    return nib.Nifti1Image(data.astype(dtype), _affine())


def _mask(seed=1, fraction=0.8):
    rng = np.random.default_rng(seed)
    return nib.Nifti1Image((rng.random(SHAPE) < fraction).astype(np.uint8), _affine())


def _fit_both(cls_theirs, cls_ours, img, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = cls_theirs(**params).fit(img)
    ours = cls_ours(**params).fit(img)
    return theirs, ours


def _mask_data(masker):
    return np.asarray(masker.mask_img_.dataobj).astype(bool)


@pytest.mark.parametrize(
    "params",
    [
        {"mask_strategy": "background"},
        {"mask_strategy": "epi"},
        {"mask_strategy": "epi", "mask_args": {"opening": 1, "lower_cutoff": 0.3}},
        {"mask_strategy": "whole-brain-template"},
        {"mask_strategy": "gm-template"},
        {"mask_strategy": "wm-template"},
    ],
    ids=["background", "epi", "epi-args", "whole-brain", "gm", "wm"],
)
def test_mask_strategies_match_nilearn(params):
    img = _bold()
    theirs, ours = _fit_both(nilearn_maskers.NiftiMasker, NiftiMasker, img, **params)
    np.testing.assert_array_equal(_mask_data(ours), _mask_data(theirs))
    assert ours.n_elements_ == int(_mask_data(theirs).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs.transform(img)
    np.testing.assert_array_equal(ours.transform(img), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
def test_given_mask_exact(dtype):
    img = _bold(dtype=dtype)
    theirs, ours = _fit_both(nilearn_maskers.NiftiMasker, NiftiMasker, img, mask_img=_mask())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs.transform(img)
    signals = ours.transform(img)
    assert signals.shape == expected.shape
    np.testing.assert_allclose(signals, expected, rtol=1e-6, atol=1e-6)
    back_ours, back_theirs = ours.inverse_transform(signals), theirs.inverse_transform(expected)
    np.testing.assert_allclose(
        np.asarray(back_ours.dataobj), back_theirs.get_fdata(), rtol=1e-6, atol=1e-6
    )
    volume = nib.Nifti1Image(np.asarray(img.dataobj)[..., 3], img.affine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected_3d = theirs.transform(volume)
    assert ours.transform(volume).shape == expected_3d.shape
    np.testing.assert_allclose(ours.transform(volume), expected_3d, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "params",
    [
        {"target_affine": np.diag([4.0, 4.0, 4.0])},
        {"target_affine": _affine(2.5), "target_shape": (12, 14, 13)},
    ],
    ids=["affine-3x3", "affine+shape"],
)
def test_target_grid_matches_nilearn(params):
    img = _bold(dtype=np.float64)
    theirs, ours = _fit_both(
        nilearn_maskers.NiftiMasker, NiftiMasker, img, mask_img=_mask(fraction=0.9), **params
    )
    np.testing.assert_array_equal(_mask_data(ours), _mask_data(theirs))
    np.testing.assert_allclose(ours.affine_, theirs.affine_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs.transform(img)
    np.testing.assert_allclose(ours.transform(img), expected, rtol=RTOL, atol=1e-4)


@pytest.mark.parametrize(
    "clean",
    [
        {"detrend": True, "standardize": "zscore_sample"},
        {"standardize": "psc"},
        {"detrend": True, "low_pass": 0.1, "high_pass": 0.01, "t_r": 2.0},
        {"smoothing_fwhm": 5.0},
        {"high_variance_confounds": True},
        {"runs": np.repeat([0, 1], N_VOLUMES // 2), "detrend": True},
    ],
    ids=["zscore", "psc", "bandpass", "smooth", "hv-confounds", "runs"],
)
def test_cleaning_matches_nilearn(clean):
    img = _bold(dtype=np.float64)
    theirs, ours = _fit_both(
        nilearn_maskers.NiftiMasker, NiftiMasker, img, mask_img=_mask(), **clean
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs.transform(img)
    np.testing.assert_allclose(ours.transform(img), expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("kind", ["array", "dataframe", "path"])
def test_confounds_and_sample_mask(kind, tmp_path):
    img = _bold(dtype=np.float64)
    confounds = np.random.default_rng(3).standard_normal((N_VOLUMES, 2))
    if kind != "array":
        confounds = pd.DataFrame(confounds, columns=["a", "b"])
        if kind == "path":
            path = tmp_path / "c.tsv"
            confounds.to_csv(path, sep="\t", index=False)
            confounds = str(path)
    sample_mask = np.arange(3, N_VOLUMES)
    theirs, ours = _fit_both(
        nilearn_maskers.NiftiMasker, NiftiMasker, img, mask_img=_mask(), detrend=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs.transform(img, confounds=confounds, sample_mask=sample_mask)
    signals = ours.transform(img, confounds=confounds, sample_mask=sample_mask)
    assert signals.shape == (N_VOLUMES - 3, ours.n_elements_)
    np.testing.assert_allclose(signals, expected, rtol=RTOL, atol=ATOL)


def test_nan_voxels_zeroed_with_warning():
    data = np.asarray(_bold().dataobj).copy()
    mask = _mask()
    inside = np.argwhere(np.asarray(mask.dataobj) > 0)
    data[tuple(inside[0])][0] = np.nan
    data[tuple(inside[1])][1:4] = -np.inf
    theirs = nilearn_maskers.NiftiMasker(mask_img=mask).fit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs.transform(nib.Nifti1Image(data.copy(), _affine()))
    ours = NiftiMasker(mask_img=mask).fit()
    with pytest.warns(NonFiniteDataWarning, match="2 voxel"):
        signals = ours.transform(nib.Nifti1Image(data, _affine()))
    np.testing.assert_array_equal(signals, expected)


@pytest.mark.parametrize("strategy", ["background", "epi", "whole-brain-template"])
def test_multi_nifti_masker_matches_nilearn(strategy):
    imgs = [_bold(seed=0), _bold(seed=1)]
    theirs, ours = _fit_both(
        nilearn_maskers.MultiNiftiMasker, MultiNiftiMasker, imgs, mask_strategy=strategy
    )
    np.testing.assert_array_equal(_mask_data(ours), _mask_data(theirs))
    confounds = [np.random.default_rng(i).standard_normal((N_VOLUMES, 2)) for i in range(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs.transform(imgs, confounds=confounds)
        expected_single = theirs.transform(imgs[0])
    signals = ours.transform(imgs, confounds=confounds)
    assert isinstance(signals, list) and len(signals) == 2
    for got, want in zip(signals, expected):
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(ours.transform(imgs[0]), expected_single)


def test_multi_nifti_masker_n_jobs_same_result():
    imgs = [_bold(seed=0), _bold(seed=1), _bold(seed=2)]
    serial = MultiNiftiMasker(mask_img=_mask(), detrend=True).fit().transform(imgs)
    parallel = MultiNiftiMasker(mask_img=_mask(), detrend=True, n_jobs=2).fit().transform(imgs)
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)
