"""Smoke test of the benchmark tooling: quick data, one case in-process, the report."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import generate_data, run  # noqa: E402
from benchmarks.cases import all_cases, get_case  # noqa: E402


def test_quick_data_and_one_case(tmp_path):
    manifest = generate_data.generate(tmp_path / "data", n_volumes=12, quick=True)
    bold = nib.load(manifest["files"]["bold"])
    assert bold.shape == (*generate_data.QUICK_SHAPE, 12)
    assert bold.get_data_dtype() == np.float32
    np.testing.assert_allclose(np.diag(bold.affine)[:3], [-8.0, 8.0, 8.0])
    np.testing.assert_allclose(bold.affine[:3, 3], [90.0, -126.0, -72.0])
    mask = np.asarray(nib.load(manifest["files"]["mask"]).dataobj).astype(bool)
    data = np.asarray(bold.dataobj)
    assert (data[~mask] == 0).all() and (data[mask] > 0).all()
    confounds = pd.read_csv(manifest["files"]["confounds"], sep="\t", na_values="n/a")
    assert confounds.shape == (12, 24)
    derivative_columns = [c for c in confounds.columns if "derivative1" in c]
    assert len(derivative_columns) == 12
    assert confounds.loc[0, derivative_columns].isna().all()
    assert not confounds.loc[1:].isna().any().any()
    np.testing.assert_allclose(confounds["trans_x_power2"], confounds["trans_x"] ** 2,
                               rtol=1e-6)
    # Same parameters: the generator does not rewrite the files.
    again = generate_data.generate(tmp_path / "data", n_volumes=12, quick=True)
    assert again == manifest

    assert {"floor/zlib", "reader/regionkit-zlib", "reader/nibabel-full"} <= set(all_cases())
    result = run.measure_case(get_case("reader/regionkit-zlib"), manifest["files"])
    assert result["output"]["n_volumes"] == 12
    assert result["wall_s"] > 0 and result["peak_rss_mib"] >= result["baseline_rss_mib"] > 0
    floor = run.measure_case(get_case("floor/zlib"), manifest["files"])
    assert floor["output"]["decoded_bytes"] == manifest["bold_bytes_raw"]

    summaries = {}
    for name, measured in (("reader/regionkit-zlib", result), ("floor/zlib", floor)):
        measured = {**measured, "child_maxrss_mib": measured["peak_rss_mib"],
                    "peak_above_baseline_mib": 0.0}
        summaries[name] = run.summarize(name, get_case(name), [measured])
    run.add_ratios(summaries)
    record = {"environment": run.environment("inherit", []),
              "data": run.data_facts(manifest), "repeat": 1, "results": summaries}
    json_path, md_path = run.write_record(record, tmp_path / "results", "smoke")
    parsed = json.loads(json_path.read_text())
    ratio = parsed["results"]["reader/regionkit-zlib"]["ratio_to_reference"]
    assert ratio == summaries["reader/regionkit-zlib"]["wall_s_median"] / floor["wall_s"]
    table = md_path.read_text()
    assert "| reader/regionkit-zlib | regionkit |" in table
    assert "| floor/zlib | floor |" in table


def test_difference_stats_numbers():
    theirs = np.array([[1.0, -2.0], [0.5, 0.0]])
    ours = theirs + np.array([[1e-5, 0.0], [0.0, 2e-5]])
    stats = run.difference_stats(ours, theirs)
    assert stats["max_abs_diff"] == 2e-5
    assert np.isclose(stats["max_rel_diff"], 1e-5)  # the zero entry is left out
    assert np.isclose(stats["rms_other"], np.sqrt(5.25 / 4))
    assert stats["n_outside_rtol_only"] == 1  # |2e-5| > 1e-4 * |0|
    assert stats["equal_within_rtol"]  # 2e-5 <= 1e-4 * rms
    far = run.difference_stats(theirs * (1 + 1e-3), theirs)
    assert not far["equal_within_rtol"] and np.isclose(far["max_rel_diff"], 1e-3)
    assert not run.difference_stats(ours[:1], theirs)["equal_within_rtol"]


def test_spheres_case_quick_against_nilearn(tmp_path):
    manifest = generate_data.generate(tmp_path / "data", n_volumes=12, quick=True)
    outputs = tmp_path / "outputs"
    names = ("spheres/regionkit-seitzman300-r10", "spheres/nilearn-seitzman300-r10")
    measured = {
        name: run.measure_case(get_case(name), manifest["files"],
                               run.outputs_file(outputs, name))
        for name in names
    }
    ours = measured[names[0]]["arrays"]["signals"]
    theirs = measured[names[1]]["arrays"]["signals"]
    assert ours.shape == theirs.shape == (12, 300)
    assert measured[names[0]]["output"]["signals"]["shape"] == [12, 300]
    # z-scored columns (nilearn leaves constant, all-zero columns at 0)
    live = theirs.std(axis=0) > 0
    assert live.sum() > 100
    np.testing.assert_allclose(ours[:, live].std(axis=0, ddof=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)

    summaries = {
        name: run.summarize(name, get_case(name), [
            {**measured[name], "child_maxrss_mib": measured[name]["peak_rss_mib"],
             "peak_above_baseline_mib": 0.0}])
        for name in names
    }
    run.add_ratios(summaries)
    run.compare_outputs(summaries, all_cases(), outputs, manifest["files"], env=None)
    accuracy = summaries[names[0]]["accuracy"]
    assert accuracy["compared_to"] == names[1] and accuracy["equal_within_rtol"]
    stats = accuracy["arrays"]["signals"]
    assert stats["max_abs_diff"] == np.abs(ours.astype(float) - theirs).max()
    assert "float64_reference" not in accuracy  # equal: no float64 run needed
    record = {"environment": run.environment("inherit", []),
              "data": run.data_facts(manifest), "repeat": 1, "results": summaries}
    table = run.markdown_report(record)
    assert f"| {names[0]} | {names[1]} |" in table
    assert "| signals |" in table and "| yes |" in table


def test_report_renders_results_and_readme_blocks(tmp_path):
    from benchmarks import report

    manifest = generate_data.generate(tmp_path / "data", n_volumes=12, quick=True)
    names = ("spheres/regionkit-power264-median", "floor/isal")
    summaries = {}
    for name in names:
        measured = run.measure_case(get_case(name), manifest["files"])
        measured = {**measured, "child_maxrss_mib": measured["peak_rss_mib"],
                    "peak_above_baseline_mib": 1.0}
        summaries[name] = run.summarize(name, get_case(name), [measured])
    run.add_ratios(summaries)
    ours = summaries[names[0]]
    assert ours["ratio_to_floor"] == ours["wall_s_median"] / summaries[names[1]]["wall_s_median"]
    record = {"environment": {**run.environment("inherit", []),
                              "load_average_at_end": (1.0, 2.0, 3.0)},
              "data": run.data_facts(manifest), "repeat": 1, "results": summaries,
              "failed": {"spheres/nilearn-power264-clean":
                         {"repeat": 1, "error": "case x failed (exit -9):"}}}
    json_path, _ = run.write_record(record, tmp_path / "results", "20990101-000000")
    text = report.render(json_path, ["spheres/"])
    assert "| spheres/regionkit-power264-median | regionkit |" in text
    assert "| floor/isal |" not in text  # filtered out, so no floor ratio either
    assert "1.0, 2.0, 3.0 at end" in text and "most likely out of memory" in text
    table = report.summary(tmp_path / "results", n_volumes=12)
    assert "| spheres/regionkit-power264-median |" in table  # no partner: dashes
    readme = tmp_path / "README.md"
    readme.write_text(f"a\n<!-- report: {json_path} -k floor/ -->\nold\n<!-- /report -->\nb\n")
    assert report.refresh_readme(readme) == 1
    refreshed = readme.read_text()
    assert "old" not in refreshed and "| floor/isal | floor |" in refreshed
    assert refreshed.startswith("a\n<!-- report:") and refreshed.endswith("<!-- /report -->\nb\n")
