"""NiftiLabelsMasker vs nilearn 0.14.1: strategies, masks, resampling, cleaning, confounds."""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from regionkit import EmptyRegionWarning
from regionkit.maskers import NiftiLabelsMasker

nilearn_maskers = pytest.importorskip("nilearn.maskers")

SHAPE = (10, 12, 11)
N_VOLUMES = 40
RTOL, ATOL = 1e-4, 1e-5
STRATEGIES = ["mean", "median", "sum", "minimum", "maximum", "standard_deviation", "variance"]
LABEL_VALUES = [0, 3, 130, 300, 1000]  # above 127 and 255: int16 atlas


def _affine(voxel=3.0, shift=0.0):
    affine = np.diag([voxel, voxel, voxel, 1.0])
    affine[:3, 3] = [-30.0 + shift, -36.0 + shift, -27.0]
    return affine


def _bold(seed=0, n_volumes=N_VOLUMES, dtype=np.float32, affine=None):
    rng = np.random.default_rng(seed)
    base = 10 + 2 * rng.standard_normal(SHAPE)
    drift = rng.standard_normal((*SHAPE, n_volumes)).cumsum(axis=3) * 0.5
    data = base[..., None] + drift + rng.standard_normal((*SHAPE, n_volumes))
    return nib.Nifti1Image(data.astype(dtype), _affine() if affine is None else affine)


def _labels(seed=2, dtype=np.int16, values=LABEL_VALUES):
    rng = np.random.default_rng(seed)
    data = np.zeros(SHAPE, dtype=dtype)
    # blocky regions, so resampling keeps every label
    for i, value in enumerate(values[1:]):
        data[2 * i : 2 * i + 3, 1:11, 1:10] = value
    data[rng.random(SHAPE) < 0.1] = 0
    return nib.Nifti1Image(data, _affine())


def _mask(seed=1, fraction=0.85, affine=None):
    rng = np.random.default_rng(seed)
    mask = rng.random(SHAPE) < fraction
    return nib.Nifti1Image(mask.astype(np.uint8), _affine() if affine is None else affine)


def _nilearn(img, labels_img, fit_img=True, confounds=None, sample_mask=None, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        masker = nilearn_maskers.NiftiLabelsMasker(labels_img, **params)
        masker.fit(img if fit_img else None)
        signals = masker.transform(img, confounds=confounds, sample_mask=sample_mask)
    return masker, signals


def _ours(img, labels_img, fit_img=True, confounds=None, sample_mask=None, **params):
    masker = NiftiLabelsMasker(labels_img, **params)
    masker.fit(img if fit_img else None)
    return masker, masker.transform(img, confounds=confounds, sample_mask=sample_mask)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("use_mask", [False, True])
def test_strategies_match_nilearn(strategy, use_mask):
    img, labels_img = _bold(), _labels()
    mask = _mask() if use_mask else None
    theirs_masker, theirs = _nilearn(img, labels_img, strategy=strategy, mask_img=mask)
    ours_masker, ours = _ours(img, labels_img, strategy=strategy, mask_img=mask)
    assert ours.dtype == theirs.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)
    assert ours_masker.region_ids_ == theirs_masker.region_ids_
    assert ours_masker.region_names_ == theirs_masker.region_names_
    assert list(ours_masker.get_feature_names_out()) == list(
        theirs_masker.get_feature_names_out()
    )
    pd.testing.assert_frame_equal(ours_masker.lut_, theirs_masker.lut_, check_dtype=False)
    np.testing.assert_array_equal(
        np.asarray(ours_masker.region_atlas_.dataobj),
        np.asarray(theirs_masker.region_atlas_.dataobj),
    )


