"""regionkit.masking: behaviour, bad input (same outcome as nilearn, clearer message), leanness."""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np
import pytest
from nilearn import masking as nm

from regionkit import NonFiniteDataWarning, masking
from regionkit._validation import InvalidParameterError

AFFINE = np.diag([3.0, 3.0, 3.0, 1.0])
AFFINE[:3, 3] = [-15.0, -18.0, -15.0]


def _voxels(img):
    return np.asarray(img.dataobj)


@pytest.fixture
def epi_data(rng):
    """(10, 12, 11, 20) float32 run: bright ellipsoid on a dim noisy background."""
    grid = np.indices((10, 12, 11), dtype=np.float64)
    centre = np.array([4.5, 5.5, 5.0])[:, None, None, None]
    radii = np.array([3.5, 4.0, 3.5])[:, None, None, None]
    inside = (((grid - centre) / radii) ** 2).sum(axis=0) < 1
    volume = np.where(inside, 300.0, 20.0)
    return (volume[..., None] + rng.normal(0, 5, (10, 12, 11, 20))).astype(np.float32)


@pytest.fixture
def epi_img(epi_data):
    return nib.Nifti1Image(epi_data, AFFINE)


@pytest.fixture
def mask_img(epi_data):
    mask = np.zeros(epi_data.shape[:3], dtype=np.uint8)
    mask[2:8, 3:9, 2:9] = 1
    return nib.Nifti1Image(mask, AFFINE)


# ---------------------------------------------------------------------------
# behaviour


def test_epi_mask_finds_the_bright_ellipsoid(epi_data, epi_img):
    truth = epi_data.mean(axis=-1) > 160
    exact = _voxels(masking.compute_epi_mask(epi_img, opening=0)).astype(bool)
    np.testing.assert_array_equal(exact, truth)
    # the default opening (2) rounds off the small ellipsoid's edges only
    opened = _voxels(masking.compute_epi_mask(epi_img)).astype(bool)
    assert opened[4, 5, 5]
    assert not opened[0, 0, 0]
    assert not (opened & ~truth).any()
    assert 0.7 * truth.sum() <= opened.sum() < truth.sum()


def test_epi_mask_keeps_largest_component(epi_data):
    data = epi_data.copy()
    data[0, 0, 0] = 300.0  # an isolated bright voxel
    img = nib.Nifti1Image(data, AFFINE)
    with_cc = _voxels(masking.compute_epi_mask(img, opening=0, connected=True)).astype(bool)
    without_cc = _voxels(masking.compute_epi_mask(img, opening=0, connected=False)).astype(bool)
    assert without_cc[0, 0, 0]
    assert not with_cc[0, 0, 0]
    assert np.count_nonzero(without_cc & ~with_cc) == 1


def test_epi_mask_on_file_streams_instead_of_loading(tmp_path, monkeypatch, epi_data):
    path = tmp_path / "run.nii.gz"
    nib.save(nib.Nifti1Image(epi_data, AFFINE), path)
    expected = _voxels(nm.compute_epi_mask(str(path)))

    real_voxels = masking._voxels

    def refuse_4d(img):
        assert len(img.shape) == 3, "the 4D run was loaded whole"
        return real_voxels(img)

    monkeypatch.setattr(masking, "_voxels", refuse_4d)
    np.testing.assert_array_equal(_voxels(masking.compute_epi_mask(path)), expected)
    mask = nm.compute_epi_mask(str(path))
    np.testing.assert_array_equal(
        masking.apply_mask(path, mask), nm.apply_mask(str(path), mask)
    )


def test_epi_mask_memory_caches_the_mean(tmp_path, epi_img):
    first = masking.compute_epi_mask(epi_img, memory=tmp_path / "cache")
    second = masking.compute_epi_mask(epi_img, memory=str(tmp_path / "cache"))
    np.testing.assert_array_equal(_voxels(first), _voxels(second))
    assert any((tmp_path / "cache").rglob("output.pkl"))


def test_apply_unmask_round_trip_and_voxel_order(epi_img, mask_img, epi_data):
    signals = masking.apply_mask(epi_img, mask_img)
    mask = _voxels(mask_img).astype(bool)
    assert signals.shape == (20, mask.sum())
    assert signals.dtype == np.float32
    # voxel order is np.nonzero's (C order over i, j, k)
    i, j, k = np.nonzero(mask)
    np.testing.assert_array_equal(signals[:, 5], epi_data[i[5], j[5], k[5], :])
    back = _voxels(masking.unmask(signals, mask_img))
    np.testing.assert_array_equal(back, epi_data * mask[..., None])
    one = masking.unmask(signals[3], mask_img)
    assert one.shape == mask.shape
    several = masking.unmask([signals, signals[:2]], mask_img)
    assert [img.shape for img in several] == [(10, 12, 11, 20), (10, 12, 11, 2)]


