"""Loading and validating NIfTI images, and small image utilities.

Everything here keeps file-backed images lazy: :func:`check_niimg` never reads
voxel data of an image on disk (it keeps nibabel's array proxy), and voxel data
is read as ``np.asarray(img.dataobj)`` (never ``get_fdata()``, which caches a
float64 copy on the image).
"""

from __future__ import annotations

import glob
import logging
import os
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from nibabel.filebasedimages import ImageFileError
from nibabel.spatialimages import SpatialImage

from .._warnings import RegionkitWarning

logger = logging.getLogger(__name__)

__all__ = [
    "DimensionError",
    "NotAnImageError",
    "check_niimg",
    "concat_imgs",
    "get_data",
    "index_img",
    "iter_img",
    "load_img",
    "math_img",
    "mean_img",
    "new_img_like",
]


class DimensionError(TypeError):
    """An image has the wrong number of dimensions (nilearn raises a TypeError too).

    ``item_ndim`` is the dimensionality of the offending image, when known.
    """

    item_ndim: int | None = None


class NotAnImageError(ValueError, ImageFileError):
    """A path or object cannot be read as a NIfTI image.

    Subclasses ``ValueError`` and nibabel's ``ImageFileError`` (what nilearn
    lets through for a file that is not an image).
    """


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    if isinstance(value, SpatialImage):
        filename = value.get_filename()
        text = (
            f"{type(value).__name__}('{filename}')"
            if filename
            else f"{type(value).__name__}(shape={value.shape})"
        )
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_niimg_like(value: Any) -> bool:
    if isinstance(value, (str, os.PathLike, SpatialImage)):
        return True
    if isinstance(value, (list, tuple)) or (
        hasattr(value, "__iter__") and not isinstance(value, (dict, np.ndarray, bytes))
    ):
        return all(_is_niimg_like(item) for item in value)
    return False


def _expand_path(path: str, wildcards: bool, name: str) -> str | list[str]:
    """Resolve ``path`` to one existing file or a sorted list of glob matches."""
    expanded = str(Path(path).expanduser())
    if wildcards and glob.has_magic(path):
        matches = sorted(glob.glob(expanded))
        if not matches:
            raise ValueError(
                f"{name} is a glob pattern that matches no file: {path!r}."
            )
        return matches
    if not Path(expanded).exists():
        raise ValueError(f"{name} must be an existing NIfTI file; file not found: {path!r}.")
    return expanded


def _load_path(path: str, name: str) -> SpatialImage:
    try:
        img = nib.load(path)
    except (ImageFileError, OSError, ValueError, EOFError) as exc:
        raise NotAnImageError(
            f"{name} must be a NIfTI image; cannot read {path!r} as one ({exc})."
        ) from exc
    if not isinstance(img, SpatialImage):
        raise NotAnImageError(
            f"{name} must be a NIfTI image; {path!r} is a {type(img).__name__}."
        )
    return img


def _as_nifti1(img: SpatialImage) -> nib.Nifti1Image:
    """Return ``img`` as a Nifti1Image without reading its voxel data.

    nilearn keeps other classes (Nifti2Image, MGHImage, ...) as they are; we
    convert them so every function downstream sees one class. The data dtype,
    affine (as sform and qform with the original codes when NIfTI), zooms
    (including TR) and units are kept.
    """
    if type(img) is nib.Nifti1Image:
        return img
    dataobj = img._data_cache if img._data_cache is not None else img.dataobj
    if type(img) is nib.Nifti1Pair:
        return nib.Nifti1Image(dataobj, img.affine, header=img.header.copy())
    header = nib.Nifti1Header()
    try:
        header.set_data_dtype(img.get_data_dtype())
    except Exception:  # noqa: BLE001 - dtypes NIfTI-1 cannot store: let nibabel choose
        header = None
    new = nib.Nifti1Image(dataobj, img.affine, header=header)
    source = img.header
    if hasattr(source, "get_xyzt_units"):
        new.header.set_xyzt_units(*source.get_xyzt_units())
    if hasattr(source, "get_sform"):
        sform, sform_code = source.get_sform(coded=True)
        qform, qform_code = source.get_qform(coded=True)
        new.set_sform(img.affine if sform is None else sform, int(sform_code))
        new.set_qform(img.affine if qform is None else qform, int(qform_code))
    zooms = source.get_zooms() if hasattr(source, "get_zooms") else ()
    if len(zooms) == len(img.shape):
        new.header.set_zooms(zooms)
    return new


