"""Fixtures of the CLI tests: a generated 20-run fMRIPrep cohort."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cohort_fixtures import SEEDS, make_cohort


@pytest.fixture(scope="session")
def cohort(tmp_path_factory):
    """20 runs (10 subjects x 2 tasks) and a spheres TSV; do not modify."""
    root = tmp_path_factory.mktemp("cohort")
    bids = root / "fmriprep"
    bolds = make_cohort(bids)
    seeds = root / "seeds.tsv"
    SEEDS.to_csv(seeds, sep="\t", index=False)
    return {"bids": bids, "bolds": bolds, "seeds": seeds}