def test_apply_mask_on_3d_gives_1d(epi_img, mask_img, epi_data):
    volume = nib.Nifti1Image(epi_data[..., 0], AFFINE)
    values = masking.apply_mask(volume, mask_img, dtype=np.float64)
    assert values.shape == (int(_voxels(mask_img).sum()),)
    assert values.dtype == np.float64


def test_intersect_masks_threshold(mask_img):
    a = np.zeros((10, 12, 11), dtype=np.uint8)
    b = a.copy()
    a[2:6, 2:6, 2:6] = 1
    b[4:8, 4:8, 4:8] = 1
    masks = [nib.Nifti1Image(a, AFFINE), nib.Nifti1Image(b, AFFINE)]
    union = _voxels(masking.intersect_masks(masks, threshold=0, connected=False))
    inter = _voxels(masking.intersect_masks(masks, threshold=1, connected=False))
    assert union.sum() == 64 + 64 - 8
    assert inter.sum() == 8
    assert union.dtype == np.int8
    np.testing.assert_array_equal(masking.intersect_masks(masks, threshold=1).affine, AFFINE)


def test_background_mask_of_constant_image_warns_empty():
    img = nib.Nifti1Image(np.full((6, 6, 6), 3.0, dtype=np.float32), AFFINE)
    with pytest.warns(masking.MaskWarning, match="empty mask"):
        mask = masking.compute_background_mask(img)
    assert _voxels(mask).sum() == 0
    with pytest.warns(UserWarning, match="empty mask"):
        assert _voxels(nm.compute_background_mask(img)).sum() == 0


def test_non_finite_values_are_counted_in_the_warning(epi_data, mask_img):
    data = epi_data.copy()
    data[3, 4, 3, :2] = np.nan  # 2 values in 1 masked voxel
    data[4, 4, 4, 0] = np.inf  # 1 value in another
    img = nib.Nifti1Image(data, AFFINE)
    with pytest.warns(NonFiniteDataWarning, match="3 non-finite values .* in 2 voxels"):
        ours = masking.apply_mask(img, mask_img)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = nm.apply_mask(img, mask_img)
    np.testing.assert_array_equal(ours, theirs)
    assert np.isfinite(ours).all()


def test_non_finite_mask_values_warn_and_are_background(mask_img):
    mask = _voxels(mask_img).astype(np.float32)
    mask[0, 0, 0] = np.nan
    with pytest.warns(NonFiniteDataWarning, match="mask_img holds 1 non-finite"):
        loaded, affine = masking.load_mask_img(nib.Nifti1Image(mask, AFFINE))
    assert not loaded[0, 0, 0]
    assert loaded.sum() == _voxels(mask_img).sum()
    np.testing.assert_array_equal(affine, AFFINE)


def test_load_mask_img_accepts_any_single_foreground_value():
    mask = np.zeros((4, 4, 4), dtype=np.int16)
    mask[1:3, 1:3, 1:3] = 7
    loaded, _ = masking.load_mask_img(nib.Nifti1Image(mask, AFFINE))
    assert loaded.dtype == bool
    assert loaded.sum() == 8
    full, _ = masking.load_mask_img(nib.Nifti1Image(np.full((3, 3, 3), 2, np.int16), AFFINE))
    assert full.all()


# ---------------------------------------------------------------------------
# bad input: nilearn's outcome (error type), a message naming argument + value


def _both_raise(error, ours, theirs, match):
    with pytest.raises(error, match=match):
        ours()
    with pytest.raises(error), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs()


def test_empty_mask_is_rejected(epi_img):
    empty = nib.Nifti1Image(np.zeros((10, 12, 11), dtype=np.uint8), AFFINE)
    for function in ("apply_mask", "unmask"):
        first = epi_img if function == "apply_mask" else np.ones((3, 0))
        _both_raise(
            ValueError,
            lambda f=function, x=first: getattr(masking, f)(x, empty),
            lambda f=function, x=first: getattr(nm, f)(x, empty),
            r"mask_img is empty: all its voxels are 0.*mask_img=Nifti1Image\(shape=\(10, 12, 11\)\)",
        )


