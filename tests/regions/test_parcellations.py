"""Parcellations: behaviour, numbers against brute force, errors before heavy work."""

from __future__ import annotations

import inspect

import nibabel as nib
import numpy as np
import pytest
from scipy import linalg, sparse
from scipy.ndimage import gaussian_filter
from sklearn.cluster import AgglomerativeClustering
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.image import grid_to_graph
from sklearn.linear_model import LinearRegression
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.extmath import svd_flip

import regionkit.regions.parcellations as parcellations_module
from regionkit.image._smooth import smooth_array
from regionkit.regions import Parcellations
from regionkit.regions._reduce import _gram_svd, masked_signals, reduce_subject

SHAPE = (12, 13, 11)
N_VOLUMES = 30


def _affine():
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    affine[:3, 3] = [-16.0, -18.0, -15.0]
    return affine


def _brain():
    grid = np.indices(SHAPE, dtype=float)
    center = (np.array(SHAPE) - 1) / 2
    radii = np.array([4.8, 5.3, 4.5])
    return (((grid - center[:, None, None, None]) / radii[:, None, None, None]) ** 2).sum(0) < 1


def make_run(seed, n_volumes=N_VOLUMES, affine=None, shape=SHAPE):
    """A run with 5 smooth networks, noise, zero outside an ellipsoid brain."""
    rng = np.random.default_rng(seed)
    networks = gaussian_filter(rng.standard_normal((*shape, 5)), (1.5, 1.5, 1.5, 0))
    courses = rng.standard_normal((5, n_volumes))
    data = 500 + 60 * np.einsum("xyzk,kt->xyzt", networks, courses) + 4 * rng.standard_normal((*shape, n_volumes))
    brain = _brain() if shape == SHAPE else np.ones(shape, dtype=bool)
    data *= brain[..., None]
    return nib.Nifti1Image(data.astype(np.float32), _affine() if affine is None else affine)


@pytest.fixture(scope="module")
def runs():
    return [make_run(seed) for seed in range(2)]


@pytest.fixture(scope="module")
def fitted_ward(runs):
    return Parcellations("ward", n_parcels=12, smoothing_fwhm=None).fit(runs)


def test_signature_matches_nilearn_0_14_1():
    names = list(inspect.signature(Parcellations).parameters)
    assert names == [
        "method", "n_parcels", "random_state", "mask", "smoothing_fwhm", "standardize",
        "standardize_confounds", "detrend", "low_pass", "high_pass", "t_r", "target_affine",
        "target_shape", "mask_strategy", "mask_args", "scaling", "n_iter", "memory",
        "memory_level", "n_jobs", "verbose",
    ]  # fmt: skip
    defaults = {k: p.default for k, p in inspect.signature(Parcellations).parameters.items()}
    assert defaults["smoothing_fwhm"] == 4.0 and defaults["mask_strategy"] == "epi" and defaults["verbose"] == 0


def test_fit_attributes(fitted_ward, runs):
    model = fitted_ward
    mask = np.asarray(model.mask_img_.dataobj).astype(bool)
    labels = np.asarray(model.labels_img_.dataobj)
    assert model.labels_img_.shape == SHAPE and labels.dtype == np.int32
    assert np.all(labels[~mask] == 0)
    assert set(np.unique(labels[mask])) == set(range(1, 13))
    assert model.n_elements_ == 12
    # 2 runs x 30 volumes -> 60 reduced rows, so 60 group components
    assert model.components_.shape == (2 * N_VOLUMES, mask.sum())
    assert sparse.issparse(model.connectivity_) and model.connectivity_.shape == (mask.sum(),) * 2
    # ward parcels are spatially connected
    from scipy.ndimage import label

    for parcel in range(1, 13):
        assert label(labels == parcel)[1] == 1


def test_transform_is_parcel_mean(fitted_ward, runs):
    signals = fitted_ward.transform(runs[0])
    labels = np.asarray(fitted_ward.labels_img_.dataobj)
    data = np.asarray(runs[0].dataobj)
    expected = np.stack([data[labels == k].mean(axis=0) for k in range(1, 13)], axis=1)
    assert signals.shape == (N_VOLUMES, 12)
    np.testing.assert_allclose(signals, expected, rtol=1e-5)
    both = fitted_ward.transform(runs)
    assert isinstance(both, list) and len(both) == 2
    np.testing.assert_allclose(both[0], signals, rtol=1e-6)