def _dimension_error(name: str, img: SpatialImage, ndim: int, depth: int = 0) -> DimensionError:
    got = len(img.shape)
    error = _dimension_error_text(name, img, ndim, depth)
    error.item_ndim = got
    return error


def _dimension_error_text(name: str, img: SpatialImage, ndim: int, depth: int) -> DimensionError:
    got = len(img.shape)
    what = "a list of " * depth + f"{got}D image" + ("s" * (depth > 0))
    return DimensionError(
        f"{name} must be a {ndim + depth}D image, got {what} of shape {img.shape}."
        + (" Images with more than 4 dimensions are not supported." if got > 4 else "")
    )


def check_niimg(
    img: Any,
    ensure_ndim: int | None = None,
    atleast_4d: bool = False,
    dtype: Any = None,
    name: str = "img",
    return_iterator: bool = False,
    wildcards: bool = True,
) -> nib.Nifti1Image | Iterator[nib.Nifti1Image]:
    """Validate an image-like input and return it as a ``Nifti1Image``.

    Parameters
    ----------
    img : str, path-like, nibabel image, or list of those
        A path (glob patterns expand to a sorted list), a nibabel spatial
        image, or a list of 3D (or 4D) images which are concatenated along the
        last axis.
    ensure_ndim : {3, 4, None}
        Required dimensionality. A 4D image with one volume is accepted where
        3D is required (its volume is returned), as nilearn does.
    atleast_4d : bool, default=False
        Give 3D images a trailing axis of length 1.
    dtype : dtype, "auto" or None
        Cast the data (this reads it). None keeps the file's dtype and the
        image lazy.
    name : str, default="img"
        Argument name used in error messages.
    return_iterator : bool, default=False
        Return an iterator over 3D volumes instead of one image.
    wildcards : bool, default=True
        Expand glob patterns in string paths.

    Returns
    -------
    img : nibabel.Nifti1Image
        File-backed inputs keep their array proxy: no voxel data is read
        unless ``dtype`` asks for a cast. Other spatial image classes
        (Nifti2, MGH, ...) are converted to ``Nifti1Image``.

    Raises
    ------
    TypeError
        ``img`` is not image-like; :class:`DimensionError` (a ``TypeError``)
        when the dimensionality is not ``ensure_ndim``.
    ValueError
        Missing file or empty glob; :class:`NotAnImageError` (also nibabel's
        ``ImageFileError``) when a file is not an image; list items with
        different shapes or affines.
    """
    if (
        not isinstance(img, (str, os.PathLike, SpatialImage, list, tuple, np.ndarray, dict, bytes))
        and hasattr(img, "__iter__")
    ):
        img = list(img)  # generators (e.g. iter_img) are read once
    if not _is_niimg_like(img) or (isinstance(img, (list, tuple)) and len(img) == 0):
        raise TypeError(
            f"{name} must be a NIfTI image, a path to one, or a non-empty list of "
            f"them; got {type(img).__name__} {_short(img)}."
        )
    if isinstance(img, os.PathLike):
        img = os.fspath(img)
    if isinstance(img, str):
        img = _expand_path(img, wildcards, name)
    if not isinstance(img, (str, SpatialImage)):
        items = list(img)
        if return_iterator:
            return _iter_list(items, ensure_ndim, dtype, name)
        try:
            return concat_imgs(items, ensure_ndim=ensure_ndim, dtype=dtype, name=name)
        except DimensionError as exc:
            if ensure_ndim is None or getattr(exc, "item_ndim", None) is None:
                raise
            item_ndim = exc.item_ndim
            raise DimensionError(
                f"{name} must be a {ensure_ndim}D image, got a list of {item_ndim}D "
                f"images ({item_ndim + 1}D)."
            ) from None
    if isinstance(img, str):
        img = _load_path(img, name)
    img = _as_nifti1(img)
    if dtype is not None:
        img = _cast(img, dtype)
    if ensure_ndim == 3 and len(img.shape) == 4 and img.shape[3] == 1:
        img = _with_dataobj(img, _proxy_reshape(img, img.shape[:3]))
    if len(img.shape) == 3:
        if return_iterator and not atleast_4d:
            raise _dimension_error(name, img, 4)
        if atleast_4d:
            img = _with_dataobj(img, _proxy_reshape(img, (*img.shape, 1)))
    if ensure_ndim is not None and len(img.shape) != ensure_ndim:
        raise _dimension_error(name, img, ensure_ndim)
    if return_iterator:
        return (_index(img, t) for t in range(img.shape[3]))
    return img


