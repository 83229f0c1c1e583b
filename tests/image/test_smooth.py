"""smooth_img / smooth_array: behaviour and bad input."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from regionkit import NonFiniteDataWarning, RegionkitWarning
from regionkit.image import smooth_array, smooth_img
from regionkit.image._smooth import fwhm_to_sigma

SIGMA_PER_FWHM = 1 / np.sqrt(8 * np.log(2))


def test_sigma_uses_voxel_size_per_axis_and_oblique(oblique):
    sigma = fwhm_to_sigma(6.0, oblique)
    np.testing.assert_allclose(sigma, 6.0 * SIGMA_PER_FWHM / np.array([2.0, 2.5, 3.0]))
    np.testing.assert_allclose(
        fwhm_to_sigma([6.0, None, 3.0], np.diag([2.0, 2.0, 1.5, 1.0])),
        [3.0 * SIGMA_PER_FWHM, 0.0, 2.0 * SIGMA_PER_FWHM],
    )


def test_matches_separable_gaussian(img_3d):
    data = np.asarray(img_3d.dataobj)
    out = smooth_img(img_3d, 6.0).get_fdata()
    expected = gaussian_filter(data.astype(np.float64), 6.0 * SIGMA_PER_FWHM / 3.0)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_4d_smooths_space_not_time(img_4d):
    out = smooth_img(img_4d, 5.0)
    data = np.asarray(out.dataobj)
    assert data.dtype == np.float32
    first = smooth_img(nib.Nifti1Image(np.asarray(img_4d.dataobj)[..., 3], img_4d.affine), 5.0)
    np.testing.assert_allclose(data[..., 3], first.get_fdata(), rtol=1e-6, atol=1e-7)


def test_constant_stays_constant_inside(affine_3mm):
    data = np.full((9, 9, 9), 2.5, np.float32)
    out = smooth_img(nib.Nifti1Image(data, affine_3mm), 4.0).get_fdata()
    np.testing.assert_allclose(out, 2.5, rtol=1e-5)
    fast = smooth_img(nib.Nifti1Image(data, affine_3mm), "fast").get_fdata()
    np.testing.assert_allclose(fast[1:-1, 1:-1, 1:-1], 2.5, rtol=1e-6)


def test_none_and_zero(img_3d):
    np.testing.assert_array_equal(smooth_img(img_3d, None).get_fdata(), img_3d.get_fdata())
    with pytest.warns(RegionkitWarning, match="fwhm=0"):
        out = smooth_img(img_3d, 0)
    np.testing.assert_array_equal(out.get_fdata(), img_3d.get_fdata())


def test_nan_is_zeroed_with_warning_and_input_kept(img_3d):
    data = np.asarray(img_3d.dataobj).copy()
    data[1, 2, 3] = np.nan
    data[4, 4, 4] = np.inf
    img = nib.Nifti1Image(data, img_3d.affine)
    with pytest.warns(NonFiniteDataWarning, match="2 voxels hold NaN or inf"):
        out = smooth_img(img, 3.0).get_fdata()
    assert np.isfinite(out).all()
    assert np.isnan(np.asarray(img.dataobj)[1, 2, 3])


def test_list_in_list_out(img_3d, nii_4d):
    out = smooth_img([img_3d, nii_4d], 4.0)
    assert [o.shape for o in out] == [img_3d.shape, (10, 12, 11, 20)]


def test_smooth_array_int_and_copy(affine_3mm):
    ints = np.arange(27, dtype=np.int16).reshape(3, 3, 3)
    out = smooth_array(ints, affine_3mm, 3.0)
    assert out.dtype == np.float32
    floats = np.arange(27, dtype=np.float32).reshape(3, 3, 3)
    same = smooth_array(floats, affine_3mm, 3.0, copy=False)
    assert same is floats


@pytest.mark.parametrize("fwhm", ["slow", -2.0, [1.0, 2.0], np.nan, True])
def test_bad_fwhm(img_3d, fwhm):
    with pytest.raises(ValueError, match="fwhm"):
        smooth_img(img_3d, fwhm)
