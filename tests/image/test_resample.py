"""resample_img / resample_to_img: behaviour, memory and bad input."""

from __future__ import annotations

import tracemalloc

import nibabel as nib
import numpy as np
import pytest

from regionkit import NonFiniteDataWarning, RegionkitWarning
from regionkit.image import BoundingBoxError, resample_img, resample_to_img


def _grid(voxel_size, origin=(-30.0, -36.0, -27.0)):
    """A diagonal affine anchored where the fixtures' images are."""
    affine = np.diag([voxel_size, voxel_size, voxel_size, 1.0])
    affine[:3, 3] = origin
    return affine


def test_identity_grid_returns_copy_or_same(img_4d):
    out = resample_img(img_4d, target_affine=img_4d.affine, target_shape=img_4d.shape[:3])
    assert out is not img_4d
    np.testing.assert_array_equal(out.get_fdata(), img_4d.get_fdata())
    same = resample_img(img_4d, img_4d.affine, img_4d.shape[:3], copy=False)
    assert same is img_4d
    assert resample_img(img_4d, copy=False) is img_4d


def test_integer_shift_nearest_is_exact(img_3d):
    target = img_3d.affine.copy()
    target[:3, 3] += 3.0 * np.array([2, -1, 0])  # 3 mm voxels: shift by (2, -1, 0) voxels
    out = resample_img(img_3d, target, img_3d.shape, interpolation="nearest")
    data = np.asarray(img_3d.dataobj)
    np.testing.assert_array_equal(out.get_fdata()[:-2, 1:, :], data[2:, :-1, :])
    assert np.all(out.get_fdata()[-2:] == 0)
    lean = resample_img(img_3d, target, img_3d.shape, force_resample=False)
    np.testing.assert_array_equal(lean.get_fdata(), out.get_fdata())


@pytest.mark.parametrize("interpolation", ["continuous", "linear", "nearest"])
@pytest.mark.parametrize(
    ("strides", "shifts", "shape"),
    [((2, 2, 2), (0, 0, 0), (5, 6, 5)), ((-2, 1, 3), (9, -2, 1), (7, 13, 4)), ((1, 1, 1), (3, -1, 2), (12, 12, 12))],
)
def test_target_on_source_voxel_centres_is_a_gather(img_4d, interpolation, strides, shifts, shape):
    from scipy import ndimage

    # target voxel v sits on source voxel strides * v + shifts: no interpolation needed
    transform = np.diag([*strides, 1.0])
    transform[:3, 3] = shifts
    target = img_4d.affine @ transform
    out = resample_img(img_4d, target, shape, interpolation=interpolation, clip=False, fill_value=-7.0)
    data = np.asarray(img_4d.dataobj)
    order = {"continuous": 3, "linear": 1, "nearest": 0}[interpolation]
    for t in (0, 5):
        expected = ndimage.affine_transform(
            data[..., t], np.array(strides, float), offset=np.array(shifts, float), output_shape=shape,
            order=order, cval=-7.0, output=np.float32,
        )
        np.testing.assert_array_equal(np.asarray(out.dataobj)[..., t], expected)
    assert np.any(np.asarray(out.dataobj) == -7.0) == (shape == (12, 12, 12) or strides[0] < 0)


def test_3x3_target_affine_covers_image(img_3d):
    out = resample_img(img_3d, target_affine=np.diag([2.0, 2.0, 2.0]))
    # voxel centres span 27x33x30 mm: ceil(span / 2) + 1 voxels of 2 mm
    assert out.shape == (15, 18, 16)
    np.testing.assert_allclose(out.affine[:3, 3], img_3d.affine[:3, 3])


def test_4d_output_dtype_order_and_clip(img_4d):
    out = resample_img(img_4d, _grid(4.0), (6, 6, 6), order="C")
    assert out.shape == (6, 6, 6, 20)
    data = np.asarray(out.dataobj)
    assert data.dtype == np.float32
    assert data.flags.c_contiguous
    src = np.asarray(img_4d.dataobj)
    assert data.min() >= min(src.min(), 0)
    assert data.max() <= max(src.max(), 0)


