"""Figure drawing and per-region numbers, checked against brute force."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from report_helpers import png_size

from regionkit.reporting._figures import (
    LabelLayer,
    ScalarLayer,
    SphereLayer,
    densest_cut,
    glass_figure,
    make_canvas,
    orthogonal_figure,
    sample_volume,
)
from regionkit.reporting._regions import label_statistics, map_statistics, sphere_statistics


def _pixels(data_uri: str) -> np.ndarray:
    from matplotlib.image import imread

    raw = base64.b64decode(data_uri.split(",", 1)[1])
    return imread(io.BytesIO(raw), format="png")[..., :3]


@pytest.fixture
def head():
    """A bright ball (radius 30 mm) on a 3 mm grid, origin at -60 mm."""
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    affine[:3, 3] = -60.0
    ijk = np.indices((41, 41, 41)).reshape(3, -1).T
    world = ijk * 3.0 - 60.0
    data = ((world**2).sum(axis=1) <= 30.0**2).astype(np.float32).reshape(41, 41, 41)
    return data * 100.0, affine


def test_sample_volume_nearest_and_linear(head):
    data, affine = head
    points = np.array([[0.0, 0.0, 0.0], [1.5, 0.0, 0.0], [500.0, 0.0, 0.0]])
    assert sample_volume(data, affine, points).tolist() == [100.0, 100.0, 0.0]
    ramp = np.arange(4, dtype=np.float32)[:, None, None] * np.ones((4, 2, 2), np.float32)
    values = sample_volume(ramp, np.eye(4), np.array([[1.25, 0, 0], [2.5, 1, 1]]), order=1)
    np.testing.assert_allclose(values, [1.25, 2.5])


def test_canvas_covers_the_image_and_flips_negative_axes(head):
    data, affine = head
    canvas = make_canvas(data, affine, "ball")
    np.testing.assert_allclose(canvas.bounds, [[-61.5, 61.5]] * 3)
    flipped = affine.copy()
    flipped[0, 0], flipped[0, 3] = -3.0, 60.0
    mirrored = make_canvas(data[::-1], flipped, "mirrored")
    np.testing.assert_allclose(mirrored.bounds, canvas.bounds)
    np.testing.assert_allclose(mirrored.plane(2, 0.0), canvas.plane(2, 0.0))
    empty = make_canvas(None, None, "none")
    assert empty.data.max() == 0
    np.testing.assert_allclose(empty.bounds, [[-91, 91], [-127, 91], [-73, 109]])
    with pytest.raises(ValueError, match=r"must be 3D, got an array of shape \(2, 2\)"):
        make_canvas(np.zeros((2, 2)), np.eye(4), "flat")


def test_orthogonal_figure_draws_overlays_where_they_are(head):
    data, affine = head
    canvas = make_canvas(data, affine, "ball")
    sphere = SphereLayer(np.array([0.0, 0.0, 0.0]), 10.0, color=(0.0, 1.0, 0.0), alpha=1.0)
    data_uri, width, height = orthogonal_figure(canvas, (0, 0, 0), [sphere], np.zeros((1, 3)))
    assert png_size(data_uri) == (width, height)
    pixels = _pixels(data_uri)
    green = (pixels[..., 1] > 0.9) & (pixels[..., 0] < 0.1) & (pixels[..., 2] < 0.1)
    # three discs of radius 10 mm at ~0.52 mm per pixel: ~3 x pi x 19^2 pixels
    expected = 3 * np.pi * (10.0 / canvas.pitch) ** 2
    assert 0.8 * expected < green.sum() < 1.1 * expected
    assert pixels.std() > 0.1
    # a sphere far away from the cut leaves no green
    away = SphereLayer(np.array([0.0, 0.0, 50.0]), 5.0, color=(0.0, 1.0, 0.0), alpha=1.0)
    pixels = _pixels(orthogonal_figure(canvas, (0, 0, 0), [away])[0])
    axial_only = (pixels[..., 1] > 0.9) & (pixels[..., 0] < 0.1)
    assert axial_only.sum() > 0  # seen in the sagittal and coronal views only
    assert axial_only.sum() < green.sum() * 2 / 3


def test_sphere_layer_respects_the_mask(head):
    data, affine = head
    mask = np.zeros_like(data)
    mask[:20] = 1  # x < 0 only
    layer = SphereLayer(np.zeros(3), 9.0, mask_data=mask, mask_affine=affine)
    points = np.array([[-6.0, 0, 0], [6.0, 0, 0], [-12.0, 0, 0]])
    assert (layer.rgba(points)[:, 3] > 0).tolist() == [True, False, False]


def test_label_and_scalar_layers():
    labels = np.zeros((3, 1, 1), dtype=np.int32)
    labels[:, 0, 0] = [4, 0, 9]
    colors = np.array([[1.0, 0, 0], [0, 0, 1.0]])
    layer = LabelLayer(labels, np.eye(4), np.array([4, 9]), colors, alpha=0.5)
    rgba = layer.rgba(np.array([[0.0, 0, 0], [1, 0, 0], [2, 0, 0]]))
    np.testing.assert_allclose(rgba, [[1, 0, 0, 0.5], [0, 0, 0, 0], [0, 0, 1, 0.5]])
    values = np.array([0.0, 0.1, 1.0], np.float32)[:, None, None]
    scalar = ScalarLayer(values, np.eye(4), vmin=0.0, vmax=1.0, alpha=1.0)
    alpha = scalar.rgba(np.array([[0.0, 0, 0], [1, 0, 0], [2, 0, 0]]))[:, 3]
    np.testing.assert_allclose(alpha, [0.0, 0.4, 1.0], rtol=1e-6)


def test_glass_figure_marks_every_point(head):
    data, affine = head
    canvas = make_canvas(data, affine, "ball")
    points = np.array([[-20.0, 0, 0], [20.0, 10, -10]])
    colors = np.array([[1.0, 0, 0], [0, 0, 1.0]])
    data_uri, width, height = glass_figure(canvas, points, colors, radius_pixels=4)
    pixels = _pixels(data_uri)
    red = (pixels[..., 0] > 0.9) & (pixels[..., 1] < 0.1)
    blue = (pixels[..., 2] > 0.9) & (pixels[..., 0] < 0.1)
    disc = np.pi * 4**2
    assert 3 * 0.7 * disc < red.sum() < 3 * 1.3 * disc
    assert 3 * 0.7 * disc < blue.sum() < 3 * 1.3 * disc


def test_densest_cut_finds_the_busiest_planes():
    data = np.zeros((5, 6, 7))
    data[1, :, :] = 1
    data[:, 4, 2] = 1
    cut = densest_cut(data, np.diag([2.0, 2.0, 2.0, 1.0]))
    assert cut.tolist() == [2.0, 8.0, 4.0]
    assert densest_cut(np.zeros((3, 3, 3)), np.eye(4)).tolist() == [1.0, 1.0, 1.0]


def _brute_force_spheres(seeds, radius, shape, affine, mask):
    """Voxels within radius of each seed (plus its nearest voxel) inside grid and mask."""
    ijk = np.indices(shape).reshape(3, -1).T
    world = ijk @ affine[:3, :3].T + affine[:3, 3]
    counts = []
    for seed in seeds:
        member = ((world - seed) ** 2).sum(axis=1) <= radius**2
        nearest = np.rint(np.linalg.solve(affine[:3, :3], seed - affine[:3, 3])).astype(int)
        member |= np.all(ijk == nearest, axis=1)
        counts.append(int((member & (mask.ravel() != 0)).sum()))
    return counts


def test_sphere_statistics_match_brute_force(rng):
    shape = (12, 14, 10)
    affine = np.diag([3.0, 2.5, 3.5, 1.0])
    affine[:3, 3] = [-15.0, -17.0, -12.0]
    mask = (rng.random(shape) > 0.3).astype(np.int8)
    # inside, straddling the edge, in a corner
    seeds = np.array([[0.3, 1.2, -0.7], [-15.0, 0.0, 0.0], [16.0, 15.0, 19.0]])
    n_voxels, n_full = sphere_statistics(seeds, 6.0, shape, affine, mask)
    assert n_voxels.tolist() == _brute_force_spheres(seeds, 6.0, shape, affine, mask)
    # the full sphere is the count on a grid large enough to hold it, no mask
    big = (40, 40, 40)
    for seed, full in zip(seeds, n_full, strict=True):
        moved = seed + np.array([60.0, 50.0, 70.0])
        assert _brute_force_spheres([moved], 6.0, big, affine, np.ones(big)) == [full]
    assert (n_full >= n_voxels).all() and n_full[1] > n_voxels[1]
    one_voxel, full_one = sphere_statistics(seeds[:1], None, shape, affine, None)
    assert one_voxel.tolist() == [1] and full_one.tolist() == [1]


def test_label_statistics_match_bincount(rng):
    labels = rng.integers(0, 5, size=(9, 8, 7))
    labels[labels == 3] = 0  # label 3 ends up empty
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    mask = (rng.random(labels.shape) > 0.5).astype(np.int8)
    values = np.array([4, 1, 3, 2])
    n_voxels, centers, n_in_mask = label_statistics(labels, affine, values, mask)
    assert n_voxels.tolist() == [int((labels == v).sum()) for v in values]
    assert n_in_mask.tolist() == [int(((labels == v) & (mask > 0)).sum()) for v in values]
    assert np.isnan(centers[2]).all()
    for value, center in zip(values, centers, strict=True):
        if value == 3:
            continue
        ijk = np.rint(center / 2.0).astype(int)
        assert labels[tuple(ijk)] == value  # a voxel of the region itself
        members = np.argwhere(labels == value)
        centroid = members.mean(axis=0)
        best = ((members - centroid) ** 2).sum(axis=1).min()
        assert ((ijk - centroid) ** 2).sum() == pytest.approx(best)


def test_map_statistics_peaks_and_support(rng):
    maps = np.zeros((6, 5, 4, 3), np.float32)
    maps[1, 2, 3, 0], maps[2, 2, 2, 0] = 2.0, 1.0
    maps[4, 0, 1, 1], maps[0, 0, 0, 1] = -3.0, 0.5
    mask = np.ones((6, 5, 4), np.int8)
    mask[4] = 0
    n_voxels, peaks, peak_values, n_in_mask, strongest = map_statistics(
        maps, np.eye(4), mask, chunk_voxels=7
    )
    assert n_voxels.tolist() == [2, 2, 0]
    assert peaks[0].tolist() == [1.0, 2.0, 3.0] and peaks[1].tolist() == [4.0, 0.0, 1.0]
    assert np.isnan(peaks[2]).all()
    assert peak_values[:2].tolist() == [2.0, -3.0]
    assert n_in_mask.tolist() == [2, 1, 0]
    expected = np.where((maps != 0).any(axis=3), np.abs(maps).argmax(axis=3) + 1, 0)
    np.testing.assert_array_equal(strongest, expected)
    assert strongest[4, 0, 1] == 2 and strongest[1, 2, 3] == 1 and strongest.sum() == 1 + 1 + 2 + 2
