"""Load, validate, resample, smooth and threshold NIfTI images.

The streaming reader lives in :mod:`regionkit.image.stream` (import it
directly); everything else mirrors ``nilearn.image`` 0.14.1.
"""

from ._confounds import high_variance_confounds
from ._niimg import (
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
from ._resample import BoundingBoxError, resample_img, resample_to_img
from ._smooth import smooth_array, smooth_img
from ._threshold import threshold_img

__all__ = [
    "BoundingBoxError",
    "DimensionError",
    "NotAnImageError",
    "check_niimg",
    "concat_imgs",
    "get_data",
    "high_variance_confounds",
    "index_img",
    "iter_img",
    "load_img",
    "math_img",
    "mean_img",
    "new_img_like",
    "resample_img",
    "resample_to_img",
    "smooth_array",
    "smooth_img",
    "threshold_img",
]
