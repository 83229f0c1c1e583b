"""Mask, smooth, clean and reduce each subject while streaming it once.

The data-reduction stage of :class:`~regionkit.regions.Parcellations`, as plain
functions:

1. :func:`masked_signals` streams one 4D image in time chunks
   (:func:`regionkit.image.stream.iter_blocks`), smooths each volume of the
   chunk, gathers the mask's voxels into a float32 ``(n_timepoints, n_voxels)``
   array and cleans it (:func:`regionkit.signal.clean`).
2. :func:`reduce_subject` keeps the subject's ``n_components`` leading
   temporal components, scaled by their singular values (``S @ U.T`` of the
   voxels-by-time SVD), as nilearn's multi-subject PCA does.
3. :func:`group_components` normalises each reduced row, stacks the subjects
   and keeps the 200 leading spatial components by randomized SVD.

Only one subject's masked data are alive at a time, plus the reductions.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import nibabel as nib
import numpy as np
from scipy import linalg
from scipy.linalg import blas
from sklearn.utils import check_random_state
from sklearn.utils.extmath import randomized_svd

from ..image import check_niimg, resample_img
from ..image._smooth import fwhm_to_sigma, smooth_array
from ..image.stream import iter_blocks
from ..signal import clean

__all__ = [
    "crop_to_mask",
    "group_components",
    "mask_and_reduce",
    "masked_signals",
    "reduce_subject",
    "voxel_columns",
]

logger = logging.getLogger(__name__)

_CHUNK_SIZE = 16
_GRAM_CHUNK = 32768


def voxel_columns(mask: np.ndarray) -> np.ndarray:
    """Columns of a streamed block that hold the mask's voxels, in mask (C) order.

    Parameters
    ----------
    mask : ndarray of bool, shape (X, Y, Z)

    Returns
    -------
    columns : ndarray of intp, shape (n_voxels,)
        ``block[:, columns]`` is ``volume[mask]`` for every volume of a block
        from :func:`~regionkit.image.stream.iter_blocks` (Fortran-flattened).
    """
    return np.ravel_multi_index(np.nonzero(mask), mask.shape, order="F")


def crop_to_mask(mask: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounding box of the mask with one voxel of margin (nilearn's ``crop_img``).

    Parameters
    ----------
    mask : ndarray of bool, shape (X, Y, Z)
    affine : ndarray of shape (4, 4)

    Returns
    -------
    cropped_mask : ndarray of bool
    cropped_affine : ndarray of shape (4, 4)
    """
    coords = np.array(np.nonzero(mask))
    if coords.shape[1] == 0:
        return mask, affine
    start = np.maximum(coords.min(axis=1) - 1, 0)
    stop = np.minimum(coords.max(axis=1) + 2, mask.shape)
    box = tuple(slice(a, b) for a, b in zip(start, stop))
    cropped_affine = affine.copy()
    cropped_affine[:3, 3] = affine[:3, :3] @ start + affine[:3, 3]
    return mask[box], cropped_affine


def _smoothing_box(mask: np.ndarray, affine: np.ndarray, fwhm: Any) -> tuple[slice, slice, slice]:
    """Mask bounding box widened by the Gaussian's reach (scipy truncates at 4 sigma)."""
    if isinstance(fwhm, str):  # "fast": 1-voxel kernel
        reach = np.ones(3, dtype=int)
    else:
        sigma = fwhm_to_sigma(fwhm, affine)
        reach = np.array([int(4.0 * float(s) + 0.5) for s in sigma]) + 1
    coords = np.array(np.nonzero(mask))
    if coords.shape[1] == 0:
        return (slice(None),) * 3
    start = np.maximum(coords.min(axis=1) - reach, 0)
    stop = np.minimum(coords.max(axis=1) + reach + 1, mask.shape)
    return tuple(slice(int(a), int(b)) for a, b in zip(start, stop))


def _same_grid(img: nib.Nifti1Image, mask_img: nib.Nifti1Image) -> bool:
    return tuple(img.shape[:3]) == tuple(mask_img.shape[:3]) and np.allclose(img.affine, mask_img.affine)