def test_int_data_continuous_is_cast_with_warning(affine_3mm, rng):
    img = nib.Nifti1Image(rng.integers(0, 100, (6, 7, 8)).astype(np.int16), affine_3mm)
    with pytest.warns(RegionkitWarning, match="casting data from int16 to float32"):
        out = resample_img(img, _grid(2.0), (5, 5, 5))
    assert out.dataobj.dtype == np.float32
    nearest = resample_img(img, _grid(2.0), (5, 5, 5), interpolation="nearest")
    assert nearest.dataobj.dtype == np.int16


def test_binary_continuous_warns(affine_3mm):
    data = np.zeros((6, 6, 6), np.float32)
    data[2:4, 2:4, 2:4] = 1
    with pytest.warns(RegionkitWarning, match="binary image"):
        resample_img(nib.Nifti1Image(data, affine_3mm), _grid(2.0), (6, 6, 6))


def test_nan_voxels_warn_and_stay_nan(img_3d):
    data = np.asarray(img_3d.dataobj).copy()
    data[4, 5, 6] = np.nan
    img = nib.Nifti1Image(data, img_3d.affine)
    target = img.affine.copy()
    target[:3, 3] += 0.1  # a tenth of a voxel: nearest keeps every voxel in place
    with pytest.warns(NonFiniteDataWarning, match="1 voxels hold NaN or inf"):
        out = resample_img(img, target, img.shape, interpolation="nearest")
    out_data = out.get_fdata()
    assert np.isnan(out_data[4, 5, 6])
    assert np.isfinite(np.delete(out_data.ravel(), np.ravel_multi_index((4, 5, 6), data.shape))).all()
    assert np.isnan(data[4, 5, 6])  # input untouched


def test_input_not_modified(img_4d):
    before = np.asarray(img_4d.dataobj).copy()
    resample_img(img_4d, _grid(2.0), (8, 8, 8))
    np.testing.assert_array_equal(np.asarray(img_4d.dataobj), before)


def test_resample_to_img_uses_target_grid(img_4d, oblique):
    oblique = oblique.copy()
    oblique[:3, 3] = [-25.0, -30.0, -20.0]
    target = nib.Nifti1Image(np.zeros((7, 8, 9, 2), np.float32), oblique)
    out = resample_to_img(img_4d, target)
    assert out.shape == (7, 8, 9, 20)
    np.testing.assert_array_equal(out.affine, oblique)


def test_4d_is_memory_lean(affine_3mm, rng):
    data = rng.standard_normal((24, 24, 24, 30)).astype(np.float32)  # 1.6 MB
    img = nib.Nifti1Image(data, affine_3mm)
    target = affine_3mm.copy()
    target[:3, 3] += 0.5
    tracemalloc.start()
    resample_img(img, target, data.shape[:3], interpolation="linear")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # output (1.6 MB) plus a few volumes of working memory; never a copy of the input
    assert peak < data.nbytes * 1.35, peak


def test_file_backed_4d(nii_4d, nii_gz_4d, img_4d):
    target = _grid(4.0)
    expected = resample_img(img_4d, target, (6, 6, 6)).get_fdata()
    for path in (nii_4d, nii_gz_4d):
        np.testing.assert_array_equal(resample_img(path, target, (6, 6, 6)).get_fdata(), expected)


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"target_shape": (4, 4, 4)}, ValueError, "needs a target_affine"),
        ({"target_affine": np.eye(3), "target_shape": (4, 4, 4)}, ValueError, "4x4 target_affine"),
        ({"target_affine": np.eye(4), "target_shape": (4, 4)}, ValueError, "length 3"),
        ({"target_affine": np.eye(2)}, ValueError, "3x3 or 4x4"),
        ({"target_affine": np.eye(4), "interpolation": "cubic"}, ValueError, "'interpolation'.*'cubic'"),
    ],
)
def test_bad_parameters(img_3d, kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        resample_img(img_3d, **kwargs)


def test_disjoint_field_of_view(img_3d):
    target = np.eye(4)
    target[:3, 3] = 1000.0
    with pytest.raises(BoundingBoxError, match="holds none of img"):
        resample_img(img_3d, target)
