"""MNI ICBM152 2009a templates and the masks derived from them.

The 1 mm templates are bundled (``data/mni152_2009a_sym_*_1mm.nii.gz``, uint8
on 0..255). Each loader rescales the voxels to [0, 1] in float32 and, for a
``resolution`` other than 1 mm, resamples the template onto a grid of that
voxel size with a third-order spline, exactly as nilearn 0.14.1 does: the
grid keeps the template's orientation and origin, and is the smallest one
that holds the whole template (99 x 117 x 95 voxels at 2 mm). Masks threshold
the template (and, for grey and white matter, close the thresholded volume
with ``n_iter`` iterations of the 6-connected structuring element).

Nothing is downloaded and nothing is written to disk.
"""

from __future__ import annotations

import logging
from importlib import resources

import nibabel as nib
import numpy as np
from scipy import ndimage

from regionkit._validation import Interval, check_parameter

logger = logging.getLogger(__name__)

__all__ = [
    "load_mni152_template",
    "load_mni152_gm_template",
    "load_mni152_wm_template",
    "load_mni152_brain_mask",
    "load_mni152_gm_mask",
    "load_mni152_wm_mask",
]

_TEMPLATE_FILES = {
    "t1": "mni152_2009a_sym_t1_1mm.nii.gz",
    "gm": "mni152_2009a_sym_gm_1mm.nii.gz",
    "wm": "mni152_2009a_sym_wm_1mm.nii.gz",
}

_RESOLUTION_RULES = [None, Interval("int", 1, None, closed="left")]
_THRESHOLD_RULES = [Interval("real", None, None)]
_N_ITER_RULES = [Interval("int", 1, None, closed="left")]


def _read_template(kind: str) -> nib.Nifti1Image:
    """Read one bundled 1 mm template, rescaled to [0, 1] float32."""
    source = resources.files("regionkit.datasets").joinpath("data", _TEMPLATE_FILES[kind])
    with resources.as_file(source) as path:
        stored = nib.load(path)
        voxels = np.asarray(stored.dataobj, dtype=np.float32)
        affine = stored.affine
        header = stored.header.copy()
    voxels /= voxels.max()
    header.set_data_dtype(np.float32)
    return nib.Nifti1Image(voxels, affine, header=header)


def _template(kind: str, resolution: int | None, owner: str) -> nib.Nifti1Image:
    check_parameter("resolution", resolution, _RESOLUTION_RULES, owner)
    img = _read_template(kind)
    if resolution is None or resolution == 1:
        return img
    from regionkit.image import resample_img

    logger.debug("resampling the %s template to %d mm", kind, resolution)
    return resample_img(img, target_affine=np.eye(3) * resolution)


def _with_data(reference: nib.Nifti1Image, voxels: np.ndarray) -> nib.Nifti1Image:
    header = reference.header.copy()
    header.set_data_dtype(voxels.dtype)
    return nib.Nifti1Image(voxels, reference.affine, header=header)


def load_mni152_template(resolution: int | None = None) -> nib.Nifti1Image:
    """Load the skull-stripped MNI ICBM152 2009a T1 template.

    Parameters
    ----------
    resolution : int or None, default=None
        Voxel size in mm of the returned grid. None or 1 gives the bundled
        197 x 233 x 189 grid of 1 mm voxels; 2 gives 99 x 117 x 95 voxels.

    Returns
    -------
    nibabel.Nifti1Image
        float32 voxels in [0, 1] (the template divided by its maximum).

    Examples
    --------
    >>> from regionkit.datasets import load_mni152_template
    >>> load_mni152_template(resolution=2).shape
    (99, 117, 95)
    """
    return _template("t1", resolution, "load_mni152_template")


def load_mni152_gm_template(resolution: int | None = None) -> nib.Nifti1Image:
    """Load the MNI ICBM152 2009a grey-matter probability template.

    Parameters
    ----------
    resolution : int or None, default=None
        Voxel size in mm (None or 1: the bundled 1 mm grid).

    Returns
    -------
    nibabel.Nifti1Image
        float32 voxels in [0, 1].
    """
    return _template("gm", resolution, "load_mni152_gm_template")


