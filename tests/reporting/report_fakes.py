"""Tiny synthetic atlas data for the report tests, and one stand-in estimator.

Every estimator is now tested through its real class; the remaining stand-in
(a labels masker without ``lut_``) exercises the fallback for estimators that
expose only a label image.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

# 6 mm grid over the MNI152 field of view: small, and lands on the template.
AFFINE = np.diag([6.0, 6.0, 6.0, 1.0])
AFFINE[:3, 3] = [-72.0, -108.0, -66.0]
SHAPE = (25, 31, 25)


def world_to_voxel(xyz):
    """Voxel index (ints) of a world coordinate on the fake grid."""
    inverse = np.linalg.inv(AFFINE)
    return tuple(int(v) for v in np.rint(inverse[:3, :3] @ np.asarray(xyz, float) + inverse[:3, 3]))


def box(center_mm, half_width):
    """Slices of a cube of (2 * half_width + 1) voxels around a world point."""
    i, j, k = world_to_voxel(center_mm)
    h = half_width
    return slice(i - h, i + h + 1), slice(j - h, j + h + 1), slice(k - h, k + h + 1)


def labels_data():
    """Labels 1, 2, 5 inside the mask, 7 straddling its edge, 9 outside it."""
    labels = np.zeros(SHAPE, dtype=np.int16)
    labels[box((-30, -20, 10), 2)] = 1  # 125 voxels
    labels[box((30, -20, 10), 1)] = 2  # 27 voxels
    labels[box((0, 30, 0), 1)] = 5  # 27 voxels
    labels[box((0, -60, 40), 1)] = 7  # 27 voxels, only its bottom slab (9) in the mask
    labels[box((0, 0, 60), 1)] = 9  # 27 voxels, all above the mask
    return labels


def mask_data():
    """Mask: everything below z = 42 mm."""
    mask = np.ones(SHAPE, dtype=np.int8)
    top = world_to_voxel((0, 0, 40))[2]
    mask[:, :, top:] = 0
    return mask


def nifti(data):
    return nib.Nifti1Image(np.asarray(data), AFFINE)


class NiftiLabelsMasker(BaseEstimator):
    """Stand-in with nilearn's fitted attributes (labels_img_, lut_, mask_img_)."""

    def __init__(self, labels_img=None, mask_img=None, background_label=0, reports=True):
        self.labels_img = labels_img
        self.mask_img = mask_img
        self.background_label = background_label
        self.reports = reports

    def fit(self, names=("left", "right", "front", "top", "absent")):
        self.labels_img_ = nifti(labels_data())
        self.mask_img_ = None if self.mask_img is None else nifti(mask_data())
        self.lut_ = pd.DataFrame(
            {"index": [0, 1, 2, 5, 7, 9], "name": ["Background", *names]}
        )
        return self


def maps_data():
    """Four maps: two Gaussian blobs, one negative blob, one all-zero map."""
    ijk = np.indices(SHAPE).reshape(3, -1).T
    world = ijk @ AFFINE[:3, :3].T + AFFINE[:3, 3]
    maps = np.zeros((*SHAPE, 4), dtype=np.float32)
    for position, (center, sign) in enumerate(
        [((-30, -20, 10), 1.0), ((30, 20, 0), 1.0), ((0, -50, 20), -1.0)]
    ):
        distance2 = ((world - np.asarray(center)) ** 2).sum(axis=1)
        blob = sign * np.exp(-distance2 / (2 * 10.0**2))
        blob[np.abs(blob) < 0.05] = 0
        maps[..., position] = blob.reshape(SHAPE)
    return maps
