"""Labels, maps and Nifti maskers: behaviour, coverage, and bad input with clear errors."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from masker_data import SHAPE, make_affine, make_bold, make_maps
from sklearn.exceptions import NotFittedError

from regionkit import EmptyRegionWarning, RegionkitWarning
from regionkit.maskers import MultiNiftiMasker, NiftiLabelsMasker, NiftiMapsMasker, NiftiMasker

N_VOLUMES = 20


@pytest.fixture
def img():
    return make_bold(np.random.default_rng(0), n_volumes=N_VOLUMES)


def _labels(dtype=np.int16):
    labels = np.zeros(SHAPE, dtype=dtype)
    labels[:4] = 300
    labels[4:7, :6] = 7
    labels[7:, 6:] = 1000
    return nib.Nifti1Image(labels, make_affine())


def _shifted_affine():
    affine = make_affine()
    affine[:3, 3] += 1.5
    return affine


MASKERS = {
    "labels": lambda **kw: NiftiLabelsMasker(_labels(), **kw),
    "maps": lambda **kw: NiftiMapsMasker(make_maps(), **kw),
    "nifti": lambda **kw: NiftiMasker(mask_img=nib.Nifti1Image(np.ones(SHAPE, np.uint8),
                                                               make_affine()), **kw),
}
ALL = pytest.mark.parametrize("make", list(MASKERS.values()), ids=list(MASKERS))


# ---------------------------------------------------------------- behaviour
def test_labels_strategies_against_brute_force(img):
    data = np.asarray(img.dataobj, dtype=np.float64)
    labels = np.asarray(_labels().dataobj)
    functions = {
        "mean": np.mean, "median": np.median, "sum": np.sum, "minimum": np.min,
        "maximum": np.max, "standard_deviation": np.std, "variance": np.var,
    }
    for strategy, function in functions.items():
        masker = NiftiLabelsMasker(_labels(), strategy=strategy).fit(img)
        signals = masker.transform(img)
        for column, label in enumerate([7, 300, 1000]):
            expected = function(data[labels == label], axis=0)
            np.testing.assert_allclose(signals[:, column], expected, rtol=2e-6, atol=1e-4)
    assert masker.region_ids_ == {"background": 0, 0: 7, 1: 300, 2: 1000}
    assert masker.labels_ == [0, 7, 300, 1000]


def test_labels_coverage_counts_mask_and_field_of_view(img):
    mask = np.ones(SHAPE, np.uint8)
    mask[:2] = 0  # half of label 300 (x in 0..3)
    masker = NiftiLabelsMasker(_labels(), mask_img=nib.Nifti1Image(mask, make_affine()))
    masker.fit(img)
    np.testing.assert_allclose(masker.region_coverage_, [1.0, 0.5, 1.0])
    # data covering only x < 7: label 1000 (x >= 7) leaves the field of view
    small = nib.Nifti1Image(np.asarray(img.dataobj)[:7], img.affine)
    with pytest.warns(EmptyRegionWarning, match="1000"):
        masker = NiftiLabelsMasker(_labels(), keep_masked_labels=True).fit(small)
    np.testing.assert_allclose(masker.region_coverage_, [1.0, 1.0, 0.0])


def test_labels_columns_never_shift_on_a_new_grid(img):
    """A region missing on another subject's grid gives a NaN column, not a shift."""
    masker = NiftiLabelsMasker(_labels()).fit(img)
    small = nib.Nifti1Image(np.asarray(img.dataobj)[:7], img.affine)
    with pytest.warns(EmptyRegionWarning, match="1000"):
        signals = masker.transform(small)
    assert signals.shape == (N_VOLUMES, 3)
    assert np.isnan(signals[:, 2]).all() and np.isfinite(signals[:, :2]).all()


def test_maps_coverage_is_the_weight_inside_the_mask(img):
    mask = np.ones(SHAPE, np.uint8)
    mask[:5] = 0
    maps = np.asarray(make_maps().dataobj, dtype=np.float64)
    masker = NiftiMapsMasker(make_maps(), mask_img=nib.Nifti1Image(mask, make_affine())).fit(img)
    expected = np.abs(maps[5:]).sum(axis=(0, 1, 2)) / np.abs(maps).sum(axis=(0, 1, 2))
    np.testing.assert_allclose(masker.region_coverage_, expected, rtol=1e-6)


def test_maps_match_numpy_lstsq(img):
    maps = np.asarray(make_maps().dataobj, dtype=np.float64).reshape(-1, 3)
    data = np.asarray(img.dataobj, dtype=np.float64).reshape(-1, N_VOLUMES)
    expected = np.linalg.lstsq(maps, data, rcond=None)[0].T
    signals = NiftiMapsMasker(make_maps()).fit_transform(img)
    np.testing.assert_allclose(signals, expected, rtol=1e-5, atol=1e-4)


def test_nifti_masker_gathers_c_order_into_float32(img):
    mask = np.zeros(SHAPE, bool)
    mask[2:5, 3:9, 1:4] = True
    masker = NiftiMasker(mask_img=nib.Nifti1Image(mask.astype(np.uint8), make_affine()))
    signals = masker.fit_transform(img)
    assert signals.dtype == np.float32 and signals.flags.c_contiguous
    np.testing.assert_array_equal(signals, np.asarray(img.dataobj)[mask].T)
    np.testing.assert_array_equal(masker.region_coverage_, np.ones(mask.sum()))


def test_unsupported_mask_args_warn(img):
    with pytest.warns(RegionkitWarning, match="not_an_argument"):
        NiftiMasker(mask_args={"not_an_argument": 1, "border_size": 1}).fit(img)


