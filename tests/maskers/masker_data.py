"""Tiny synthetic images shared by the masker tests (nothing is downloaded)."""

from __future__ import annotations

import nibabel as nib
import numpy as np
from scipy import ndimage

SHAPE = (10, 12, 11)
N_VOLUMES = 40


def make_affine():
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    affine[:3, 3] = [-30.0, -36.0, -27.0]
    return affine


# World coordinates inside the 10 x 12 x 11 grid (x in [-30, -3], y in [-36, -3],
# z in [-27, 3]); some on voxel centres, some between them.
SEEDS = [(-9.0, -6.0, -3.0), (-20.5, -10.0, 0.4), (-15.0, -25.2, -6.0), (-24.0, -30.0, -21.0)]


def make_bold(rng, n_volumes=N_VOLUMES, shape=SHAPE, dtype=np.float32):
    """Smooth-ish 4D data with a baseline, so psc/zscore are meaningful."""
    base = 100 + 10 * rng.standard_normal(shape)
    signal = rng.standard_normal((*shape, n_volumes)).cumsum(axis=3) * 0.5
    data = base[..., np.newaxis] + signal + rng.standard_normal((*shape, n_volumes))
    return nib.Nifti1Image(data.astype(dtype), make_affine())


def make_mask(rng, shape=SHAPE, fraction=0.8):
    mask = rng.random(shape) < fraction
    return nib.Nifti1Image(mask.astype(np.uint8), make_affine())


def make_maps(n_maps=3, seed=1):
    """Sparse, smoothed, non-negative probabilistic maps on the SHAPE grid."""
    rng = np.random.default_rng(seed)
    maps = np.stack(
        [ndimage.gaussian_filter(rng.random(SHAPE) * (rng.random(SHAPE) < 0.2), 1.0)
         for _ in range(n_maps)],
        axis=-1,
    )
    return nib.Nifti1Image(maps.astype(np.float32), make_affine())
