"""RegionExtractor and threshold_maps: behaviour, errors, signals."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from scipy.ndimage import gaussian_filter
from scipy.stats import scoreatpercentile
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from regionkit.image import DimensionError
from regionkit.maskers import NiftiMapsMasker
from regionkit.regions import RegionExtractor
from regionkit.regions.region_extractor import _score_at_percentile, threshold_maps


AFFINE = np.diag([3.0, 3.0, 3.0, 1.0])


def ica_like_maps(shape, n_maps, seed=0):
    """Smooth signed random maps, unit variance, dense (like ICA components)."""
    rng = np.random.default_rng(seed)
    maps = gaussian_filter(rng.standard_normal((*shape, n_maps)), (2.5, 2.5, 2.5, 0))
    return (maps / maps.std(axis=(0, 1, 2))).astype(np.float32)


def _blob_maps():
    """Two maps on a 12^3 grid: map 0 has two positive blobs (27 and 64
    voxels) and a 1-voxel speck, map 1 one negative blob of 27 voxels."""
    maps = np.zeros((12, 12, 12, 2), dtype=np.float32)
    maps[1:4, 1:4, 1:4, 0] = 2.0
    maps[6:10, 6:10, 6:10, 0] = 3.0
    maps[0, 11, 0, 0] = 5.0
    maps[1:4, 7:10, 1:4, 1] = -2.0
    return nib.Nifti1Image(maps, np.eye(4))


def _cc(**kwargs):
    params = dict(extractor="connected_components", thresholding_strategy="img_value",
                  threshold=1.0, min_region_size=5)
    params.update(kwargs)
    return RegionExtractor(_blob_maps(), **params)


@pytest.fixture(scope="module")
def ica_img():
    return nib.Nifti1Image(ica_like_maps((16, 18, 15), 3, seed=3), AFFINE)


@pytest.fixture(scope="module")
def run_img():
    rng = np.random.default_rng(7)
    data = rng.standard_normal((16, 18, 15, 25)).astype(np.float32) + 10
    return nib.Nifti1Image(data, AFFINE)


# ----------------------------------------------------------------- fitting
def test_regions_and_index_one_sided():
    extractor = _cc().fit()
    regions = np.asarray(extractor.regions_img_.dataobj)
    assert regions.shape == (12, 12, 12, 2)
    assert extractor.index_.tolist() == [0, 0]
    assert sorted(np.count_nonzero(regions[..., k]) for k in range(2)) == [27, 64]
    # each region keeps the map's values on it
    assert set(np.unique(regions[..., 0])) | set(np.unique(regions[..., 1])) == {0.0, 2.0, 3.0}
    assert extractor.n_elements_ == 2
    assert extractor.get_feature_names_out().tolist() == ["regionextractor0",
                                                          "regionextractor1"]


def test_two_sided_keeps_negative_map():
    extractor = _cc(two_sided=True).fit()
    assert extractor.index_.tolist() == [0, 0, 1]
    regions = np.asarray(extractor.regions_img_.dataobj)
    assert regions[..., 2].min() == -2.0 and np.count_nonzero(regions[..., 2]) == 27


def test_negative_img_value_one_sided_keeps_values_below():
    extractor = _cc(threshold=-1.0).fit()
    assert extractor.index_.tolist() == [1]


def test_min_region_size_in_mm3():
    # 2 mm voxels: 8 mm3 each; 27 voxels = 216 mm3, 64 voxels = 512 mm3
    img = _blob_maps()
    img = nib.Nifti1Image(np.asarray(img.dataobj), np.diag([2.0, 2.0, 2.0, 1.0]))
    extractor = RegionExtractor(img, extractor="connected_components",
                                thresholding_strategy="img_value", threshold=1.0,
                                min_region_size=216).fit()
    # strictly larger than min_region_size is kept (as nilearn)
    assert [np.count_nonzero(v) for v in np.moveaxis(
        np.asarray(extractor.regions_img_.dataobj), -1, 0)] == [64]


def test_mask_limits_regions():
    mask = np.zeros((12, 12, 12), dtype=np.int8)
    mask[:6] = 1
    extractor = _cc(mask_img=nib.Nifti1Image(mask, np.eye(4)), two_sided=True).fit()
    regions = np.asarray(extractor.regions_img_.dataobj)
    assert extractor.index_.tolist() == [0, 1]
    assert not regions[6:].any()


def test_fit_keeps_parameters_and_refits():
    extractor = _cc(thresholding_strategy="percentile", threshold=50.0)
    extractor.fit()
    assert extractor.threshold == 50.0  # nilearn turns it into "50.0%"
    first = np.asarray(extractor.regions_img_.dataobj).copy()
    extractor.fit()
    np.testing.assert_array_equal(np.asarray(extractor.regions_img_.dataobj), first)
    params = extractor.get_params()
    cloned = clone(extractor).get_params()
    assert cloned.pop("maps_img") is not params.pop("maps_img")  # deep copy
    assert cloned == params


def test_local_regions_splits_two_peaks():
    x = np.arange(30, dtype=np.float32)
    profile = np.exp(-((x - 7) ** 2) / 12) + np.exp(-((x - 22) ** 2) / 12)
    volume = np.broadcast_to(profile[:, None, None], (30, 6, 6)).copy()
    img = nib.Nifti1Image(volume[..., None], np.eye(4))
    extractor = RegionExtractor(img, thresholding_strategy="img_value", threshold=0.01,
                                min_region_size=10, smoothing_fwhm=2).fit()
    regions = np.asarray(extractor.regions_img_.dataobj)
    assert regions.shape[3] == 2 and extractor.index_.tolist() == [0, 0]
    owner = np.argmax(regions != 0, axis=3)[:, 3, 3]
    assert np.all(owner[:12] == owner[0]) and np.all(owner[18:] == owner[-1])
    assert owner[0] != owner[-1]


# ------------------------------------------------------------ thresholding
@pytest.mark.parametrize("n_zeros", [0, 5, 500, 5000])
@pytest.mark.parametrize("percentile", [0.0, 12.5, 50.0, 87.3, 99.99, 100.0])
def test_score_at_percentile_is_scipys(n_zeros, percentile):
    rng = np.random.default_rng(n_zeros)
    values = np.abs(rng.standard_normal(1000)).astype(np.float32) + np.float32(0.01)
    values[:50] = values[50]  # ties
    full = np.concatenate([np.zeros(n_zeros, np.float32), values])
    expected = scoreatpercentile(full, percentile)
    assert _score_at_percentile(values.copy(), n_zeros, percentile) == expected


def test_ratio_keeps_the_strongest_voxels(ica_img):
    maps = np.asarray(ica_img.dataobj)
    n_voxels = int(np.prod(maps.shape[:3]))
    out = np.asarray(threshold_maps(ica_img, 0.5).dataobj)
    kept = np.count_nonzero(out)
    # 0.5 x n_voxels voxels over all maps (ties aside), both signs
    assert abs(kept - 0.5 * n_voxels) <= 1
    assert (out < 0).any() and (out > 0).any()
    assert np.abs(maps[out == 0]).max() <= np.abs(out[out != 0]).min()
    np.testing.assert_array_equal(out[out != 0], maps[out != 0])


def test_threshold_maps_img_value_matches_numpy(ica_img):
    maps = np.asarray(ica_img.dataobj)
    out = np.asarray(threshold_maps(ica_img, 0.8, "img_value", two_sided=True).dataobj)
    np.testing.assert_array_equal(out, np.where(np.abs(maps) >= 0.8, maps, 0))
    out = np.asarray(threshold_maps(ica_img, 0.8, "img_value", two_sided=False).dataobj)
    np.testing.assert_array_equal(out, np.where(maps >= 0.8, maps, 0))


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("params", "pattern"),
    [
        ({"thresholding_strategy": "ratio"},
         r"'thresholding_strategy'.*'ratio_n_voxels', 'img_value', 'percentile'.*'ratio'"),
        ({"extractor": "watershed"},
         r"'extractor'.*'connected_components', 'local_regions'.*'watershed'"),
        ({"thresholding_strategy": "percentile", "threshold": 120},
         r"'threshold'.*percentile.*\[0, 100\]. Got 120"),
        ({"thresholding_strategy": "percentile", "threshold": -5},
         r"'threshold'.*\[0, 100\]. Got -5"),
        ({"thresholding_strategy": "ratio_n_voxels", "threshold": 0},
         r"'threshold'.*ratio_n_voxels.*2 maps.*\(0, 2\]. Got 0"),
        ({"thresholding_strategy": "ratio_n_voxels", "threshold": 3.5},
         r"'threshold'.*\(0, 2\]. Got 3.5"),
        ({"thresholding_strategy": "img_value", "threshold": -1, "two_sided": True},
         r"'threshold'.*two_sided=True.*\[0, inf\). Got -1"),
        ({"threshold": "1"}, r"'threshold'.*Got '1'"),
        ({"threshold": None}, r"'threshold'.*Got None"),
        ({"min_region_size": -3}, r"'min_region_size'.*Got -3"),
        ({"two_sided": "yes"}, r"'two_sided'.*bool.*Got 'yes'"),
        ({"smoothing_fwhm": -1}, r"'smoothing_fwhm'.*Got -1"),
        ({"resampling_target": "labels"}, r"'resampling_target'.*Got 'labels'"),
    ],
)
def test_bad_parameters(params, pattern):
    with pytest.raises(ValueError, match=pattern):
        RegionExtractor(_blob_maps(), **params).fit()


def test_errors_before_reading_voxels(tmp_path, monkeypatch):
    path = tmp_path / "maps.nii.gz"
    nib.save(_blob_maps(), path)
    import regionkit.regions.region_extractor as module

    def fail(*args, **kwargs):
        raise AssertionError("voxel data read before the parameter check")

    monkeypatch.setattr(module, "get_data", fail)
    monkeypatch.setattr(module, "threshold_img", fail)
    with pytest.raises(ValueError, match="'threshold'"):
        RegionExtractor(str(path), threshold=5).fit()


def test_3d_maps_rejected():
    img = nib.Nifti1Image(np.asarray(_blob_maps().dataobj)[..., 0], np.eye(4))
    with pytest.raises(DimensionError, match=r"maps_img must be a 4D image, got 3D image"):
        RegionExtractor(img).fit()


def test_no_maps_img():
    with pytest.raises(ValueError, match="maps_img=None"):
        RegionExtractor().fit()


def test_transform_before_fit():
    extractor = RegionExtractor(_blob_maps())
    with pytest.raises(NotFittedError, match="RegionExtractor"):
        extractor.transform(_blob_maps())
    with pytest.raises(NotFittedError):
        extractor.inverse_transform(np.zeros(2))
    with pytest.raises(NotFittedError):
        extractor.get_feature_names_out()


def test_thresholding_keeps_nothing():
    with pytest.warns(UserWarning, match="exceeds the largest value"):
        with pytest.raises(ValueError, match=r"keeps no voxel of the 2 maps"):
            _cc(threshold=10.0).fit()


def test_no_region_large_enough():
    with pytest.raises(
        ValueError, match=r"keeps 119 voxels.*min_region_size=1000 mm3 \(1000 voxels"
    ):
        _cc(min_region_size=1000, two_sided=True).fit()


# ----------------------------------------------------------------- signals
def test_signals_are_the_maps_maskers_on_the_regions(ica_img, run_img):
    extractor = RegionExtractor(ica_img, extractor="connected_components",
                                min_region_size=100, standardize="zscore_sample",
                                detrend=True)
    signals = extractor.fit_transform(run_img)
    masker = NiftiMapsMasker(extractor.regions_img_, smoothing_fwhm=6,
                             standardize="zscore_sample", detrend=True)
    expected = masker.fit_transform(run_img)
    assert signals.shape == (25, extractor.n_elements_) and signals.dtype == np.float32
    np.testing.assert_array_equal(signals, expected)

    one = extractor.set_params(detrend=False, standardize=False).fit().transform(
        nib.Nifti1Image(np.asarray(run_img.dataobj)[..., 0], AFFINE)
    )
    assert one.shape == (extractor.n_elements_,)

    back = extractor.inverse_transform(signals[:3])
    assert back.shape == (16, 18, 15, 3)


def test_set_output_pandas(ica_img, run_img):
    extractor = RegionExtractor(ica_img, extractor="connected_components",
                                min_region_size=100).set_output(transform="pandas")
    frame = extractor.fit_transform(run_img)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == [f"regionextractor{i}" for i in range(extractor.n_elements_)]
    single = extractor.transform(nib.Nifti1Image(np.asarray(run_img.dataobj)[..., 0], AFFINE))
    assert single.shape == (1, extractor.n_elements_)
    np.testing.assert_allclose(single.to_numpy()[0], frame.to_numpy()[0], rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------- sparse regions
def test_split_maps_equals_connected_regions(ica_img, tmp_path):
    from regionkit.regions import connected_regions
    from regionkit.regions.region_extractor import SparseRegions, split_maps

    thresholded = threshold_maps(ica_img, 1.0)
    dense_img, dense_index = connected_regions(thresholded, 300, "connected_components")
    sparse_img, index = split_maps(thresholded, 300, "connected_components")
    assert isinstance(sparse_img.dataobj, SparseRegions)
    dense = np.asarray(dense_img.dataobj)
    assert index.tolist() == dense_index and sparse_img.shape == dense.shape
    np.testing.assert_array_equal(np.asarray(sparse_img.dataobj), dense)
    np.testing.assert_array_equal(sparse_img.dataobj[..., 2], dense[..., 2])
    np.testing.assert_array_equal(sparse_img.dataobj[:, :, :, 1:4], dense[..., 1:4])
    np.testing.assert_array_equal(sparse_img.dataobj[3, :, 2], dense[3, :, 2])
    assert sparse_img.get_fdata().dtype == np.float64
    assert sparse_img.get_data_dtype() == dense.dtype
    assert sparse_img.dataobj.n_voxels.tolist() == np.count_nonzero(
        dense.reshape(-1, dense.shape[3]), axis=0).tolist()
    nib.save(sparse_img, tmp_path / "regions.nii.gz")
    np.testing.assert_array_equal(
        np.asarray(nib.load(tmp_path / "regions.nii.gz").dataobj), dense
    )


def test_generate_report_shows_the_regions():
    pytest.importorskip("matplotlib")
    extractor = _cc(two_sided=True).fit()
    html = extractor.generate_report(displayed_maps=1).get_standalone()
    assert "RegionExtractor" in html and "3 regions." in html


def test_random_walker_mode(monkeypatch):
    import regionkit.regions.region_extractor as module

    assert module._random_walker_mode() == "cg"  # nilearn's solver, whatever is installed
    assert _cc().fit().random_walker_mode_ is None
    monkeypatch.setattr(module, "_random_walker_mode", lambda: "cg_j")
    extractor = _cc(extractor="local_regions", smoothing_fwhm=2).fit()
    assert extractor.random_walker_mode_ == "cg_j"
