"""threshold_img: behaviour and bad input."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from regionkit import NonFiniteDataWarning, RegionkitWarning
from regionkit.image import threshold_img


@pytest.fixture
def stat_img(affine_3mm):
    data = np.zeros((8, 8, 8), np.float32)
    data[1:3, 1:3, 1:3] = 5.0  # 8-voxel positive cluster
    data[5, 5, 5] = 4.0  # single positive voxel
    data[5:7, 1:3, 5] = -6.0  # 4-voxel negative cluster
    data[0, 7, 0] = 0.5
    return nib.Nifti1Image(data, affine_3mm)


def test_two_sided_and_one_sided(stat_img):
    data = stat_img.get_fdata()
    two = threshold_img(stat_img, 3.0).get_fdata()
    np.testing.assert_array_equal(two, np.where(np.abs(data) >= 3.0, data, 0))
    pos = threshold_img(stat_img, 3.0, two_sided=False).get_fdata()
    np.testing.assert_array_equal(pos, np.where(data >= 3.0, data, 0))
    neg = threshold_img(stat_img, -3.0, two_sided=False).get_fdata()
    np.testing.assert_array_equal(neg, np.where(data <= -3.0, data, 0))


def test_cluster_threshold_per_sign(stat_img):
    out = threshold_img(stat_img, 3.0, cluster_threshold=4).get_fdata()
    assert out[5, 5, 5] == 0  # 1 voxel < 4
    assert (out[1:3, 1:3, 1:3] == 5).all()
    assert (out[5:7, 1:3, 5] == -6).all()  # exactly 4 voxels: kept
    out = threshold_img(stat_img, 3.0, cluster_threshold=5).get_fdata()
    assert (out[5:7, 1:3, 5] == 0).all()


def test_percentile(stat_img):
    data = stat_img.get_fdata()
    out = threshold_img(stat_img, "99%").get_fdata()
    cutoff = np.percentile(np.abs(data), 99) + 1e-5
    np.testing.assert_array_equal(out, np.where(np.abs(data) >= cutoff, data, 0))


def test_mask_restricts_values_and_percentile(stat_img, affine_3mm):
    mask = np.zeros((8, 8, 8), np.uint8)
    mask[:4] = 1
    out = threshold_img(stat_img, "0%", mask_img=nib.Nifti1Image(mask, affine_3mm)).get_fdata()
    assert (out[4:] == 0).all()
    assert (out[1:3, 1:3, 1:3] == 5).all()


def test_nan_and_input_untouched(stat_img):
    data = stat_img.get_fdata().astype(np.float32)
    data[7, 7, 7] = np.nan
    img = nib.Nifti1Image(data, stat_img.affine)
    with pytest.warns(NonFiniteDataWarning, match="1 voxels"):
        out = threshold_img(img, 1.0).get_fdata()
    assert out[7, 7, 7] == 0
    assert np.isnan(np.asarray(img.dataobj)[7, 7, 7])


def test_4d(stat_img):
    data = np.stack([stat_img.get_fdata(), -stat_img.get_fdata()], axis=-1).astype(np.float32)
    out = threshold_img(nib.Nifti1Image(data, stat_img.affine), 3.0, cluster_threshold=4).get_fdata()
    assert out.shape == (8, 8, 8, 2)
    np.testing.assert_array_equal(out[..., 1], -out[..., 0])


def test_threshold_above_max_warns(stat_img):
    with pytest.warns(RegionkitWarning, match="exceeds the largest value"):
        out = threshold_img(stat_img, 100.0).get_fdata()
    assert not out.any()


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"threshold": "90"}, ValueError, "followed by '%'.*'90'"),
        ({"threshold": "abc%"}, ValueError, "followed by '%'"),
        ({"threshold": "-5%", "two_sided": False}, ValueError, "negative percentile"),
        ({"threshold": -1.0}, ValueError, "negative when two_sided=True"),
        ({"threshold": [1.0]}, TypeError, "number or a string"),
        ({"threshold": 1.0, "cluster_threshold": -1}, ValueError, "cluster_threshold"),
    ],
)
def test_bad_parameters(stat_img, kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        threshold_img(stat_img, **kwargs)


def test_bad_img_and_mask(stat_img, affine_3mm):
    with pytest.raises(TypeError, match="img must be a 3D/4D NIfTI image.*list"):
        threshold_img([stat_img], 1.0)
    three_values = nib.Nifti1Image(np.arange(512, dtype=np.int16).reshape(8, 8, 8) % 3, affine_3mm)
    with pytest.raises(ValueError, match="mask_img must hold two values"):
        threshold_img(stat_img, 1.0, mask_img=three_values)
    empty = nib.Nifti1Image(np.zeros((8, 8, 8), np.uint8), affine_3mm)
    with pytest.raises(ValueError, match="mask_img is empty"):
        threshold_img(stat_img, 1.0, mask_img=empty)