def test_int16_atlas_with_400_regions():
    """A 400-region int16 atlas (values up to 1000) as nilearn, on 3D input too."""
    rng = np.random.default_rng(5)
    values = rng.choice(np.arange(1, 1001), size=400, replace=False).astype(np.int16)
    labels = values[rng.integers(0, 400, size=SHAPE)]
    labels[rng.random(SHAPE) < 0.05] = 0
    labels_img = nib.Nifti1Image(labels.astype(np.int16), _affine())
    img = _bold()
    theirs_masker, theirs = _nilearn(img, labels_img)
    ours_masker, ours = _ours(img, labels_img)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)
    assert ours_masker.region_ids_ == theirs_masker.region_ids_
    assert max(v for k, v in ours_masker.region_ids_.items() if k != "background") > 255
    volume = nib.Nifti1Image(np.asarray(img.dataobj)[..., 0], img.affine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        theirs_3d = theirs_masker.transform(volume)
    ours_3d = ours_masker.transform(volume)
    assert ours_3d.shape == theirs_3d.shape == (ours.shape[1],)
    np.testing.assert_allclose(ours_3d, theirs_3d, rtol=RTOL, atol=ATOL)


def test_float_labels_holding_whole_numbers():
    labels = _labels()
    as_float = nib.Nifti1Image(np.asarray(labels.dataobj).astype(np.float32), labels.affine)
    img = _bold()
    _, theirs = _nilearn(img, as_float)
    masker, ours = _ours(img, as_float)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(ours, _ours(img, labels)[1], rtol=0, atol=0)


@pytest.mark.parametrize(
    "clean",
    [
        {"detrend": True},
        {"standardize": "zscore_sample"},
        {"standardize": "psc"},
        {"detrend": True, "low_pass": 0.1, "high_pass": 0.01, "t_r": 2.0},
        {"smoothing_fwhm": 6.0},
        {"high_variance_confounds": True},
    ],
    ids=["detrend", "zscore", "psc", "bandpass", "smooth", "hv-confounds"],
)
def test_cleaning_matches_nilearn(clean):
    img, labels_img = _bold(dtype=np.float64), _labels()
    _, theirs = _nilearn(img, labels_img, mask_img=_mask(), **clean)
    _, ours = _ours(img, labels_img, mask_img=_mask(), **clean)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("kind", ["array", "dataframe", "path"])
def test_confounds_and_sample_mask(kind, tmp_path):
    img, labels_img = _bold(dtype=np.float64), _labels()
    rng = np.random.default_rng(3)
    confounds = rng.standard_normal((N_VOLUMES, 3))
    if kind == "dataframe":
        confounds = pd.DataFrame(confounds, columns=["a", "b", "c"])
    elif kind == "path":
        path = tmp_path / "confounds.tsv"
        pd.DataFrame(confounds, columns=["a", "b", "c"]).to_csv(path, sep="\t", index=False)
        confounds = path
    sample_mask = np.r_[np.arange(2, 12), np.arange(15, N_VOLUMES)]
    params = {"detrend": True, "standardize": "zscore_sample"}
    _, theirs = _nilearn(img, labels_img, confounds=confounds, sample_mask=sample_mask, **params)
    _, ours = _ours(img, labels_img, confounds=confounds, sample_mask=sample_mask, **params)
    assert ours.shape == (len(sample_mask), 4)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("fit_img", [True, False], ids=["fit-on-data", "fit-without-data"])
@pytest.mark.parametrize("target", ["data", "labels"])
def test_resampling_targets(target, fit_img):
    # data on a grid shifted by half a voxel and with 2.5 mm voxels
    data_affine = _affine(voxel=2.5, shift=1.5)
    img = _bold(affine=data_affine, dtype=np.float64)
    labels_img, mask = _labels(), _mask(fraction=0.9)
    params = {"resampling_target": target, "mask_img": mask}
    theirs_masker, theirs = _nilearn(img, labels_img, fit_img=fit_img, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyRegionWarning)
        ours_masker, ours = _ours(img, labels_img, fit_img=fit_img, **params)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=1e-4)
    if target == "data" and fit_img:
        np.testing.assert_array_equal(
            np.asarray(ours_masker.labels_img_.dataobj),
            np.asarray(theirs_masker.labels_img_.dataobj),
        )


def test_resampled_labels_cached_per_data_grid():
    """Fit without data, transform two runs on a new grid: resampled once."""
    data_affine = _affine(voxel=2.5, shift=1.5)
    masker = NiftiLabelsMasker(_labels()).fit()
    first = masker.transform(_bold(affine=data_affine, seed=1))
    cache = masker._plan_cache
    assert len(cache) == 2  # the labels grid and the data grid
    plan = next(p for p in cache.values() if p.matches(SHAPE, data_affine))
    second = masker.transform(_bold(affine=data_affine, seed=2))
    assert len(masker._plan_cache) == 2
    assert next(p for p in cache.values() if p.matches(SHAPE, data_affine)) is plan
    assert first.shape == second.shape == (N_VOLUMES, 4)
    _, theirs = _nilearn(_bold(affine=data_affine, seed=2), _labels(), fit_img=False)
    np.testing.assert_allclose(second, theirs, rtol=RTOL, atol=ATOL)