def masked_signals(
    img: Any,
    mask_img: nib.Nifti1Image,
    *,
    confounds: Any = None,
    smoothing_fwhm: float | None = None,
    detrend: bool = False,
    standardize: Any = None,
    standardize_confounds: bool = True,
    low_pass: float | None = None,
    high_pass: float | None = None,
    t_r: float | None = None,
    chunk_size: int = _CHUNK_SIZE,
) -> np.ndarray:
    """Masked, smoothed and cleaned signals of one run, read once.

    Parameters
    ----------
    img : 4D image-like
        One subject's run (path, nibabel image or list of 3D images).
    mask_img : nibabel.Nifti1Image
        Binary mask. When its grid differs from the image's, the image is first
        resampled (continuous interpolation) onto the mask's bounding box plus a
        one-voxel margin, as nilearn's maskers do.
    confounds : array-like, path, DataFrame or None
        Passed to :func:`regionkit.signal.clean`.
    smoothing_fwhm : float or None
        Gaussian smoothing of each volume, in mm.
    detrend, standardize, standardize_confounds, low_pass, high_pass, t_r
        Passed to :func:`regionkit.signal.clean`.
    chunk_size : int, default=16
        Volumes decoded and smoothed at a time.

    Returns
    -------
    signals : ndarray of shape (n_timepoints, n_voxels), float32
        Voxels in the mask's C order (as ``data[mask]``).
    """
    mask = np.asarray(mask_img.dataobj).astype(bool)
    affine = mask_img.affine
    source = img
    checked = check_niimg(img, atleast_4d=True, name="imgs")
    if not _same_grid(checked, mask_img):
        mask, affine = crop_to_mask(mask, affine)
        source = resample_img(
            checked, target_affine=affine, target_shape=mask.shape, interpolation="continuous", copy=False
        )
        checked = source
    n_timepoints = checked.shape[3] if len(checked.shape) == 4 else 1
    grid_shape = tuple(mask.shape)
    signals = np.empty((n_timepoints, int(mask.sum())), dtype=np.float32)
    if smoothing_fwhm is None:
        columns = voxel_columns(mask)
        for start, block in iter_blocks(source, chunk_size=chunk_size):
            signals[start : start + block.shape[0]] = block[:, columns]
    else:
        # smooth only the mask's bounding box plus the kernel's reach: the mask
        # voxels get exactly the values whole-volume smoothing gives them
        box = _smoothing_box(mask, affine, smoothing_fwhm)
        columns = voxel_columns(mask[box])
        for start, block in iter_blocks(source, chunk_size=chunk_size):
            n_block = block.shape[0]
            cropped = np.ascontiguousarray(block.reshape(n_block, *grid_shape[::-1])[(slice(None), *box[::-1])])
            volumes = cropped.transpose(3, 2, 1, 0)
            smooth_array(volumes, affine, smoothing_fwhm, ensure_finite=True, copy=False)
            signals[start : start + n_block] = cropped.reshape(n_block, -1)[:, columns]
    return clean(
        signals,
        detrend=detrend,
        standardize=standardize,
        confounds=confounds,
        standardize_confounds=standardize_confounds,
        low_pass=low_pass,
        high_pass=high_pass,
        t_r=t_r,
    )


def _gram_svd(signals: np.ndarray, n_components: int, rotation_out: list | None = None) -> np.ndarray:
    """``S @ U.T`` of the exact SVD of ``signals.T`` through the float64 Gram matrix.

    Same result as a full LAPACK SVD followed by scikit-learn's ``svd_flip``
    (sign fixed by the largest absolute entry of each ``U`` column), for a
    fraction of its cost when ``n_timepoints << n_voxels``.
    """
    n_timepoints, n_voxels = signals.shape
    gram = np.zeros((n_timepoints, n_timepoints), dtype=np.float64)
    for start in range(0, n_voxels, _GRAM_CHUNK):
        part = signals[:, start : start + _GRAM_CHUNK].astype(np.float64)
        gram += blas.dsyrk(1.0, part)  # upper triangle of part @ part.T
    gram = np.triu(gram) + np.triu(gram, 1).T
    eigenvalues, eigenvectors = np.linalg.eigh(gram)
    order = np.argsort(eigenvalues, kind="stable")[::-1][:n_components]
    right = eigenvectors[:, order]
    # rows of S @ U.T are V.T @ signals, one temporal component each
    scaled = right.T.astype(np.float32) @ signals
    peaks = np.argmax(np.abs(scaled), axis=1)
    signs = np.sign(scaled[np.arange(order.size), peaks])
    signs[signs == 0] = 1
    scaled *= signs[:, None].astype(np.float32)
    if rotation_out is not None:
        rotation_out.append(right * signs)
    return scaled