def test_inverse_transform_round_trip(fitted_ward, runs):
    signals = fitted_ward.transform(runs[1])
    img = fitted_ward.inverse_transform(signals)
    assert img.shape == (*SHAPE, N_VOLUMES)
    labels = np.asarray(fitted_ward.labels_img_.dataobj)
    data = np.asarray(img.dataobj)
    np.testing.assert_allclose(data[labels == 5], np.broadcast_to(signals[:, 4], (int((labels == 5).sum()), N_VOLUMES)))
    assert np.all(data[labels == 0] == 0)
    np.testing.assert_allclose(fitted_ward.transform(img), signals, rtol=1e-5, atol=1e-3)
    one = fitted_ward.inverse_transform(signals[0])
    assert one.shape == SHAPE
    with pytest.raises(ValueError, match=r"signals must have shape .*\(n_timepoints, 12\).*got \(30, 11\)"):
        fitted_ward.inverse_transform(signals[:, :11])


def test_score_is_explained_variance(fitted_ward, runs):
    model = fitted_ward
    score = model.score(runs)
    # brute force on the raw masked signals: the score is invariant to the
    # per-subject rotation nilearn applies first
    mask = np.asarray(model.mask_img_.dataobj).astype(bool)
    X = np.concatenate([np.asarray(run.dataobj)[mask].T for run in runs]).astype(np.float64)
    components = model.components_ / np.linalg.norm(model.components_, axis=1, keepdims=True)
    regression = LinearRegression().fit(components.T, X.T)
    residual = X - regression.coef_ @ components
    expected = 1 - (residual**2).sum() / (X**2).sum()
    assert score == pytest.approx(expected, rel=1e-4)
    assert 0.5 < score <= 1
    per_component = model.score(runs, per_component=True)
    assert per_component.shape == (model.components_.shape[0],)
    assert np.all((per_component >= 0) & (per_component <= 1))


def test_masked_signals_chunked_smoothing_equals_whole_run(runs):
    mask_img = nib.Nifti1Image(_brain().astype(np.int8), _affine())
    ours = masked_signals(runs[0], mask_img, smoothing_fwhm=5.0, chunk_size=7)
    whole = smooth_array(np.asarray(runs[0].dataobj), _affine(), 5.0)
    np.testing.assert_allclose(ours, whole[_brain()].T, rtol=1e-6, atol=1e-3)


def test_gram_svd_equals_lapack_svd_with_sign_flip():
    rng = np.random.default_rng(3)
    signals = (rng.standard_normal((25, 700)) * np.linspace(5, 0.1, 25)[:, None]).astype(np.float32)
    U, S, Vt = linalg.svd(signals.T.astype(np.float64), full_matrices=False)
    U, Vt = svd_flip(U, Vt)
    expected = (U * S).T[:20]
    np.testing.assert_allclose(_gram_svd(signals, 20), expected, rtol=1e-4, atol=1e-4)
    # long runs go through the randomized SVD, still (n_components, n_voxels)
    long = rng.standard_normal((300, 900)).astype(np.float32)
    assert reduce_subject(long, 200, 0).shape == (200, 900)


@pytest.mark.parametrize("method", ["kmeans", "average", "complete", "rena", "hierarchical_kmeans"])
def test_every_method_gives_n_parcels(runs, method):
    model = Parcellations(method, n_parcels=10, smoothing_fwhm=6.0).fit(runs)
    labels = np.asarray(model.labels_img_.dataobj)
    assert np.unique(labels[labels > 0]).tolist() == list(range(1, 11))
    assert model.n_elements_ == 10
    assert hasattr(model, "connectivity_") == (method in ("average", "complete"))
    assert model.fit_transform(runs[0]).shape == (N_VOLUMES, 10)


def test_target_affine_and_confounds(runs):
    target = np.diag([4.0, 4.0, 4.0, 1.0])
    target[:3, 3] = _affine()[:3, 3]
    confounds = [np.random.default_rng(i).standard_normal((N_VOLUMES, 2)) for i in range(2)]
    model = Parcellations("complete", n_parcels=8, target_affine=target, target_shape=(9, 10, 8), detrend=True)
    signals = model.fit_transform(runs, confounds=confounds)
    assert model.mask_img_.shape == (9, 10, 8) and np.allclose(model.mask_img_.affine, target)
    assert model.labels_img_.shape == (9, 10, 8)
    assert [s.shape for s in signals] == [(N_VOLUMES, 8)] * 2
    # confounds were regressed out of the parcel signals
    for signal, confound in zip(signals, confounds):
        centered = confound - confound.mean(axis=0)
        assert np.abs(centered.T @ signal).max() < 1e-2 * np.abs(signal).max() * N_VOLUMES


def test_n_jobs_and_progress_bar(runs, capsys):
    serial = Parcellations("kmeans", n_parcels=6).fit(runs)
    capsys.readouterr()
    parallel = Parcellations("kmeans", n_parcels=6, n_jobs=2, verbose=1).fit(runs)
    err = capsys.readouterr().err
    assert "subjects" in err
    np.testing.assert_array_equal(np.asarray(serial.labels_img_.dataobj), np.asarray(parallel.labels_img_.dataobj))
    Parcellations("kmeans", n_parcels=6).fit(runs)
    assert capsys.readouterr().err == ""


