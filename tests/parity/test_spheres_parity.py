"""NiftiSpheresMasker vs nilearn 0.14.1 and JuniferNiftiSpheresMasker vs junifer 0.0.8."""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from regionkit import EmptyRegionWarning, NonFiniteDataWarning
from regionkit.maskers import JuniferNiftiSpheresMasker, NiftiSpheresMasker

nilearn_maskers = pytest.importorskip("nilearn.maskers")
junifer_nilearn = pytest.importorskip("junifer.external.nilearn")

SHAPE = (10, 12, 11)
N_VOLUMES = 40
SEEDS = [(-9.0, -6.0, -3.0), (-20.5, -10.0, 0.4), (-15.0, -25.2, -6.0), (-24.0, -30.0, -21.0)]
RTOL, ATOL = 1e-4, 1e-5


def _affine(voxel=3.0):
    affine = np.diag([voxel, voxel, voxel, 1.0])
    affine[:3, 3] = [-30.0, -36.0, -27.0]
    return affine


def _bold(seed=0, n_volumes=N_VOLUMES, dtype=np.float32):
    rng = np.random.default_rng(seed)
    # float32 data: keep the baseline within ~10x the fluctuations so that
    # float32 rounding of the input stays below the comparison tolerance
    base = 10 + 2 * rng.standard_normal(SHAPE)
    drift = rng.standard_normal((*SHAPE, n_volumes)).cumsum(axis=3) * 0.5
    data = base[..., None] + drift + rng.standard_normal((*SHAPE, n_volumes))
    return nib.Nifti1Image(data.astype(dtype), _affine())


def _mask(seed=1, fraction=0.8, shape=SHAPE, affine=None):
    rng = np.random.default_rng(seed)
    affine = _affine() if affine is None else affine
    mask = rng.random(shape) < fraction
    for seed_xyz in SEEDS:  # keep each seed's own voxel so radius=None is not empty
        ijk = np.round(np.linalg.inv(affine) @ [*seed_xyz, 1.0])[:3].astype(int)
        mask[tuple(ijk)] = True
    return nib.Nifti1Image(mask.astype(np.uint8), affine)


