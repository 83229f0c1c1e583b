"""Regenerate regionkit's bundled data files from their published sources.

Every file under ``src/regionkit/datasets/data/`` except ``NOTICE.md`` is
written by this script; never edit them by hand. The sources are the copies
that nilearn 0.14.1 ships in ``nilearn/datasets/data/`` (nilearn is a test
dependency of regionkit, so ``pip install -e ".[test]"`` provides them). Run::

    python scripts/make_datasets.py            # rewrite the files
    python scripts/make_datasets.py --check    # exit 1 if a file would change

What is produced, and from what
-------------------------------
``mni152_2009a_sym_{t1,gm,wm}_1mm.nii.gz``
    From ``mni_icbm152_{t1,gm,wm}_tal_nlin_sym_09a_converted.nii.gz``: the
    ICBM 2009a nonlinear symmetric T1 template (skull-stripped) and its grey-
    and white-matter probability maps, 197 x 233 x 189 voxels of 1 mm, stored
    as they are shipped: uint8 (0..255), no scaling, same affine (sform code
    2). The loaders rescale to [0, 1] float32 and resample, as nilearn does.
    The header is rebuilt from the affine only (no free-text fields), and the
    file is written with a fixed gzip header (no name, mtime 0) so that the
    output is byte-for-byte reproducible.
``power_2011.tsv``
    From ``power_2011.csv``: columns ``roi, x, y, z`` (1-based ROI number and
    MNI coordinates in mm, integers), 264 rows in the published order.
``dosenbach_2010.tsv``
    From ``dosenbach_2010.csv``: ``number, x, y, z, name, network``, 160 rows.
``seitzman_2018.tsv``
    From ``seitzman_2018_ROIs_300inVol_MNI_allInfo.txt`` (space separated,
    ``x y z radius(mm) netWorkbenchLabel netName``) joined row by row with
    ``seitzman_2018_ROIs_anatomicalLabels.txt`` (a header line
    ``0=cortexMid,1=cortexL,...`` then one integer code per ROI), giving
    ``x, y, z, radius, network_code, network, region``, 300 rows.

Coordinates are written with Python's shortest round-trip float repr, so the
values read back are exactly the values in the sources.
"""

from __future__ import annotations

import argparse
import gzip
import io
import logging
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

logger = logging.getLogger("make_datasets")

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "src" / "regionkit" / "datasets" / "data"

TEMPLATE_SOURCES = {
    "t1": "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz",
    "gm": "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz",
    "wm": "mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz",
}


def _nilearn_data_dir() -> Path:
    """Folder of the data files shipped inside the installed nilearn."""
    import nilearn

    version = nilearn.__version__
    if version != "0.14.1":
        logger.warning("sources are documented for nilearn 0.14.1, found %s", version)
    return Path(nilearn.__file__).parent / "datasets" / "data"


def _gzip_bytes(raw: bytes) -> bytes:
    """Gzip ``raw`` with a fixed header (no file name, mtime 0), level 9."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0, filename="") as fh:
        fh.write(raw)
    return buffer.getvalue()


def make_template(source: Path) -> bytes:
    """Return the bytes of a reproducible uint8 .nii.gz holding ``source``'s voxels."""
    img = nib.load(source)
    voxels = np.asarray(img.dataobj)
    if voxels.dtype != np.uint8:
        raise ValueError(f"{source} holds {voxels.dtype} voxels; uint8 expected")
    out = nib.Nifti1Image(voxels, img.affine)
    out.header.set_data_dtype(np.uint8)
    out.header.set_sform(img.affine, code=2)
    out.header.set_qform(img.affine, code=0)
    out.header.set_xyzt_units("mm")
    out.header["scl_slope"] = np.nan
    out.header["scl_inter"] = np.nan
    return _gzip_bytes(out.to_bytes())


def make_power(source_dir: Path) -> bytes:
    table = pd.read_csv(source_dir / "power_2011.csv")
    table.columns = [column.lower() for column in table.columns]
    if list(table.columns) != ["roi", "x", "y", "z"] or len(table) != 264:
        raise ValueError(f"unexpected power_2011.csv layout: {list(table.columns)}")
    return table.to_csv(sep="\t", index=False, lineterminator="\n").encode()


def make_dosenbach(source_dir: Path) -> bytes:
    table = pd.read_csv(source_dir / "dosenbach_2010.csv")
    expected = ["number", "x", "y", "z", "name", "network"]
    if list(table.columns) != expected or len(table) != 160:
        raise ValueError(f"unexpected dosenbach_2010.csv layout: {list(table.columns)}")
    return table.to_csv(sep="\t", index=False, lineterminator="\n").encode()


def make_seitzman(source_dir: Path) -> bytes:
    rois = pd.read_csv(
        source_dir / "seitzman_2018_ROIs_300inVol_MNI_allInfo.txt", delimiter=" "
    )
    rois = rois.rename(
        columns={
            "radius(mm)": "radius",
            "netWorkbenchLabel": "network_code",
            "netName": "network",
        }
    )
    labels_path = source_dir / "seitzman_2018_ROIs_anatomicalLabels.txt"
    lines = labels_path.read_text().split("\n")
    code_to_region = {}
    for item in lines[0].strip().split(","):
        code, region = item.split("=")
        code_to_region[int(code)] = region
    codes = [int(float(line)) for line in lines[1:] if line.strip()]
    if len(codes) != len(rois) or len(rois) != 300:
        raise ValueError(
            f"seitzman files disagree: {len(rois)} ROIs, {len(codes)} region codes"
        )
    rois["region"] = [code_to_region[code] for code in codes]
    columns = ["x", "y", "z", "radius", "network_code", "network", "region"]
    return rois[columns].to_csv(sep="\t", index=False, lineterminator="\n").encode()


def build_all(source_dir: Path) -> dict[str, bytes]:
    """Map each output file name to its bytes."""
    outputs = {
        f"mni152_2009a_sym_{kind}_1mm.nii.gz": make_template(source_dir / name)
        for kind, name in TEMPLATE_SOURCES.items()
    }
    outputs["power_2011.tsv"] = make_power(source_dir)
    outputs["dosenbach_2010.tsv"] = make_dosenbach(source_dir)
    outputs["seitzman_2018.tsv"] = make_seitzman(source_dir)
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only check the files are current")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    outputs = build_all(_nilearn_data_dir())
    stale = []
    for name, content in outputs.items():
        path = args.out_dir / name
        current = path.read_bytes() if path.exists() else None
        if current == content:
            logger.info("up to date  %s (%d bytes)", name, len(content))
            continue
        stale.append(name)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            logger.info("written     %s (%d bytes)", name, len(content))
    if args.check and stale:
        logger.error("stale: %s", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
