"""Fixtures for report tests: real fitted estimators on tiny synthetic data."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

import report_fakes as fakes
from report_helpers import SEEDS, box_mask, fit_labels_masker


@pytest.fixture
def spheres_img():
    """A 4D run on a 6 mm grid over the MNI field of view (10 volumes)."""
    data = np.random.default_rng(0).normal(size=(*fakes.SHAPE, 10)).astype(np.float32)
    return nib.Nifti1Image(data, fakes.AFFINE)


@pytest.fixture
def spheres_masker(spheres_img):
    """A real NiftiSpheresMasker fitted on a run, with a mask cutting off the top.

    Seed 2 straddles the mask edge (clipped), seed 3 lies above it (empty).
    """
    from regionkit.maskers import NiftiSpheresMasker

    masker = NiftiSpheresMasker(
        SEEDS, radius=8.0, mask_img=fakes.nifti(fakes.mask_data()), allow_empty=True
    )
    return masker.fit(spheres_img)


@pytest.fixture
def labels_masker():
    return fit_labels_masker()


@pytest.fixture
def maps_masker():
    """A real NiftiMapsMasker: two positive blobs, one negative, one all-zero map.

    The negative blob (map 2) loses its top to the mask; map 3 is kept empty.
    """
    from regionkit.maskers import NiftiMapsMasker

    masker = NiftiMapsMasker(
        fakes.nifti(fakes.maps_data()),
        mask_img=fakes.nifti(fakes.mask_data()),
        keep_masked_maps=True,
    )
    return masker.fit()


@pytest.fixture
def nifti_masker():
    """A real NiftiMasker with a given box mask."""
    from regionkit.maskers import NiftiMasker

    return NiftiMasker(mask_img=box_mask()).fit()


@pytest.fixture
def parcellations():
    """Real Parcellations: kmeans into 6 parcels of noise inside a box mask."""
    from regionkit.regions import Parcellations

    i, j, k = np.indices(fakes.SHAPE)
    inside = (i > 5) & (i < 20) & (j > 5) & (j < 25) & (k > 5) & (k < 17)
    run = np.random.default_rng(0).normal(size=(*fakes.SHAPE, 20)).astype(np.float32)
    parcellation = Parcellations(
        method="kmeans", n_parcels=6, mask=fakes.nifti(inside.astype(np.int8)),
        smoothing_fwhm=None, standardize=None,
    )
    return parcellation.fit(nib.Nifti1Image(run, fakes.AFFINE))


@pytest.fixture
def region_extractor():
    """A real RegionExtractor on three blobs; the negative one is dropped (one-sided)."""
    from regionkit.regions import RegionExtractor

    extractor = RegionExtractor(
        fakes.nifti(fakes.maps_data()[..., :3]), threshold=0.5,
        thresholding_strategy="img_value", min_region_size=100, smoothing_fwhm=None,
        standardize=None,
    )
    return extractor.fit()
