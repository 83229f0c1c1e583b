"""connected_regions / connected_label_regions and their kernels."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from regionkit import EmptyRegionWarning
from regionkit.regions import connected_label_regions, connected_regions
from regionkit.regions._connected import find_peaks, random_walker_labels, split_map


def _two_blobs(shape=(12, 12, 12)):
    volume = np.zeros(shape, dtype=np.float32)
    volume[1:4, 1:4, 1:4] = 1.0
    volume[6:11, 6:11, 6:11] = 2.0
    return volume


def test_split_map_connected_components():
    volume = _two_blobs()
    labels = split_map(volume, np.eye(4), "connected_components")
    assert np.bincount(labels.ravel()).tolist()[1:] == [27, 125]
    assert np.all((labels > 0) == (volume != 0))


def test_find_peaks_finds_separated_maxima():
    volume = np.zeros((30, 10, 10), dtype=np.float32)
    volume[5, 5, 5] = 1.0
    volume[25, 5, 5] = 0.5
    volume[8, 5, 5] = 0.9  # within 10 voxels of the higher peak: not a peak
    volume[15, 5, 5] = 0.01  # a local maximum below 10 % of the top: dropped
    assert np.argwhere(find_peaks(volume)).tolist() == [[5, 5, 5], [25, 5, 5]]
    assert not find_peaks(np.full((4, 4, 4), 3.0)).any()


def test_random_walker_splits_two_hills_at_the_valley():
    x = np.arange(40, dtype=np.float32)
    profile = np.exp(-((x - 8) ** 2) / 20) + np.exp(-((x - 31) ** 2) / 20) + 0.05
    volume = np.broadcast_to(profile[:, None, None], (40, 3, 3)).copy()
    seeds = np.zeros(volume.shape, dtype=np.int32)
    seeds[8, 1, 1] = 1
    seeds[31, 1, 1] = 2
    labels = random_walker_labels(volume, seeds)
    assert np.all(labels[:15] == 1) and np.all(labels[25:] == 2)
    boundary = np.flatnonzero(np.diff(labels[:, 1, 1]))
    assert boundary.tolist() and 17 <= boundary[0] <= 22


def test_random_walker_marks_outside_and_unreachable():
    volume = _two_blobs()
    seeds = np.where(volume != 0, 0, -1).astype(np.int32)
    seeds[2, 2, 2] = 5  # only the first blob has a seed
    for mode, label in (("cg", 1), ("cg_j", 5)):
        labels = random_walker_labels(volume, seeds, mode=mode)
        assert np.all(labels[volume == 0] == 0)
        # "cg" numbers seed labels 1..k as nilearn; the others keep them
        assert np.all(labels[1:4, 1:4, 1:4] == label)
        assert np.all(labels[6:11, 6:11, 6:11] == 0)  # unreachable from any seed


def test_connected_regions_components_values_and_index():
    maps = np.stack([_two_blobs(), -_two_blobs()[::-1]], axis=-1)
    img = nib.Nifti1Image(maps, np.diag([2.0, 2.0, 2.0, 1.0]))
    regions_img, index = connected_regions(
        img, min_region_size=8 * 30, extract_type="connected_components"
    )
    regions = np.asarray(regions_img.dataobj)
    # 27 voxels * 8 mm3 = 216 <= 240 is dropped, the 125-voxel blobs stay
    assert index == [0, 1]
    assert regions.shape == (12, 12, 12, 2) and regions.dtype == np.float32
    np.testing.assert_array_equal(regions[..., 0], np.where(maps[..., 0] == 2, 2, 0))
    np.testing.assert_array_equal(regions[..., 1], np.where(maps[..., 1] == -2, -2, 0))


def test_connected_regions_local_regions_splits_touching_blobs():
    x, y, z = np.indices((30, 14, 14), dtype=np.float32)
    volume = np.exp(-((x - 7) ** 2 + (y - 7) ** 2 + (z - 7) ** 2) / 40) + np.exp(
        -((x - 22) ** 2 + (y - 7) ** 2 + (z - 7) ** 2) / 40
    )
    volume[volume < 0.2] = 0
    img = nib.Nifti1Image(volume[..., None].astype(np.float32), np.eye(4))
    (one,) = connected_regions(img, 1, "connected_components")[1:]
    regions_img, index = connected_regions(img, min_region_size=10, smoothing_fwhm=2)
    assert one == [0]  # a single connected blob ...
    assert index == [0, 0]  # ... split in two at the saddle
    regions = np.asarray(regions_img.dataobj)
    assert np.all((regions != 0).sum(axis=-1) <= 1)
    assert (regions[:14, ..., 0] != 0).sum() > 0.9 * (volume[:14] != 0).sum()


def test_connected_regions_mask_and_empty_warning(maps_img):
    mask = np.zeros(maps_img.shape[:3], dtype=np.int8)
    with pytest.raises(ValueError, match="mask_img is empty"):
        connected_regions(maps_img, mask_img=nib.Nifti1Image(mask, maps_img.affine))
    mask[:4] = 1
    masked, _ = connected_regions(
        maps_img, 27, "connected_components", mask_img=nib.Nifti1Image(mask, maps_img.affine)
    )
    assert not np.asarray(masked.dataobj)[4:].any()
    zeros = nib.Nifti1Image(np.zeros((5, 5, 5, 2), np.float32), np.eye(4))
    with pytest.warns(EmptyRegionWarning, match="No supra threshold regions"):
        assert connected_regions(zeros) == (None, None)


def test_connected_regions_bad_input(maps_img):
    with pytest.raises(ValueError, match=r"'extract_type' parameter .*Got 'watershed'"):
        connected_regions(maps_img, extract_type="watershed")
    with pytest.raises(ValueError, match=r"'min_region_size' parameter .*Got -1"):
        connected_regions(maps_img, min_region_size=-1)
    with pytest.raises(ValueError, match=r"'random_walker_mode' parameter .*Got 'bf'"):
        connected_regions(maps_img, random_walker_mode="bf")
    with pytest.raises(TypeError, match="maps_img must be"):
        connected_regions(np.zeros((3, 3, 3, 2)))


def test_connected_regions_accepts_3d_as_one_map(maps_img):
    volume = nib.Nifti1Image(np.asarray(maps_img.dataobj)[..., 1], maps_img.affine)
    regions_3d, index_3d = connected_regions(volume, 54, "connected_components")
    assert set(index_3d) == {0}
    assert regions_3d.shape[:3] == maps_img.shape[:3]


def test_connected_label_regions_splits_and_names():
    atlas = np.zeros((10, 10, 10), dtype=np.int16)
    atlas[0:3, 0:3, 0:3] = 4
    atlas[6:9, 6:9, 6:9] = 4
    atlas[3, 3, 3] = 4  # touches the first block diagonally only
    atlas[0:2, 7:9, 0:2] = 9
    img = nib.Nifti1Image(atlas, np.eye(4))
    diag, names = connected_label_regions(img, labels=["left", "right"])
    data = np.asarray(diag.dataobj)
    assert data.dtype == np.int32
    assert names == ["left", "left", "right"]
    assert np.bincount(data.ravel()).tolist()[1:] == [28, 27, 8]
    faces = connected_label_regions(img, connect_diag=False)
    assert np.bincount(np.asarray(faces.dataobj).ravel()).tolist()[1:] == [27, 1, 27, 8]
    sized, sized_names = connected_label_regions(
        img, min_size=8, connect_diag=False, labels=np.array(["left", "right"])
    )
    assert np.bincount(np.asarray(sized.dataobj).ravel()).tolist()[1:] == [27, 27]
    assert sized_names == ["left", "left"]


def test_connected_label_regions_bad_input():
    atlas = np.zeros((4, 4, 4), dtype=np.int16)
    atlas[0, 0, 0] = 1
    atlas[2, 2, 2] = 2
    img = nib.Nifti1Image(atlas, np.eye(4))
    with pytest.raises(ValueError, match=r"labels has 3 names but labels_img has 2"):
        connected_label_regions(img, labels=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"min_size must be a number .* got 'big'"):
        connected_label_regions(img, min_size="big")
    with pytest.raises(ValueError, match=r"connect_diag must be True or False, got 1"):
        connected_label_regions(img, connect_diag=1)
    negative = nib.Nifti1Image(-atlas, np.eye(4))
    with pytest.raises(ValueError, match=r"negative values \[-2, -1\]"):
        connected_label_regions(negative)
    four_d = nib.Nifti1Image(np.stack([atlas, atlas], -1), np.eye(4))
    with pytest.raises(TypeError, match="labels_img must be a 3D image"):
        connected_label_regions(four_d)