def test_keep_masked_labels_gives_nan_where_nilearn_gives_zero():
    labels_img = _labels()
    mask_data = np.ones(SHAPE, dtype=np.uint8)
    mask_data[np.asarray(labels_img.dataobj) == 130] = 0  # label 130 fully masked
    mask = nib.Nifti1Image(mask_data, _affine())
    img = _bold()
    _, theirs = _nilearn(img, labels_img, mask_img=mask, keep_masked_labels=True)
    with pytest.warns(EmptyRegionWarning, match="130"):
        masker, ours = _ours(img, labels_img, mask_img=mask, keep_masked_labels=True)
    assert ours.shape == theirs.shape == (N_VOLUMES, 4)
    column = list(masker.region_ids_.values()).index(130) - 1
    assert np.isnan(ours[:, column]).all()
    assert (theirs[:, column] == 0).all()
    others = [c for c in range(4) if c != column]
    np.testing.assert_allclose(ours[:, others], theirs[:, others], rtol=RTOL, atol=ATOL)
    assert masker.region_coverage_[column] == 0

    # default: the label is dropped, as nilearn does
    _, theirs = _nilearn(img, labels_img, mask_img=mask)
    with pytest.warns(EmptyRegionWarning, match="dropped"):
        masker, ours = _ours(img, labels_img, mask_img=mask)
    assert ours.shape == theirs.shape == (N_VOLUMES, 3)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)
    assert 130 not in masker.region_ids_.values()


def test_labels_and_lut_names_match_nilearn(tmp_path):
    img, labels_img = _bold(), _labels()
    names = ["first", "second", "third", "fourth"]
    theirs_masker, _ = _nilearn(img, labels_img, labels=list(names))
    ours_masker, _ = _ours(img, labels_img, labels=list(names))
    assert ours_masker.region_names_ == theirs_masker.region_names_
    pd.testing.assert_frame_equal(ours_masker.lut_, theirs_masker.lut_, check_dtype=False)

    lut = pd.DataFrame({"index": [0, 3, 130, 300, 1000], "name": ["bg", "a", "b", "c", "d"]})
    path = tmp_path / "atlas_dseg.tsv"
    lut.to_csv(path, sep="\t", index=False)
    for source in (lut, path):
        theirs_masker, _ = _nilearn(img, labels_img, lut=source)
        ours_masker, _ = _ours(img, labels_img, lut=source)
        assert ours_masker.region_names_ == theirs_masker.region_names_ == {
            0: "a", 1: "b", 2: "c", 3: "d"
        }
        pd.testing.assert_frame_equal(ours_masker.lut_, theirs_masker.lut_, check_dtype=False)


def test_inverse_transform_matches_nilearn():
    img, labels_img, mask = _bold(), _labels(), _mask()
    theirs_masker, theirs = _nilearn(img, labels_img, mask_img=mask)
    ours_masker, ours = _ours(img, labels_img, mask_img=mask)
    for signals_ours, signals_theirs in ((ours, theirs), (ours[0], theirs[0])):
        back_ours = ours_masker.inverse_transform(signals_ours)
        back_theirs = theirs_masker.inverse_transform(signals_theirs)
        assert back_ours.shape == back_theirs.shape
        np.testing.assert_allclose(
            np.asarray(back_ours.dataobj), back_theirs.get_fdata(), rtol=RTOL, atol=ATOL
        )


def test_nan_voxels_zeroed_as_nilearn_with_warning():
    from regionkit import NonFiniteDataWarning

    labels_img = _labels()
    labelled = np.argwhere(np.asarray(labels_img.dataobj) != 0)
    data = np.asarray(_bold().dataobj).copy()
    data[tuple(labelled[0])][:3] = np.nan
    data[tuple(labelled[-1])][7] = np.inf
    img = nib.Nifti1Image(data, _affine())
    # nilearn zeroes non-finite values in place: give it a copy
    _, theirs = _nilearn(nib.Nifti1Image(data.copy(), _affine()), labels_img)
    with pytest.warns(NonFiniteDataWarning, match="2 voxel"):
        _, ours = _ours(img, labels_img)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "lut",
    [
        pd.DataFrame({"index": [3, 130, 300, 1000], "name": list("abcd"), "color": list("1234")}),
        pd.DataFrame({"index": [3, 130, 300, 7], "name": list("abcd")}),
    ],
    ids=["no-background-row", "missing-and-extra-rows"],
)
def test_incomplete_lut_sanitized_as_nilearn(lut):
    img, labels_img = _bold(), _labels()
    theirs_masker, _ = _nilearn(img, labels_img, lut=lut)
    ours_masker, _ = _ours(img, labels_img, lut=lut)
    pd.testing.assert_frame_equal(ours_masker.lut_, theirs_masker.lut_, check_dtype=False)
    assert ours_masker.region_names_ == theirs_masker.region_names_
