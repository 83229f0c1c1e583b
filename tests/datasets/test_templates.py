"""MNI152 templates and masks: identical to nilearn 0.14.1's loaders, offline."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from nilearn import datasets as nilearn_datasets

from regionkit import datasets
from regionkit._validation import InvalidParameterError

REPO = Path(__file__).resolve().parents[2]

LOADERS = [
    "load_mni152_template",
    "load_mni152_gm_template",
    "load_mni152_wm_template",
    "load_mni152_brain_mask",
    "load_mni152_gm_mask",
    "load_mni152_wm_mask",
]


def _assert_same_image(ours, theirs):
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours.affine, theirs.affine)
    ours_voxels = np.asarray(ours.dataobj)
    theirs_voxels = np.asarray(theirs.dataobj)
    assert ours_voxels.dtype == theirs_voxels.dtype
    np.testing.assert_array_equal(ours_voxels, theirs_voxels)


@pytest.mark.parametrize("loader", LOADERS)
def test_1mm_identical_to_nilearn(no_network, loader):
    ours = getattr(datasets, loader)()
    theirs = getattr(nilearn_datasets, loader)()
    _assert_same_image(ours, theirs)
    assert ours.shape == (197, 233, 189)
    # the saved header is lossless: its data type is the array's
    assert ours.get_data_dtype() == np.asarray(ours.dataobj).dtype
    assert list(no_network.iterdir()) == []


def test_template_values_span_unit_interval():
    voxels = np.asarray(datasets.load_mni152_template().dataobj)
    assert voxels.dtype == np.float32
    assert voxels.min() == 0.0
    assert voxels.max() == 1.0
    # about 1.88 million voxels of the 1 mm brain mask are above 0.2
    mask = np.asarray(datasets.load_mni152_brain_mask().dataobj)
    assert mask.sum() == np.count_nonzero(voxels > 0.2) == 1882989


@pytest.mark.parametrize(
    ("loader", "kwargs"),
    [
        ("load_mni152_template", {"resolution": 2}),
        ("load_mni152_brain_mask", {"resolution": 2}),
        ("load_mni152_gm_mask", {"resolution": 2}),
        ("load_mni152_wm_template", {"resolution": 3}),
    ],
)
def test_resampled_identical_to_nilearn(no_network, loader, kwargs):
    """Identical but where nilearn leaves spline rounding noise.

    The 2 mm and 3 mm grids' voxel centres are 1 mm voxel centres, so
    regionkit's resampling returns the 1 mm voxels themselves (a gather);
    nilearn's cubic spline reproduces them up to float64 rounding, which shows
    in float32 only where the template is 0 (nilearn: +-1e-45 .. 3e-16).
    """
    ours = getattr(datasets, loader)(**kwargs)
    theirs = getattr(nilearn_datasets, loader)(**kwargs)
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours.affine, theirs.affine)
    ours_voxels, theirs_voxels = np.asarray(ours.dataobj), np.asarray(theirs.dataobj)
    assert ours_voxels.dtype == theirs_voxels.dtype
    noise = np.abs(theirs_voxels) <= 1e-12
    np.testing.assert_array_equal(ours_voxels[~noise], theirs_voxels[~noise])
    assert np.all(ours_voxels[noise] == 0)
    if kwargs["resolution"] == 2:
        assert ours.shape == (99, 117, 95)
        np.testing.assert_array_equal(np.diag(ours.affine), [2, 2, 2, 1])


def test_threshold_and_n_iter_are_honoured():
    ours = datasets.load_mni152_wm_mask(threshold=0.5, n_iter=1)
    theirs = nilearn_datasets.load_mni152_wm_mask(threshold=0.5, n_iter=1)
    _assert_same_image(ours, theirs)
    loose = np.asarray(datasets.load_mni152_brain_mask(threshold=0.1).dataobj).sum()
    strict = np.asarray(datasets.load_mni152_brain_mask(threshold=0.6).dataobj).sum()
    assert loose > strict > 0


@pytest.mark.parametrize("resolution", [0, -2, 1.5, "2", True])
def test_bad_resolution_is_named(resolution):
    with pytest.raises(InvalidParameterError, match=rf"'resolution'.*Got {resolution!r}"):
        datasets.load_mni152_template(resolution=resolution)


def test_bad_threshold_and_n_iter_are_named():
    with pytest.raises(InvalidParameterError, match=r"'threshold'.*Got 'high'"):
        datasets.load_mni152_brain_mask(threshold="high")
    with pytest.raises(InvalidParameterError, match=r"'n_iter'.*Got 0"):
        datasets.load_mni152_gm_mask(n_iter=0)


def test_bundled_files_are_regenerated_by_the_script():
    spec = importlib.util.spec_from_file_location(
        "make_datasets", REPO / "scripts" / "make_datasets.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data_dir = REPO / "src" / "regionkit" / "datasets" / "data"
    outputs = module.build_all(module._nilearn_data_dir())
    bundled = {p.name for p in data_dir.iterdir() if p.name != "NOTICE.md"}
    assert bundled == set(outputs)
    for name, content in outputs.items():
        assert (data_dir / name).read_bytes() == content, f"{name} is stale"
