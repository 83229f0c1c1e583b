"""Compute brain masks, and move data between images and (samples, voxels) arrays.

Same names, signatures and masks as ``nilearn.masking`` 0.14.1:

- :func:`compute_epi_mask` / :func:`compute_multi_epi_mask`: threshold the
  (smoothed) mean EPI volume at the widest gap of its sorted intensities;
- :func:`compute_background_mask` / :func:`compute_multi_background_mask`:
  keep what differs from the border's median (or is not NaN);
- :func:`compute_brain_mask` / :func:`compute_multi_brain_mask`: the MNI152
  whole-brain, grey- or white-matter template resampled to the image;
- :func:`intersect_masks`: voxels in more than a fraction of the masks;
- :func:`apply_mask` / :func:`unmask`: image -> (n_samples, n_voxels) -> image;
- :func:`load_mask_img`: validate a binary mask.

Voxels inside a mask are always ordered as ``np.nonzero(mask)`` orders them
(C order over ``(i, j, k)``), so ``unmask(apply_mask(img, mask), mask)``
gives back the masked image.

The mean of a 4D file on disk is computed by streaming its volumes (the whole
run is never held in memory); in-memory images are averaged as numpy does.
"""

from __future__ import annotations

import logging
import numbers
import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import nibabel as nib
import numpy as np
from scipy import ndimage

from ._validation import Interval, Options, check_parameter
from ._warnings import MaskWarning, NonFiniteDataWarning
from .image import check_niimg, new_img_like, resample_img, resample_to_img, smooth_array
from .image.stream import iter_blocks

logger = logging.getLogger(__name__)

__all__ = [
    "MaskWarning",
    "apply_mask",
    "compute_background_mask",
    "compute_brain_mask",
    "compute_epi_mask",
    "compute_multi_background_mask",
    "compute_multi_brain_mask",
    "compute_multi_epi_mask",
    "intersect_masks",
    "load_mask_img",
    "unmask",
]


# --------------------------------------------------------------------------
# validation helpers

_BOOL = ["boolean"]
_FRACTION = [Interval("real", 0, 1, closed="both")]
_OPENING = ["boolean", Interval("int", 0, None, closed="left")]
_BORDER = [Interval("int", 1, None, closed="left")]
_VERBOSE = ["boolean", Interval("int", 0, None, closed="left")]
_N_JOBS = [Interval("int", None, None)]
_MASK_TYPES = [Options(("whole-brain", "gm", "wm"))]


def _is_memory(value: Any) -> bool:
    return value is None or isinstance(value, (str, os.PathLike)) or hasattr(value, "cache")


_is_memory.description = "None, a cache directory or a joblib.Memory"  # type: ignore[attr-defined]


def _describe(img: Any) -> str:
    """Short, readable name of an image-like value for error messages."""
    if isinstance(img, nib.spatialimages.SpatialImage):
        filename = img.get_filename()
        return f"{type(img).__name__}({filename!r})" if filename else (
            f"{type(img).__name__}(shape={img.shape})"
        )
    text = repr(img)
    return text if len(text) <= 80 else text[:77] + "..."


def _cached(func: Callable, memory: Any) -> Callable:
    if memory is None:
        return func
    if isinstance(memory, (str, os.PathLike)):
        import joblib

        memory = joblib.Memory(location=os.fspath(memory), verbose=0)
    return memory.cache(func)


def _log(verbose: Any, message: str, *args: Any) -> None:
    logger.log(logging.INFO if verbose else logging.DEBUG, message, *args)


def _proxy_file(img: nib.Nifti1Image) -> bool:
    """True when the voxel data of ``img`` is still on disk (nothing read)."""
    return (
        img._data_cache is None
        and nib.is_proxy(img.dataobj)
        and img.get_filename() is not None
    )


def _voxels(img: nib.Nifti1Image) -> np.ndarray:
    """Voxel data in the dtype nibabel gives, without caching it on ``img``."""
    if img._data_cache is not None:
        return img._data_cache
    return np.asanyarray(img.dataobj)


def _warn_non_finite(name: str, n_values: int, n_voxels: int) -> None:
    warnings.warn(
        f"{name} holds {n_values} non-finite values (NaN or inf) in {n_voxels} "
        "voxels; they were replaced by 0.",
        NonFiniteDataWarning,
        stacklevel=3,
    )


# --------------------------------------------------------------------------
# mask loading and small morphology helpers


def load_mask_img(
    mask_img: Any, allow_empty: bool = False, name: str = "mask_img"
) -> tuple[np.ndarray, np.ndarray]:
    """Check that an image is a binary 3D mask and return it as booleans.

    Parameters
    ----------
    mask_img : 3D image-like
        Zero is background; exactly one other value (any) marks the mask. A
        mask holding a single non-zero value everywhere is a full mask.
    allow_empty : bool, default=False
        Accept a mask whose voxels are all 0.
    name : str, default="mask_img"
        Argument name used in error messages.

    Returns
    -------
    mask : ndarray of bool, shape (X, Y, Z)
    affine : ndarray of shape (4, 4)

    Raises
    ------
    ValueError
        The mask is empty (unless ``allow_empty``), has no 0 background, or
        holds more than two values. Non-finite values are replaced by 0 with
        a :class:`~regionkit.NonFiniteDataWarning`.
    TypeError
        ``mask_img`` is not a 3D image.
    """
    mask, img = _load_mask(mask_img, allow_empty, name)
    return mask, img.affine


