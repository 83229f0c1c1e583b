"""NiftiSpheresMasker behaviour: aggregations, empty spheres, outputs, bad input."""

from __future__ import annotations

import logging

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from masker_data import N_VOLUMES, SEEDS, SHAPE, make_affine, make_bold
from sklearn.exceptions import NotFittedError

from regionkit import EmptyRegionWarning, NonFiniteDataWarning
from regionkit._validation import InvalidParameterError
from regionkit.maskers import JuniferNiftiSpheresMasker, NiftiSpheresMasker, transform_many
from regionkit.maskers._extract import eigenvariate
from regionkit.maskers._operators import select_sphere_voxels


def _sphere_values(img, seed_index, radius, mask=None):
    """Brute-force (n_volumes, n_voxels) values of one sphere, nilearn's voxel order."""
    selection = select_sphere_voxels(
        np.asarray(SEEDS), radius, SHAPE, img.affine, mask
    )
    flat = selection.voxels[seed_index]
    data = np.asarray(img.dataobj, dtype=np.float32)
    return data.reshape(-1, data.shape[-1], order="F")[flat].T


# ----------------------------------------------------------------- aggregations
def test_mean_equals_brute_force(bold):
    signals = NiftiSpheresMasker(SEEDS, radius=5.0).fit_transform(bold)
    for i in range(len(SEEDS)):
        expected = _sphere_values(bold, i, 5.0).mean(axis=1)
        np.testing.assert_allclose(signals[:, i], expected, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize(("name", "func"), [("median", np.median), ("std", np.std)])
def test_named_aggregations_match_numpy(bold, name, func):
    by_name = NiftiSpheresMasker(SEEDS, radius=5.0, agg_func=name).fit_transform(bold)
    by_func = NiftiSpheresMasker(SEEDS, radius=5.0, agg_func=func).fit_transform(bold)
    np.testing.assert_array_equal(by_name, by_func)
    expected = func(_sphere_values(bold, 1, 5.0), axis=1)
    np.testing.assert_allclose(by_name[:, 1], expected, rtol=1e-6)


def test_callable_gets_voxels_in_nilearn_order(bold):
    first = NiftiSpheresMasker(SEEDS, radius=5.0, agg_func=lambda x, axis: x[:, 0])
    signals = first.fit_transform(bold)
    np.testing.assert_array_equal(signals[:, 2], _sphere_values(bold, 2, 5.0)[:, 0])


def test_multiple_aggregations_one_pass_and_column_names(bold):
    masker = NiftiSpheresMasker(
        SEEDS, radius=5.0, agg_func={"mean": "mean", "p90": lambda x, axis: np.percentile(x, 90, axis=axis)}
    )
    signals = masker.fit_transform(bold)
    n = len(SEEDS)
    assert signals.shape == (N_VOLUMES, 2 * n)
    mean_only = NiftiSpheresMasker(SEEDS, radius=5.0).fit_transform(bold)
    np.testing.assert_array_equal(signals[:, :n], mean_only)
    np.testing.assert_allclose(
        signals[:, n + 3], np.percentile(_sphere_values(bold, 3, 5.0), 90, axis=1), rtol=1e-6
    )
    names = masker.get_feature_names_out()
    assert names[0] == "region-0_stat-mean"
    assert names[n] == "region-0_stat-p90"
    frame = masker.set_output(transform="pandas").transform(bold)
    assert list(frame.columns) == list(names)


def test_list_aggregations_names(bold):
    masker = NiftiSpheresMasker(SEEDS, radius=5.0, agg_func=[np.mean, "median", "eigenvariate"])
    masker.fit(bold)
    assert list(masker.get_feature_names_out()[:: len(SEEDS)]) == [
        "region-0_stat-mean",
        "region-0_stat-median",
        "region-0_stat-eigenvariate",
    ]


def test_eigenvariate_recovers_shared_component_sign_aligned(rng):
    n_volumes = 60
    course = np.sin(np.linspace(0, 6 * np.pi, n_volumes))
    data = 0.05 * rng.standard_normal((*SHAPE, n_volumes)) + 5.0
    loadings = 1.0 + rng.random(SHAPE)
    data += loadings[..., None] * course
    img = nib.Nifti1Image(data.astype(np.float32), make_affine())
    signals = NiftiSpheresMasker(SEEDS, radius=5.0, agg_func="eigenvariate").fit_transform(img)
    for i in range(len(SEEDS)):
        assert np.corrcoef(signals[:, i], course)[0, 1] > 0.99


def test_eigenvariate_kernel_scaling_and_sign():
    course = np.array([1.0, -1.0, 2.0, 0.0])
    values = np.outer(course, [1.0, 1.0, 1.0, 1.0])
    component = eigenvariate(values)
    # rank one: u s = centred course * ||loadings||, divided by sqrt(4)
    np.testing.assert_allclose(component, course - course.mean())
    np.testing.assert_allclose(eigenvariate(-values), -(course - course.mean()))
    assert np.isnan(eigenvariate(np.empty((3, 0)))).all()


# ----------------------------------------------------------------- empty spheres
def test_empty_sphere_raises_naming_seed_and_coordinates(bold):
    seeds = [*SEEDS, (90.0, 90.0, 90.0)]
    with pytest.raises(ValueError, match=r"#4 \(90, 90, 90\).*field of view"):
        NiftiSpheresMasker(seeds, radius=4.0).fit(bold)


def test_empty_sphere_outside_mask_says_mask(bold):
    mask = np.ones(SHAPE, np.uint8)
    mask[6:9, 9:12, 7:10] = 0  # around seed 0, voxel (7, 10, 8)
    mask_img = nib.Nifti1Image(mask, make_affine())
    with pytest.raises(ValueError, match=r"#0 \(-9, -6, -3\) \(outside the mask\)"):
        NiftiSpheresMasker(SEEDS, radius=2.0, mask_img=mask_img).fit(bold)


def test_allow_empty_gives_nan_column_and_one_warning(bold):
    seeds = [SEEDS[0], (90.0, 90.0, 90.0), SEEDS[1]]
    masker = NiftiSpheresMasker(seeds, radius=4.0, allow_empty=True).fit(bold)
    np.testing.assert_array_equal(masker.region_coverage_ == 0, [False, True, False])
    with pytest.warns(EmptyRegionWarning, match=r"1 sphere.*#1 \(90, 90, 90\)") as record:
        signals = masker.transform(bold)
    assert len([w for w in record if w.category is EmptyRegionWarning]) == 1
    assert np.isnan(signals[:, 1]).all()
    assert np.isfinite(signals[:, [0, 2]]).all()


def test_junifer_default_allows_empty_with_callable(bold):
    seeds = [SEEDS[0], (90.0, 90.0, 90.0)]
    masker = JuniferNiftiSpheresMasker(seeds, 4.0, None, lambda x, axis: np.sum(x, axis=axis))
    with pytest.warns(EmptyRegionWarning):
        signals = masker.fit_transform(bold)
    np.testing.assert_array_equal(signals[:, 1], 0.0)  # sum of an empty array


# ----------------------------------------------------------------- coverage
def test_region_coverage(bold):
    seeds = [SEEDS[0], (-30.0, -36.0, -27.0)]  # second on the corner voxel
    masker = NiftiSpheresMasker(seeds, radius=3.0).fit(bold)
    # radius 3 on a 3 mm grid: centre + 6 face neighbours; a corner keeps 4 of 7
    np.testing.assert_allclose(masker.region_coverage_, [1.0, 4 / 7])
    assert np.isnan(NiftiSpheresMasker(seeds, radius=3.0).fit().region_coverage_).all()


# ----------------------------------------------------------------- shapes, outputs
def test_3d_image_gives_1d_and_pandas_gives_one_row(bold):
    vol = nib.Nifti1Image(np.asarray(bold.dataobj)[..., 5], bold.affine)
    masker = NiftiSpheresMasker(SEEDS, radius=5.0).fit()
    one = masker.transform(vol)
    assert one.shape == (len(SEEDS),)
    np.testing.assert_allclose(one, masker.transform(bold)[5], rtol=1e-6)
    frame = masker.set_output(transform="pandas").transform(vol)
    assert isinstance(frame, pd.DataFrame)
    assert frame.shape == (1, len(SEEDS))


def test_polars_output(bold):
    pl = pytest.importorskip("polars")
    masker = NiftiSpheresMasker(SEEDS, radius=5.0).set_output(transform="polars")
    frame = masker.fit_transform(bold)
    assert isinstance(frame, pl.DataFrame)
    assert frame.columns == [f"niftispheresmasker{i}" for i in range(len(SEEDS))]


def test_grid_differs_from_fit_is_rebuilt(bold, rng):
    masker = NiftiSpheresMasker(SEEDS, radius=5.0).fit(bold)
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = [-30.0, -36.0, -27.0]
    other = nib.Nifti1Image(rng.standard_normal((15, 18, 16, 7)).astype(np.float32), affine)
    fresh = NiftiSpheresMasker(SEEDS, radius=5.0).fit(other).transform(other)
    np.testing.assert_array_equal(masker.transform(other), fresh)
    assert masker.extraction_plan_.shape == SHAPE  # transform did not write to self


def test_clean_kwargs_prefix_equals_clean_args(bold):
    a = NiftiSpheresMasker(SEEDS, radius=5.0, t_r=2.0, high_pass=0.05,
                           clean_args={"filter": "cosine"}).fit_transform(bold)
    b = NiftiSpheresMasker(SEEDS, radius=5.0, t_r=2.0, high_pass=0.05,
                           clean__filter="cosine").fit_transform(bold)
    c = NiftiSpheresMasker(SEEDS, radius=5.0, t_r=2.0, high_pass=0.05).fit_transform(bold)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3


def test_verbose_logs_through_logging(bold, caplog):
    with caplog.at_level(logging.DEBUG, logger="regionkit.maskers"):
        NiftiSpheresMasker(SEEDS, radius=5.0, verbose=1).fit(bold)
    assert any("fit done" in r.message for r in caplog.records)


# ----------------------------------------------------------------- inverse_transform
def test_inverse_transform_paints_spheres(bold):
    mask = nib.Nifti1Image(np.ones(SHAPE, np.uint8), make_affine())
    masker = NiftiSpheresMasker(SEEDS, radius=3.0, mask_img=mask).fit()
    values = np.arange(1.0, len(SEEDS) + 1)
    img = masker.inverse_transform(values)
    assert img.shape == SHAPE
    data = np.asarray(img.dataobj)
    assert data[7, 10, 8] == 1.0  # seed 0's voxel
    assert sorted(np.unique(data)) == [0.0, 1.0, 2.0, 3.0, 4.0]
    four_d = masker.inverse_transform(np.tile(values, (3, 1)))
    assert four_d.shape == (*SHAPE, 3)


def test_inverse_transform_without_mask_raises(bold):
    masker = NiftiSpheresMasker(SEEDS, radius=3.0).fit(bold)
    with pytest.raises(ValueError, match="mask_img"):
        masker.inverse_transform(np.zeros(len(SEEDS)))


def test_inverse_transform_wrong_width_raises(bold, mask_img):
    masker = NiftiSpheresMasker(SEEDS, radius=3.0, mask_img=mask_img, allow_empty=True).fit()
    with pytest.raises(ValueError, match=r"expected last dimension 4.*\(2, 3\)"):
        masker.inverse_transform(np.zeros((2, 3)))


# ----------------------------------------------------------------- transform_many
def test_transform_many_equals_separate_transforms(bold, mask_img, tmp_path):
    path = tmp_path / "bold.nii.gz"
    bold.to_filename(path)
    confounds = np.random.default_rng(3).standard_normal((N_VOLUMES, 2))
    maskers = [
        NiftiSpheresMasker(SEEDS, radius=5.0, detrend=True).fit(),
        NiftiSpheresMasker(SEEDS[:2], radius=7.0, agg_func=["median", "eigenvariate"],
                           allow_overlap=True).fit(),
        NiftiSpheresMasker(SEEDS, radius=4.0, smoothing_fwhm=5.0).fit(),
        NiftiSpheresMasker(SEEDS, radius=3.0, standardize="zscore_sample").set_output(
            transform="pandas").fit(),
    ]
    together = transform_many(maskers, path, confounds=confounds, sample_mask=np.arange(2, 40))
    for masker, result in zip(maskers, together):
        alone = masker.transform(path, confounds=confounds, sample_mask=np.arange(2, 40))
        if isinstance(alone, pd.DataFrame):
            assert isinstance(result, pd.DataFrame)
            assert list(result.columns) == list(alone.columns)
        np.testing.assert_array_equal(np.asarray(result), np.asarray(alone))


def test_transform_many_decodes_once(bold, monkeypatch):
    from regionkit.maskers import _extract

    calls = []
    real = _extract.iter_blocks

    def counting(img, chunk_size=16):
        calls.append(1)
        return real(img, chunk_size=chunk_size)

    monkeypatch.setattr(_extract, "iter_blocks", counting)
    maskers = [NiftiSpheresMasker(SEEDS, radius=r).fit() for r in (3.0, 5.0, 8.0)]
    for m in maskers:
        m.allow_overlap = True
    transform_many(maskers, bold)
    assert len(calls) == 1


def test_transform_many_rejects_non_maskers(bold):
    with pytest.raises(TypeError, match=r"maskers\[1\] must be a regionkit masker"):
        transform_many([NiftiSpheresMasker(SEEDS, radius=3.0).fit(), object()], bold)


# ----------------------------------------------------------------- non-finite
def test_nonfinite_warning_counts_voxels(rng):
    img = make_bold(rng)
    data = np.asarray(img.dataobj).copy()
    data[7, 10, 8, 2] = np.nan
    data[7, 10, 9, :] = np.nan
    img = nib.Nifti1Image(data, img.affine)
    with pytest.warns(NonFiniteDataWarning, match="2 voxel"):
        signals = NiftiSpheresMasker(SEEDS, radius=3.0).fit_transform(img)
    assert np.isfinite(signals).all()


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("seeds", "match"),
    [
        ([(1.0, 2.0)], "seed #0 .* length 2 instead of 3"),
        ([(1.0, 2.0, 3.0), (1.0, np.nan, 3.0)], "seed #1 .*NaN"),
        ([(1.0, 2.0, 3.0), 4.0], "seed #1 is 4.0"),
        (5.0, "list of .*triplets"),
        ([], "empty list of seeds"),
        ([("a", 1, 2)], "non-numeric"),
    ],
)
def test_bad_seeds(bold, seeds, match):
    with pytest.raises(ValueError, match=match):
        NiftiSpheresMasker(seeds, radius=3.0).fit(bold)