def reduce_subject(signals: np.ndarray, n_components: int, random_state: Any = None) -> np.ndarray:
    """Leading temporal components of one subject, scaled by singular value.

    Parameters
    ----------
    signals : ndarray of shape (n_timepoints, n_voxels)
    n_components : int
        At most this many components are kept (fewer when the run is shorter).
    random_state : int, RandomState or None
        For the randomized SVD (long runs only).

    Returns
    -------
    reduced : ndarray of shape (n_kept, n_voxels), float32
        ``n_kept = min(n_components, n_timepoints)``, and at most ``n_voxels``
        when the exact SVD is used (as LAPACK's thin SVD).
        ``S[:, None] * U.T`` of the SVD ``signals.T = U S V``, signs fixed as
        scikit-learn's ``svd_flip`` fixes them.

    Notes
    -----
    The choice between exact and randomized SVD follows nilearn (scikit-learn's
    PCA heuristic): exact when the matrix is small (at most 500 on its longer
    side) or when ``n_components >= 0.8 * n_timepoints``, randomized otherwise.
    The exact SVD is computed from the float64 Gram matrix (time by time).
    """
    n_timepoints, n_voxels = signals.shape
    n_components = min(n_components, n_timepoints)
    if max(n_timepoints, n_voxels) > 500 and 1 <= n_components < 0.8 * min(n_timepoints, n_voxels):
        left, singular, _ = randomized_svd(
            signals.T,
            n_components=n_components,
            n_iter="auto",
            flip_sign=True,
            random_state=check_random_state(random_state),
        )
        return (left.T * singular[:, None]).astype(np.float32, copy=False)
    return _gram_svd(signals, min(n_components, n_voxels))


def mask_and_reduce(
    img: Any,
    mask_img: nib.Nifti1Image,
    *,
    confounds: Any = None,
    n_components: int = 200,
    random_state: Any = None,
    return_rotation: bool = False,
    **signal_kwargs: Any,
) -> Any:
    """Stream one subject once and return its reduction (see :func:`reduce_subject`).

    Parameters
    ----------
    img : 4D image-like
    mask_img : nibabel.Nifti1Image
    confounds : array-like, path, DataFrame or None
    n_components : int, default=200
    random_state : int, RandomState or None
    return_rotation : bool, default=False
        Also return the orthogonal ``(n_timepoints, n_timepoints)`` matrix
        ``R`` with ``signals = R @ reduced`` when the run is short enough to be
        kept whole (``n_timepoints <= min(n_components, n_voxels)``), else None.
    **signal_kwargs
        ``smoothing_fwhm``, ``detrend``, ``standardize``,
        ``standardize_confounds``, ``low_pass``, ``high_pass``, ``t_r``
        (see :func:`masked_signals`).

    Returns
    -------
    reduced : ndarray of shape (n_kept, n_voxels), float32
    rotation : ndarray of shape (n_timepoints, n_timepoints) or None
        Only with ``return_rotation=True``.
    """
    signals = masked_signals(img, mask_img, confounds=confounds, **signal_kwargs)
    if not return_rotation:
        return reduce_subject(signals, n_components, random_state)
    n_timepoints, n_voxels = signals.shape
    if n_timepoints <= min(n_components, n_voxels):
        rotations: list = []
        reduced = _gram_svd(signals, n_timepoints, rotations)
        return reduced, rotations[0]
    return reduce_subject(signals, n_components, random_state), None


