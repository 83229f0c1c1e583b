"""Warning categories raised by regionkit.

Every warning regionkit emits derives from :class:`RegionkitWarning`, so users
can filter all of them at once (``warnings.simplefilter("ignore",
RegionkitWarning)``) and our test-suite can turn them into errors.
"""


class RegionkitWarning(UserWarning):
    """Base class for all warnings emitted by regionkit."""


class NonFiniteDataWarning(RegionkitWarning):
    """Input data held NaN or infinite values that were replaced."""


class EmptyRegionWarning(RegionkitWarning):
    """One or more regions hold no voxel inside the mask or the field of view."""


class MaskWarning(RegionkitWarning):
    """A computed mask is empty or suspicious (nilearn emits its own ``MaskWarning``)."""


class StandardizeDeprecationWarning(RegionkitWarning, FutureWarning):
    """Boolean ``standardize`` values are deprecated (as in nilearn 0.14)."""