def test_seed_outside_image(bold):
    with pytest.raises(ValueError, match=r"#1 \(500, 0, 0\).*outside the image"):
        NiftiSpheresMasker([SEEDS[0], (500.0, 0.0, 0.0)], radius=5.0).fit(bold)


def test_negative_radius(bold):
    with pytest.raises(InvalidParameterError, match=r"'radius'.*\[0, inf\).*Got -2"):
        NiftiSpheresMasker(SEEDS, radius=-2).fit(bold)


def test_agg_func_not_callable(bold):
    with pytest.raises(InvalidParameterError, match=r"'agg_func'.*a callable.*Got 3"):
        NiftiSpheresMasker(SEEDS, agg_func=3).fit(bold)
    with pytest.raises(InvalidParameterError, match="'agg_func'"):
        NiftiSpheresMasker(SEEDS, agg_func="mode").fit(bold)


def test_mask_of_another_shape_with_other_affine_is_resampled_not_silently_wrong(bold):
    # nilearn resamples the mask onto the image (nearest); a mask of another
    # shape on the same affine keeps the overlapping voxels.
    small = np.zeros((5, 6, 5), np.uint8)
    small[...] = 1
    mask = nib.Nifti1Image(small, make_affine())
    masker = NiftiSpheresMasker([(-24.0, -30.0, -21.0)], radius=3.0, mask_img=mask).fit(bold)
    assert masker.transform(bold).shape == (N_VOLUMES, 1)
    with pytest.raises(ValueError, match="outside the mask"):
        NiftiSpheresMasker([SEEDS[0]], radius=3.0, mask_img=mask).fit(bold)


