"""Coordinate atlases: Power 2011 (264), Dosenbach 2010 (160), Seitzman 2018 (300).

Each loader reads a bundled TSV (see ``data/NOTICE.md`` for provenance) and
returns a :class:`sklearn.utils.Bunch` whose ``rois`` (and, where nilearn has
them, ``labels``, ``networks``, ``radius``, ``regions``) are what nilearn
0.14.1's ``fetch_coords_*`` return, plus two conveniences:

- ``seeds``: ndarray of shape (n_regions, 3), float64 MNI coordinates in mm,
  in the row order of ``rois`` (ready for a spheres masker);
- ``labels``: one unique name per region, in the same order.

Nothing is downloaded and nothing is written to disk.
"""

from __future__ import annotations

import logging
from importlib import resources

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from regionkit._validation import check_parameter

logger = logging.getLogger(__name__)

__all__ = ["load_power_2011", "load_dosenbach_2010", "load_seitzman_2018"]

_POWER_DESCRIPTION = """\
Power et al. (2011) atlas: 264 regions of interest
==================================================

264 MNI coordinates (mm) of regions defined from meta-analyses of task fMRI
and from resting-state functional connectivity mapping. The network
assignments published with the paper are not part of the bundled source, so
this atlas has no ``networks``.

Content: rois (roi number, x, y, z), seeds, labels ("ROI 1" .. "ROI 264").

Citation: Power JD, Cohen AL, Nelson SM, Wig GS, Barnes KA, Church JA, Vogel
AC, Laumann TO, Miezin FM, Schlaggar BL, Petersen SE. Functional network
organization of the human brain. Neuron 72(4):665-678, 2011.
doi:10.1016/j.neuron.2011.09.006

Licence: not stated by the authors. Provenance: regionkit/datasets/data/NOTICE.md.
"""

_DOSENBACH_DESCRIPTION = """\
Dosenbach et al. (2010) atlas: 160 regions of interest
======================================================

160 MNI coordinates (mm) of regions found in meta-analyses of fMRI activation
studies, covering most of the cerebral cortex and the cerebellum, each
assigned to one of six networks (default, fronto-parietal, cingulo-opercular,
sensorimotor, occipital, cerebellum).

Content: rois (x, y, z), seeds, labels ("<region name> <number>"), networks.

Citation: Dosenbach NUF, Nardos B, Cohen AL, Fair DA, Power JD, Church JA,
Nelson SM, Wig GS, Vogel AC, Lessov-Schlaggar CN, Barnes KA, Dubis JW, Feczko
E, Coalson RS, Pruett JR, Barch DM, Petersen SE, Schlaggar BL. Prediction of
individual brain maturity using fMRI. Science 329(5997):1358-1361, 2010.
doi:10.1126/science.1194144

Licence: not stated by the authors. Provenance: regionkit/datasets/data/NOTICE.md.
"""

_SEITZMAN_DESCRIPTION = """\
Seitzman et al. (2020) atlas: 300 regions of interest
=====================================================

300 MNI coordinates (mm) of cortical, subcortical and cerebellar regions,
with the radius (mm) of the sphere each region was defined with, one of 13
networks (or "unassigned") and an anatomical region (cortexL, cortexR,
cortexMid, cerebellum, thalamus, hippocampus, basalGanglia, amygdala).

Content: rois (x, y, z), seeds, labels ("<region> <number>"), radius,
networks, regions.

Citation: Seitzman BA, Gratton C, Marek S, Raut RV, Dosenbach NUF, Schlaggar
BL, Petersen SE, Greene DJ. A set of functionally-defined brain regions with
improved representation of the subcortex and cerebellum. NeuroImage
206:116290, 2020. doi:10.1016/j.neuroimage.2019.116290

Licence: not stated by the authors. Provenance: regionkit/datasets/data/NOTICE.md.
"""


def _read_table(name: str) -> pd.DataFrame:
    source = resources.files("regionkit.datasets").joinpath("data", name)
    with source.open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle, sep="\t")