# ---------------------------------------------------------------- bad input
def test_labels_with_non_integer_values():
    labels = np.asarray(_labels().dataobj).astype(np.float32)
    labels[0, 0, 0] = 2.5
    with pytest.raises(ValueError, match=r"labels_img must hold whole-number labels.*2\.5"):
        NiftiLabelsMasker(nib.Nifti1Image(labels, make_affine())).fit()


def test_labels_4d_rejected():
    labels = np.stack([np.asarray(_labels().dataobj)] * 2, axis=-1)
    with pytest.raises(TypeError, match="labels_img"):
        NiftiLabelsMasker(nib.Nifti1Image(labels, make_affine())).fit()


def test_labels_only_background():
    empty = nib.Nifti1Image(np.zeros(SHAPE, np.int16), make_affine())
    with pytest.raises(ValueError, match="Image has no label"):
        NiftiLabelsMasker(empty).fit()


def test_labels_names_checks():
    with pytest.raises(ValueError, match="not both"):
        NiftiLabelsMasker(_labels(), labels=["a"], lut=pd.DataFrame({"index": [1], "name": ["a"]})).fit()
    with pytest.raises(TypeError, match="must be a string"):
        NiftiLabelsMasker(_labels(), labels=["a", 2]).fit()


@pytest.mark.parametrize(
    "cls,region_img", [(NiftiLabelsMasker, _labels), (NiftiMapsMasker, make_maps)]
)
def test_regions_on_another_grid_with_resampling_target_none(cls, region_img, img):
    moved = region_img()
    moved = nib.Nifti1Image(np.asarray(moved.dataobj), _shifted_affine())
    with pytest.raises(ValueError, match=r"resampling_target=None.*same shape and affine"):
        cls(moved, resampling_target=None).fit(img)
    fitted = cls(moved, resampling_target=None).fit()
    with pytest.raises(ValueError, match="resampling_target=None"):
        fitted.transform(img)


@pytest.mark.parametrize(
    "cls,region_img", [(NiftiLabelsMasker, _labels), (NiftiMapsMasker, make_maps)]
)
def test_mask_of_another_shape_with_resampling_target_none(cls, region_img, img):
    mask = nib.Nifti1Image(np.ones((8, 8, 8), np.uint8), make_affine())
    with pytest.raises(ValueError, match=r"mask_img: shape \(8, 8, 8\)"):
        cls(region_img(), mask_img=mask, resampling_target=None).fit(img)


def test_maps_resampling_target_mask_needs_a_mask():
    with pytest.raises(ValueError, match="no mask has been provided"):
        NiftiMapsMasker(make_maps(), resampling_target="mask").fit()


def test_invalid_parameters_name_the_value():
    with pytest.raises(ValueError, match=r"'strategy'.*Got 'average'"):
        NiftiLabelsMasker(_labels(), strategy="average").fit()
    with pytest.raises(ValueError, match=r"'resampling_target'.*Got 'maps'"):
        NiftiLabelsMasker(_labels(), resampling_target="maps").fit()
    with pytest.raises(ValueError, match=r"'mask_strategy'.*Got 'magic'"):
        NiftiMasker(mask_strategy="magic").fit()


@ALL
def test_confounds_with_wrong_row_count(make, img):
    masker = make().fit(img)
    with pytest.raises(ValueError, match=f"7 rows but the image has {N_VOLUMES} volumes"):
        masker.transform(img, confounds=np.ones((7, 2)))


@ALL
def test_confounds_with_non_numeric_column(make, img):
    masker = make().fit(img)
    frame = pd.DataFrame({"motion": np.arange(N_VOLUMES, dtype=float), "tag": ["a"] * N_VOLUMES})
    with pytest.raises(ValueError, match="non-numeric column 'tag'"):
        masker.transform(img, confounds=frame)


@ALL
def test_sample_mask_out_of_range_or_wrong_length(make, img):
    masker = make().fit(img)
    with pytest.raises(ValueError, match="volume index 25, out of range"):
        masker.transform(img, sample_mask=np.array([0, 1, 25]))
    with pytest.raises(ValueError, match="length 5"):
        masker.transform(img, sample_mask=np.ones(5, dtype=bool))


@ALL
def test_transform_before_fit(make, img):
    with pytest.raises(NotFittedError):
        make().transform(img)


@ALL
def test_empty_mask(make, img):
    masker = make()
    empty = nib.Nifti1Image(np.zeros(SHAPE, np.uint8), make_affine())
    masker.set_params(mask_img=empty)
    with pytest.raises(ValueError, match="empty"):
        masker.fit(img)


def test_no_region_left_after_mask(img):
    mask = np.zeros(SHAPE, np.uint8)
    mask[5, 8, 0] = 1  # background voxel of the labels
    labels_mask = nib.Nifti1Image(mask, make_affine())
    with pytest.raises(ValueError, match="No label left after applying mask"):
        NiftiLabelsMasker(_labels(), mask_img=labels_mask).fit(img)
    zero_maps = nib.Nifti1Image(np.zeros((*SHAPE, 2), np.float32), make_affine())
    with pytest.raises(ValueError, match="maps_img contains no map"):
        NiftiMapsMasker(zero_maps).fit(img)


def test_nifti_masker_needs_images_or_mask():
    with pytest.raises(ValueError, match="'imgs' must be provided"):
        NiftiMasker().fit()


def test_multi_nifti_masker_list_arguments(img):
    masker = MultiNiftiMasker(mask_img=MASKERS["nifti"]().mask_img).fit()
    with pytest.raises(TypeError, match="'confounds' must be None or a list"):
        masker.transform([img, img], confounds=np.ones((N_VOLUMES, 1)))
    with pytest.raises(ValueError, match=r"number of confounds \(1\) unequal to number of images \(2\)"):
        masker.transform([img, img], confounds=[None])
