"""Tiny synthetic images for the regionkit.image tests (nothing is downloaded)."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest


def oblique_affine(voxel_sizes=(2.0, 2.5, 3.0), degrees=(10.0, -7.0, 20.0), origin=(-10.0, 5.0, 3.0)):
    """A rotated affine with anisotropic voxels."""
    ax, ay, az = np.deg2rad(degrees)
    rot_x = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    rot_y = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rot_z = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    affine = np.eye(4)
    affine[:3, :3] = rot_z @ rot_y @ rot_x @ np.diag(voxel_sizes)
    affine[:3, 3] = origin
    return affine


@pytest.fixture
def oblique():
    return oblique_affine()


@pytest.fixture
def data_4d(rng):
    return rng.standard_normal((10, 12, 11, 20)).astype(np.float32)


@pytest.fixture
def img_4d(data_4d, affine_3mm):
    return nib.Nifti1Image(data_4d, affine_3mm)


@pytest.fixture
def img_3d(data_4d, affine_3mm):
    return nib.Nifti1Image(data_4d[..., 0].copy(), affine_3mm)


@pytest.fixture
def oblique_4d(data_4d, oblique):
    return nib.Nifti1Image(data_4d[..., :5].copy(), oblique)


@pytest.fixture
def nii_gz_4d(tmp_path, img_4d):
    path = tmp_path / "run.nii.gz"
    nib.save(img_4d, path)
    return path


@pytest.fixture
def nii_4d(tmp_path, img_4d):
    path = tmp_path / "run.nii"
    nib.save(img_4d, path)
    return path