def _load_mask(mask_img: Any, allow_empty: bool, name: str) -> tuple[np.ndarray, nib.Nifti1Image]:
    """:func:`load_mask_img`, also returning the checked image."""
    img = check_niimg(mask_img, ensure_ndim=3, name=name)
    voxels = _voxels(img)
    if voxels.dtype.kind == "f":
        finite = np.isfinite(voxels)
        if not finite.all():
            n_bad = int(voxels.size - np.count_nonzero(finite))
            _warn_non_finite(name, n_bad, n_bad)
            voxels = np.where(finite, voxels, 0)
    values = np.unique(voxels)
    if len(values) == 1:
        if values[0] == 0 and not allow_empty:
            raise ValueError(
                f"{name} is empty: all its voxels are 0, so it would mask out all "
                f"the data. Got {name}={_describe(mask_img)}."
            )
    elif len(values) == 2:
        if 0 not in values:
            raise ValueError(
                f"{name} must use 0 for the background; got a mask of two values "
                f"{values.tolist()} ({name}={_describe(mask_img)})."
            )
    else:
        shown = values[:10].tolist()
        more = f" ... ({len(values)} values)" if len(values) > 10 else ""
        raise ValueError(
            f"{name} must be binary (0 and one other value); got {len(values)} "
            f"distinct values {shown}{more} ({name}={_describe(mask_img)})."
        )
    return voxels.astype(bool), img


def _largest_connected_component(mask: np.ndarray) -> np.ndarray:
    """Largest 6-connected component (the first one scanned on ties)."""
    labels, n_labels = ndimage.label(mask)
    if n_labels <= 1:
        return np.asarray(mask, dtype=bool)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == sizes.argmax()


def _post_process_mask(
    mask: np.ndarray, opening: int | bool, connected: bool, warning: str
) -> np.ndarray:
    """Erode, keep the largest component, then dilate twice and erode once.

    With ``opening = k``: ``k`` erosions, the largest 6-connected component,
    ``2k`` dilations and ``k`` erosions (6-connected structuring element,
    outside of the volume counted as background).
    """
    opening = int(opening)
    if opening:
        mask = ndimage.binary_erosion(mask, iterations=opening)
    if not mask.any():
        warnings.warn(f"Computed an empty mask. {warning}", MaskWarning, stacklevel=3)
    elif connected:
        mask = _largest_connected_component(mask)
    if opening:
        mask = ndimage.binary_dilation(mask, iterations=2 * opening)
        mask = ndimage.binary_erosion(mask, iterations=opening)
    return np.asarray(mask, dtype=bool)


# --------------------------------------------------------------------------
# mean volume (streamed for files on disk)


_CHUNK_SIZE = 16


def _nibabel_dtype(img: nib.Nifti1Image) -> np.dtype:
    """dtype of ``np.asanyarray(img.dataobj)`` for a file-backed image (not read)."""
    proxy = img.dataobj
    if (getattr(proxy, "slope", 1.0), getattr(proxy, "inter", 0.0)) != (1.0, 0.0):
        return np.dtype(np.float64)  # nibabel scales into float64
    return np.dtype(proxy.dtype)


def _float32_is_exact(img: nib.Nifti1Image) -> bool:
    """True when float32 holds the file's values exactly (float32, or <= 16-bit ints)."""
    dtype = _nibabel_dtype(img)
    return dtype == np.float32 or (dtype.kind in "iub" and dtype.itemsize <= 2)


def _iter_rows(img: nib.Nifti1Image, chunk_size: int = _CHUNK_SIZE):
    """Read a 4D file front to back: ``(start, rows)`` per chunk of volumes.

    ``rows`` has shape (n_volumes_in_chunk, X*Y*Z), one volume per row in
    Fortran (on-disk) voxel order. Files whose values float32 holds exactly
    go through :func:`regionkit.image.stream.iter_blocks` (CRC-checked, ISA-L
    when available) and give float32 rows; other files (scaled integers,
    float64, 32-bit integers) are read through one persistent nibabel file
    handle, slice after slice, and give exactly the values (and dtype)
    nibabel gives for the whole array.
    """
    if _float32_is_exact(img):
        yield from iter_blocks(img, chunk_size=chunk_size)
        return
    reopened = nib.load(img.get_filename(), keep_file_open=True)
    proxy = reopened.dataobj if reopened.shape == img.shape else img.dataobj
    n_volumes = img.shape[3]
    try:
        for start in range(0, n_volumes, chunk_size):
            chunk = np.asanyarray(proxy[..., start : start + chunk_size])
            yield start, chunk.reshape(-1, chunk.shape[-1], order="F").T
    finally:
        opener = getattr(proxy, "_opener", None)
        if opener is not None:
            opener.close_if_mine()


