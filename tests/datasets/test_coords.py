"""Coordinate atlases: parity with nilearn 0.14.1's fetch_coords_* and our extras."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from nilearn import datasets as nilearn_datasets

from regionkit import datasets
from regionkit._validation import InvalidParameterError


def _assert_same_frame(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    assert list(ours.columns) == list(theirs.columns)
    np.testing.assert_array_equal(ours.index.to_numpy(), theirs.index.to_numpy())
    for column in ours.columns:
        np.testing.assert_array_equal(ours[column].to_numpy(), theirs[column].to_numpy())
        assert ours[column].dtype == theirs[column].dtype


def test_power_matches_nilearn(no_network):
    ours = datasets.load_power_2011()
    theirs = nilearn_datasets.fetch_coords_power_2011()
    _assert_same_frame(ours.rois, theirs.rois)
    assert ours.rois.shape == (264, 4)
    assert ours.seeds.shape == (264, 3)
    assert ours.seeds.dtype == np.float64
    np.testing.assert_array_equal(ours.seeds, theirs.rois[["x", "y", "z"]].to_numpy())
    assert ours.labels[0] == "ROI 1"
    assert ours.labels[-1] == "ROI 264"
    assert "networks" not in ours
    assert "10.1016/j.neuron.2011.09.006" in ours.description
    assert list(no_network.iterdir()) == []


@pytest.mark.parametrize("ordered_regions", [True, False])
def test_dosenbach_matches_nilearn(no_network, ordered_regions):
    ours = datasets.load_dosenbach_2010(ordered_regions=ordered_regions)
    theirs = nilearn_datasets.fetch_coords_dosenbach_2010(ordered_regions=ordered_regions)
    _assert_same_frame(ours.rois, theirs.rois)
    assert ours.labels == list(theirs.labels)
    np.testing.assert_array_equal(ours.networks, np.asarray(theirs.networks))
    np.testing.assert_array_equal(ours.seeds, theirs.rois.to_numpy(dtype=float))
    assert ours.seeds.shape == (160, 3)
    assert len(set(ours.labels)) == 160
    assert sorted(set(ours.networks)) == [
        "cerebellum",
        "cingulo-opercular",
        "default",
        "fronto-parietal",
        "occipital",
        "sensorimotor",
    ]
    assert "10.1126/science.1194144" in ours.description
    assert list(no_network.iterdir()) == []


def test_dosenbach_unordered_keeps_published_order():
    ours = datasets.load_dosenbach_2010(ordered_regions=False)
    assert ours.labels[:2] == ["vmPFC 1", "aPFC 2"]
    np.testing.assert_array_equal(ours.seeds[0], [6.0, 64.0, 3.0])


@pytest.mark.parametrize("ordered_regions", [True, False])
def test_seitzman_matches_nilearn(no_network, ordered_regions):
    ours = datasets.load_seitzman_2018(ordered_regions=ordered_regions)
    theirs = nilearn_datasets.fetch_coords_seitzman_2018(ordered_regions=ordered_regions)
    _assert_same_frame(ours.rois, theirs.rois)
    for key in ("radius", "networks", "regions"):
        np.testing.assert_array_equal(np.asarray(ours[key]), np.asarray(theirs[key]))
    assert ours.seeds.shape == (300, 3)
    np.testing.assert_array_equal(ours.seeds, theirs.rois.to_numpy())
    assert len(set(ours.labels)) == 300
    # labels carry the anatomical region and the published row number
    first = ours.rois.index[0]
    assert ours.labels[0] == f"{ours.regions[0]} {first + 1}"
    assert len(set(ours.networks) - {"unassigned"}) == 13
    assert "10.1016/j.neuroimage.2019.116290" in ours.description
    assert list(no_network.iterdir()) == []


@pytest.mark.parametrize(
    ("loader", "value"),
    [
        (datasets.load_dosenbach_2010, "yes"),
        (datasets.load_seitzman_2018, 1),
    ],
)
def test_ordered_regions_must_be_bool(loader, value):
    with pytest.raises(InvalidParameterError, match=rf"'ordered_regions'.*Got {value!r}"):
        loader(ordered_regions=value)


def test_loaders_return_fresh_objects():
    first = datasets.load_power_2011()
    first.seeds[:] = 0
    first.rois.loc[0, "x"] = 999
    second = datasets.load_power_2011()
    np.testing.assert_array_equal(second.seeds[0], [-25.0, -98.0, -12.0])