def test_mask_4d_or_5d_rejected(bold):
    bad = nib.Nifti1Image(np.ones((*SHAPE, 2, 2), np.uint8), make_affine())
    with pytest.raises((ValueError, TypeError), match="mask_img"):
        NiftiSpheresMasker(SEEDS, mask_img=bad).fit()


def test_empty_mask(bold):
    empty = nib.Nifti1Image(np.zeros(SHAPE, np.uint8), make_affine())
    with pytest.raises(ValueError, match="mask is invalid as it is empty"):
        NiftiSpheresMasker(SEEDS, mask_img=empty).fit(bold)


def test_confounds_wrong_rows_before_decoding(bold, monkeypatch):
    from regionkit.maskers import _extract

    def never(*args, **kwargs):
        raise AssertionError("decoded before validating confounds")

    monkeypatch.setattr(_extract, "iter_blocks", never)
    masker = NiftiSpheresMasker(SEEDS, radius=3.0).fit()
    with pytest.raises(ValueError, match="confounds has 39 rows but the image has 40 volumes"):
        masker.transform(bold, confounds=np.zeros((39, 2)))


def test_confounds_non_numeric_column(bold, tmp_path):
    masker = NiftiSpheresMasker(SEEDS, radius=3.0).fit()
    frame = pd.DataFrame({"a": np.arange(N_VOLUMES, dtype=float), "kind": ["x"] * N_VOLUMES})
    with pytest.raises(ValueError, match="non-numeric column 'kind'"):
        masker.transform(bold, confounds=frame)
    path = tmp_path / "conf.tsv"
    frame.to_csv(path, sep="\t", index=False)
    with pytest.raises(ValueError, match="non-numeric column 'kind'"):
        masker.transform(bold, confounds=str(path))
    with pytest.raises(ValueError, match="must hold numbers"):
        masker.transform(bold, confounds=np.array([["a"]] * N_VOLUMES))