def _stream_mean(img: nib.Nifti1Image) -> np.ndarray:
    """Mean over time of a 4D file, reading it front to back in chunks.

    Volumes are added one after the other into an accumulator of the dtype
    numpy's ``mean`` uses on the array nibabel would load (float32 for
    float32 data, float64 otherwise). On a Fortran-ordered array, which is
    what nibabel returns for a file, numpy adds the volumes in that same
    order, so the mean is the same to the last bit as nilearn's.
    """
    data_dtype = _nibabel_dtype(img)
    acc_dtype = data_dtype if data_dtype.kind == "f" else np.dtype(np.float64)
    total = np.zeros(int(np.prod(img.shape[:3])), dtype=acc_dtype)
    for _, rows in _iter_rows(img):
        for row in rows:
            total += row
    total /= img.shape[3]
    return total.reshape(img.shape[:3], order="F")


def _mean_volume(imgs: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean over time (a copy for 3D) and affine of a 3D or 4D image-like."""
    img = check_niimg(imgs, name=name)
    if len(img.shape) not in (3, 4):
        raise ValueError(
            f"{name} must be a 3D or 4D image; got a {len(img.shape)}D image of shape "
            f"{img.shape} ({_describe(imgs)})."
        )
    if len(img.shape) == 3:
        return np.array(_voxels(img), copy=True), img.affine
    if _proxy_file(img) and img.shape[3] > 1:
        return _stream_mean(img), img.affine
    return _voxels(img).mean(axis=-1), img.affine


def _compute_mean(
    imgs: Any,
    target_affine: Any = None,
    target_shape: Any = None,
    smooth: float | bool = False,
    name: str = "imgs",
) -> tuple[np.ndarray, np.ndarray]:
    """Mean volume, resampled to the target grid, optionally smoothed (fwhm in voxels)."""
    mean, affine = _mean_volume(imgs, name)
    if target_affine is not None or target_shape is not None:
        resampled = resample_img(
            nib.Nifti1Image(mean, affine),
            target_affine=target_affine,
            target_shape=target_shape,
            copy=False,
        )
        affine = resampled.affine
        mean = np.asanyarray(resampled.dataobj)
    if smooth:
        nan_mask = np.isnan(mean)
        mean = smooth_array(mean, np.eye(4), fwhm=smooth, ensure_finite=True, copy=False)
        mean[nan_mask] = np.nan
    return mean, affine


# --------------------------------------------------------------------------
# mask computation


def _check_common(owner: str, connected: Any, opening: Any, verbose: Any, memory: Any) -> None:
    check_parameter("connected", connected, _BOOL, owner)
    check_parameter("opening", opening, _OPENING, owner)
    check_parameter("verbose", verbose, _VERBOSE, owner)
    check_parameter("memory", memory, [_is_memory], owner)


def _check_cutoffs(owner: str, lower_cutoff: Any, upper_cutoff: Any) -> None:
    check_parameter("lower_cutoff", lower_cutoff, _FRACTION, owner)
    check_parameter("upper_cutoff", upper_cutoff, _FRACTION, owner)
    if lower_cutoff >= upper_cutoff:
        raise ValueError(
            f"lower_cutoff must be smaller than upper_cutoff; got "
            f"lower_cutoff={lower_cutoff!r} and upper_cutoff={upper_cutoff!r}."
        )


def _epi_threshold(
    mean: np.ndarray, lower_cutoff: float, upper_cutoff: float, exclude_zeros: bool
) -> float:
    """Middle of the widest gap between consecutive sorted intensities.

    Only gaps between the ``lower_cutoff`` and ``upper_cutoff`` fractions of
    the sorted values are considered.
    """
    values = np.sort(np.ravel(mean))
    if exclude_zeros:
        values = values[values != 0]
    n_values = len(values)
    lower = int(np.floor(lower_cutoff * n_values))
    upper = min(int(np.floor(upper_cutoff * n_values)), n_values - 1)
    if upper <= lower:
        raise ValueError(
            f"epi_img has too few {'non-zero ' if exclude_zeros else ''}voxels "
            f"({n_values}) to find an intensity gap between lower_cutoff="
            f"{lower_cutoff!r} and upper_cutoff={upper_cutoff!r}."
        )
    gaps = values[lower + 1 : upper + 1] - values[lower:upper]
    widest = int(gaps.argmax())
    return 0.5 * (values[lower + widest] + values[lower + widest + 1])


def compute_epi_mask(
    epi_img: Any,
    lower_cutoff: float = 0.2,
    upper_cutoff: float = 0.85,
    connected: bool = True,
    opening: int | bool = 2,
    exclude_zeros: bool = False,
    ensure_finite: bool = True,
    target_affine: np.ndarray | None = None,
    target_shape: Sequence[int] | None = None,
    memory: Any = None,
    verbose: int = 0,
) -> nib.Nifti1Image:
    """Compute a brain mask from EPI images (Nichols' histogram heuristic).

    Parameters
    ----------
    epi_img : 3D or 4D image-like
        EPI run(s), not detrended. A 4D file on disk is read in chunks of
        volumes; it is never loaded whole.
    lower_cutoff, upper_cutoff : float in [0, 1], default=0.2 and 0.85
        Fractions of the sorted mean intensities between which the threshold
        is searched; ``lower_cutoff < upper_cutoff``.
    connected : bool, default=True
        Keep only the largest 6-connected component.
    opening : int or bool, default=2
        Number of erosions before (and of extra dilations after) the
        connected-component step; 0 or False: none. When non-zero the mean
        volume is first smoothed with a Gaussian of FWHM one voxel.
    exclude_zeros : bool, default=False
        Ignore zero voxels when computing the threshold.
    ensure_finite : bool, default=True
        Replace NaN/inf in the mean volume by 0 before thresholding.
    target_affine, target_shape : optional
        Resample the mean volume to this grid first
        (see :func:`regionkit.image.resample_img`).
    memory : None, str or joblib.Memory, default=None
        Cache for the mean volume.
    verbose : int, default=0
        Log progress at INFO level when non-zero.

    Returns
    -------
    mask_img : nibabel.Nifti1Image
        uint8 mask on the grid of ``epi_img`` (or the target grid).

    Notes
    -----
    Steps: mean over time; resampling if asked; smoothing (FWHM 1 voxel) when
    ``opening``; the intensities are sorted and the threshold is the middle of
    the widest gap between consecutive values within
    ``[lower_cutoff, upper_cutoff]`` of them; voxels at or above it are kept;
    then ``opening`` erosions, the largest connected component, ``2 opening``
    dilations and ``opening`` erosions. A :class:`MaskWarning` tells when the
    mask is empty.

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> from regionkit.masking import compute_epi_mask
    >>> data = np.zeros((9, 9, 9, 5), dtype=np.float32)
    >>> data[2:7, 2:7, 2:7] = 100 + np.arange(5)
    >>> mask = compute_epi_mask(nib.Nifti1Image(data, np.eye(4)), opening=0)
    >>> int(np.asarray(mask.dataobj).sum())
    125
    """
    owner = "compute_epi_mask"
    _check_cutoffs(owner, lower_cutoff, upper_cutoff)
    _check_common(owner, connected, opening, verbose, memory)
    check_parameter("exclude_zeros", exclude_zeros, _BOOL, owner)
    check_parameter("ensure_finite", ensure_finite, _BOOL, owner)
    _log(verbose, "EPI mask computation")
    img = check_niimg(epi_img, name="epi_img")
    mean, affine = _cached(_compute_mean, memory)(
        img,
        target_affine=target_affine,
        target_shape=target_shape,
        smooth=1 if opening else False,
        name="epi_img",
    )
    if ensure_finite:
        mean = np.array(mean, copy=True)
        mean[~np.isfinite(mean)] = 0
    threshold = _epi_threshold(mean, lower_cutoff, upper_cutoff, exclude_zeros)
    logger.debug("compute_epi_mask: threshold %r", threshold)
    mask = _post_process_mask(
        mean >= threshold,
        opening,
        connected,
        "Are you sure that input data are EPI images not detrended?",
    )
    return new_img_like(img, mask, affine)


def _check_images_list(name: str, imgs: Any) -> list:
    if isinstance(imgs, (str, os.PathLike, nib.spatialimages.SpatialImage)) or not hasattr(
        imgs, "__len__"
    ):
        raise TypeError(
            f"{name} must be a list of images (one per subject or run); got "
            f"{_describe(imgs)}."
        )
    if len(imgs) == 0:
        raise TypeError(f"{name} must hold at least one image; got an empty {type(imgs).__name__}.")
    return list(imgs)


def compute_multi_epi_mask(
    epi_imgs: Sequence[Any],
    lower_cutoff: float = 0.2,
    upper_cutoff: float = 0.85,
    connected: bool = True,
    opening: int | bool = 2,
    threshold: float = 0.5,
    target_affine: np.ndarray | None = None,
    target_shape: Sequence[int] | None = None,
    exclude_zeros: bool = False,
    n_jobs: int = 1,
    memory: Any = None,
    verbose: int = 0,
) -> nib.Nifti1Image:
    """Compute one EPI mask per subject and intersect them.

    Parameters
    ----------
    epi_imgs : list of 3D or 4D image-likes
        One item per subject (or run).
    lower_cutoff, upper_cutoff, connected, opening, exclude_zeros
        See :func:`compute_epi_mask`.
    threshold : float in [0, 1], default=0.5
        A voxel is kept when it is in more than this fraction of the masks
        (0: union, 1: intersection); see :func:`intersect_masks`.
    target_affine, target_shape : optional
        Common grid; needed when the subjects' grids differ.
    n_jobs : int, default=1
        Subjects processed in parallel (joblib).
    memory, verbose
        See :func:`compute_epi_mask`.

    Returns
    -------
    mask_img : nibabel.Nifti1Image
        int8 group mask.
    """
    owner = "compute_multi_epi_mask"
    epi_imgs = _check_images_list("epi_imgs", epi_imgs)
    _check_cutoffs(owner, lower_cutoff, upper_cutoff)
    _check_common(owner, connected, opening, verbose, memory)
    check_parameter("threshold", threshold, _FRACTION, owner)
    check_parameter("exclude_zeros", exclude_zeros, _BOOL, owner)
    check_parameter("n_jobs", n_jobs, _N_JOBS, owner)
    masks = _map(
        compute_epi_mask,
        epi_imgs,
        n_jobs,
        lower_cutoff=lower_cutoff,
        upper_cutoff=upper_cutoff,
        connected=connected,
        opening=opening,
        exclude_zeros=exclude_zeros,
        target_affine=target_affine,
        target_shape=target_shape,
        memory=memory,
    )
    return intersect_masks(masks, threshold=threshold, connected=connected)


def _map(func: Callable, items: list, n_jobs: int, **kwargs: Any) -> list:
    if n_jobs == 1 or len(items) == 1:
        return [func(item, **kwargs) for item in items]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=n_jobs)(delayed(func)(item, **kwargs) for item in items)


def _border_values(volume: np.ndarray, border_size: int) -> np.ndarray:
    return np.concatenate(
        [
            volume[:border_size, :, :].ravel(),
            volume[-border_size:, :, :].ravel(),
            volume[:, :border_size, :].ravel(),
            volume[:, -border_size:, :].ravel(),
            volume[:, :, :border_size].ravel(),
            volume[:, :, -border_size:].ravel(),
        ]
    )


def compute_background_mask(
    data_imgs: Any,
    border_size: int = 2,
    connected: bool = False,
    opening: int | bool = False,
    target_affine: np.ndarray | None = None,
    target_shape: Sequence[int] | None = None,
    memory: Any = None,
    verbose: int = 0,
) -> nib.Nifti1Image:
    """Compute a mask of the voxels that differ from the image's background.

    Parameters
    ----------
    data_imgs : 3D or 4D image-like
        Images with a homogeneous background (zeros, or NaN as SPM writes).
    border_size : int, default=2
        Thickness in voxels of the border whose median is the background.
    connected : bool, default=False
        Keep only the largest 6-connected component.
    opening : int or bool, default=False
        Erosions/dilations as in :func:`compute_epi_mask` (no smoothing here).
    target_affine, target_shape, memory, verbose
        See :func:`compute_epi_mask`.

    Returns
    -------
    mask_img : nibabel.Nifti1Image
        uint8 mask.

    Notes
    -----
    If any border voxel of the mean volume is NaN, the mask is where the
    mean is not NaN; otherwise it is where the mean differs from the median
    of the border voxels.
    """
    owner = "compute_background_mask"
    check_parameter("border_size", border_size, _BORDER, owner)
    _check_common(owner, connected, opening, verbose, memory)
    _log(verbose, "Background mask computation")
    img = check_niimg(data_imgs, name="data_imgs")
    mean, affine = _cached(_compute_mean, memory)(
        img, target_affine=target_affine, target_shape=target_shape, smooth=False,
        name="data_imgs",
    )
    border = _border_values(mean, border_size)
    if np.isnan(border).any():
        mask = ~np.isnan(mean)
    else:
        mask = mean != np.median(border)
    mask = _post_process_mask(
        mask, opening, connected, "Are you sure that input images have a homogeneous background?"
    )
    return new_img_like(img, mask, affine)


def compute_multi_background_mask(
    data_imgs: Sequence[Any],
    border_size: int = 2,
    connected: bool = True,
    opening: int | bool = 2,
    threshold: float = 0.5,
    target_affine: np.ndarray | None = None,
    target_shape: Sequence[int] | None = None,
    n_jobs: int = 1,
    memory: Any = None,
    verbose: int = 0,
) -> nib.Nifti1Image:
    """Compute one background mask per subject and intersect them.

    Parameters
    ----------
    data_imgs : list of 3D or 4D image-likes
    border_size, connected, opening
        See :func:`compute_background_mask` (note the different defaults,
        as nilearn).
    threshold : float in [0, 1], default=0.5
        See :func:`intersect_masks`.
    target_affine, target_shape, n_jobs, memory, verbose
        See :func:`compute_multi_epi_mask`.

    Returns
    -------
    mask_img : nibabel.Nifti1Image
        int8 group mask.
    """
    owner = "compute_multi_background_mask"
    data_imgs = _check_images_list("data_imgs", data_imgs)
    check_parameter("border_size", border_size, _BORDER, owner)
    _check_common(owner, connected, opening, verbose, memory)
    check_parameter("threshold", threshold, _FRACTION, owner)
    check_parameter("n_jobs", n_jobs, _N_JOBS, owner)
    masks = _map(
        compute_background_mask,
        data_imgs,
        n_jobs,
        border_size=border_size,
        connected=connected,
        opening=opening,
        target_affine=target_affine,
        target_shape=target_shape,
        memory=memory,
    )
    return intersect_masks(masks, threshold=threshold, connected=connected)


def _template_for(mask_type: str) -> nib.Nifti1Image:
    # datasets sits beside masking in the layers; import lazily (no cycle).
    from regionkit.datasets import _templates

    loader = {
        "whole-brain": _templates.load_mni152_template,
        "gm": _templates.load_mni152_gm_template,
        "wm": _templates.load_mni152_wm_template,
    }[mask_type]
    return loader(resolution=1)


def compute_brain_mask(
    target_img: Any,
    threshold: float = 0.5,
    connected: bool = True,
    opening: int | bool = 2,
    memory: Any = None,
    verbose: int = 0,
    mask_type: str = "whole-brain",
) -> nib.Nifti1Image:
    """Compute a brain mask from the MNI152 template resampled to an image.

    Parameters
    ----------
    target_img : 3D or 4D image-like
        Gives the grid (shape and affine); its voxels are not read.
    threshold : float, default=0.5
        Template values (in [0, 1]) at or above it are kept.
    connected : bool, default=True
        Keep only the largest 6-connected component.
    opening : int or bool, default=2
        See :func:`compute_epi_mask`.
    memory : None, str or joblib.Memory, default=None
        Cache for the resampled template.
    verbose : int, default=0
    mask_type : {"whole-brain", "gm", "wm"}, default="whole-brain"
        Template: T1 (whole brain), grey matter or white matter.

    Returns
    -------
    mask_img : nibabel.Nifti1Image
        uint8 mask on the grid of ``target_img``.
    """
    owner = "compute_brain_mask"
    check_parameter("mask_type", mask_type, _MASK_TYPES, owner)
    check_parameter("threshold", threshold, [Interval("real", None, None)], owner)
    _check_common(owner, connected, opening, verbose, memory)
    _log(verbose, "Template %s mask computation", mask_type)
    target = check_niimg(target_img, name="target_img")
    if len(target.shape) not in (3, 4):
        raise ValueError(
            f"target_img must be a 3D or 4D image; got shape {target.shape}."
        )
    template = _template_for(mask_type)
    resampled = _cached(resample_to_img, memory)(template, target)
    mask = np.asanyarray(resampled.dataobj) >= threshold
    mask = _post_process_mask(
        mask,
        opening,
        connected,
        f"{mask_type} mask is empty, lower the threshold or check your input FOV.",
    )
    return new_img_like(target, mask, target.affine)


def compute_multi_brain_mask(
    target_imgs: Sequence[Any],
    threshold: float = 0.5,
    connected: bool = True,
    opening: int | bool = 2,
    memory: Any = None,
    verbose: int = 0,
    mask_type: str = "whole-brain",
) -> nib.Nifti1Image:
    """Brain mask for a list of images that share one grid.

    Parameters
    ----------
    target_imgs : list of 3D or 4D image-likes
        All must have the same shape and affine (checked without reading
        voxels); the mask is computed on the grid of the first.
    threshold, connected, opening, memory, verbose, mask_type
        See :func:`compute_brain_mask`.

    Returns
    -------
    mask_img : nibabel.Nifti1Image
    """
    target_imgs = _check_images_list("target_imgs", target_imgs)
    imgs = [check_niimg(img, name=f"target_imgs[{i}]") for i, img in enumerate(target_imgs)]
    _check_same_fov(imgs, "target_imgs")
    return compute_brain_mask(
        imgs[0],
        threshold=threshold,
        connected=connected,
        opening=opening,
        memory=memory,
        verbose=verbose,
        mask_type=mask_type,
    )


def _check_same_fov(imgs: list, name: str) -> None:
    ref = imgs[0]
    for i, img in enumerate(imgs[1:], start=1):
        if img.shape[:3] != ref.shape[:3] or not np.allclose(img.affine, ref.affine):
            raise ValueError(
                f"{name}[{i}] must have the same field of view as {name}[0]: "
                f"{name}[0] has shape {ref.shape[:3]} and affine\n{ref.affine}\n"
                f"but {name}[{i}] has shape {img.shape[:3]} and affine\n{img.affine}"
            )


def intersect_masks(
    mask_imgs: Sequence[Any], threshold: float = 0.5, connected: bool = True
) -> nib.Nifti1Image:
    """Keep the voxels present in more than a fraction of several masks.

    Parameters
    ----------
    mask_imgs : list of 3D image-likes
        Binary masks on one grid (empty masks are allowed here).
    threshold : float in [0, 1], default=0.5
        A voxel is kept when it is in more than ``threshold * len(mask_imgs)``
        masks: 1 is the intersection, 0 the union.
    connected : bool, default=True
        Keep only the largest 6-connected component.

    Returns
    -------
    mask_img : nibabel.Nifti1Image
        int8 mask with the affine of the first mask.
    """
    owner = "intersect_masks"
    check_parameter("threshold", threshold, _FRACTION, owner)
    check_parameter("connected", connected, _BOOL, owner)
    if isinstance(mask_imgs, (str, os.PathLike, nib.spatialimages.SpatialImage)) or not hasattr(
        mask_imgs, "__len__"
    ):
        raise TypeError(f"mask_imgs must be a list of 3D masks; got {_describe(mask_imgs)}.")
    if len(mask_imgs) == 0:
        raise ValueError("mask_imgs must hold at least one mask; got an empty list.")
    bad = [
        f"mask_imgs[{i}] is a {type(item).__name__}"
        for i, item in enumerate(mask_imgs)
        if not isinstance(item, (str, os.PathLike, nib.spatialimages.SpatialImage))
    ]
    if bad:
        raise TypeError("mask_imgs must hold 3D images or paths; " + ", ".join(bad) + ".")
    threshold = min(threshold, 1 - 1.0e-7)
    imgs = [
        check_niimg(item, ensure_ndim=3, name=f"mask_imgs[{i}]")
        for i, item in enumerate(mask_imgs)
    ]
    _check_same_fov(imgs, "mask_imgs")
    counts = np.zeros(imgs[0].shape[:3], dtype=np.int64)
    for i, img in enumerate(imgs):
        mask, _ = load_mask_img(img, allow_empty=True, name=f"mask_imgs[{i}]")
        counts += mask
    group = counts > threshold * len(imgs)
    if connected and group.any():
        group = _largest_connected_component(group)
    return new_img_like(imgs[0], group.astype(np.int8), imgs[0].affine)


# --------------------------------------------------------------------------
# masking and unmasking


def _output_dtype(dtype: Any, data_dtype: np.dtype) -> np.dtype:
    if isinstance(dtype, str) and dtype == "f":
        return data_dtype if data_dtype.kind == "f" else np.dtype(np.float32)
    return np.dtype(dtype)


def apply_mask(
    imgs: Any,
    mask_img: Any,
    dtype: Any = "f",
    smoothing_fwhm: float | None = None,
    ensure_finite: bool = True,
) -> np.ndarray:
    """Extract the voxels of a mask from 3D or 4D images.

    Parameters
    ----------
    imgs : 3D or 4D image-like
        Must be on the grid of ``mask_img`` (same shape and affine).
    mask_img : 3D image-like
        Binary mask (see :func:`load_mask_img`).
    dtype : dtype or "f", default="f"
        Output dtype; "f" keeps float data's dtype and gives float32 for
        integer data.
    smoothing_fwhm : float >= 0 or None, default=None
        FWHM in mm of a Gaussian smoothing of each volume before masking
        (implies ``ensure_finite``; 0 means none, with a warning).
    ensure_finite : bool, default=True
        Replace NaN/inf by 0 (with a :class:`~regionkit.NonFiniteDataWarning`
        giving their number).

    Returns
    -------
    masked : ndarray of shape (n_volumes, n_voxels), or (n_voxels,) for a 3D image
        Voxels in ``np.nonzero(mask)`` order.

    Raises
    ------
    ValueError
        Mask invalid (see :func:`load_mask_img`), or grids differ (the message
        gives both shapes or affines).
    TypeError
        ``mask_img`` is not 3D or ``imgs`` is not 3D/4D.

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> from regionkit.masking import apply_mask
    >>> mask = np.zeros((4, 4, 4), dtype=np.uint8); mask[1:3, 1:3, 1:3] = 1
    >>> data = np.ones((4, 4, 4, 6), dtype=np.float32)
    >>> apply_mask(nib.Nifti1Image(data, np.eye(4)), nib.Nifti1Image(mask, np.eye(4))).shape
    (6, 8)
    """
    check_parameter("ensure_finite", ensure_finite, _BOOL, "apply_mask")
    check_parameter(
        "smoothing_fwhm", smoothing_fwhm, [None, Interval("real", 0, None)], "apply_mask"
    )
    if not (isinstance(dtype, str) and dtype == "f"):
        try:
            np.dtype(dtype)
        except TypeError as exc:
            raise TypeError(f"dtype must be 'f' or a numpy dtype; got {dtype!r}.") from exc
    mask, mask_affine = load_mask_img(mask_img, name="mask_img")
    img = check_niimg(imgs, name="imgs")
    if len(img.shape) not in (3, 4):
        raise TypeError(
            f"imgs must be a 3D or 4D image; got a {len(img.shape)}D image of shape "
            f"{img.shape} ({_describe(imgs)})."
        )
    if not np.allclose(mask_affine, img.affine):
        raise ValueError(
            f"imgs and mask_img must have the same affine; mask_img has affine\n"
            f"{mask_affine}\nbut imgs ({_describe(imgs)}) has affine\n{img.affine}"
        )
    if mask.shape != img.shape[:3]:
        raise ValueError(
            f"imgs and mask_img must have the same shape; mask_img has shape "
            f"{mask.shape} but imgs has shape {img.shape[:3]} ({_describe(imgs)})."
        )
    if smoothing_fwhm is not None:
        ensure_finite = True

    if len(img.shape) == 4 and _proxy_file(img):
        return _apply_mask_streamed(img, mask, dtype, smoothing_fwhm, ensure_finite)
    data = _voxels(img)
    out_dtype = _output_dtype(dtype, data.dtype)
    if smoothing_fwhm is not None:
        volumes = np.array(data, dtype=_smoothing_dtype(out_dtype), order="C")
        _replace_non_finite(volumes, "imgs", 3)
        volumes = smooth_array(
            volumes, img.affine, fwhm=smoothing_fwhm, ensure_finite=False, copy=False
        )
        masked = volumes[mask].astype(out_dtype, copy=False)
    else:
        masked = np.asarray(data[mask], dtype=out_dtype)
        if ensure_finite:
            _replace_non_finite(masked, "imgs", 1)
    return masked.T


def _smoothing_dtype(out_dtype: np.dtype) -> np.dtype:
    return out_dtype if out_dtype.kind == "f" else np.dtype(np.float32)


def _apply_mask_streamed(
    img: nib.Nifti1Image,
    mask: np.ndarray,
    dtype: Any,
    smoothing_fwhm: Any,
    ensure_finite: bool,
) -> np.ndarray:
    """apply_mask for a 4D file, reading chunks of volumes front to back."""
    shape = img.shape[:3]
    n_volumes = img.shape[3]
    out_dtype = _output_dtype(dtype, _nibabel_dtype(img))
    flat_voxels = np.ravel_multi_index(np.nonzero(mask), shape, order="F")
    masked = np.empty((n_volumes, len(flat_voxels)), dtype=out_dtype)
    n_bad = 0
    # voxels that held a non-finite value: all of the volume when smoothing
    # (they spread into neighbours), only the mask's otherwise
    bad_voxels = np.zeros(shape if smoothing_fwhm is not None else len(flat_voxels), dtype=bool)
    for start, block in _iter_rows(img):
        n = block.shape[0]
        if smoothing_fwhm is not None:
            # (n, X*Y*Z) rows in Fortran order -> (X, Y, Z, n) volumes
            volumes = np.array(
                block.reshape(n, shape[2], shape[1], shape[0]).transpose(3, 2, 1, 0),
                dtype=_smoothing_dtype(out_dtype),
                order="C",
            )
            bad = ~np.isfinite(volumes)
            if bad.any():
                n_bad += int(np.count_nonzero(bad))
                bad_voxels |= bad.any(axis=-1)
                volumes[bad] = 0
            volumes = smooth_array(
                volumes, img.affine, fwhm=smoothing_fwhm, ensure_finite=False, copy=False
            )
            masked[start : start + n] = volumes[mask].T
            continue
        values = block[:, flat_voxels]
        if ensure_finite:
            bad = ~np.isfinite(values)
            if bad.any():
                n_bad += int(np.count_nonzero(bad))
                bad_voxels |= bad.any(axis=0)
                values[bad] = 0
        masked[start : start + n] = values
    if n_bad:
        _warn_non_finite("imgs", n_bad, int(np.count_nonzero(bad_voxels)))
    return masked


def _replace_non_finite(values: np.ndarray, name: str, n_spatial_axes: int) -> None:
    """Set NaN/inf of a float array to 0 in place, warning with their count.

    The first ``n_spatial_axes`` axes of ``values`` index voxels, the others
    (if any) volumes.
    """
    if values.dtype.kind != "f":
        return
    bad = ~np.isfinite(values)
    n_bad = int(np.count_nonzero(bad))
    if n_bad:
        n_spatial = int(np.prod(values.shape[:n_spatial_axes]))
        n_voxels = int(np.count_nonzero(bad.reshape(n_spatial, -1).any(axis=1)))
        values[bad] = 0
        _warn_non_finite(name, n_bad, n_voxels)


def unmask(X: Any, mask_img: Any, order: str = "F") -> nib.Nifti1Image | list[nib.Nifti1Image]:
    """Put masked data back into images on the mask's grid.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_voxels) or (n_voxels,), or list of them
        ``n_voxels`` is the number of voxels of the mask, in
        ``np.nonzero(mask)`` order. A list gives a list of images.
    mask_img : 3D image-like
        Binary mask (see :func:`load_mask_img`).
    order : {"F", "C"}, default="F"
        Memory layout of the output array.

    Returns
    -------
    img : nibabel.Nifti1Image or list of them
        4D (X, Y, Z, n_samples) for 2D ``X``, 3D for 1D ``X``; zeros outside
        the mask; dtype of ``X``.
    """
    check_parameter("order", order, [Options(("F", "C"))], "unmask")
    if isinstance(X, list) and X and not isinstance(X[0], numbers.Number):
        return [unmask(item, mask_img, order=order) for item in X]
    X = np.asanyarray(X)
    mask, mask_checked = _load_mask(mask_img, allow_empty=False, name="mask_img")
    n_voxels = int(mask.sum())
    if X.ndim == 2:
        if X.shape[1] != n_voxels:
            raise TypeError(
                f"X must have shape (n_samples, {n_voxels}) for a mask of {n_voxels} "
                f"voxels; got shape {X.shape}."
            )
        data = np.zeros((*mask.shape, X.shape[0]), dtype=X.dtype, order=order)
        data[mask, :] = X.T
    elif X.ndim == 1:
        if X.shape[0] != n_voxels:
            raise TypeError(
                f"X must have shape ({n_voxels},) for a mask of {n_voxels} voxels; "
                f"got shape {X.shape}."
            )
        data = np.zeros(mask.shape, dtype=X.dtype, order=order)
        data[mask] = X
    else:
        raise TypeError(f"X must be a 1D or 2D array; got shape {X.shape}.")
    return new_img_like(mask_checked, data, mask_checked.affine, copy_header=False)
