"""Output files: names, atomic writes, JSON sidecars, and the skip test.

Every file is written under a temporary name in its own folder and renamed
into place (``os.replace`` is atomic on POSIX), so an interrupted command never
leaves a half-written output. A run's data files are written first and their
sidecars last: a sidecar's presence means its data file is complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "TMP_SUFFIX",
    "file_record",
    "inputs_unchanged",
    "params_hash",
    "remove_temporaries",
    "write_json",
    "write_table",
    "write_text",
]

TMP_SUFFIX = ".regionkit-tmp"


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}")


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json(path: Path, payload: dict) -> None:
    """Write ``payload`` as indented, key-sorted JSON (deterministic bytes)."""
    write_text(path, json.dumps(payload, indent=2, sort_keys=True, allow_nan=False) + "\n")


def write_table(path: Path, signals: np.ndarray, columns: list[str], fmt: str) -> None:
    """Write a (n_volumes, n_regions) table: TSV with ``n/a`` for NaN, or Parquet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "tsv":
        frame = pd.DataFrame(np.asarray(signals), columns=columns)
        write_text(path, frame.to_csv(sep="\t", index=False, na_rep="n/a", float_format="%.9g",
                                      lineterminator="\n"))
        return
    import polars as pl

    frame = pl.DataFrame({name: np.asarray(signals[:, i], dtype=np.float64)
                          for i, name in enumerate(columns)})
    tmp = _temporary(path)
    try:
        frame.write_parquet(tmp, statistics=False)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def remove_temporaries(folder: Path) -> int:
    """Delete temporary files left by an interrupted command; return how many."""
    count = 0
    if folder.is_dir():
        for path in folder.rglob(f"*{TMP_SUFFIX}"):
            path.unlink(missing_ok=True)
            count += 1
    return count


def params_hash(params: dict) -> str:
    """SHA-256 of the canonical JSON of ``params``."""
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


def file_record(path: Path, sha256: str | None = None) -> dict:
    """Size, modification time (ns) and SHA-256 of an input file."""
    from ._atlases import sha256_file

    stat = path.stat()
    return {
        "Size": stat.st_size,
        "MTimeNs": stat.st_mtime_ns,
        "SHA256": sha256 if sha256 is not None else sha256_file(path),
    }


def inputs_unchanged(recorded: dict, paths: dict[str, Path]) -> bool:
    """True when every input still has its recorded content.

    Size and modification time equal: unchanged without reading the file;
    same size but another time: unchanged when the SHA-256 is equal.
    """
    from ._atlases import sha256_file

    if set(recorded) != set(paths):
        return False
    for name, path in paths.items():
        record = recorded[name]
        try:
            stat = path.stat()
        except OSError:
            return False
        if stat.st_size != record.get("Size"):
            return False
        if stat.st_mtime_ns == record.get("MTimeNs"):
            continue
        if sha256_file(path) != record.get("SHA256"):
            return False
    return True
