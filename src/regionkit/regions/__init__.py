"""Region learning: clustering of voxels and extraction of connected regions.

Array-level kernels (:class:`ReNA`, :class:`HierarchicalKMeans`) and the
region-splitting functions live in private modules and are re-exported here.
"""

from ._connected import connected_label_regions, connected_regions
from ._hierarchical_kmeans import HierarchicalKMeans, hierarchical_k_means
from ._rena import ReNA, recursive_neighbor_agglomeration
from .parcellations import Parcellations
from .region_extractor import RegionExtractor

__all__ = [
    "HierarchicalKMeans",
    "Parcellations",
    "ReNA",
    "RegionExtractor",
    "connected_label_regions",
    "connected_regions",
    "hierarchical_k_means",
    "recursive_neighbor_agglomeration",
]
