"""Properties of regionkit.image on generated images (diagonal and oblique affines)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from strategies import affines, images_3d, images_4d, oblique_affines  # noqa: E402

import regionkit.image as ri  # noqa: E402
from regionkit import RegionkitWarning  # noqa: E402


def _threshold(img, *args, **kwargs):
    """threshold_img without the 'threshold above the data' warning (expected here)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="threshold=", category=RegionkitWarning)
        return _data(ri.threshold_img(img, *args, **kwargs))


def _data(img):
    return np.asarray(img.dataobj)


def _anchored(target, img):
    """``target`` moved so its first voxel sits on the image's centre voxel."""
    target = target.copy()
    target[:3, 3] = img.affine[:3, :3] @ (np.array(img.shape[:3]) // 2) + img.affine[:3, 3]
    return target


def _resample_or_skip(img, target, shape, **kwargs):
    try:
        return _data(ri.resample_img(img, target, shape, **kwargs))
    except ri.BoundingBoxError:
        assume(False)


@given(img=images_4d())
def test_iter_concat_index_round_trip(img):
    volumes = list(ri.iter_img(img))
    assert all(v.shape == img.shape[:3] for v in volumes)
    np.testing.assert_array_equal(_data(ri.concat_imgs(volumes)), _data(img))
    np.testing.assert_array_equal(_data(ri.check_niimg(volumes, ensure_ndim=4)), _data(img))
    last = img.shape[3] - 1
    np.testing.assert_array_equal(_data(ri.index_img(img, -1)), _data(volumes[last]))


@given(img=st.one_of(images_3d(), images_4d()))
def test_resample_to_own_grid_is_identity(img):
    out = ri.resample_img(img, img.affine, img.shape[:3])
    np.testing.assert_array_equal(_data(out), _data(img))
    assert _data(out).dtype == np.float32


@given(img=images_3d(affine_strategy=oblique_affines()),
       shift=st.tuples(*[st.integers(-1, 1)] * 3),
       interpolation=st.sampled_from(["nearest", "linear", "continuous"]))
def test_integer_voxel_shift_is_a_slice(img, shift, interpolation):
    """On any (oblique) grid, moving the target by whole voxels just shifts the data."""
    translation = np.eye(4)
    translation[:3, 3] = shift
    out = _data(ri.resample_img(img, img.affine @ translation, img.shape,
                                interpolation=interpolation))
    data = _data(img)
    # Compare where the source voxel is not on the image border: there a rounding
    # error of 1e-15 in the (oblique) affine product may put it just outside.
    index = np.indices(img.shape)
    source = index + np.array(shift)[:, None, None, None]
    inner = np.all(
        (source >= 1) & (source <= np.array(img.shape)[:, None, None, None] - 2), axis=0
    )
    expected = data[tuple(source[:, inner])]
    np.testing.assert_allclose(out[inner], expected, rtol=1e-5, atol=1e-5)


@given(img=images_4d(max_volumes=3), target=affines(), interpolation=st.sampled_from(["nearest", "linear"]))
def test_4d_resampling_is_volume_by_volume(img, target, interpolation):
    target = _anchored(target, img)
    whole = _resample_or_skip(img, target, (5, 6, 7), interpolation=interpolation)
    for t, vol in enumerate(ri.iter_img(img)):
        one = _data(ri.resample_img(vol, target, (5, 6, 7), interpolation=interpolation))
        np.testing.assert_array_equal(whole[..., t], one)


@given(img=images_3d(), target=affines())
def test_linear_resampling_stays_within_range(img, target):
    target = _anchored(target, img)
    out = _resample_or_skip(img, target, (6, 6, 6), interpolation="linear", clip=False)
    data = _data(img)
    assert out.min() >= min(data.min(), 0) - 1e-5
    assert out.max() <= max(data.max(), 0) + 1e-5


@given(img=st.one_of(images_3d(), images_4d(max_volumes=3)), fwhm=st.floats(0.5, 10.0))
def test_smoothing_properties(img, fwhm):
    data = _data(img)
    out = _data(ri.smooth_img(img, fwhm))
    assert out.dtype == np.float32
    # a Gaussian average never leaves the data's range
    assert out.min() >= data.min() - 1e-4 and out.max() <= data.max() + 1e-4
    # a scalar fwhm is the same as one per axis
    np.testing.assert_array_equal(_data(ri.smooth_img(img, [fwhm] * 3)), out)
    # smoothing a constant image changes nothing
    const = nib.Nifti1Image(np.full(img.shape, 1.5, np.float32), img.affine)
    np.testing.assert_allclose(_data(ri.smooth_img(const, fwhm)), 1.5, rtol=1e-5)


@given(img=st.one_of(images_3d(), images_4d(max_volumes=3)),
       low=st.floats(0.0, 2.0), extra=st.floats(0.0, 2.0), two_sided=st.booleans())
def test_threshold_properties(img, low, extra, two_sided):
    data = _data(img)
    out_low = _threshold(img, low, two_sided=two_sided)
    out_high = _threshold(img, low + extra, two_sided=two_sided)
    kept = out_low != 0
    np.testing.assert_array_equal(out_low[kept], data[kept])  # values kept as they are
    assert not np.any((out_high != 0) & ~kept)  # a higher threshold keeps a subset
    again = _threshold(nib.Nifti1Image(out_low, img.affine), low, two_sided=two_sided)
    np.testing.assert_array_equal(again, out_low)  # idempotent
    values = np.abs(out_low[kept]) if two_sided else out_low[kept]
    assert np.all(values >= low)


@given(img=images_3d(), cluster=st.integers(1, 10))
def test_cluster_threshold_leaves_only_large_clusters(img, cluster):
    from scipy import ndimage

    out = _threshold(img, 0.5, cluster_threshold=cluster)
    for sign in (1, -1):
        labels, n = ndimage.label(out * sign > 0)
        if n:
            assert np.bincount(labels.ravel())[1:].min() >= cluster


@given(img=images_4d(max_volumes=6), n_confounds=st.integers(1, 3))
def test_confounds_are_orthonormal(img, n_confounds):
    confounds = ri.high_variance_confounds(img, n_confounds=n_confounds, percentile=20.0, detrend=False)
    n = min(n_confounds, img.shape[3])
    assert confounds.shape == (img.shape[3], n)
    np.testing.assert_allclose(confounds.T @ confounds, np.eye(n), atol=1e-4)


@given(affine=affines())
def test_file_round_trip_keeps_everything_lazy(tmp_path_factory, affine):
    data = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    path = tmp_path_factory.mktemp("rt") / "img.nii.gz"
    nib.save(nib.Nifti1Image(data, affine), path)
    img = ri.check_niimg(path, atleast_4d=True)
    assert nib.is_proxy(img.dataobj)
    np.testing.assert_allclose(img.affine, affine, rtol=1e-6, atol=1e-5)
    np.testing.assert_array_equal(_data(img)[..., 0], data)