def test_confounds_whitespace_txt_equals_array(bold, tmp_path):
    confounds = np.random.default_rng(4).standard_normal((N_VOLUMES, 3))
    path = tmp_path / "motion.txt"  # FSL-style, whitespace separated, no header
    np.savetxt(path, confounds)
    masker = NiftiSpheresMasker(SEEDS, radius=3.0, detrend=True).fit()
    np.testing.assert_allclose(
        masker.transform(bold, confounds=str(path)),
        masker.transform(bold, confounds=confounds),
        rtol=1e-6,
    )


def test_confounds_missing_file(bold, tmp_path):
    masker = NiftiSpheresMasker(SEEDS, radius=3.0).fit()
    with pytest.raises(ValueError, match="does not exist"):
        masker.transform(bold, confounds=str(tmp_path / "nope.tsv"))


@pytest.mark.parametrize(
    ("sample_mask", "match"),
    [
        (np.array([0, 5, 40]), "index 40, out of range .* 40 volumes"),
        (np.array([-1, 3]), "index -1"),
        (np.ones(39, dtype=bool), "length 39 .* 40 volumes"),
        (np.ones((2, 20), dtype=int), "must be 1D"),
        (np.array([0.5, 1.5]), "booleans or integer"),
    ],
)
def test_bad_sample_mask(bold, sample_mask, match):
    masker = NiftiSpheresMasker(SEEDS, radius=3.0).fit()
    with pytest.raises(ValueError, match=match):
        masker.transform(bold, sample_mask=sample_mask)


