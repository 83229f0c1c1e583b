"""connected_regions / connected_label_regions against nilearn 0.14.1."""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from regionkit import EmptyRegionWarning
from regionkit.regions import connected_label_regions, connected_regions

nilearn_regions = pytest.importorskip("nilearn.regions")

SHAPE = (22, 26, 21)
AFFINE = np.diag([3.0, 3.0, 3.0, 1.0])


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


def _smooth_fields(n_maps, seed, sigma):
    rng = np.random.default_rng(seed)
    fields = np.stack(
        [gaussian_filter(rng.standard_normal(SHAPE), sigma) for _ in range(n_maps)], -1
    )
    return fields / fields.std(axis=(0, 1, 2))


def signed_ica_maps(seed=0):
    maps = _smooth_fields(3, seed, 2.5)
    maps[np.abs(maps) < 1.0] = 0
    return maps.astype(np.float32)


def probabilistic_atlas(seed=1):
    """Non-negative, overlapping, smooth maps with broad support."""
    grid = np.indices(SHAPE, dtype=float)
    rng = np.random.default_rng(seed)
    maps = []
    for _ in range(3):
        centers = rng.uniform([3, 3, 3], np.array(SHAPE) - 3, size=(2, 3))
        volume = sum(
            np.exp(-(((grid - c[:, None, None, None]) ** 2).sum(0)) / 30.0) for c in centers
        )
        volume[volume < 0.05] = 0
        maps.append(volume)
    return np.stack(maps, -1).astype(np.float32)


def tiny_region_maps(seed=2):
    """Big blobs plus 1- to 3-voxel specks."""
    maps = signed_ica_maps(seed)
    rng = np.random.default_rng(seed)
    for k in range(maps.shape[3]):
        for _ in range(6):
            i, j, l = rng.integers(1, np.array(SHAPE) - 2)
            if not maps[i - 1 : i + 2, j - 1 : j + 2, l - 1 : l + 2, k].any():
                maps[i, j, l : l + rng.integers(1, 3), k] = rng.uniform(2, 3)
    return maps


def _region_labels(regions_img, index, n_maps):
    """Per map, an integer volume naming each voxel's region (0: none)."""
    labels = np.zeros((*SHAPE, n_maps), dtype=np.int32)
    if regions_img is None:
        return labels
    regions = np.asarray(regions_img.dataobj)
    for region, map_index in enumerate(index):
        labels[..., map_index][regions[..., region] != 0] = region + 1
    return labels


