"""scikit-learn contract checks, generated over every masker.

To cover a new masker, add a factory to ``ESTIMATORS``: it returns
``(unfitted_estimator, img)`` for a tiny image. Each check below then runs on it.
"""

from __future__ import annotations

import copy
import pickle

import nibabel as nib
import numpy as np
import pytest
from masker_data import SEEDS, SHAPE, make_affine, make_bold
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from regionkit.maskers import JuniferNiftiSpheresMasker, NiftiSpheresMasker


def _img():
    return make_bold(np.random.default_rng(0), n_volumes=12)


def _mask():
    return nib.Nifti1Image(np.ones(SHAPE, np.uint8), make_affine())


ESTIMATORS = {
    "spheres": lambda: (NiftiSpheresMasker(SEEDS, radius=4.0), _img()),
    "spheres-mask-clean": lambda: (
        NiftiSpheresMasker(
            np.asarray(SEEDS), radius=6.0, mask_img=_mask(), allow_overlap=True,
            detrend=True, standardize="zscore_sample", clean__extrapolate=False,
        ),
        _img(),
    ),
    "spheres-multi-agg": lambda: (
        NiftiSpheresMasker(SEEDS, radius=4.0, agg_func={"m": "mean", "s": np.std}),
        _img(),
    ),
    "junifer-spheres": lambda: (JuniferNiftiSpheresMasker(SEEDS, 4.0, agg_func=np.median), _img()),
}

ids = list(ESTIMATORS)
factories = list(ESTIMATORS.values())


def _params_snapshot(estimator):
    return {k: copy.deepcopy(v) for k, v in estimator.get_params(deep=False).items()}


def _same_params(a, b):
    assert a.keys() == b.keys()
    for key in a:
        va, vb = a[key], b[key]
        if isinstance(va, np.ndarray):
            np.testing.assert_array_equal(va, vb)
        elif isinstance(va, nib.Nifti1Image):
            np.testing.assert_array_equal(np.asarray(va.dataobj), np.asarray(vb.dataobj))
        else:
            assert va == vb or va is vb, key


@pytest.mark.parametrize("factory", factories, ids=ids)
def test_clone_keeps_params_and_drops_fit(factory):
    estimator, img = factory()
    estimator.fit(img)
    cloned = clone(estimator)
    _same_params(_params_snapshot(cloned), _params_snapshot(estimator))
    assert not hasattr(cloned, "n_elements_")


@pytest.mark.parametrize("factory", factories, ids=ids)
def test_get_set_params_roundtrip(factory):
    estimator, _ = factory()
    params = estimator.get_params()
    estimator.set_params(**params)
    _same_params(_params_snapshot(estimator), params)
    estimator.set_params(radius=9.0)
    assert estimator.get_params()["radius"] == 9.0


@pytest.mark.parametrize("factory", factories, ids=ids)
def test_fit_returns_self_and_never_mutates_params(factory):
    estimator, img = factory()
    before = _params_snapshot(estimator)
    assert estimator.fit(img) is estimator
    estimator.transform(img)
    _same_params(_params_snapshot(estimator), before)


@pytest.mark.parametrize("factory", factories, ids=ids)
def test_not_fitted_error(factory):
    estimator, img = factory()
    with pytest.raises(NotFittedError):
        estimator.transform(img)


@pytest.mark.parametrize("factory", factories, ids=ids)
def test_transform_does_not_write_to_self(factory):
    estimator, img = factory()
    estimator.fit(img)
    before = dict(vars(estimator))
    estimator.transform(img)
    assert set(vars(estimator)) == set(before)
    for key, value in before.items():
        assert vars(estimator)[key] is value, key


@pytest.mark.parametrize("factory", factories, ids=ids)
def test_pickle_fitted(factory):
    estimator, img = factory()
    expected = estimator.fit_transform(img)
    restored = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(restored.transform(img), expected)


@pytest.mark.parametrize("factory", factories, ids=ids)
def test_refit_gives_same_result(factory):
    estimator, img = factory()
    first = estimator.fit(img).transform(img)
    second = estimator.fit(img).transform(img)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(clone(estimator).fit_transform(img), first)


@pytest.mark.parametrize("factory", factories, ids=ids)
def test_in_pipeline(factory):
    estimator, img = factory()
    pipeline = Pipeline([("masker", estimator), ("scale", StandardScaler())])
    out = pipeline.fit_transform(img)
    direct = StandardScaler().fit_transform(clone(estimator).fit_transform(img))
    np.testing.assert_allclose(out, direct, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("factory", factories, ids=ids)
def test_feature_names_match_output_width(factory):
    estimator, img = factory()
    signals = estimator.fit_transform(img)
    names = estimator.get_feature_names_out()
    assert len(names) == signals.shape[1]
    assert len(set(names)) == len(names)
    frame = clone(estimator).set_output(transform="pandas").fit_transform(img)
    assert list(frame.columns) == list(names)
    np.testing.assert_array_equal(frame.to_numpy(), signals)