def _iter_list(items, ensure_ndim, dtype, name):
    ref = None
    inner_ndim = ensure_ndim - 1 if ensure_ndim is not None else None
    for i, item in enumerate(items):
        try:
            vol = check_niimg(item, ensure_ndim=inner_ndim, dtype=dtype, name=f"{name}[{i}]")
        except DimensionError as exc:
            if ensure_ndim is None or getattr(exc, "item_ndim", None) is None:
                raise
            raise DimensionError(
                f"{name} must be a {ensure_ndim}D image, got a list of {exc.item_ndim}D "
                f"images ({exc.item_ndim + 1}D)."
            ) from None
        if ref is None:
            ref = vol
            inner_ndim = len(vol.shape)
        else:
            _check_same_fov(ref, vol, f"{name}[0]", f"{name}[{i}]")
        yield vol


def _proxy_reshape(img: nib.Nifti1Image, shape: tuple) -> Any:
    dataobj = img._data_cache if img._data_cache is not None else img.dataobj
    return dataobj.reshape(shape)


def _with_dataobj(img: nib.Nifti1Image, dataobj: Any) -> nib.Nifti1Image:
    return nib.Nifti1Image(dataobj, img.affine, header=img.header)


def _cast(img: nib.Nifti1Image, dtype: Any) -> nib.Nifti1Image:
    data = _read(img)
    if dtype == "auto":
        if data.dtype.kind == "i":
            target = np.int32
        elif data.dtype.kind == "f":
            target = np.float32
        else:
            target = None
    else:
        target = np.dtype(dtype)
    if target is None or data.dtype == target:
        return img
    new = new_img_like(img, data.astype(target), img.affine)
    new.header.set_data_dtype(target)
    return new


def _read(img: SpatialImage, dtype: Any = None) -> np.ndarray:
    """Voxel data of ``img`` without caching it on the image.

    Scaled integer files (nibabel would give float64) are read as float32.
    The returned array may be the image's own in-memory array: never write to
    it.
    """
    if img._data_cache is not None:
        data = img._data_cache
    else:
        dataobj = img.dataobj
        if isinstance(dataobj, np.ndarray):
            data = dataobj
        elif dtype is None and nib.is_proxy(dataobj) and (
            (getattr(dataobj, "slope", 1.0), getattr(dataobj, "inter", 0.0)) != (1.0, 0.0)
        ):
            data = np.asarray(dataobj, dtype=np.float32)
        else:
            data = np.asarray(dataobj)
    if dtype is not None and data.dtype != dtype:
        data = data.astype(dtype)
    return data


def _read_dtype(img: SpatialImage) -> np.dtype:
    """The dtype :func:`_read` gives for ``img``, without reading the data."""
    dataobj = img._data_cache if img._data_cache is not None else img.dataobj
    if isinstance(dataobj, np.ndarray):
        return dataobj.dtype
    if nib.is_proxy(dataobj) and (
        (getattr(dataobj, "slope", 1.0), getattr(dataobj, "inter", 0.0)) != (1.0, 0.0)
    ):
        return np.dtype(np.float32)
    return np.dtype(getattr(dataobj, "dtype", img.get_data_dtype()))


