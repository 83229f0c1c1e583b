"""Small synthetic data for the region kernels (nothing is downloaded)."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter


def smooth_masked_data(shape, n_samples, mask, seed=0, sigma=1.5):
    """Spatially smooth random signals, masked: (n_samples, n_voxels) float32."""
    rng = np.random.default_rng(seed)
    volumes = gaussian_filter(
        rng.standard_normal((*shape, n_samples)), (sigma, sigma, sigma, 0)
    )
    return np.ascontiguousarray(volumes[mask].T, dtype=np.float32)


def ica_like_maps(shape, n_maps, seed=0, cutoff=1.2, sigma=2.5, signed=True):
    """Smooth random maps, thresholded: several blobs per map, +/- signs."""
    rng = np.random.default_rng(seed)
    maps = np.zeros((*shape, n_maps), dtype=np.float32)
    for k in range(n_maps):
        volume = gaussian_filter(rng.standard_normal(shape), sigma)
        volume /= volume.std()
        if not signed:
            volume = np.abs(volume)
        volume[np.abs(volume) < cutoff] = 0
        maps[..., k] = volume
    return maps


@pytest.fixture
def grid_mask():
    mask = np.zeros((10, 12, 11), dtype=bool)
    mask[1:-1, 2:-2, 1:-1] = True
    mask[4, 5, 3] = False
    return mask


@pytest.fixture
def grid_data(grid_mask):
    return smooth_masked_data(grid_mask.shape, 30, grid_mask)


@pytest.fixture
def maps_img():
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    return nib.Nifti1Image(ica_like_maps((16, 18, 15), 3), affine)


@pytest.fixture(autouse=True)
def _one_thread():
    """scikit-learn's k-means spins OpenMP threads: on a shared 2-core
    machine that turns 0.3 s into a minute. One thread per test process."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield
