"""Resampling images onto another voxel grid (same numbers as nilearn 0.14.1).

4D images are resampled volume by volume into one preallocated output array;
file-backed, uncompressed inputs are read one volume at a time.
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

import nibabel as nib
import numpy as np
from scipy import linalg, ndimage

from .._validation import Options, check_parameter
from .._warnings import NonFiniteDataWarning, RegionkitWarning
from ._niimg import _iter_volumes, _read, _read_dtype, check_niimg, new_img_like

logger = logging.getLogger(__name__)

__all__ = ["BoundingBoxError", "resample_img", "resample_to_img"]

_ORDERS = {"continuous": 3, "linear": 1, "nearest": 0}


class BoundingBoxError(ValueError):
    """The target field of view contains none of the image's data."""


def _bounds(shape: tuple, affine: np.ndarray) -> list[tuple[float, float]]:
    """World-space (min, max) along each axis of the corner-voxel centres."""
    corners = np.array(
        [[i, j, k, 1.0] for i in (0, shape[0] - 1) for j in (0, shape[1] - 1) for k in (0, shape[2] - 1)]
    ).T
    box = affine.dot(corners)[:3]
    return list(zip(box.min(axis=-1), box.max(axis=-1), strict=True))


def _copy_img(img: nib.Nifti1Image) -> nib.Nifti1Image:
    return new_img_like(img, np.array(_read(img), copy=True), img.affine.copy())


def _check_inputs(target_affine, target_shape, interpolation) -> None:
    check_parameter(
        "interpolation", interpolation, [Options(("continuous", "linear", "nearest"))],
        "resample_img",
    )
    if target_affine is not None:
        shape = np.shape(target_affine)
        if shape not in ((3, 3), (4, 4)):
            raise ValueError(
                f"target_affine must be a 3x3 or 4x4 matrix; got shape {shape}."
            )
    if target_shape is not None:
        if len(target_shape) != 3:
            raise ValueError(
                f"target_shape must be the shape of a 3D grid (length 3); got {target_shape!r}."
            )
        if target_affine is None:
            raise ValueError(
                f"target_shape={tuple(target_shape)!r} needs a target_affine; got None."
            )
        if np.shape(target_affine) == (3, 3):
            raise ValueError(
                "target_shape needs a 4x4 target_affine (with an offset); got a 3x3 "
                "target_affine."
            )


def _output_dtype(data_dtype: np.dtype, interpolation: str) -> np.dtype:
    if interpolation == "continuous" and data_dtype.kind in ("i", "u"):
        name = data_dtype.name.replace("uint", "int").replace("int", "float")
        target = np.dtype(name) if name in ("float32", "float64") else np.dtype(np.float32)
        warnings.warn(
            f"resample_img: casting data from {data_dtype.name} to {target.name} for "
            "continuous interpolation.",
            RegionkitWarning,
            stacklevel=3,
        )
        return target.newbyteorder("=")
    if data_dtype.kind == "b":
        return data_dtype
    return data_dtype.newbyteorder("=")


