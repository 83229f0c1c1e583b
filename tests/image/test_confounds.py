"""high_variance_confounds: behaviour and bad input."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from regionkit.image import high_variance_confounds


@pytest.fixture
def noisy_run(affine_3mm, rng):
    n_t = 40
    data = 0.1 * rng.standard_normal((8, 8, 8, n_t)).astype(np.float32)
    wave = np.sin(np.linspace(0, 6 * np.pi, n_t)).astype(np.float32)
    data[:2, :2, :2] += 20 * wave  # 8 high-variance voxels follow one time course
    return nib.Nifti1Image(data, affine_3mm), wave


def test_recovers_dominant_time_course(noisy_run):
    img, wave = noisy_run
    confounds = high_variance_confounds(img, n_confounds=3, percentile=2.0)
    assert confounds.shape == (40, 3)
    np.testing.assert_allclose(np.linalg.norm(confounds, axis=0), 1.0, rtol=1e-4)
    t = np.arange(wave.size)
    detrended = wave - np.polyval(np.polyfit(t, wave, 1), t)
    corr = np.corrcoef(confounds[:, 0], detrended)[0, 1]
    assert abs(corr) > 0.999


def test_mask_selects_voxels(noisy_run, affine_3mm):
    img, wave = noisy_run
    mask = np.ones((8, 8, 8), np.uint8)
    mask[:2, :2, :2] = 0  # hide the signal
    confounds = high_variance_confounds(img, mask_img=nib.Nifti1Image(mask, affine_3mm))
    corr = np.corrcoef(confounds[:, 0], wave - wave.mean())[0, 1]
    assert abs(corr) < 0.6


def test_bad_inputs(noisy_run, affine_3mm):
    img, _ = noisy_run
    with pytest.raises(ValueError, match="'n_confounds'.*Got 0"):
        high_variance_confounds(img, n_confounds=0)
    with pytest.raises(ValueError, match="'percentile'.*Got 150"):
        high_variance_confounds(img, percentile=150)
    with pytest.raises(TypeError, match="imgs must be a 4D image"):
        high_variance_confounds(nib.Nifti1Image(np.zeros((4, 4, 4), np.float32), affine_3mm))
    wrong_grid = nib.Nifti1Image(np.ones((7, 8, 8), np.uint8), affine_3mm)
    with pytest.raises(ValueError, match=r"mask_img must be on the grid of imgs.*\(7, 8, 8\)"):
        high_variance_confounds(img, mask_img=wrong_grid)
