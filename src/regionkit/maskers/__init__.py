"""Maskers: turn brain images into region signals (nilearn-compatible API).

Region operators are built once at ``fit``; ``transform`` streams the image in
time chunks and gathers only the voxels the regions read.
:func:`transform_many` feeds several fitted maskers from one decode of a run.
"""

from ._base import BaseMasker, transform_many
from .nifti_labels_masker import NiftiLabelsMasker
from .nifti_maps_masker import NiftiMapsMasker
from .nifti_masker import MultiNiftiMasker, NiftiMasker
from .nifti_spheres_masker import JuniferNiftiSpheresMasker, NiftiSpheresMasker

__all__ = [
    "BaseMasker",
    "JuniferNiftiSpheresMasker",
    "MultiNiftiMasker",
    "NiftiLabelsMasker",
    "NiftiMapsMasker",
    "NiftiMasker",
    "NiftiSpheresMasker",
    "transform_many",
]
