"""check_niimg and the small image utilities: behaviour and bad input."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from nibabel.filebasedimages import ImageFileError

from regionkit import RegionkitWarning
from regionkit.image import (
    DimensionError,
    NotAnImageError,
    check_niimg,
    concat_imgs,
    get_data,
    index_img,
    iter_img,
    load_img,
    math_img,
    mean_img,
    new_img_like,
)

# ---------------------------------------------------------------- check_niimg


def test_file_backed_image_stays_lazy(nii_gz_4d, nii_4d):
    for path in (nii_gz_4d, nii_4d, str(nii_4d)):
        img = check_niimg(path)
        assert isinstance(img, nib.Nifti1Image)
        assert nib.is_proxy(img.dataobj)
        assert img._data_cache is None
        assert img.shape == (10, 12, 11, 20)


def test_loaded_nibabel_image_is_returned_as_is(img_4d):
    assert check_niimg(img_4d) is img_4d


def test_atleast_4d_keeps_proxy(tmp_path, img_3d):
    path = tmp_path / "vol.nii"
    nib.save(img_3d, path)
    img = check_niimg(path, atleast_4d=True)
    assert img.shape == (*img_3d.shape, 1)
    assert nib.is_proxy(img.dataobj)
    np.testing.assert_array_equal(np.asarray(img.dataobj)[..., 0], img_3d.get_fdata())


def test_single_volume_4d_is_accepted_as_3d(img_4d):
    one = index_img(img_4d, slice(0, 1))
    img = check_niimg(one, ensure_ndim=3)
    assert img.shape == img_4d.shape[:3]


def test_nifti2_file_becomes_lazy_nifti1(tmp_path, rng):
    data = rng.integers(-100, 100, (4, 5, 6, 3)).astype(np.int16)
    src = nib.Nifti2Image(data, np.diag([2.0, 3.0, 4.0, 1.0]))
    src.header.set_zooms((2.0, 3.0, 4.0, 1.5))
    src.header.set_xyzt_units("mm", "sec")
    path = tmp_path / "n2.nii"
    nib.save(src, path)
    img = check_niimg(path)
    assert type(img) is nib.Nifti1Image
    assert nib.is_proxy(img.dataobj)
    assert img.get_data_dtype() == np.int16
    np.testing.assert_array_equal(np.asarray(img.dataobj), data)
    np.testing.assert_allclose(img.header.get_zooms(), (2.0, 3.0, 4.0, 1.5))
    np.testing.assert_allclose(img.affine, src.affine)


def test_list_of_3d_becomes_4d(img_4d):
    vols = list(iter_img(img_4d))[:3]
    img = check_niimg(vols, ensure_ndim=4)
    assert img.shape == (*img_4d.shape[:3], 3)
    np.testing.assert_array_equal(img.get_fdata(), img_4d.get_fdata()[..., :3])


def test_glob_expands_sorted(tmp_path, img_4d):
    for t in (2, 0, 1):
        nib.save(index_img(img_4d, t), tmp_path / f"vol{t}.nii")
    img = load_img(str(tmp_path / "vol*.nii"))
    np.testing.assert_array_equal(img.get_fdata(), img_4d.get_fdata()[..., :3])


@pytest.mark.parametrize(
    ("value", "error", "fragment"),
    [
        (3, TypeError, "got int 3"),
        (None, TypeError, "got NoneType None"),
        (np.zeros((2, 2, 2)), TypeError, "got ndarray"),
        ([], TypeError, "non-empty list"),
    ],
)
def test_not_image_like_raises_type_error(value, error, fragment):
    with pytest.raises(error, match=fragment) as info:
        check_niimg(value, name="imgs")
    assert "imgs must be a NIfTI image" in str(info.value)


def test_text_file_is_not_a_nifti(tmp_path):
    for name in ("notes.txt", "fake.nii", "fake.nii.gz"):
        path = tmp_path / name
        path.write_text("not an image\n")
        with pytest.raises(NotAnImageError, match=rf"mask_img must be a NIfTI image.*{name}"):
            check_niimg(path, name="mask_img")
        # the same error is an ImageFileError, as nilearn lets through
        with pytest.raises(ImageFileError):
            check_niimg(path)


def test_missing_file_and_empty_glob(tmp_path):
    missing = tmp_path / "nowhere" / "run.nii.gz"
    with pytest.raises(ValueError, match=r"imgs must be an existing NIfTI file.*nowhere"):
        check_niimg(missing, name="imgs")
    with pytest.raises(ValueError, match=r"glob pattern that matches no file.*zz\*"):
        check_niimg(str(tmp_path / "zz*.nii"))


def test_3d_where_4d_needed_names_shape(img_3d):
    with pytest.raises(DimensionError, match=r"imgs must be a 4D image, got 3D image of shape \(10, 12, 11\)"):
        check_niimg(img_3d, ensure_ndim=4, name="imgs")
    assert issubclass(DimensionError, TypeError)
    with pytest.raises(TypeError, match="4D"):
        index_img(img_3d, 0)
    with pytest.raises(TypeError, match="4D"):
        list(iter_img(img_3d))


def test_4d_where_3d_needed(img_4d):
    with pytest.raises(DimensionError, match=r"img must be a 3D image, got 4D image of shape \(10, 12, 11, 20\)"):
        check_niimg(img_4d, ensure_ndim=3)


def test_5d_image(rng):
    img5 = nib.Nifti1Image(rng.random((3, 4, 5, 2, 1)).astype(np.float32), np.eye(4))
    # as nilearn 0.14.1: no squeeze; passed through without ensure_ndim ...
    assert check_niimg(img5).shape == (3, 4, 5, 2, 1)
    # ... and a clear error where 3D or 4D is required
    with pytest.raises(DimensionError, match=r"must be a 4D image, got 5D image of shape \(3, 4, 5, 2, 1\)"):
        check_niimg(img5, ensure_ndim=4)


def test_list_with_different_affines_or_shapes(img_3d):
    other_affine = nib.Nifti1Image(np.asarray(img_3d.dataobj), img_3d.affine * 2)
    with pytest.raises(ValueError, match=r"imgs\[1\] must have the same field of view as imgs\[0\].*shape"):
        check_niimg([img_3d, other_affine], name="imgs")
    other_shape = nib.Nifti1Image(np.zeros((10, 12, 12), np.float32), img_3d.affine)
    with pytest.raises(ValueError, match=r"imgs\[1\] has shape \(10, 12, 12\)"):
        check_niimg([img_3d, other_shape], name="imgs")


def test_list_of_4d_where_4d_needed(img_4d):
    with pytest.raises(DimensionError, match=r"must be a 4D image, got a list of 4D images \(5D\)"):
        check_niimg([img_4d, img_4d], ensure_ndim=4)


def test_dtype_auto_casts(img_4d):
    data64 = np.asarray(img_4d.dataobj).astype(np.float64)
    img = check_niimg(nib.Nifti1Image(data64, img_4d.affine), dtype="auto")
    assert img.get_data_dtype() == np.float32


# ---------------------------------------------------------------- utilities


def test_new_img_like_bool_and_header(img_3d):
    mask = np.asarray(img_3d.dataobj) > 0
    img = new_img_like(img_3d, mask)
    assert img.dataobj.dtype == np.uint8  # the header keeps the reference's on-disk dtype
    assert img.header["cal_max"] == 1
    np.testing.assert_array_equal(img.affine, img_3d.affine)
    with pytest.raises(TypeError, match="ref_niimg must be a NIfTI image"):
        new_img_like(42, mask)


def test_new_img_like_int64_warns(img_3d):
    with pytest.warns(RegionkitWarning, match="64-bit ints"):
        img = new_img_like(img_3d, np.ones(img_3d.shape, dtype=np.int64))
    assert img.dataobj.dtype == np.int32


def test_index_img_reads_only_needed_volumes_and_checks_range(nii_gz_4d, img_4d):
    data = img_4d.get_fdata()
    np.testing.assert_array_equal(index_img(nii_gz_4d, 3).get_fdata(), data[..., 3])
    np.testing.assert_array_equal(index_img(nii_gz_4d, [4, 1]).get_fdata(), data[..., [4, 1]])
    mask = np.zeros(20, bool)
    mask[[2, 7]] = True
    np.testing.assert_array_equal(index_img(img_4d, mask).get_fdata(), data[..., mask])
    with pytest.raises(IndexError, match=r"index must be in \[-20, 20\).*got 20"):
        index_img(img_4d, 20)
    with pytest.raises(IndexError, match="one entry per volume"):
        index_img(img_4d, np.ones(3, bool))


def test_index_img_does_not_share_memory(img_4d):
    out = index_img(img_4d, 0)
    out.get_fdata()  # read
    np.asarray(out.dataobj)[:] = 0
    assert np.abs(np.asarray(img_4d.dataobj)[..., 0]).sum() > 0


def test_concat_imgs_float32_and_errors(img_4d, img_3d):
    img = concat_imgs([img_4d, img_4d])
    assert img.shape == (10, 12, 11, 40)
    assert img.get_data_dtype() == np.float32
    with pytest.raises(TypeError, match="non-empty list"):
        concat_imgs([])


def test_mean_img_matches_numpy(img_4d, nii_gz_4d):
    expected = np.asarray(img_4d.dataobj).astype(np.float64).mean(axis=-1)
    for source in (img_4d, nii_gz_4d):  # in memory, and streamed from the .nii.gz
        out = mean_img(source)
        assert out.dataobj.dtype == np.float32
        np.testing.assert_allclose(out.get_fdata(), expected, rtol=1e-6, atol=1e-7)


def test_math_img_and_errors(img_4d, img_3d):
    out = math_img("np.mean(a, axis=-1) - b", a=img_4d, b=img_3d)
    expected = np.asarray(img_4d.dataobj).mean(axis=-1) - np.asarray(img_3d.dataobj)
    np.testing.assert_allclose(out.get_fdata(), expected, rtol=1e-6)
    with pytest.warns(RegionkitWarning, match="not used"):
        math_img("a * 2", a=img_3d, b=img_3d)
    with pytest.raises(ValueError, match="copy_header_from='c' must name one of"):
        math_img("a", a=img_3d, copy_header_from="c")
    shifted = nib.Nifti1Image(np.asarray(img_3d.dataobj), img_3d.affine @ np.diag([2, 1, 1, 1]))
    with pytest.raises(ValueError, match="same field of view"):
        math_img("a + b", a=img_3d, b=shifted)


def test_get_data_does_not_cache(nii_4d):
    img = check_niimg(nii_4d)
    data = get_data(img)
    assert data.shape == img.shape
    assert img._data_cache is None


def test_generators_are_accepted(img_4d):
    """iter_img output (a generator) can be passed straight back, as with nilearn."""
    data = np.asarray(img_4d.dataobj)
    np.testing.assert_array_equal(np.asarray(check_niimg(iter_img(img_4d)).dataobj), data)
    np.testing.assert_array_equal(np.asarray(concat_imgs(iter_img(img_4d)).dataobj), data)
    np.testing.assert_allclose(mean_img(iter_img(img_4d)).get_fdata(), data.mean(axis=-1), rtol=1e-5, atol=1e-6)