def _run_both(maps, **kwargs):
    img = nib.Nifti1Image(maps, AFFINE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        theirs = nilearn_regions.connected_regions(img, **kwargs)
    ours = connected_regions(img, **kwargs)
    return theirs, ours


GENERATORS = {
    "signed_ica": signed_ica_maps,
    "probabilistic": probabilistic_atlas,
    "tiny_regions": tiny_region_maps,
}


@pytest.mark.parametrize("generator", sorted(GENERATORS))
@pytest.mark.parametrize("min_region_size", [1, 270])
def test_connected_components_voxel_exact(generator, min_region_size):
    maps = GENERATORS[generator]()
    (their_img, their_index), (our_img, our_index) = _run_both(
        maps, min_region_size=min_region_size, extract_type="connected_components"
    )
    assert our_index == their_index
    np.testing.assert_array_equal(np.asarray(our_img.dataobj), np.asarray(their_img.dataobj))
    assert our_img.dataobj.dtype == their_img.dataobj.dtype
    np.testing.assert_array_equal(our_img.affine, their_img.affine)


@pytest.mark.parametrize("generator", sorted(GENERATORS))
def test_local_regions_agree(generator):
    maps = GENERATORS[generator]()
    (their_img, their_index), (our_img, our_index) = _run_both(
        maps, min_region_size=100, extract_type="local_regions"
    )
    assert our_index == their_index
    theirs = _region_labels(their_img, their_index, maps.shape[3])
    ours = _region_labels(our_img, our_index, maps.shape[3])
    labelled = (theirs > 0) | (ours > 0)
    assert adjusted_rand_score(theirs[labelled], ours[labelled]) >= 0.99
    for k in range(maps.shape[3]):
        support = maps[..., k] != 0
        assert adjusted_rand_score(theirs[..., k][support], ours[..., k][support]) >= 0.99
    # the values carried are the map's
    regions = np.asarray(our_img.dataobj)
    for region, k in enumerate(our_index):
        inside = regions[..., region] != 0
        np.testing.assert_array_equal(regions[..., region][inside], maps[..., k][inside])


def test_local_regions_with_mask_and_other_smoothing():
    maps = signed_ica_maps(4)
    mask = np.zeros(SHAPE, dtype=np.int8)
    mask[2:-2, 2:-2, 2:-2] = 1
    mask_img = nib.Nifti1Image(mask, AFFINE)
    (their_img, their_index), (our_img, our_index) = _run_both(
        maps, min_region_size=50, smoothing_fwhm=9, mask_img=mask_img
    )
    assert our_index == their_index
    theirs = _region_labels(their_img, their_index, 3)
    ours = _region_labels(our_img, our_index, 3)
    labelled = (theirs > 0) | (ours > 0)
    assert adjusted_rand_score(theirs[labelled], ours[labelled]) >= 0.99


def test_nothing_survives_like_nilearn():
    maps = tiny_region_maps()
    with pytest.warns(UserWarning, match="No supra threshold regions"):
        assert nilearn_regions.connected_regions(
            nib.Nifti1Image(maps, AFFINE), min_region_size=1e7
        ) == (None, None)
    with pytest.warns(EmptyRegionWarning, match="No supra threshold regions"):
        assert connected_regions(nib.Nifti1Image(maps, AFFINE), min_region_size=1e7) == (
            None,
            None,
        )


@pytest.mark.parametrize("connect_diag", [True, False])
@pytest.mark.parametrize("min_size", [None, 60])
def test_connected_label_regions_exact(connect_diag, min_size):
    rng = np.random.default_rng(7)
    field = gaussian_filter(rng.standard_normal(SHAPE), 1.5)
    atlas = np.digitize(field, np.quantile(field, [0.2, 0.4, 0.6, 0.8])).astype(np.int16)
    atlas[np.abs(field) < 0.05] = 0
    img = nib.Nifti1Image(atlas, AFFINE)
    names = [f"region {value}" for value in np.unique(atlas)[1:]]
    assert len(names) >= 3
    theirs, their_names = nilearn_regions.connected_label_regions(
        img, min_size=min_size, connect_diag=connect_diag, labels=names
    )
    ours, our_names = connected_label_regions(
        img, min_size=min_size, connect_diag=connect_diag, labels=names
    )
    np.testing.assert_array_equal(np.asarray(ours.dataobj), np.asarray(theirs.dataobj))
    assert our_names == their_names
    assert len(our_names) == int(np.asarray(ours.dataobj).max())


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "cutoff"), [(0, 0.5), (1, 0.3)])
def test_local_regions_large_components_identical(seed, cutoff):
    """Large connected supports, where nilearn's solver stops (rtol 1e-3)
    before the walk reaches every voxel, so far voxels are decided by the
    signs of unconverged probabilities: two iterations more or less relabel
    thousands of voxels (seed 0: one 43 553-voxel component, 17 seeds; nilearn
    with 1 and 2 BLAS threads agrees with itself at ARI 0.985 there). Our walk
    repeats nilearn's arithmetic bit for bit, so the regions are identical."""
    rng = np.random.default_rng(seed)
    shape = (40, 48, 40)
    maps = np.stack(
        [gaussian_filter(rng.standard_normal(shape), 3 + seed) for _ in range(2)], -1
    )
    maps /= maps.std(axis=(0, 1, 2))
    maps[np.abs(maps) < cutoff] = 0
    img = nib.Nifti1Image(maps.astype(np.float32), AFFINE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        their_img, their_index = nilearn_regions.connected_regions(img, min_region_size=200)
    our_img, our_index = connected_regions(img, min_region_size=200)
    assert our_index == their_index
    np.testing.assert_array_equal(np.asarray(our_img.dataobj), np.asarray(their_img.dataobj))