def _iter_volumes(img: nib.Nifti1Image, chunk_size: int = 16) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(t, volume)`` for each 3D volume of a 4D image, reading lean.

    In-memory data gives views; an uncompressed file is read one volume at a
    time through nibabel's proxy; a gzipped float file is decoded once, front
    to back, by :func:`regionkit.image.stream.iter_blocks` (``chunk_size``
    volumes at a time) instead of being loaded whole. Volumes have the dtype
    :func:`_read` would give.
    """
    dataobj = img._data_cache if img._data_cache is not None else img.dataobj
    shape = img.shape[:3]
    if isinstance(dataobj, np.ndarray) or not nib.is_proxy(dataobj):
        data = np.asarray(dataobj)
        for t in range(img.shape[3]):
            yield t, data[..., t]
        return
    dtype = _read_dtype(img)
    filename = img.get_filename()
    if filename and str(filename).endswith(".gz") and dtype == np.float32:
        from .stream import iter_blocks

        for start, block in iter_blocks(img, chunk_size=chunk_size):
            for offset, row in enumerate(block):
                yield start + offset, row.reshape(shape, order="F")
        return
    for t in range(img.shape[3]):
        volume = np.asarray(dataobj[..., t])
        yield t, volume if volume.dtype == dtype else volume.astype(dtype)


def get_data(img: Any) -> np.ndarray:
    """Return the voxel data of an image-like input (native dtype, not cached).

    Parameters
    ----------
    img : image-like
        See :func:`check_niimg`.

    Returns
    -------
    data : ndarray
        Do not modify it in place: it may be the image's own array.
    """
    return _read(check_niimg(img, name="img"))


def load_img(img: Any, wildcards: bool = True, dtype: Any = None) -> nib.Nifti1Image:
    """Load an image-like input (same as :func:`check_niimg` without checks).

    Parameters
    ----------
    img : str, path-like, nibabel image or list of them
        A list of 3D images becomes one 4D image.
    wildcards : bool, default=True
        Expand glob patterns.
    dtype : dtype, "auto" or None
        Cast the data.

    Returns
    -------
    img : nibabel.Nifti1Image
    """
    return check_niimg(img, wildcards=wildcards, dtype=dtype, name="img")


def _downcast_int64(data: np.ndarray) -> np.ndarray:
    if data.dtype not in (np.int64, np.uint64):
        return data
    if data.size and np.iinfo(np.int32).min <= data.min() and data.max() <= np.iinfo(np.int32).max:
        warnings.warn(
            "new_img_like: data holds 64-bit ints; converted to int32 for "
            "compatibility with NIfTI tools.",
            RegionkitWarning,
            stacklevel=3,
        )
        return data.astype(np.int32)
    warnings.warn(
        "new_img_like: data holds 64-bit ints too large for int32; the image keeps int64.",
        RegionkitWarning,
        stacklevel=3,
    )
    return data


def new_img_like(
    ref_niimg: Any, data: np.ndarray, affine: np.ndarray | None = None, copy_header: bool = True
) -> nib.Nifti1Image:
    """Create an image with ``data`` in the space of a reference image.

    Parameters
    ----------
    ref_niimg : image-like or list of them
        Reference for the affine (when ``affine`` is None), the class and the
        header. A list uses its first item; a path is loaded (lazily).
    data : ndarray
        Voxel data. Booleans become uint8; int64 becomes int32 when it fits.
    affine : ndarray of shape (4, 4), optional
    copy_header : bool, default=True
        Copy the reference header, resetting scaling and cal_min/cal_max.

    Returns
    -------
    img : nibabel.Nifti1Image (or the reference's class)
    """
    ref = ref_niimg
    if isinstance(ref, os.PathLike):
        ref = os.fspath(ref)
    if isinstance(ref, (list, tuple)) and ref:
        ref = ref[0]
        if isinstance(ref, os.PathLike):
            ref = os.fspath(ref)
    if isinstance(ref, str):
        ref = _load_path(ref, "ref_niimg")
    if not isinstance(ref, SpatialImage):
        raise TypeError(
            f"ref_niimg must be a NIfTI image or a path to one; got {_short(ref_niimg)}."
        )
    data = np.asanyarray(data)
    if affine is None:
        affine = ref.affine
    if data.dtype == bool:
        data = data.astype(np.uint8)
    data = _downcast_int64(data)
    header = None
    if copy_header and ref.header is not None:
        header = ref.header.copy()
        keys = header.keys() if hasattr(header, "keys") else ()
        if "scl_slope" in keys:
            header["scl_slope"] = 0.0
        if "scl_inter" in keys:
            header["scl_inter"] = 0.0
        if "glmax" in keys:
            header["glmax"] = 0.0
        if "cal_max" in keys:
            header["cal_max"] = np.max(data) if data.size else 0.0
        if "cal_min" in keys:
            header["cal_min"] = np.min(data) if data.size else 0.0
    klass = type(ref)
    if klass is nib.Nifti1Pair:
        klass = nib.Nifti1Image
    return klass(data, affine, header=header)


def _index(img: nib.Nifti1Image, index: Any) -> nib.Nifti1Image:
    """Volumes ``index`` of a 4D image; reads only those volumes from disk."""
    dataobj = img._data_cache if img._data_cache is not None else img.dataobj
    dtype = _read_dtype(img)
    if isinstance(index, (int, np.integer, slice)):
        data = np.asarray(dataobj[..., index])
    else:
        index = np.asarray(index)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        index = np.where(index < 0, index + img.shape[3], index).astype(np.intp)
        gzipped = str(img.get_filename() or "").endswith(".gz")
        if nib.is_proxy(dataobj) and gzipped and len(index) > 1:
            # one pass over the compressed span instead of one per volume
            first, last = int(index.min()), int(index.max())
            data = np.asarray(dataobj[..., first : last + 1])[..., index - first]
        elif nib.is_proxy(dataobj):
            data = np.empty((*img.shape[:3], len(index)), dtype=dtype)
            for out_t, t in enumerate(index):
                data[..., out_t] = np.asarray(dataobj[..., int(t)])
        else:
            data = np.asarray(dataobj)[..., index]
    if nib.is_proxy(dataobj) and data.dtype != dtype:
        data = data.astype(dtype)
    if isinstance(dataobj, np.ndarray) and np.shares_memory(data, dataobj):
        data = data.copy()
    new = new_img_like(img, data, img.affine)
    return new


def index_img(imgs: Any, index: Any) -> nib.Nifti1Image:
    """Select volumes of a 4D image.

    Parameters
    ----------
    imgs : 4D image-like
    index : int, slice, sequence of ints or booleans, or pandas object
        An int gives a 3D image; anything else a 4D image.

    Returns
    -------
    img : nibabel.Nifti1Image
    """
    img = check_niimg(imgs, ensure_ndim=4, name="imgs")
    if hasattr(index, "values") and hasattr(index, "iloc"):
        index = index.to_numpy().flatten()
    n_volumes = img.shape[3]
    if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
        if not -n_volumes <= index < n_volumes:
            raise IndexError(
                f"index must be in [-{n_volumes}, {n_volumes}) for imgs with "
                f"{n_volumes} volumes; got {index}."
            )
    elif not isinstance(index, slice):
        index_arr = np.asarray(index)
        if index_arr.dtype == bool and index_arr.shape != (n_volumes,):
            raise IndexError(
                f"A boolean index must have one entry per volume ({n_volumes}); "
                f"got {index_arr.shape[0] if index_arr.ndim else 'a scalar'}."
            )
        if index_arr.dtype != bool and index_arr.size and (
            index_arr.min() < -n_volumes or index_arr.max() >= n_volumes
        ):
            raise IndexError(
                f"index must be in [-{n_volumes}, {n_volumes}) for imgs with "
                f"{n_volumes} volumes; got {index_arr.tolist()}."
            )
    return _index(img, index)


def iter_img(imgs: Any) -> Iterator[nib.Nifti1Image]:
    """Iterate over the 3D volumes of a 4D image (or of a list of 3D images).

    Parameters
    ----------
    imgs : 4D image-like or list of 3D image-likes

    Yields
    ------
    img : nibabel.Nifti1Image
        One 3D volume at a time.
    """
    return check_niimg(imgs, ensure_ndim=4, return_iterator=True, name="imgs")


def _check_same_fov(ref, img, ref_name: str, name: str) -> None:
    if ref.shape[:3] != img.shape[:3] or not np.allclose(ref.affine, img.affine):
        raise ValueError(
            f"{name} must have the same field of view as {ref_name}: {ref_name} has "
            f"shape {ref.shape[:3]} and affine\n{ref.affine!r}\nbut {name} has shape "
            f"{img.shape[:3]} and affine\n{img.affine!r}"
        )


def concat_imgs(
    niimgs: Any,
    dtype: Any = np.float32,
    ensure_ndim: int | None = None,
    auto_resample: bool = False,
    name: str = "niimgs",
) -> nib.Nifti1Image:
    """Concatenate 3D or 4D images along the fourth axis.

    Parameters
    ----------
    niimgs : list of image-likes, or a glob string
        All of the same dimensionality (3D or 4D).
    dtype : dtype, "auto" or None, default=np.float32
        Output dtype; None keeps the first image's dtype; "auto" gives int32
        for integer data and float32 otherwise.
    ensure_ndim : {4, None}
        Required dimensionality of the result.
    auto_resample : bool, default=False
        Resample every image to the first one's grid (continuous
        interpolation) instead of raising on a field-of-view mismatch.
    name : str, default="niimgs"
        Argument name used in error messages.

    Returns
    -------
    img : nibabel.Nifti1Image
        4D; the data is filled volume by volume into one preallocated array.
    """
    if isinstance(niimgs, os.PathLike):
        niimgs = os.fspath(niimgs)
    if isinstance(niimgs, str):
        matches = sorted(glob.glob(str(Path(niimgs).expanduser())))
        if not matches:
            raise ValueError(f"{name} matches no file: {niimgs!r}.")
        niimgs = matches
    if isinstance(niimgs, SpatialImage) or not isinstance(niimgs, Iterable):
        items = [niimgs]
    else:
        items = list(niimgs)
    if not items:
        raise TypeError(f"{name} must be a non-empty list of images; got {niimgs!r}.")
    inner_ndim = ensure_ndim - 1 if ensure_ndim is not None else None
    imgs = []
    for i, item in enumerate(items):
        img = check_niimg(item, ensure_ndim=inner_ndim, name=f"{name}[{i}]")
        if inner_ndim is None:
            inner_ndim = len(img.shape)
            if inner_ndim not in (3, 4):
                raise DimensionError(
                    f"{name} must hold 3D or 4D images; {name}[0] is {inner_ndim}D "
                    f"with shape {img.shape}."
                )
        imgs.append(img)
    first = imgs[0]
    for i, img in enumerate(imgs[1:], start=1):
        if not auto_resample:
            _check_same_fov(first, img, f"{name}[0]", f"{name}[{i}]")
    lengths = [img.shape[3] if inner_ndim == 4 else 1 for img in imgs]
    if dtype is None:
        dtype = _read_dtype(first)
    elif isinstance(dtype, str) and dtype == "auto":
        kind = _read_dtype(first).kind
        dtype = np.int32 if kind in ("i", "u") else np.float32
    data = np.empty((*first.shape[:3], sum(lengths)), order="F", dtype=dtype)
    start = 0
    for img, n in zip(imgs, lengths):
        if auto_resample and (
            img.shape[:3] != first.shape[:3] or not np.allclose(img.affine, first.affine)
        ):
            from ._resample import resample_img

            warnings.warn(
                "concat_imgs: affines differ across images; resampling to the first "
                "image's grid.",
                RegionkitWarning,
                stacklevel=2,
            )
            img = resample_img(img, target_affine=first.affine, target_shape=first.shape[:3])
        vol = _read(img)
        data[..., start : start + n] = vol.reshape((*first.shape[:3], n))
        start += n
    return new_img_like(first, data, first.affine)


def _mean_data(img: nib.Nifti1Image) -> np.ndarray:
    """Mean over time (a copy for 3D images), accumulated volume by volume.

    The sum is kept in float64; the mean is float32 unless the data are
    float64 or 64-bit integers.
    """
    if len(img.shape) == 3:
        return np.array(_read(img), copy=True)
    if len(img.shape) != 4:
        raise DimensionError(f"imgs must be 3D or 4D images; got shape {img.shape}.")
    dtype = _read_dtype(img)
    out_dtype = np.float64 if dtype.itemsize == 8 else np.float32
    total = np.zeros(img.shape[:3], dtype=np.float64)
    for _, volume in _iter_volumes(img):
        total += volume
    total /= img.shape[3]
    return total.astype(out_dtype)


def mean_img(
    imgs: Any,
    target_affine: np.ndarray | None = None,
    target_shape: tuple | None = None,
    verbose: int = 0,
    n_jobs: int = 1,
    copy_header: bool = True,
) -> nib.Nifti1Image:
    """Mean over time of one or several images, optionally resampled.

    Parameters
    ----------
    imgs : image-like or list of image-likes
        Each item's mean over time is resampled to the grid of the first
        (or to ``target_affine``/``target_shape``) and the means averaged.
    target_affine, target_shape : optional
        See :func:`resample_img`.
    verbose, n_jobs : int
        Accepted for nilearn compatibility; work is sequential.
    copy_header : bool, default=True

    Returns
    -------
    img : nibabel.Nifti1Image
        3D mean image.
    """
    from ._resample import resample_img

    if isinstance(imgs, os.PathLike):
        imgs = os.fspath(imgs)
    if isinstance(imgs, (str, SpatialImage)) or not isinstance(imgs, Iterable):
        imgs = [imgs]
    items = iter(imgs)
    first = check_niimg(next(items), name="imgs[0]")

    def one_mean(img, affine, shape):
        mean_data = _mean_data(img)
        resampled = resample_img(
            nib.Nifti1Image(mean_data, img.affine),
            target_affine=affine,
            target_shape=shape,
            copy=False,
        )
        return _read(resampled), resampled.affine

    running, first_affine = one_mean(first, target_affine, target_shape)
    running = np.array(running, copy=True)
    if target_affine is None or target_shape is None:
        target_affine, target_shape = first_affine, running.shape[:3]
    n_imgs = 1
    for i, item in enumerate(items, start=1):
        img = check_niimg(item, name=f"imgs[{i}]")
        running += one_mean(img, target_affine, target_shape)[0]
        n_imgs += 1
    running = running / float(n_imgs)
    return new_img_like(first, running, target_affine, copy_header=copy_header)


def math_img(formula: str, copy_header_from: str | None = None, **imgs: Any) -> nib.Nifti1Image:
    """Evaluate a numpy expression over images of the same grid.

    Parameters
    ----------
    formula : str
        Python expression using the keyword names and ``np``,
        e.g. ``"np.mean(img, axis=-1)"``.
    copy_header_from : str, optional
        Keyword whose header the result takes.
    **imgs : image-like
        The named images.

    Returns
    -------
    img : nibabel.Nifti1Image
    """
    missing = [key for key in imgs if key not in formula and key != copy_header_from]
    if missing:
        warnings.warn(
            f"math_img: images {missing} are not used in formula={formula!r}.",
            RegionkitWarning,
            stacklevel=2,
        )
    niimgs = {key: check_niimg(value, name=key) for key, value in imgs.items()}
    keys = list(niimgs)
    for key in keys[1:]:
        _check_same_fov(niimgs[keys[0]], niimgs[key], keys[0], key)
    if copy_header_from is not None and copy_header_from not in imgs:
        raise ValueError(
            f"copy_header_from={copy_header_from!r} must name one of the images "
            f"{keys}."
        )
    namespace: dict[str, Any] = {key: np.array(_read(img), copy=True) for key, img in niimgs.items()}
    namespace["np"] = np
    try:
        result = eval(formula, namespace)  # noqa: S307 - the documented contract
    except Exception as exc:
        exc.args = (f"math_img could not evaluate formula={formula!r}", *exc.args)
        raise
    result = np.asarray(result)
    if copy_header_from is None:
        last = niimgs[keys[-1]]
        return new_img_like(last, result, last.affine, copy_header=False)
    ref = niimgs[copy_header_from]
    if result.ndim != len(ref.shape):
        raise ValueError(
            f"copy_header_from={copy_header_from!r}: the result is {result.ndim}D but "
            f"{copy_header_from} is {len(ref.shape)}D; cannot copy its header."
        )
    return new_img_like(ref, result, ref.affine)

