"""Fixtures for report tests: fitted estimators (real when merged, else fakes)."""

from __future__ import annotations

import base64
import struct
from html.parser import HTMLParser

import nibabel as nib
import numpy as np
import pytest

import report_fakes as fakes


class ParsedHTML(HTMLParser):
    """Every start tag (name, attrs dict) and the page's text, in order."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text_parts: list[str] = []
        self._stack: list[str] = []
        self.script_text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._stack.append(tag)

    def handle_endtag(self, tag):
        if self._stack and self._stack[-1] == tag:
            self._stack.pop()

    def handle_data(self, data):
        if self._stack and self._stack[-1] in ("script", "style"):
            if self._stack[-1] == "script":
                self.script_text.append(data)
            return
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(self.text_parts)

    def find(self, tag: str, **attrs) -> list[dict]:
        return [
            a for t, a in self.tags
            if t == tag and all(k in a and v in (a[k] or "").split() for k, v in attrs.items())
        ]


def png_size(data_uri: str) -> tuple[int, int]:
    """(width, height) from the IHDR of a base64 PNG data URI (asserts it is one)."""
    prefix = "data:image/png;base64,"
    assert data_uri.startswith(prefix)
    raw = base64.b64decode(data_uri[len(prefix):], validate=True)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", raw[16:24])
    return width, height


@pytest.fixture
def parse():
    return ParsedHTML


@pytest.fixture
def spheres_img():
    """A 4D run on a 6 mm grid over the MNI field of view (10 volumes)."""
    data = np.random.default_rng(0).normal(size=(*fakes.SHAPE, 10)).astype(np.float32)
    return nib.Nifti1Image(data, fakes.AFFINE)


SEEDS = [(-30.0, -20.0, 10.0), (30.0, -20.0, 10.0), (0.0, -60.0, 40.0), (0.0, 0.0, 80.0)]


@pytest.fixture
def spheres_masker(spheres_img):
    """A real NiftiSpheresMasker fitted on a run, with a mask cutting off the top.

    Seed 2 straddles the mask edge (clipped), seed 3 lies above it (empty).
    """
    from regionkit.maskers import NiftiSpheresMasker

    masker = NiftiSpheresMasker(
        SEEDS, radius=8.0, mask_img=fakes.nifti(fakes.mask_data()), allow_empty=True
    )
    return masker.fit(spheres_img)


LABEL_NAMES = ("left", "right", "front", "top", "masked out")


def fit_labels_masker(names=LABEL_NAMES):
    """A real NiftiLabelsMasker on the fake atlas, with a LUT and the mask.

    Labels 1, 2, 5 are whole, 7 keeps 9 of its 27 voxels, 9 is masked out
    (kept as an empty region with keep_masked_labels=True).
    """
    import pandas as pd

    from regionkit.maskers import NiftiLabelsMasker

    lut = pd.DataFrame({"index": [0, 1, 2, 5, 7, 9], "name": ["Background", *names]})
    masker = NiftiLabelsMasker(
        fakes.nifti(fakes.labels_data()),
        lut=lut,
        mask_img=fakes.nifti(fakes.mask_data()),
        keep_masked_labels=True,
    )
    return masker.fit()


@pytest.fixture
def labels_masker():
    return fit_labels_masker()


@pytest.fixture
def maps_masker():
    """A real NiftiMapsMasker: two positive blobs, one negative, one all-zero map.

    The negative blob (map 2) loses its top to the mask; map 3 is kept empty.
    """
    from regionkit.maskers import NiftiMapsMasker

    masker = NiftiMapsMasker(
        fakes.nifti(fakes.maps_data()),
        mask_img=fakes.nifti(fakes.mask_data()),
        keep_masked_maps=True,
    )
    return masker.fit()


def box_mask():
    """A 9 x 9 x 9 voxel box (729 voxels) in the middle of the brain."""
    mask = np.zeros(fakes.SHAPE, dtype=np.int8)
    mask[fakes.box((0, -10, 10), 4)] = 1
    return fakes.nifti(mask)


@pytest.fixture
def nifti_masker():
    """A real NiftiMasker with a given box mask."""
    from regionkit.maskers import NiftiMasker

    return NiftiMasker(mask_img=box_mask()).fit()


@pytest.fixture
def parcellations():
    """Real Parcellations: kmeans into 6 parcels of noise inside a box mask."""
    from regionkit.regions import Parcellations

    i, j, k = np.indices(fakes.SHAPE)
    inside = (i > 5) & (i < 20) & (j > 5) & (j < 25) & (k > 5) & (k < 17)
    run = np.random.default_rng(0).normal(size=(*fakes.SHAPE, 20)).astype(np.float32)
    parcellation = Parcellations(
        method="kmeans", n_parcels=6, mask=fakes.nifti(inside.astype(np.int8)),
        smoothing_fwhm=None, standardize=None,
    )
    return parcellation.fit(nib.Nifti1Image(run, fakes.AFFINE))


@pytest.fixture
def region_extractor():
    """A real RegionExtractor on three blobs; the negative one is dropped (one-sided)."""
    from regionkit.regions import RegionExtractor

    extractor = RegionExtractor(
        fakes.nifti(fakes.maps_data()[..., :3]), threshold=0.5,
        thresholding_strategy="img_value", min_region_size=100, smoothing_fwhm=None,
        standardize=None,
    )
    return extractor.fit()


class _TableReader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._inside = False

    def handle_starttag(self, tag, attrs):
        if tag == "table" and "rk-regions" in (dict(attrs).get("class") or ""):
            self._inside = True
        elif self._inside and tag == "tr":
            self.rows.append([])
        elif self._inside and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._inside = False
        elif self._inside and tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def region_table(body: str) -> list[dict[str, str]]:
    """The region table of a report body as one dict (column -> cell text) per row."""
    reader = _TableReader()
    reader.feed(body)
    header, *rows = reader.rows
    return [dict(zip(header, row, strict=True)) for row in rows]
