"""Property tests of the masker operator kernels (regionkit.maskers._operators)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from strategies import affines  # noqa: E402

from regionkit.maskers._operators import (  # noqa: E402
    find_overlaps,
    mean_operator,
    select_sphere_voxels,
    union_positions,
)

nilearn_spheres = pytest.importorskip("nilearn.maskers.nifti_spheres_masker")

shapes = st.tuples(*[st.integers(3, 8)] * 3)


@st.composite
def sphere_problems(draw):
    shape = draw(shapes)
    affine = draw(affines())
    n_seeds = draw(st.integers(1, 4))
    # seeds near the grid: continuous voxel coordinates mapped to world space
    fractional = np.array(
        [[draw(st.floats(-1.0, s, allow_nan=False)) for s in shape] for _ in range(n_seeds)]
    )
    if draw(st.booleans()):  # sometimes exactly on voxel centres (ties at radius)
        fractional = np.round(fractional)
    seeds = (affine[:3, :3] @ fractional.T).T + affine[:3, 3]
    radius = draw(st.one_of(st.none(), st.sampled_from([0.0, 1.0, 2.0, 3.0, 4.5, 6.0])))
    mask = None
    if draw(st.booleans()):
        seed = draw(st.integers(0, 2**16))
        mask = np.random.default_rng(seed).random(shape) < 0.7
        if not mask.any():
            mask[0, 0, 0] = True
    return shape, affine, seeds, radius, mask


@given(sphere_problems())
def test_sphere_selection_matches_nilearn(problem):
    shape, affine, seeds, radius, mask = problem
    img = nib.Nifti1Image(np.zeros((*shape, 1), np.float32), affine)
    mask_img = None if mask is None else nib.Nifti1Image(mask.astype(np.uint8), affine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            _, adjacency = nilearn_spheres.apply_mask_and_get_affinity(
                seeds.tolist(), img, radius, True, mask_img=mask_img
            )
        except ValueError as error:  # nilearn refuses empty spheres
            assert "empty" in str(error)
            adjacency = None
    selection = select_sphere_voxels(seeds, radius, shape, affine, mask)
    if adjacency is None:
        assert selection.empty.size > 0
        return
    adjacency = adjacency.tocsr()
    coords = np.array(list(np.ndindex(shape))) if mask is None else np.array(np.nonzero(mask)).T
    flat = np.ravel_multi_index(tuple(coords.T), shape, order="F")
    for i in range(len(seeds)):
        expected = flat[np.sort(adjacency[i].indices)]
        np.testing.assert_array_equal(selection.voxels[i], expected)


@given(sphere_problems())
def test_coverage_bounds(problem):
    shape, affine, seeds, radius, mask = problem
    selection = select_sphere_voxels(seeds, radius, shape, affine, mask)
    sizes = np.array([len(v) for v in selection.voxels])
    assert np.all(sizes <= selection.n_voxels_in_fov)
    assert np.all(selection.n_voxels_in_fov <= selection.n_voxels_unbounded)
    assert np.all((selection.coverage >= 0) & (selection.coverage <= 1))
    if mask is None:
        np.testing.assert_array_equal(sizes, selection.n_voxels_in_fov)


region_lists = st.lists(
    st.lists(st.integers(0, 60), max_size=12, unique=True).map(
        lambda v: np.asarray(v, dtype=np.int64)
    ),
    min_size=1,
    max_size=6,
)


@given(region_lists)
def test_union_positions_roundtrip(regions):
    union, positions = union_positions(regions)
    assert np.all(np.diff(union) > 0)
    for region, pos in zip(regions, positions):
        np.testing.assert_array_equal(union[pos], region)


@given(region_lists, st.integers(1, 5), st.integers(0, 2**16))
def test_mean_operator_is_region_mean(regions, n_volumes, seed):
    union, positions = union_positions(regions)
    values = np.random.default_rng(seed).standard_normal((n_volumes, len(union)))
    operator = mean_operator(positions, len(union))
    assert operator.dtype == np.float32
    assert operator.shape == (len(union), len(regions))
    means = values @ operator
    for r, pos in enumerate(positions):
        if len(pos):
            np.testing.assert_allclose(means[:, r], values[:, pos].mean(axis=1), rtol=1e-6, atol=1e-6)
        else:
            np.testing.assert_array_equal(means[:, r], 0.0)


@given(region_lists)
def test_find_overlaps_is_pairwise_intersection(regions):
    expected = sorted(
        (a, b)
        for a in range(len(regions))
        for b in range(a + 1, len(regions))
        if np.intersect1d(regions[a], regions[b]).size
    )
    assert find_overlaps(regions) == expected