def load_mni152_wm_template(resolution: int | None = None) -> nib.Nifti1Image:
    """Load the MNI ICBM152 2009a white-matter probability template.

    Parameters
    ----------
    resolution : int or None, default=None
        Voxel size in mm (None or 1: the bundled 1 mm grid).

    Returns
    -------
    nibabel.Nifti1Image
        float32 voxels in [0, 1].
    """
    return _template("wm", resolution, "load_mni152_wm_template")


def load_mni152_brain_mask(
    resolution: int | None = None, threshold: float = 0.2
) -> nib.Nifti1Image:
    """Load a whole-brain mask: the T1 template above ``threshold``.

    Parameters
    ----------
    resolution : int or None, default=None
        Voxel size in mm (None or 1: the bundled 1 mm grid).
    threshold : float, default=0.2
        Voxels of the [0, 1] template strictly above this value are in the mask.

    Returns
    -------
    nibabel.Nifti1Image
        int8 voxels, 1 inside the brain and 0 outside.

    Examples
    --------
    >>> from regionkit.datasets import load_mni152_brain_mask
    >>> mask = load_mni152_brain_mask(resolution=2)
    >>> mask.shape, mask.get_data_dtype()
    ((99, 117, 95), dtype('int8'))
    """
    check_parameter("threshold", threshold, _THRESHOLD_RULES, "load_mni152_brain_mask")
    template = _template("t1", resolution, "load_mni152_brain_mask")
    mask = (np.asarray(template.dataobj) > threshold).astype(np.int8)
    return _with_data(template, mask)


def _tissue_mask(kind: str, resolution, threshold, n_iter, owner) -> nib.Nifti1Image:
    check_parameter("threshold", threshold, _THRESHOLD_RULES, owner)
    check_parameter("n_iter", n_iter, _N_ITER_RULES, owner)
    template = _template(kind, resolution, owner)
    mask = np.asarray(template.dataobj) > threshold
    closed = ndimage.binary_closing(mask, iterations=int(n_iter))
    return _with_data(template, closed.astype(np.uint8))


def load_mni152_gm_mask(
    resolution: int | None = None, threshold: float = 0.2, n_iter: int = 2
) -> nib.Nifti1Image:
    """Load a grey-matter mask: the thresholded, closed grey-matter template.

    Parameters
    ----------
    resolution : int or None, default=None
        Voxel size in mm (None or 1: the bundled 1 mm grid).
    threshold : float, default=0.2
        Voxels of the [0, 1] grey-matter template strictly above this value
        are kept before closing.
    n_iter : int, default=2
        Number of dilations followed by as many erosions
        (:func:`scipy.ndimage.binary_closing` with the 6-connected element).

    Returns
    -------
    nibabel.Nifti1Image
        uint8 voxels, 1 in grey matter and 0 elsewhere.
    """
    return _tissue_mask("gm", resolution, threshold, n_iter, "load_mni152_gm_mask")


def load_mni152_wm_mask(
    resolution: int | None = None, threshold: float = 0.2, n_iter: int = 2
) -> nib.Nifti1Image:
    """Load a white-matter mask: the thresholded, closed white-matter template.

    Parameters
    ----------
    resolution : int or None, default=None
        Voxel size in mm (None or 1: the bundled 1 mm grid).
    threshold : float, default=0.2
        Voxels of the [0, 1] white-matter template strictly above this value
        are kept before closing.
    n_iter : int, default=2
        Number of dilations followed by as many erosions.

    Returns
    -------
    nibabel.Nifti1Image
        uint8 voxels, 1 in white matter and 0 elsewhere.
    """
    return _tissue_mask("wm", resolution, threshold, n_iter, "load_mni152_wm_mask")