def _theirs(cls, *args, fit_kwargs=None, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        masker = cls(*args, **kwargs)
        return masker.fit().transform(**(fit_kwargs or {}))


def _run_nilearn(img, confounds=None, sample_mask=None, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        masker = nilearn_maskers.NiftiSpheresMasker(SEEDS, **params).fit()
        return masker.transform(img, confounds=confounds, sample_mask=sample_mask)


def _run_ours(img, confounds=None, sample_mask=None, **params):
    masker = NiftiSpheresMasker(SEEDS, **params).fit()
    return masker.transform(img, confounds=confounds, sample_mask=sample_mask)


def _assert_same(ours, theirs):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------- geometry grid
@pytest.mark.parametrize("radius", [None, 0.0, 4.0, 7.5])
@pytest.mark.parametrize("use_mask", [False, True])
def test_geometry_grid(radius, use_mask):
    img = _bold()
    params = {"radius": radius, "allow_overlap": True}
    if use_mask:
        params["mask_img"] = _mask()
    _assert_same(_run_ours(img, **params), _run_nilearn(img, **params))


def test_overlap_allowed_large_radius_all_voxels_distinct_seeds():
    img = _bold(3)
    params = {"radius": 12.0, "allow_overlap": True}
    _assert_same(_run_ours(img, **params), _run_nilearn(img, **params))


def test_mask_on_another_grid_is_resampled_as_nilearn():
    img = _bold(4)
    affine = _affine(2.0)
    mask = _mask(5, shape=(15, 18, 16), affine=affine)
    params = {"radius": 6.0, "allow_overlap": True, "mask_img": mask}
    _assert_same(_run_ours(img, **params), _run_nilearn(img, **params))


def test_3d_input_gives_1d_like_nilearn():
    img = nib.Nifti1Image(np.asarray(_bold().dataobj)[..., 0], _affine())
    ours = _run_ours(img, radius=4.0)
    theirs = _run_nilearn(img, radius=4.0)
    assert ours.ndim == 1
    _assert_same(ours, np.ravel(theirs))


def test_list_of_3d_images_like_nilearn():
    data = np.asarray(_bold().dataobj)
    imgs = [nib.Nifti1Image(data[..., t], _affine()) for t in range(5)]
    _assert_same(_run_ours(imgs, radius=4.0), _run_nilearn(imgs, radius=4.0))


def test_gzipped_file_input(tmp_path):
    path = tmp_path / "bold.nii.gz"
    _bold(6).to_filename(path)
    _assert_same(_run_ours(path, radius=4.0), _run_nilearn(str(path), radius=4.0))


# ---------------------------------------------------------------- cleaning grid
CLEANING = [
    {"detrend": True},
    {"standardize": "zscore_sample"},
    {"standardize": "psc"},
    {"standardize": True, "detrend": True},
    {"t_r": 2.0, "low_pass": 0.2, "high_pass": 0.02},
    {"t_r": 2.0, "high_pass": 0.02, "detrend": True, "standardize": "zscore_sample"},
    {"high_variance_confounds": True},
    {"t_r": 2.0, "high_pass": 0.02, "clean_args": {"filter": "cosine"}},
]


# Cleaning parity runs on float64 images: with a float32 image nilearn averages
# sphere voxels in float32 (~3 ulp of the baseline), which detrending then
# exposes; see test_float32_means_closer_to_float64_truth_than_nilearn.
@pytest.mark.parametrize("params", CLEANING)
def test_cleaning_grid(params):
    img = _bold(7, dtype=np.float64)
    params = {"radius": 5.0, **params}
    _assert_same(_run_ours(img, **params), _run_nilearn(img, **params))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_dtype_follows_float_image_like_nilearn(dtype):
    img = _bold(22, dtype=dtype)
    ours, theirs = _run_ours(img, radius=4.0), _run_nilearn(img, radius=4.0)
    assert ours.dtype == theirs.dtype == dtype


def test_float32_means_closer_to_float64_truth_than_nilearn():
    img = _bold(7)
    img64 = nib.Nifti1Image(np.asarray(img.dataobj, dtype=np.float64), img.affine)
    truth = _run_nilearn(img64, radius=5.0, detrend=True)
    ours = _run_ours(img, radius=5.0, detrend=True)
    theirs = _run_nilearn(img, radius=5.0, detrend=True)
    ours_error = np.abs(ours - truth).max()
    assert ours_error < 1e-5
    assert ours_error < np.abs(theirs - truth).max()


def _confounds(n=N_VOLUMES, k=3, seed=8):
    return np.random.default_rng(seed).standard_normal((n, k))


@pytest.mark.parametrize("kind", ["array", "dataframe", "tsv", "csv_no_header", "list"])
def test_confounds_kinds(kind, tmp_path):
    img = _bold(9, dtype=np.float64)
    array = _confounds()
    frame = pd.DataFrame(array, columns=["a", "b", "c"])
    if kind == "array":
        confounds = array
    elif kind == "dataframe":
        confounds = frame
    elif kind == "tsv":
        confounds = tmp_path / "confounds.tsv"
        frame.to_csv(confounds, sep="\t", index=False)
        confounds = str(confounds)
    elif kind == "csv_no_header":
        confounds = tmp_path / "confounds.csv"
        frame.to_csv(confounds, index=False, header=False)
        confounds = str(confounds)
    else:
        confounds = [array[:, :2], array[:, 2]]
    params = {"radius": 5.0, "detrend": True, "standardize": "zscore_sample"}
    _assert_same(
        _run_ours(img, confounds=confounds, **params),
        _run_nilearn(img, confounds=confounds, **params),
    )


@pytest.mark.parametrize(
    "sample_mask",
    [np.arange(3, N_VOLUMES), np.r_[np.arange(0, 10), np.arange(15, N_VOLUMES)]],
)
def test_sample_mask(sample_mask):
    img = _bold(10, dtype=np.float64)
    params = {"radius": 5.0, "detrend": True, "standardize": "zscore_sample"}
    confounds = _confounds()
    _assert_same(
        _run_ours(img, confounds=confounds, sample_mask=sample_mask, **params),
        _run_nilearn(img, confounds=confounds, sample_mask=sample_mask, **params),
    )


@pytest.mark.parametrize("fwhm", [4.0, 8.0])
def test_smoothing(fwhm):
    img = _bold(11)
    params = {"radius": 5.0, "smoothing_fwhm": fwhm, "allow_overlap": True}
    _assert_same(_run_ours(img, **params), _run_nilearn(img, **params))


@pytest.mark.parametrize("dtype", [None, "auto", np.float64])
def test_integer_image_and_dtype(dtype):
    data = np.asarray(_bold(12).dataobj)
    img = nib.Nifti1Image(np.round(data * 10).astype(np.int16), _affine())
    ours = _run_ours(img, radius=5.0, dtype=dtype)
    theirs = _run_nilearn(img, radius=5.0, dtype=dtype)
    _assert_same(ours, theirs)
    assert np.asarray(ours).dtype == np.asarray(theirs).dtype or dtype is None


def test_nan_voxels_without_mask_zeroed_with_warning():
    data = np.asarray(_bold(13).dataobj).copy()
    data[7, 10, 8, 3:6] = np.nan  # the voxel of seed 0
    img = nib.Nifti1Image(data, _affine())
    with pytest.warns(NonFiniteDataWarning, match="1 voxel"):
        ours = _run_ours(img, radius=5.0)
    _assert_same(ours, _run_nilearn(img, radius=5.0))
    assert np.isfinite(ours).all()


def test_inf_voxels_without_nan_kept_as_nilearn():
    data = np.asarray(_bold(14).dataobj).copy()
    data[7, 10, 8, 3] = np.inf
    img = nib.Nifti1Image(data, _affine())
    with pytest.warns(NonFiniteDataWarning, match="left as they are"):
        ours = _run_ours(img, radius=5.0)
    theirs = _run_nilearn(img, radius=5.0)
    np.testing.assert_array_equal(np.isinf(ours), np.isinf(theirs))
    finite = np.isfinite(theirs)
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=RTOL, atol=ATOL)


def test_nan_voxels_with_mask_zeroed_as_nilearn():
    data = np.asarray(_bold(15).dataobj).copy()
    data[7, 10, 8, :] = np.nan
    img = nib.Nifti1Image(data, _affine())
    mask = nib.Nifti1Image(np.ones(SHAPE, np.uint8), _affine())
    with pytest.warns(NonFiniteDataWarning):
        ours = _run_ours(img, radius=5.0, mask_img=mask)
    _assert_same(ours, _run_nilearn(img, radius=5.0, mask_img=mask))


def test_pandas_output_matches_values():
    img = _bold(16)
    masker = NiftiSpheresMasker(SEEDS, radius=5.0).set_output(transform="pandas")
    frame = masker.fit_transform(img)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs_masker = nilearn_maskers.NiftiSpheresMasker(SEEDS, radius=5.0)
        theirs_masker.set_output(transform="pandas")
        theirs = theirs_masker.fit_transform(img)
    assert list(frame.columns) == list(theirs.columns)
    _assert_same(frame.to_numpy(), theirs.to_numpy())


def test_inverse_transform_matches_nilearn():
    img = _bold(17)
    mask = _mask(18)
    for allow_overlap in (False, True):
        params = {"radius": 4.0 if not allow_overlap else 8.0, "mask_img": mask,
                  "allow_overlap": allow_overlap}
        ours_masker = NiftiSpheresMasker(SEEDS, **params).fit(img)
        signals = ours_masker.transform(img)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs_masker = nilearn_maskers.NiftiSpheresMasker(SEEDS, **params).fit(img)
            theirs = theirs_masker.inverse_transform(signals)
        ours = ours_masker.inverse_transform(signals)
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(
            np.asarray(ours.dataobj), np.asarray(theirs.dataobj), rtol=1e-6, atol=1e-6
        )
        one = ours_masker.inverse_transform(signals[0])
        assert one.shape == SHAPE


@pytest.mark.slow
@pytest.mark.parametrize("radius", [None, 3.0, 6.0, 10.0])
@pytest.mark.parametrize("voxel", [2.0, 2.5, 3.0])
@pytest.mark.parametrize("use_mask", [False, True])
def test_random_seed_grid_slow(radius, voxel, use_mask):
    rng = np.random.default_rng(int(voxel * 10) + (0 if radius is None else int(radius)))
    affine = _affine(voxel)
    data = rng.standard_normal((*SHAPE, 12)).astype(np.float32)
    img = nib.Nifti1Image(data, affine)
    centre = affine[:3, :3] @ (np.array(SHAPE) / 2) + affine[:3, 3]
    seeds = centre + rng.uniform(-8, 8, (12, 3))
    params = {"radius": radius, "allow_overlap": True}
    if use_mask:
        params["mask_img"] = nib.Nifti1Image((rng.random(SHAPE) < 0.9).astype(np.uint8), affine)
    try:
        ours = NiftiSpheresMasker(seeds, allow_empty=False, **params).fit_transform(img)
    except ValueError as error:  # an empty sphere: nilearn must refuse too
        assert "empty" in str(error)
        with warnings.catch_warnings(), pytest.raises(ValueError, match="empty"):
            warnings.simplefilter("ignore")
            nilearn_maskers.NiftiSpheresMasker(seeds, **params).fit_transform(img)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = nilearn_maskers.NiftiSpheresMasker(seeds, **params).fit_transform(img)
    _assert_same(ours, theirs)


# ---------------------------------------------------------------- junifer
def _lambda(x, axis):
    # defined on empty spheres too (0), unlike np.max
    return np.sum(x**2, axis=axis) / 1000.0


JUNIFER_FUNCS = [np.median, np.std, _lambda, np.mean]
# seed 4 lies outside the mask below (its whole neighbourhood is masked out)
JUNIFER_SEEDS = [*SEEDS, (-6.0, -6.0, 0.0)]


def _junifer_mask():
    mask = np.asarray(_mask(19, fraction=0.9).dataobj).copy()
    mask[7:10, 8:12, 8:11] = 0  # around (-6, -6, 0) -> voxel (8, 10, 9)
    return nib.Nifti1Image(mask, _affine())


@pytest.mark.parametrize("agg_func", JUNIFER_FUNCS, ids=["median", "std", "lambda", "mean"])
@pytest.mark.parametrize("use_mask", [False, True])
def test_junifer_aggregations(agg_func, use_mask):
    img = _bold(20)
    params = {"radius": 5.0, "agg_func": agg_func, "allow_overlap": True}
    seeds = JUNIFER_SEEDS if use_mask else SEEDS
    if use_mask:
        params["mask_img"] = _junifer_mask()
    ours_masker = JuniferNiftiSpheresMasker(seeds, **params)
    if use_mask:
        with pytest.warns(EmptyRegionWarning, match="#4"):
            ours = ours_masker.fit_transform(img)
    else:
        ours = ours_masker.fit_transform(img)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = junifer_nilearn.JuniferNiftiSpheresMasker(seeds, **params).fit_transform(img)
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    _assert_same(np.nan_to_num(ours), np.nan_to_num(theirs))
    if use_mask and agg_func in (np.median, np.mean, np.std):
        assert np.isnan(ours[:, 4]).all()


def test_junifer_seed_outside_image_is_empty_column():
    img = _bold(21)
    seeds = [*SEEDS, (60.0, 60.0, 60.0)]
    with pytest.warns(EmptyRegionWarning, match="60"):
        ours = JuniferNiftiSpheresMasker(seeds, radius=5.0, agg_func=np.median).fit_transform(img)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = junifer_nilearn.JuniferNiftiSpheresMasker(
            seeds, radius=5.0, agg_func=np.median
        ).fit_transform(img)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    _assert_same(np.nan_to_num(ours), np.nan_to_num(theirs))


def test_junifer_signature_defaults():
    import inspect

    ours = JuniferNiftiSpheresMasker(SEEDS)
    theirs = junifer_nilearn.JuniferNiftiSpheresMasker(SEEDS)
    ours_order = list(inspect.signature(JuniferNiftiSpheresMasker).parameters)
    theirs_order = list(inspect.signature(type(theirs)).parameters)
    assert ours_order[: len(theirs_order) - 1] == theirs_order[:-1]  # all but **kwargs
    for name in ("radius", "mask_img", "allow_overlap", "dtype", "standardize", "reports"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.agg_func is theirs.agg_func is np.mean
    ours = ours.get_params()
    assert ours["allow_empty"] is True
