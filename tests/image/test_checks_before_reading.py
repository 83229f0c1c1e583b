"""Bad arguments are reported before any voxel data is read."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

import regionkit.image as ri


@pytest.fixture
def unreadable_4d(tmp_path, img_4d):
    """A file-backed image whose file is gone: any attempt to read data fails."""
    path = tmp_path / "gone.nii"
    nib.save(img_4d, path)
    img = nib.load(path)
    path.unlink()
    return img


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        (lambda img: ri.resample_img(img, target_shape=(3, 3, 3)), ValueError, "needs a target_affine"),
        (lambda img: ri.resample_img(img, np.eye(4), interpolation="spline"), ValueError, "interpolation"),
        (lambda img: ri.smooth_img(img, -3.0), ValueError, "fwhm"),
        (lambda img: ri.threshold_img(img, "95"), ValueError, "followed by '%'"),
        (lambda img: ri.threshold_img(img, 1.0, cluster_threshold=-2), ValueError, "cluster_threshold"),
        (lambda img: ri.index_img(img, 99), IndexError, "index must be in"),
        (lambda img: ri.high_variance_confounds(img, n_confounds=0), ValueError, "n_confounds"),
        (
            lambda img: ri.high_variance_confounds(
                img, mask_img=nib.Nifti1Image(np.ones((3, 3, 3), np.uint8), np.eye(4))
            ),
            ValueError,
            "mask_img must be on the grid of imgs",
        ),
        (
            lambda img: ri.threshold_img(
                img, 1.0, mask_img=nib.Nifti1Image(np.zeros(img.shape[:3], np.uint8), img.affine)
            ),
            ValueError,
            "mask_img is empty",
        ),
        (lambda img: ri.check_niimg(img, ensure_ndim=3, name="mask_img"), TypeError, "mask_img must be a 3D image"),
    ],
)
def test_error_before_data_is_read(unreadable_4d, call, error, fragment):
    with pytest.raises(error, match=fragment):
        call(unreadable_4d)
    # the same image does fail once data are needed: the fixture really is unreadable
    with pytest.raises(OSError):
        np.asarray(unreadable_4d.dataobj)