def test_non_binary_mask_is_rejected(epi_img):
    labels = np.zeros((10, 12, 11), dtype=np.int16)
    labels[1:3] = 1
    labels[5:7] = 2
    img = nib.Nifti1Image(labels, AFFINE)
    _both_raise(
        ValueError,
        lambda: masking.apply_mask(epi_img, img),
        lambda: nm.apply_mask(epi_img, img),
        r"mask_img must be binary \(0 and one other value\); got 3 distinct values \[0, 1, 2\]",
    )
    no_background = nib.Nifti1Image(np.where(labels == 2, 2, 1).astype(np.int16), AFFINE)
    _both_raise(
        ValueError,
        lambda: masking.apply_mask(epi_img, no_background),
        lambda: nm.apply_mask(epi_img, no_background),
        r"mask_img must use 0 for the background; got a mask of two values \[1, 2\]",
    )


def test_mask_affine_mismatch_is_rejected(epi_img, mask_img):
    shifted = nib.Nifti1Image(_voxels(mask_img), AFFINE + np.c_[np.zeros((4, 3)), [1, 0, 0, 0]])
    _both_raise(
        ValueError,
        lambda: masking.apply_mask(epi_img, shifted),
        lambda: nm.apply_mask(epi_img, shifted),
        r"(?s)imgs and mask_img must have the same affine; mask_img has affine.*-14\..*"
        r"but imgs .* has affine.*-15\.",
    )


def test_mask_shape_mismatch_is_rejected(epi_img):
    small = nib.Nifti1Image(np.ones((10, 12, 10), dtype=np.uint8), AFFINE)
    _both_raise(
        ValueError,
        lambda: masking.apply_mask(epi_img, small),
        lambda: nm.apply_mask(epi_img, small),
        r"mask_img has shape \(10, 12, 10\) but imgs has shape \(10, 12, 11\)",
    )


def test_wrong_dimensionality_is_rejected(epi_img, epi_data):
    mask_4d = nib.Nifti1Image(np.ones((10, 12, 11, 2), dtype=np.uint8), AFFINE)
    _both_raise(
        TypeError,
        lambda: masking.apply_mask(epi_img, mask_4d),
        lambda: nm.apply_mask(epi_img, mask_4d),
        r"mask_img must be a 3D image, got (a )?4D image of shape \(10, 12, 11, 2\)",
    )
    img_5d = nib.Nifti1Image(epi_data[..., :4].reshape(10, 12, 11, 2, 2), AFFINE)
    _both_raise(
        ValueError,
        lambda: masking.compute_epi_mask(img_5d),
        lambda: nm.compute_epi_mask(img_5d),
        r"epi_img must be a 3D or 4D image; got a 5D image of shape \(10, 12, 11, 2, 2\)",
    )
    # nilearn returns a 3D array here; we refuse 5D images
    mask = nib.Nifti1Image(np.ones((10, 12, 11), dtype=np.uint8), AFFINE)
    with pytest.raises(TypeError, match=r"imgs must be a 3D or 4D image; got a 5D image"):
        masking.apply_mask(img_5d, mask)


def test_unmask_bad_shapes(mask_img):
    n_voxels = int(_voxels(mask_img).sum())
    _both_raise(
        TypeError,
        lambda: masking.unmask(np.ones((4, n_voxels - 1)), mask_img),
        lambda: nm.unmask(np.ones((4, n_voxels - 1)), mask_img),
        rf"X must have shape \(n_samples, {n_voxels}\) for a mask of {n_voxels} voxels; "
        rf"got shape \(4, {n_voxels - 1}\)",
    )
    _both_raise(
        TypeError,
        lambda: masking.unmask(np.ones((2, 2, 2)), mask_img),
        lambda: nm.unmask(np.ones((2, 2, 2)), mask_img),
        r"X must be a 1D or 2D array; got shape \(2, 2, 2\)",
    )


