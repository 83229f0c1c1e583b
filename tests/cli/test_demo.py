"""regionkit demo, in-process."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from regionkit.cli import main
from regionkit.cli._demo import PLANTED, network_recovery
from regionkit.cli._main import _get_parser


def test_demo_writes_outputs_and_recovers_networks(tmp_path, capsys):
    output = tmp_path / "demo"
    assert main(["demo", "--output-dir", str(output), "--n-volumes", "40"]) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(output / "power264_timeseries.tsv", sep="\t")
    assert table.shape == (40, 264)
    # z-scored (sample std) cleaned signals
    np.testing.assert_allclose(table.mean(), 0, atol=1e-4)
    np.testing.assert_allclose(table.std(), 1, rtol=1e-3)
    png = (output / "power264_correlation.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 10_000
    assert str(output / "power264_timeseries.tsv") in printed
    assert "total" in printed
    if (output / "power264_report.html").exists():
        assert "<html" in (output / "power264_report.html").read_text().lower()
    else:
        assert "HTML report" in printed
    line = next(row for row in printed.splitlines() if row.startswith("recovered networks"))
    within = float(line.split("networks ")[1].split()[0])
    between = float(line.split(" vs ")[1].split()[0])
    auc = float(line.split("AUC ")[1].split()[0])
    ari = float(line.split("ARI ")[1].split()[0])
    # 40 volumes: chance correlations are wide, the planted structure still stands out
    assert within - between > 0.3
    assert auc > 0.8
    assert ari > 0.3


def test_network_recovery_numbers():
    networks = np.array(["DefaultMode"] * 3 + ["Visual"] * 3 + ["other"] * 2)
    correlation = np.eye(8)
    correlation[:3, :3] = correlation[3:6, 3:6] = 0.8
    np.fill_diagonal(correlation, 1.0)
    result = network_recovery(correlation, networks)
    assert result["within"] == pytest.approx(0.8)
    assert result["between"] == pytest.approx(0.0)
    assert result["auc"] == pytest.approx(1.0)
    assert result["ari"] == pytest.approx(1.0)
    assert result["n_planted_seeds"] == 6
    assert set(PLANTED) >= {"DefaultMode", "Visual"}


def test_demo_rejects_too_few_volumes(tmp_path, capsys):
    assert main(["demo", "--output-dir", str(tmp_path), "--n-volumes", "5"]) == 2
    assert capsys.readouterr().err.strip() == "regionkit demo: error: --n-volumes must be >= 20, got 5."


def test_parser_and_no_command(capsys):
    parser = _get_parser()
    assert parser.prog == "regionkit"
    assert main([]) == 2
    assert "demo" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2
    err = capsys.readouterr().err.strip()
    assert "invalid choice: 'frobnicate'" in err
    assert len(err.splitlines()) == 1
