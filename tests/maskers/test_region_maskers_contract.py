"""The generated scikit-learn contract checks, run over the labels, maps and Nifti maskers.

The checks themselves live in ``test_estimator_contract.py`` (one function per
contract, taking a factory); here they are applied to our estimators'
factories. ``set_params`` gets its own check (the shared one sets ``radius``).
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
import test_estimator_contract as contract
from masker_data import SHAPE, make_affine, make_bold, make_maps

from regionkit.maskers import (
    MultiNiftiMasker,
    NiftiLabelsMasker,
    NiftiMapsMasker,
    NiftiMasker,
    transform_many,
)


def _img():
    return make_bold(np.random.default_rng(0), n_volumes=12)


def _labels_img():
    labels = np.zeros(SHAPE, dtype=np.int16)
    labels[:3] = 300
    labels[3:6, :6] = 7
    labels[6:, 6:] = 1000
    return nib.Nifti1Image(labels, make_affine())


def _mask():
    mask = np.zeros(SHAPE, np.uint8)
    mask[1:-1, 1:-1, 1:-1] = 1
    return nib.Nifti1Image(mask, make_affine())


ESTIMATORS = {
    "labels": lambda: (NiftiLabelsMasker(_labels_img()), _img()),
    "labels-median-clean": lambda: (
        NiftiLabelsMasker(_labels_img(), strategy="median", mask_img=_mask(), detrend=True,
                          standardize="zscore_sample", clean__extrapolate=False),
        _img(),
    ),
    "maps": lambda: (NiftiMapsMasker(make_maps()), _img()),
    "maps-mask-clean": lambda: (
        NiftiMapsMasker(make_maps(), mask_img=_mask(), standardize="psc"), _img()
    ),
    "nifti": lambda: (NiftiMasker(mask_img=_mask()), _img()),
    "nifti-template-clean": lambda: (
        NiftiMasker(mask_strategy="whole-brain-template", detrend=True), _img()
    ),
    "multi-nifti": lambda: (MultiNiftiMasker(mask_img=_mask()), _img()),
}
CHECKS = [
    contract.test_clone_keeps_params_and_drops_fit,
    contract.test_fit_returns_self_and_never_mutates_params,
    contract.test_not_fitted_error,
    contract.test_transform_does_not_write_to_self,
    contract.test_pickle_fitted,
    contract.test_refit_gives_same_result,
    contract.test_in_pipeline,
    contract.test_feature_names_match_output_width,
]


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__[5:] for c in CHECKS])
@pytest.mark.parametrize("factory", list(ESTIMATORS.values()), ids=list(ESTIMATORS))
def test_contract(check, factory):
    check(factory)


@pytest.mark.parametrize("factory", list(ESTIMATORS.values()), ids=list(ESTIMATORS))
def test_get_set_params_roundtrip(factory):
    estimator, _ = factory()
    params = estimator.get_params()
    estimator.set_params(**params)
    contract._same_params(contract._params_snapshot(estimator), params)
    estimator.set_params(detrend=True, smoothing_fwhm=4.0)
    assert estimator.get_params()["detrend"] is True
    assert estimator.get_params()["smoothing_fwhm"] == 4.0


def test_transform_many_matches_each_transform():
    """Labels + maps + NiftiMasker + a labels masker on the labels grid, one call."""
    img = _img()
    shifted = make_affine()
    shifted[:3, 3] += 1.5
    other_grid = nib.Nifti1Image(np.asarray(_labels_img().dataobj), shifted)
    maskers = [
        NiftiLabelsMasker(_labels_img(), strategy="maximum").fit(img),
        NiftiMapsMasker(make_maps(), detrend=True).fit(img),
        NiftiMasker(mask_img=_mask()).fit(img),
        NiftiLabelsMasker(other_grid, resampling_target="labels").fit(img),
    ]
    together = transform_many(maskers, img)
    for masker, signals in zip(maskers, together):
        np.testing.assert_allclose(signals, masker.transform(img), rtol=1e-6, atol=1e-6)
