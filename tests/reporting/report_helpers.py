"""Helpers for the report tests: an HTML reader, PNG checks, fitted estimators.

A plain module (not conftest) so test files import it by a unique name.
"""

from __future__ import annotations

import base64
import struct
from html.parser import HTMLParser

import numpy as np
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

SEEDS = [(-30.0, -20.0, 10.0), (30.0, -20.0, 10.0), (0.0, -60.0, 40.0), (0.0, 0.0, 80.0)]

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

def box_mask():
    """A 9 x 9 x 9 voxel box (729 voxels) in the middle of the brain."""
    mask = np.zeros(fakes.SHAPE, dtype=np.int8)
    mask[fakes.box((0, -10, 10), 4)] = 1
    return fakes.nifti(mask)

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