def test_intersect_masks_bad_input(mask_img):
    _both_raise(
        ValueError,
        lambda: masking.intersect_masks([mask_img], threshold=1.5),
        lambda: nm.intersect_masks([mask_img], threshold=1.5),
        r"'threshold' parameter of intersect_masks must be a float in the range \[0, 1\]. Got 1.5",
    )
    _both_raise(
        ValueError,
        lambda: masking.intersect_masks([]),
        lambda: nm.intersect_masks([]),
        "mask_imgs must hold at least one mask; got an empty list",
    )
    _both_raise(
        TypeError,
        lambda: masking.intersect_masks([mask_img, np.ones((3, 3, 3))]),
        lambda: nm.intersect_masks([mask_img, np.ones((3, 3, 3))]),
        r"mask_imgs\[1\] is a ndarray",
    )
    other = nib.Nifti1Image(_voxels(mask_img), AFFINE * 2)
    _both_raise(
        ValueError,
        lambda: masking.intersect_masks([mask_img, other]),
        lambda: nm.intersect_masks([mask_img, other]),
        r"mask_imgs\[1\] must have the same field of view as mask_imgs\[0\]",
    )


def test_epi_mask_bad_parameters(epi_img):
    _both_raise(
        ValueError,
        lambda: masking.compute_epi_mask(epi_img, lower_cutoff=0.8, upper_cutoff=0.2),
        lambda: nm.compute_epi_mask(epi_img, lower_cutoff=0.8, upper_cutoff=0.2),
        r"lower_cutoff must be smaller than upper_cutoff; got lower_cutoff=0.8 and "
        r"upper_cutoff=0.2",
    )
    _both_raise(
        ValueError,
        lambda: masking.compute_epi_mask(epi_img, lower_cutoff=-0.1),
        lambda: nm.compute_epi_mask(epi_img, lower_cutoff=-0.1),
        r"'lower_cutoff' parameter of compute_epi_mask must be a float in the range "
        r"\[0, 1\]. Got -0.1",
    )
    # nilearn silently accepts these; we refuse them before reading any data
    with pytest.raises(InvalidParameterError, match=r"'opening'.*Got -1"):
        masking.compute_epi_mask("/no/such/file.nii.gz", opening=-1)
    with pytest.raises(InvalidParameterError, match=r"'upper_cutoff'.*Got 1.5"):
        masking.compute_epi_mask("/no/such/file.nii.gz", upper_cutoff=1.5)
    with pytest.raises(InvalidParameterError, match=r"'smoothing_fwhm'.*Got -1"):
        masking.apply_mask("/no/such/file.nii.gz", "/no/such/mask.nii", smoothing_fwhm=-1)
    with pytest.raises(InvalidParameterError, match=r"'border_size'.*Got 0"):
        masking.compute_background_mask("/no/such/file.nii.gz", border_size=0)


def test_brain_mask_bad_mask_type(epi_img):
    _both_raise(
        ValueError,
        lambda: masking.compute_brain_mask(epi_img, mask_type="csf"),
        lambda: nm.compute_brain_mask(epi_img, mask_type="csf"),
        r"'mask_type' parameter of compute_brain_mask must be one of \{'whole-brain', "
        r"'gm', 'wm'\}. Got 'csf'",
    )


def test_multi_masks_need_images():
    _both_raise(
        TypeError,
        lambda: masking.compute_multi_epi_mask([]),
        lambda: nm.compute_multi_epi_mask([]),
        "epi_imgs must hold at least one image; got an empty list",
    )
    _both_raise(
        TypeError,
        lambda: masking.compute_multi_background_mask([]),
        lambda: nm.compute_multi_background_mask([]),
        "data_imgs must hold at least one image; got an empty list",
    )


def test_not_a_nifti_names_the_argument(tmp_path, mask_img):
    text = tmp_path / "notes.nii"
    text.write_text("not an image")
    with pytest.raises(ValueError, match="imgs must be a NIfTI image; cannot read"):
        masking.apply_mask(text, mask_img)
    with pytest.raises(ValueError, match="epi_img must be a NIfTI image; cannot read"):
        masking.compute_epi_mask(text)


def test_glob_of_3d_files_is_one_run(tmp_path, epi_data):
    for t in range(4):
        nib.save(nib.Nifti1Image(epi_data[..., t], AFFINE), tmp_path / f"vol{t}.nii")
    paths = [str(tmp_path / f"vol{t}.nii") for t in range(4)]
    # nilearn accepts the glob for the mean but fails to build its output image
    ours = masking.compute_epi_mask(str(tmp_path / "vol*.nii"))
    theirs = nm.compute_epi_mask(paths)
    np.testing.assert_array_equal(_voxels(ours), _voxels(theirs))
    np.testing.assert_array_equal(
        masking.apply_mask(paths, theirs), nm.apply_mask(paths, theirs)
    )
