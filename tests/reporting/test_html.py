"""Pure HTML functions and the HTMLReport document API (no estimator, no figure)."""

from __future__ import annotations

import html
import webbrowser

import numpy as np
import pytest
from report_helpers import ParsedHTML

from regionkit import __version__
from regionkit.reporting import HTMLReport
from regionkit.reporting._html import (
    Figure,
    RegionTable,
    ReportContent,
    escape,
    format_value,
    render_body,
)

EVIL = "<script>alert(1)</script>"
# a 1x1 transparent PNG
PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def _content(**changes) -> ReportContent:
    table = RegionTable(
        columns=["#", "name", "voxels"],
        rows=[
            {"#": 0, "name": EVIL, "voxels": 12},
            {"#": 1, "name": "calm & quiet", "voxels": 0},
            {"#": 2, "name": 'say "hi"', "voxels": 3},
        ],
        status=["", "empty", "clipped"],
        numeric_columns=frozenset({"#", "voxels"}),
    )
    content = ReportContent(
        title=f"Title {EVIL}",
        estimator_name="NiftiSpheresMasker",
        fitted=True,
        description=f"about {EVIL}",
        summary=[("spheres", 3), (EVIL, EVIL)],
        figures=[
            Figure(PIXEL, f"overview {EVIL}", 1, 1),
            Figure(PIXEL, "sphere 0", 1, 1, region_position=0),
            Figure(PIXEL, "sphere 2", 1, 1, region_position=2),
        ],
        regions=table,
        warnings=[f"fit warning {EVIL}"],
        notices=[f"notice {EVIL}"],
        inputs=[f"mask_img: /data/{EVIL}.nii.gz"],
        parameters={"radius": 5.0, "labels": [EVIL], "seeds": np.zeros((264, 3))},
    )
    for name, value in changes.items():
        setattr(content, name, value)
    return content


def test_escape_covers_quotes_and_markup():
    assert escape(EVIL) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert escape("a\"b'c&") == "a&quot;b&#x27;c&amp;"


def test_body_structure_sections_and_counts():
    body = render_body(_content(), report_id="rk-test")
    page = ParsedHTML(body)
    (root,) = page.find("div", **{"class": "rk-report"})
    assert root["id"] == "rk-test"
    sections = [a["class"].split()[1] for t, a in page.tags if t == "section"]
    assert sections == [
        "rk-warnings", "rk-summary", "rk-figures", "rk-regions", "rk-inputs", "rk-parameters",
    ]
    assert len(page.find("figure", **{"class": "rk-slide"})) == 3
    assert len(page.find("img")) == 3
    # one <tr> per region plus the header, one per parameter plus the header
    region_rows = page.find("tr")
    assert len(page.find("tr", **{"class": "rk-empty"})) == 1
    assert len(page.find("tr", **{"class": "rk-clipped"})) == 1
    assert len(region_rows) == (1 + 3) + (1 + 3)
    # rows with a figure point at their slide; others do not
    assert [a.get("data-rk-slide") for a in region_rows[1:4]] == ["1", None, "2"]
    assert "regionkit " + __version__ in page.text
    assert len(page.find("style")) == 1
    assert len(page.find("script")) == 1  # ours only


def test_user_text_is_escaped_everywhere():
    body = render_body(_content())
    assert EVIL not in body
    assert "<script>alert" not in body
    page = ParsedHTML(body)
    # shown as text: in the title, description, notice, warning, table, summary,
    # inputs, parameters and figure captions
    assert page.text.count(EVIL) >= 9
    assert len(page.find("script")) == 1
    assert all(EVIL not in s for s in page.script_text)
    # attribute values (alt text) are escaped too, and round-trip to the text
    assert {a["alt"] for a in page.find("img")} >= {f"overview {EVIL}"}


def test_parameters_are_shortened_and_sorted():
    page = ParsedHTML(render_body(_content()))
    names = [
        t for t in page.text_parts if t in {"labels", "radius", "seeds"}
    ]
    assert names == ["labels", "radius", "seeds"]
    assert "ndarray (264, 3) float64" in page.text
    assert format_value(5.0) == "5"
    assert format_value(np.mean) == "numpy.mean"
    assert format_value(format_value) == "regionkit.reporting._html.format_value"
    assert len(format_value("x" * 1000)) == 160