def _wide_randomized_svd(
    data: np.ndarray, n_components: int, n_iter: int, random_state: Any, n_oversamples: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Right singular vectors of a short, wide matrix by randomized SVD, in little memory.

    Follows scikit-learn's ``randomized_svd(data.T, n_components,
    transpose=True, n_iter=n_iter)`` step by step in exact arithmetic — the same
    Gaussian test matrix (drawn from the same stream, in row chunks), the same
    power iterations, the same sign convention — but never forms a
    (n_columns, n_random) matrix: power iterations use the float64
    ``data @ data.T`` Gram matrix (rows x rows), and the SVD of the projected
    matrix is taken through its small Gram matrix.

    Parameters
    ----------
    data : ndarray of shape (n_rows, n_columns)
        ``n_rows`` small (reduced time courses), ``n_columns`` large (voxels).
    n_components : int
    n_iter : int
        Power iterations.
    random_state : int, RandomState or None

    Returns
    -------
    components : ndarray of shape (n_columns, n_kept), float32, C-contiguous
        The leading right singular vectors (``n_kept = min(n_components,
        n_rows, n_columns)``), each signed so that its largest absolute entry
        is positive.
    singular_values : ndarray of shape (n_kept,)
    """
    random_state = check_random_state(random_state)
    n_rows, n_columns = data.shape
    n_random = n_components + n_oversamples
    gram = np.zeros((n_rows, n_rows), dtype=np.float64)
    sketch = np.zeros((n_rows, n_random), dtype=np.float64)
    for start in range(0, n_columns, _GRAM_CHUNK):
        part = data[:, start : start + _GRAM_CHUNK]
        test = random_state.normal(size=(part.shape[1], n_random)).astype(data.dtype, copy=False)
        sketch += (part @ test).astype(np.float64)
        part64 = part.astype(np.float64)
        gram += part64 @ part64.T
    # range of (data data.T)^n_iter data test, orthonormalised at every step
    basis = linalg.qr(sketch, mode="economic")[0]
    for _ in range(n_iter):
        basis = linalg.qr(gram @ basis, mode="economic")[0]
    # SVD of B = basis.T @ data through B @ B.T = basis.T gram basis
    eigenvalues, eigenvectors = np.linalg.eigh(basis.T @ gram @ basis)
    order = np.argsort(eigenvalues, kind="stable")[::-1]
    n_kept = min(n_components, n_rows, n_columns, int(np.sum(eigenvalues > 0)))
    order = order[:n_kept]
    singular_values = np.sqrt(eigenvalues[order])
    # right singular vectors: data.T @ basis @ eigenvectors / s, by voxel chunks
    weights = (basis @ eigenvectors[:, order]) / singular_values
    weights32 = weights.astype(np.float32)
    components = np.empty((n_columns, n_kept), dtype=np.float32)
    for start in range(0, n_columns, _GRAM_CHUNK):
        components[start : start + _GRAM_CHUNK] = data[:, start : start + _GRAM_CHUNK].T @ weights32
    peaks = np.argmax(np.abs(components), axis=0)
    signs = np.sign(components[peaks, np.arange(n_kept)])
    signs[signs == 0] = 1
    components *= signs.astype(np.float32)
    return components, singular_values


def group_components(
    reduced: Sequence[np.ndarray] | np.ndarray,
    n_components: int = 200,
    random_state: Any = None,
    norms_out: list | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Spatial components shared by all subjects.

    Parameters
    ----------
    reduced : list of ndarray of shape (n_kept, n_voxels), or one stacked array
        Subjects' reductions (:func:`reduce_subject`). A stacked array is
        normalised in place.
    n_components : int, default=200
    random_state : int, RandomState or None
    norms_out : list, optional
        Receives the rows' norms (the stack is divided by them in place).

    Returns
    -------
    components : ndarray of shape (n_voxels, n_components), float32
        Leading right singular vectors of the stacked reductions (voxels by
        components), each reduced row first scaled to unit norm (nilearn's
        ``do_cca``), by randomized SVD with 3 power iterations
        (:func:`_wide_randomized_svd`).
    variance : ndarray of shape (n_components,)
        The singular values.
    """
    if isinstance(reduced, np.ndarray):
        data = reduced
    else:
        data = np.concatenate(list(reduced), axis=0)
    norms = np.sqrt(np.sum(data**2, axis=1))
    norms[norms == 0] = 1
    data /= norms[:, None]
    components, singular_values = _wide_randomized_svd(data, n_components, 3, random_state)
    if norms_out is not None:
        norms_out.append(norms)
    return components, singular_values