def _seeds(rois: pd.DataFrame) -> np.ndarray:
    return np.ascontiguousarray(rois[["x", "y", "z"]].to_numpy(dtype=np.float64))


def load_power_2011() -> Bunch:
    """Load the 264 regions of Power et al. (2011).

    Returns
    -------
    sklearn.utils.Bunch
        - ``rois``: DataFrame with columns ``roi, x, y, z`` (int), as
          nilearn's ``fetch_coords_power_2011``;
        - ``seeds``: ndarray of shape (264, 3), float64, MNI mm;
        - ``labels``: list of str, ``"ROI 1"`` .. ``"ROI 264"``;
        - ``description``: str, with the citation.

    Notes
    -----
    The published network assignments are not in the bundled source, so
    there is no ``networks`` entry.

    Examples
    --------
    >>> from regionkit.datasets import load_power_2011
    >>> load_power_2011().seeds.shape
    (264, 3)
    """
    rois = _read_table("power_2011.tsv")
    labels = [f"ROI {number}" for number in rois["roi"]]
    return Bunch(
        rois=rois, seeds=_seeds(rois), labels=labels, description=_POWER_DESCRIPTION
    )


def load_dosenbach_2010(ordered_regions: bool = True) -> Bunch:
    """Load the 160 regions of Dosenbach et al. (2010).

    Parameters
    ----------
    ordered_regions : bool, default=True
        Sort the regions by network, then name, then y (posterior to
        anterior), as nilearn does; False keeps the published order.

    Returns
    -------
    sklearn.utils.Bunch
        - ``rois``: DataFrame with columns ``x, y, z`` (int); its index is the
          published (0-based) row number;
        - ``seeds``: ndarray of shape (160, 3), float64, MNI mm;
        - ``labels``: list of str, ``"<name> <number>"`` (names alone repeat);
        - ``networks``: ndarray of str, one of six networks per region;
        - ``description``: str, with the citation.
    """
    check_parameter("ordered_regions", ordered_regions, ["boolean"], "load_dosenbach_2010")
    table = _read_table("dosenbach_2010.tsv")
    if ordered_regions:
        table = table.sort_values(by=["network", "name", "y"])
    rois = table[["x", "y", "z"]]
    labels = [f"{name} {number}" for name, number in zip(table["name"], table["number"])]
    return Bunch(
        rois=rois,
        seeds=_seeds(rois),
        labels=labels,
        networks=np.asarray(table["network"], dtype=object),
        description=_DOSENBACH_DESCRIPTION,
    )


def load_seitzman_2018(ordered_regions: bool = True) -> Bunch:
    """Load the 300 regions of Seitzman et al. (2020).

    Parameters
    ----------
    ordered_regions : bool, default=True
        Sort the regions by network, then y (posterior to anterior), as
        nilearn does; False keeps the published order.

    Returns
    -------
    sklearn.utils.Bunch
        - ``rois``: DataFrame with columns ``x, y, z`` (float); its index is
          the published (0-based) row number;
        - ``seeds``: ndarray of shape (300, 3), float64, MNI mm;
        - ``labels``: list of str, ``"<region> <number>"`` (1-based published
          row number);
        - ``radius``: ndarray of int, sphere radius in mm;
        - ``networks``: ndarray of str, network name (or ``"unassigned"``);
        - ``regions``: ndarray of str, anatomical region;
        - ``description``: str, with the citation.
    """
    check_parameter("ordered_regions", ordered_regions, ["boolean"], "load_seitzman_2018")
    table = _read_table("seitzman_2018.tsv")
    table["number"] = np.arange(1, len(table) + 1)
    if ordered_regions:
        table = table.sort_values(by=["network", "y"])
    rois = table[["x", "y", "z"]]
    labels = [f"{region} {number}" for region, number in zip(table["region"], table["number"])]
    return Bunch(
        rois=rois,
        seeds=_seeds(rois),
        labels=labels,
        radius=np.asarray(table["radius"]),
        networks=np.asarray(table["network"], dtype=object),
        regions=np.asarray(table["region"], dtype=object),
        description=_SEITZMAN_DESCRIPTION,
    )