def test_transform_before_fit(bold):
    with pytest.raises(NotFittedError):
        NiftiSpheresMasker(SEEDS).transform(bold)
    with pytest.raises(NotFittedError):
        NiftiSpheresMasker(SEEDS).get_feature_names_out()


def test_unknown_kwarg_rejected(bold):
    with pytest.raises(TypeError, match="unexpected keyword argument 'smoothing'"):
        NiftiSpheresMasker(SEEDS, smoothing=3).fit(bold)


@pytest.mark.parametrize(
    ("param", "value"),
    [("standardize", "zscore"), ("t_r", -1.0), ("dtype", bool), ("low_pass", 0), ("memory_level", -1)],
)
def test_bad_parameters_name_argument(bold, param, value):
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter of NiftiSpheresMasker"):
        NiftiSpheresMasker(SEEDS, **{param: value}).fit(bold)


# ----------------------------------------------------------------- streaming memory
def test_peak_memory_does_not_grow_with_run_length(tmp_path):
    import tracemalloc

    rng = np.random.default_rng(5)
    shape = (40, 48, 40)  # 300 KB per float32 volume
    affine = make_affine()
    seeds = [(-9.0, -6.0, -3.0), (-20.0, -10.0, 0.0)]
    masker = NiftiSpheresMasker(seeds, radius=6.0).fit()
    peaks = {}
    for n_volumes in (32, 256):
        path = tmp_path / f"run{n_volumes}.nii"
        data = rng.standard_normal((*shape, n_volumes)).astype(np.float32)
        nib.Nifti1Image(data, affine).to_filename(path)
        del data
        tracemalloc.start()
        masker.transform(path)
        peaks[n_volumes] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    run_bytes = 256 * np.prod(shape) * 4  # 78 MB if the run were loaded
    assert peaks[256] < 0.2 * run_bytes  # about two 16-volume blocks
    assert peaks[256] < 1.5 * peaks[32] + 1e6
