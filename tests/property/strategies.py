"""Reusable hypothesis strategies for images: affines (incl. oblique) and small volumes.

Import them from any test::

    sys.path.insert(0, str(Path(__file__).parents[1] / "property"))  # from a test file
    from strategies import affines, images_3d, images_4d

All images are small (at most 9 voxels a side, 6 volumes) float32 Nifti1Images,
so a strategy draw costs microseconds.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
from hypothesis import strategies as st

__all__ = [
    "affines",
    "diagonal_affines",
    "float32_arrays",
    "images_3d",
    "images_4d",
    "oblique_affines",
    "rotations",
    "shapes_3d",
    "voxel_sizes",
]

voxel_sizes = st.tuples(*[st.floats(0.8, 4.0, allow_nan=False)] * 3)
origins = st.tuples(*[st.floats(-40.0, 40.0, allow_nan=False)] * 3)


@st.composite
def rotations(draw, max_degrees: float = 35.0) -> np.ndarray:
    """A 3x3 rotation matrix (Euler angles up to ``max_degrees`` each)."""
    angles = np.deg2rad(
        [draw(st.floats(-max_degrees, max_degrees, allow_nan=False)) for _ in range(3)]
    )
    cx, cy, cz = np.cos(angles)
    sx, sy, sz = np.sin(angles)
    rot_x = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    rot_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rot_z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rot_z @ rot_y @ rot_x


def _affine(linear: np.ndarray, origin) -> np.ndarray:
    affine = np.eye(4)
    affine[:3, :3] = linear
    affine[:3, 3] = origin
    return affine


@st.composite
def diagonal_affines(draw, allow_flips: bool = True) -> np.ndarray:
    """Axis-aligned 4x4 affines with per-axis voxel sizes, optionally flipped axes."""
    sizes = np.array(draw(voxel_sizes), dtype=np.float64)
    if allow_flips:
        signs = np.array(draw(st.tuples(*[st.sampled_from([1.0, -1.0])] * 3)))
        sizes = sizes * signs
    return _affine(np.diag(sizes), draw(origins))


@st.composite
def oblique_affines(draw) -> np.ndarray:
    """Rotated (oblique) 4x4 affines with per-axis voxel sizes."""
    sizes = np.array(draw(voxel_sizes), dtype=np.float64)
    return _affine(draw(rotations()) @ np.diag(sizes), draw(origins))


def affines() -> st.SearchStrategy[np.ndarray]:
    """Diagonal or oblique 4x4 affines."""
    return st.one_of(diagonal_affines(), oblique_affines())


shapes_3d = st.tuples(st.integers(3, 9), st.integers(3, 9), st.integers(3, 9))


@st.composite
def float32_arrays(draw, shape) -> np.ndarray:
    """Smooth-ish float32 data: a random field plus a blob, from a seeded generator."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    data = rng.standard_normal(shape).astype(np.float32)
    grid = np.indices(shape[:3], dtype=np.float32)
    centre = np.array(shape[:3], dtype=np.float32)[:, None, None, None] / 2
    blob = np.exp(-((grid - centre) ** 2).sum(axis=0) / 4.0) * 3
    return data + blob.reshape(blob.shape + (1,) * (len(shape) - 3)).astype(np.float32)


@st.composite
def images_3d(draw, affine_strategy=None) -> nib.Nifti1Image:
    """A small 3D float32 Nifti1Image with a diagonal or oblique affine."""
    shape = draw(shapes_3d)
    affine = draw(affine_strategy if affine_strategy is not None else affines())
    return nib.Nifti1Image(draw(float32_arrays(shape)), affine)


@st.composite
def images_4d(draw, affine_strategy=None, max_volumes: int = 6) -> nib.Nifti1Image:
    """A small 4D float32 Nifti1Image (2 to ``max_volumes`` volumes)."""
    shape = (*draw(shapes_3d), draw(st.integers(2, max_volumes)))
    affine = draw(affine_strategy if affine_strategy is not None else affines())
    return nib.Nifti1Image(draw(float32_arrays(shape)), affine)