def test_explicit_mask_and_background_strategy(runs):
    mask = np.zeros(SHAPE, dtype=np.int8)
    mask[3:9, 3:10, 3:8] = 1
    model = Parcellations("ward", n_parcels=5, mask=nib.Nifti1Image(mask, _affine())).fit(runs)
    labels = np.asarray(model.labels_img_.dataobj)
    assert np.array_equal(labels > 0, mask > 0)
    background = Parcellations("kmeans", n_parcels=5, mask_strategy="background").fit(runs)
    background_mask = np.asarray(background.mask_img_.dataobj) > 0
    assert not np.any(background_mask & ~_brain()) and background_mask.sum() > 0.6 * _brain().sum()


# ---------------------------------------------------------------- errors
@pytest.fixture
def no_heavy_work(monkeypatch):
    """Fail if the mask or the reductions are computed."""

    def forbidden(*args, **kwargs):
        raise AssertionError("heavy work started before the error")

    monkeypatch.setattr(parcellations_module, "compute_multi_epi_mask", forbidden)
    monkeypatch.setattr(parcellations_module, "mask_and_reduce", forbidden)


def test_method_errors(runs, no_heavy_work):
    with pytest.raises(ValueError, match=r"'method'.*\['kmeans', 'ward', 'complete', 'average', 'rena', "):
        Parcellations().fit(runs)
    with pytest.raises(ValueError, match=r"'method' parameter of Parcellations must be one of .*'hierarchical_kmeans'.*Got 'single'"):
        Parcellations("single").fit(runs)


@pytest.mark.parametrize("n_parcels", [0, -3])
def test_n_parcels_below_one(runs, n_parcels, no_heavy_work):
    with pytest.raises(ValueError, match=rf"'n_parcels' parameter of Parcellations must be an int in the range \[1, inf\). Got {n_parcels}"):
        Parcellations("kmeans", n_parcels=n_parcels).fit(runs)


def test_n_parcels_above_mask_voxels(runs, monkeypatch):
    monkeypatch.setattr(parcellations_module, "mask_and_reduce", lambda *a, **k: pytest.fail("reduced"))
    mask = np.zeros(SHAPE, dtype=np.int8)
    mask[4:6, 4:6, 4:6] = 1
    with pytest.raises(ValueError, match=r"'n_parcels'.*at most the number of mask voxels, 8. Got 9"):
        Parcellations("ward", n_parcels=9, mask=nib.Nifti1Image(mask, _affine())).fit(runs)


def test_images_on_different_grids(runs, no_heavy_work):
    other_shape = make_run(5, shape=(12, 13, 12))
    with pytest.raises(ValueError, match=r"imgs\[1\] has shape \(12, 13, 12\), imgs\[0\] has shape \(12, 13, 11\)"):
        Parcellations("ward").fit([runs[0], other_shape])
    shifted = _affine()
    shifted[0, 3] += 3
    with pytest.raises(ValueError, match=r"imgs\[1\] has affine"):
        Parcellations("ward").fit([runs[0], make_run(5, affine=shifted)])


def test_empty_mask(runs, monkeypatch):
    monkeypatch.setattr(parcellations_module, "mask_and_reduce", lambda *a, **k: pytest.fail("reduced"))
    empty = nib.Nifti1Image(np.zeros(SHAPE, dtype=np.int8), _affine())
    with pytest.raises(ValueError, match=r"mask is empty \(0 voxels\)"):
        Parcellations("kmeans", mask=empty).fit(runs)


def test_transform_before_fit(runs):
    with pytest.raises(NotFittedError):
        Parcellations("kmeans").transform(runs[0])
    with pytest.raises(NotFittedError):
        Parcellations("kmeans").inverse_transform(np.zeros((3, 2)))


def test_confounds_of_wrong_length(runs, fitted_ward, no_heavy_work):
    confounds = [np.zeros((N_VOLUMES, 2))] * 3
    with pytest.raises(ValueError, match="got 3 confounds for 2 images"):
        Parcellations("kmeans").fit(runs, confounds=confounds)
    with pytest.raises(ValueError, match="got 3 confounds for 2 images"):
        fitted_ward.transform(runs, confounds=confounds)


@pytest.mark.parametrize("kwargs", [{}, {"detrend": True, "high_pass": 0.05, "t_r": 2.0}])
def test_fit_transform_from_reductions_equals_transform(runs, kwargs):
    confounds = [np.random.default_rng(5 + i).standard_normal((N_VOLUMES, 2)) for i in range(2)]
    model = Parcellations("kmeans", n_parcels=9, **kwargs)
    fast = model.fit_transform(runs, confounds=confounds)
    slow = model.transform(runs, confounds=confounds)
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype and a.shape == b.shape == (N_VOLUMES, 9)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * np.abs(b).max())