def test_no_external_resources_in_body():
    page = ParsedHTML(render_body(_content()))
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "poster", "data"):
            if name in attrs:
                assert attrs[name].startswith(("data:", "#")), (tag, name, attrs[name])
        assert tag not in ("link", "iframe", "object", "embed")


def test_figures_without_region_position_do_not_link_rows():
    content = _content(figures=[Figure(PIXEL, "only", 1, 1)])
    page = ParsedHTML(render_body(content))
    assert not [a for a in page.find("tr") if "data-rk-slide" in a]


def test_unfitted_content_has_no_figures_or_regions():
    content = ReportContent(
        title="NiftiMasker", estimator_name="NiftiMasker", fitted=False,
        notices=["not fitted"], parameters={"mask_img": None},
    )
    page = ParsedHTML(render_body(content))
    assert not page.find("img")
    assert not page.find("section", **{"class": "rk-regions"})
    assert "not fitted" in page.text


# ----------------------------------------------------------------------------------
# HTMLReport


@pytest.fixture
def report():
    return HTMLReport(render_body(_content(), report_id="rk-doc"), f"Title {EVIL}")


def test_report_api_matches_nilearn(report):
    assert str(report) == report.body
    assert report._repr_html_() == report.body
    page_html = report.get_standalone()
    assert page_html.startswith("<!DOCTYPE html>")
    assert report.body in page_html
    page = ParsedHTML(page_html)
    (title,) = [t for t, _ in page.tags if t == "title"]
    assert f"<title>Title {escape(EVIL)}</title>" in page_html
    csp = [a for a in page.find("meta") if a.get("http-equiv") == "Content-Security-Policy"]
    assert len(csp) == 1
    assert "default-src 'none'" in csp[0]["content"]
    assert title == "title"


def test_iframe_holds_the_escaped_page(report):
    frame = report.get_iframe(width=640, height=480)
    page = ParsedHTML(frame)
    ((tag, attrs),) = page.tags
    assert tag == "iframe"
    assert attrs["width"] == "640" and attrs["height"] == "480"
    assert attrs["srcdoc"] == report.get_standalone()
    assert f'width="{report.width}"' in report.get_iframe()
    report.resize(300, 200)
    assert 'width="300" height="200"' in report.get_iframe()
    with pytest.raises(ValueError, match="width must be a positive number of pixels, got -1"):
        report.resize(-1, 200)


def test_save_as_html_writes_the_standalone_page(report, tmp_path):
    path = tmp_path / "report.html"
    report.save_as_html(path)
    assert path.read_text(encoding="utf-8") == report.get_standalone()
    report.save_as_html(str(tmp_path / "again.html"))
    assert (tmp_path / "again.html").stat().st_size == path.stat().st_size


def test_open_in_browser_saves_then_opens(report, tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url) or True)
    path = report.open_in_browser(tmp_path / "open.html")
    assert opened == [path.resolve().as_uri()]
    assert path.read_text(encoding="utf-8") == report.get_standalone()
    temporary = report.open_in_browser()
    try:
        assert opened[-1] == temporary.resolve().as_uri()
        assert temporary.read_text(encoding="utf-8") == report.get_standalone()
    finally:
        temporary.unlink()


def test_repr_names_title_and_size(report):
    assert repr(report) == f"<HTMLReport {report.title!r}: {len(report.html)} characters>"
    assert html.unescape(escape(report.title)) == report.title


def test_public_api_covers_nilearns_report():
    from nilearn.reporting import HTMLReport as NilearnReport

    theirs = NilearnReport(head_tpl=__import__("string").Template("$body"), body="<p>x</p>")
    ours = HTMLReport("<p>x</p>", "x")
    public = {n for n in dir(theirs) if not n.startswith("_") and n != "head_tpl"}
    assert public <= {n for n in dir(ours) if not n.startswith("_")}
    assert (ours.width, ours.height) == (theirs.width, theirs.height) == (800, 800)
    assert str(ours) == str(theirs) == "<p>x</p>"
    assert ours._repr_html_() == theirs._repr_html_()


def test_reporting_is_lazy():
    import subprocess
    import sys

    code = (
        "import sys, regionkit; assert 'regionkit.reporting' not in sys.modules;"
        "import regionkit.reporting; assert 'matplotlib' not in sys.modules, 'matplotlib'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