def _extrapolate_out_mask(data: np.ndarray, mask: np.ndarray, iterations: int):
    """Fill the voxels outside ``mask`` next to it with the mean of in-mask neighbours.

    Each iteration grows the filled region by one voxel (6-connectivity);
    voxels further out become 0 (nilearn's ``extrapolate_out_mask``).
    """
    if iterations > 1:
        data, mask = _extrapolate_out_mask(data, mask, iterations - 1)
    grown = ndimage.binary_dilation(mask)
    padded_mask = np.zeros(np.array(mask.shape) + 2, dtype=bool)
    padded_mask[1:-1, 1:-1, 1:-1] = mask
    padded = np.zeros(padded_mask.shape, dtype=np.float64)
    padded[1:-1, 1:-1, 1:-1] = data
    padded[~padded_mask] = np.nan
    shell = np.zeros_like(padded_mask)
    shell[1:-1, 1:-1, 1:-1] = grown ^ mask
    sx, sy, sz = np.nonzero(shell)
    neighbours = np.array(
        [
            padded[sx + dx, sy + dy, sz + dz]
            for dx, dy, dz in ((1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1))
        ]
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        fill = np.nansum(neighbours, axis=0) / np.sum(np.isfinite(neighbours), axis=0)
    fill[~np.isfinite(fill)] = 0
    out = np.zeros_like(padded)
    out[shell] = fill
    out[padded_mask] = padded[padded_mask]
    return out[1:-1, 1:-1, 1:-1], grown


def _resample_volume(volume, matrix, offset, target_shape, order, out, fill_value):
    """Resample one 3D volume into ``out`` (NaN/inf handled as nilearn does)."""
    if volume.dtype.kind in ("f", "c"):
        non_finite = ~np.isfinite(volume)
        n_bad = int(non_finite.sum())
    else:
        n_bad = 0
    if n_bad:
        warnings.warn(
            f"resample_img: {n_bad} voxels hold NaN or inf; they are filled from their "
            "neighbours for interpolation and set back to NaN in the output.",
            NonFiniteDataWarning,
            stacklevel=4,
        )
        volume = _extrapolate_out_mask(volume, ~non_finite, iterations=2)[0]
    ndimage.affine_transform(
        volume, matrix, offset=offset, output_shape=target_shape, output=out,
        cval=fill_value, order=order,
    )
    if n_bad:
        bad_out = ndimage.affine_transform(
            non_finite, matrix, offset=offset, output_shape=target_shape, order=0
        )
        out[bad_out] = np.nan


def _is_binary(data: np.ndarray) -> bool:
    return bool(np.all((data == 0) | (data == 1)))


def _volumes(img: nib.Nifti1Image):
    """Yield (index tuple, 3D array) for each volume, reading lean from disk."""
    if len(img.shape) == 3:
        yield (), _read(img)
        return
    if len(img.shape) == 4:
        for t, volume in _iter_volumes(img):
            yield (t,), volume
        return
    data = _read(img)
    for ind in np.ndindex(*img.shape[3:]):
        yield ind, data[(slice(None),) * 3 + ind]


def resample_img(
    img: Any,
    target_affine: np.ndarray | None = None,
    target_shape: tuple | None = None,
    interpolation: str = "continuous",
    copy: bool = True,
    order: str = "F",
    clip: bool = True,
    fill_value: float = 0.0,
    force_resample: bool = True,
    copy_header: bool = True,
) -> nib.Nifti1Image:
    """Resample an image onto a new voxel grid.

    Parameters
    ----------
    img : 3D or 4D image-like
        Image to resample (see :func:`regionkit.image.check_niimg`).
    target_affine : ndarray of shape (3, 3) or (4, 4), optional
        Affine of the target grid. A 3x3 affine sets only the voxel axes:
        the offset and shape are chosen so the grid holds the whole image.
    target_shape : tuple of 3 ints, optional
        Shape of the target grid (needs a 4x4 ``target_affine``). If None, the
        grid reaches just past the image's bounding box.
    interpolation : {"continuous", "linear", "nearest"}, default="continuous"
        Cubic spline, trilinear, or nearest-neighbour interpolation.
    copy : bool, default=True
        When no resampling is needed, return a copy rather than the input.
    order : {"F", "C"}, default="F"
        Memory layout of the output array.
    clip : bool, default=True
        Clip the output to ``[min(data, 0), max(data, 0)]`` (removes ringing).
    fill_value : float, default=0
        Value outside the input field of view.
    force_resample : bool, default=True
        If False, integer shifts of an identical grid are done by copying.
    copy_header : bool, default=True
        Copy the input header to the output.

    Returns
    -------
    resampled : nibabel.Nifti1Image
        Same dtype as the data (integers become floats with ``"continuous"``).

    Raises
    ------
    BoundingBoxError
        The target grid holds none of the image.

    Notes
    -----
    For each target voxel ``v`` the source voxel is
    ``inv(affine) @ target_affine @ v``, interpolated by
    :func:`scipy.ndimage.affine_transform`. NaN/inf voxels are filled from their
    neighbours before interpolation and set back to NaN in the output, with a
    :class:`regionkit.NonFiniteDataWarning`.
    """
    _check_inputs(target_affine, target_shape, interpolation)
    check_parameter("order", order, [Options(("F", "C"))], "resample_img")
    if isinstance(img, (str, os.PathLike)):
        copy = False
    img = check_niimg(img, name="img")
    if len(img.shape) < 3:
        raise ValueError(f"img must be 3D or 4D; got shape {img.shape}.")
    if target_affine is None and target_shape is None:
        return _copy_img(img) if copy else img
    target_affine = np.asarray(target_affine, dtype=np.float64)
    if not img.get_sform(coded=True)[1]:
        warnings.warn(
            "resample_img: the image header has no sform; results may not be as expected.",
            RegionkitWarning,
            stacklevel=2,
        )
    affine = img.affine
    if _not_needed(img, target_affine, target_shape):
        return _copy_img(img) if copy else img

    if target_affine.shape == (3, 3):
        missing_offset = True
        full = np.eye(4)
        full[:3, :3] = target_affine
        target_affine = full
    else:
        missing_offset = False
        target_affine = target_affine.copy()
    (xmin, xmax), (ymin, ymax), (zmin, zmax) = _bounds(
        img.shape[:3], np.linalg.inv(target_affine).dot(affine)
    )
    if missing_offset:
        target_affine[:3, 3] = target_affine[:3, :3].dot([xmin, ymin, zmin])
        xmax, ymax, zmax = xmax - xmin, ymax - ymin, zmax - zmin
    if target_shape is None:
        target_shape = (int(np.ceil(xmax)) + 1, int(np.ceil(ymax)) + 1, int(np.ceil(zmax)) + 1)
    if xmax < 0 or ymax < 0 or zmax < 0:
        raise BoundingBoxError(
            f"The field of view of target_affine\n{target_affine!r}\nwith target_shape "
            f"{tuple(target_shape)} holds none of img (shape {img.shape[:3]})."
        )
    if np.all(target_affine == affine):
        transform = np.eye(4)
    else:
        transform = np.dot(linalg.inv(affine), target_affine)
    matrix, offset = transform[:3, :3], transform[:3, 3]
    target_shape = tuple(int(s) for s in np.asarray(target_shape).tolist())
    extra_shape = tuple(img.shape[3:])
    data_dtype = _read_dtype(img)
    out_dtype = _output_dtype(data_dtype, interpolation)
    resampled = np.zeros(target_shape + extra_shape, order=order, dtype=out_dtype)

    vmin, vmax = np.inf, -np.inf
    integer_shift = (
        not force_resample
        and np.all(np.eye(3) == matrix)
        and all(b == np.round(b) for b in offset)
    )
    order_int = _ORDERS[interpolation]
    if np.all(np.diag(np.diag(matrix)) == matrix):
        matrix = np.diag(matrix)
    on_grid = _grid_gather(matrix, offset)
    warned_binary = False
    for ind, volume in _volumes(img):
        if clip and volume.size:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                vmin = min(vmin, np.nanmin(volume))
                vmax = max(vmax, np.nanmax(volume))
        out = resampled[(slice(None),) * 3 + ind]
        if integer_shift:
            _shift_copy(volume, offset, out)
            continue
        if order_int != 0 and not warned_binary and _is_binary(volume):
            warned_binary = True
            warnings.warn(
                "resample_img: resampling a binary image with continuous or linear "
                "interpolation gives non-binary values; consider "
                "interpolation='nearest'.",
                RegionkitWarning,
                stacklevel=2,
            )
        if on_grid is not None:
            _gather(volume, on_grid, out, fill_value)
            continue
        _resample_volume(volume, matrix, offset, target_shape, order_int, out, fill_value)
    if clip:
        lo, hi = min(vmin, 0), max(vmax, 0)
        resampled.clip(lo, hi, out=resampled)
    return new_img_like(img, resampled, target_affine, copy_header=copy_header)


def _grid_gather(matrix: np.ndarray, offset: np.ndarray) -> tuple | None:
    """``(strides, offsets)`` when every target voxel centre is a source voxel centre, else None.

    That is the case for a diagonal voxel transform with integer entries and an
    integer offset (e.g. MNI 2 mm to 4 mm with the same origin). Every
    interpolation order then returns the source voxels themselves (a spline
    interpolates its knots), so the resampling is a gather, ~100x cheaper:
    identical to ``affine_transform`` for nearest and linear interpolation;
    for the cubic spline, ``affine_transform`` reproduces the knots only up to
    float64 rounding (visible in float32 where the data are 0: values such as
    1e-45 or 3e-16), which the gather does not add.
    """
    if matrix.ndim != 1:
        return None
    strides, shifts = np.round(matrix), np.round(offset)
    if np.any(strides == 0) or np.any(np.abs(strides - matrix) > 1e-9) or np.any(np.abs(shifts - offset) > 1e-9):
        return None
    return strides.astype(np.intp), shifts.astype(np.intp)


def _gather(volume: np.ndarray, on_grid: tuple, out: np.ndarray, fill_value: float) -> None:
    """out[v] = volume[strides * v + offsets] where that is inside ``volume``, else ``fill_value``."""
    strides, shifts = on_grid
    index = [np.arange(n) * stride + shift for n, stride, shift in zip(out.shape, strides, shifts, strict=True)]
    inside = [(i >= 0) & (i < n) for i, n in zip(index, volume.shape, strict=True)]
    if not all(ok.all() for ok in inside):
        out[...] = fill_value
    if not all(ok.any() for ok in inside):
        return
    out[np.ix_(*inside)] = volume[np.ix_(*[i[ok] for i, ok in zip(index, inside, strict=True)])]


def _shift_copy(volume: np.ndarray, offset: np.ndarray, out: np.ndarray) -> None:
    """out[v] = volume[v + offset] for an integer offset, zeros elsewhere."""
    src, dst = [], []
    for size_in, size_out, b in zip(volume.shape, out.shape, offset, strict=True):
        b = int(b)
        start = max(0, -b)
        stop = min(size_out, size_in - b)
        if stop <= start:
            return
        dst.append(slice(start, stop))
        src.append(slice(start + b, stop + b))
    out[tuple(dst)] = volume[tuple(src)]


def _not_needed(img, target_affine, target_shape) -> bool:
    shape, affine = img.shape, img.affine
    if target_affine.shape != affine.shape:
        return False
    if not np.allclose(target_affine, affine):
        return False
    if target_shape is None:
        return False
    return tuple(np.asarray(target_shape).tolist()) in (tuple(shape), tuple(shape[:3]))


def resample_to_img(
    source_img: Any,
    target_img: Any,
    interpolation: str = "continuous",
    copy: bool = True,
    order: str = "F",
    clip: bool = False,
    fill_value: float = 0.0,
    force_resample: bool = True,
    copy_header: bool = True,
) -> nib.Nifti1Image:
    """Resample an image onto the grid of another image.

    Parameters
    ----------
    source_img : 3D or 4D image-like
        Image to resample.
    target_img : image-like
        Its affine and first three dimensions define the grid (not read).
    interpolation, copy, order, fill_value, force_resample, copy_header
        See :func:`resample_img`.
    clip : bool, default=False
        See :func:`resample_img` (note the different default, as nilearn).

    Returns
    -------
    resampled : nibabel.Nifti1Image
    """
    target = check_niimg(target_img, name="target_img")
    return resample_img(
        source_img,
        target_affine=target.affine,
        target_shape=target.shape[:3],
        interpolation=interpolation,
        copy=copy,
        order=order,
        clip=clip,
        fill_value=fill_value,
        force_resample=force_resample,
        copy_header=copy_header,
    )
