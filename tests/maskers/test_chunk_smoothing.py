"""The streamed extraction's smoothing of a chunk: same numbers as smooth_array, box or not."""

from __future__ import annotations

import numpy as np
import pytest

from regionkit.image import smooth_array
from regionkit.maskers._extract import _smooth_block, voxel_box

SHAPE = (23, 19, 17)
AFFINE = np.diag([-2.0, 2.5, 3.0, 1.0])


def _block(n_volumes=5, seed=0):
    rng = np.random.default_rng(seed)
    block = rng.standard_normal((n_volumes, int(np.prod(SHAPE)))).astype(np.float32)
    block[2, 100] = np.nan
    block[4, 7] = np.inf
    return block


def _reference(block, fwhm):
    volumes = block.reshape(block.shape[0], SHAPE[2], SHAPE[1], SHAPE[0]).transpose(3, 2, 1, 0)
    smoothed = np.asarray(smooth_array(volumes, AFFINE, fwhm, ensure_finite=True), dtype=np.float32)
    return smoothed.transpose(3, 2, 1, 0).reshape(block.shape[0], -1)


@pytest.mark.parametrize("fwhm", [6.0, [4.0, None, 9.0], "fast", None])
def test_chunk_smoothing_equals_smooth_array(fwhm):
    block = _block()
    np.testing.assert_array_equal(_smooth_block(block, SHAPE, AFFINE, fwhm), _reference(block, fwhm))


@pytest.mark.parametrize("fwhm", [6.0, [4.0, None, 9.0], 20.0])
@pytest.mark.parametrize(
    "region",
    [
        (slice(5, 12), slice(4, 9), slice(6, 10)),  # inside
        (slice(0, 3), slice(15, 19), slice(0, 17)),  # touching the volume's edges
        (slice(11, 12), slice(9, 10), slice(8, 9)),  # one voxel
    ],
)
def test_smoothing_only_the_read_box_is_exact_inside_it(fwhm, region):
    block = _block(seed=1)
    mask = np.zeros(SHAPE, dtype=bool)
    mask[region] = True
    voxels = np.flatnonzero(mask.ravel(order="F"))
    box = voxel_box(voxels, SHAPE)
    smoothed = _smooth_block(block, SHAPE, AFFINE, fwhm, box)
    np.testing.assert_array_equal(smoothed[:, voxels], _reference(block, fwhm)[:, voxels])
    assert np.isnan(block[2, 100])  # the input is not modified


def test_voxel_box():
    assert voxel_box(np.array([], dtype=int), SHAPE) is None
    low, high = voxel_box(np.array([0, SHAPE[0] * SHAPE[1] * 3 + SHAPE[0] * 2 + 5]), SHAPE)
    assert low.tolist() == [0, 0, 0]
    assert high.tolist() == [6, 3, 4]
