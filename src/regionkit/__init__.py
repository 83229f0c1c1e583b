"""regionkit: fast, lean extraction of region signals from brain images.

The public API mirrors nilearn's (maskers, regions, signal, masking, image,
datasets), so switching is a change of imports. Heavy submodules are imported
lazily: ``import regionkit`` stays cheap.
"""

from __future__ import annotations

import importlib
import logging

from ._version import __version__
from ._warnings import (
    EmptyRegionWarning,
    MaskWarning,
    NonFiniteDataWarning,
    RegionkitWarning,
    StandardizeDeprecationWarning,
)

logging.getLogger(__name__).addHandler(logging.NullHandler())

_SUBMODULES = {
    "cli",
    "datasets",
    "image",
    "maskers",
    "masking",
    "regions",
    "reporting",
    "signal",
}

# Estimators re-exported at top level, loaded on first access.
_REEXPORTS = {
    "NiftiSpheresMasker": "maskers",
    "JuniferNiftiSpheresMasker": "maskers",
    "NiftiMapsMasker": "maskers",
    "NiftiLabelsMasker": "maskers",
    "NiftiMasker": "maskers",
    "MultiNiftiMasker": "maskers",
    "Parcellations": "regions",
    "RegionExtractor": "regions",
    "ReNA": "regions",
    "HierarchicalKMeans": "regions",
}

__all__ = [
    "__version__",
    "RegionkitWarning",
    "NonFiniteDataWarning",
    "EmptyRegionWarning",
    "MaskWarning",
    "StandardizeDeprecationWarning",
    *sorted(_SUBMODULES),
    *sorted(_REEXPORTS),
]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _REEXPORTS:
        module = importlib.import_module(f"{__name__}.{_REEXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'regionkit' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES | set(_REEXPORTS))
