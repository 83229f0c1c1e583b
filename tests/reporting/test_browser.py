"""Reports rendered in a real headless Chromium (Debian's package, driven by Playwright).

Playwright's own browser download is never used: the system browser is given as
``executable_path``. In CI (``CI=true``) a missing browser or Playwright fails
these tests; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import io
import os
import shutil

import numpy as np
import pytest

from regionkit.reporting import make_report

# one worker runs every browser test: Chromium starts once per test run
pytestmark = pytest.mark.xdist_group("browser")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium_path() -> str | None:
    for candidate in (os.environ.get("REGIONKIT_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests must run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install playwright; no browser download)")
    path = _chromium_path()
    if path is None:
        _unavailable("no system Chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _render(browser, report, tmp_path, name):
    """Open the saved report; return the page and the problems it logged."""
    path = tmp_path / f"{name}.html"
    report.save_as_html(path)
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    problems = {"console": [], "failed": [], "requests": [], "page_errors": []}
    page.on("console", lambda m: m.type in ("error", "warning") and problems["console"].append(m.text))
    page.on("requestfailed", lambda r: problems["failed"].append(r.url))
    page.on("request", lambda r: problems["requests"].append(r.url))
    page.on("pageerror", lambda e: problems["page_errors"].append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    return page, problems, path


def _visible_image(page):
    return page.evaluate(
        """() => {
            const img = [...document.querySelectorAll('figure.rk-slide img')]
                .find(i => i.offsetParent !== null);
            return img ? img.src.slice(-64) : null;
        }"""
    )


def _screenshot_variance(page) -> float:
    from matplotlib.image import imread

    pixels = imread(io.BytesIO(page.screenshot(full_page=False)), format="png")
    return float(pixels[..., :3].std())


def _check_page(page, problems, path, n_images):
    assert problems["failed"] == []
    assert problems["console"] == []
    assert problems["page_errors"] == []
    # nothing but the page itself is requested (images are data: URIs)
    assert [u for u in problems["requests"] if not u.startswith("data:")] == [path.as_uri()]
    images = page.evaluate(
        "() => [...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
    )
    assert len(images) == n_images
    assert all(done and width > 0 and height > 0 for done, width, height in images)
    assert _screenshot_variance(page) > 0.05


@pytest.mark.parametrize(
    ("fixture", "kwargs", "n_images"),
    [
        ("spheres_masker", {}, 5),
        ("labels_masker", {"displayed_regions": 3}, 4),
        ("maps_masker", {}, 4),
        ("parcellations", {"displayed_regions": 2}, 3),
        ("region_extractor", {}, 3),
    ],
)
def test_carousel_reports_render_and_step(browser, request, tmp_path, fixture, kwargs, n_images):
    estimator = request.getfixturevalue(fixture)
    report = make_report(estimator, **kwargs)
    page, problems, path = _render(browser, report, tmp_path, fixture)
    try:
        _check_page(page, problems, path, n_images)
        # exactly one slide shown, the buttons visible, the status names slide 1
        assert page.locator("figure.rk-slide:visible").count() == 1
        assert page.locator(".rk-next").is_visible()
        status = page.locator(".rk-status").inner_text()
        assert status.startswith(f"1 / {n_images}")
        first = _visible_image(page)
        page.click(".rk-next")
        second = _visible_image(page)
        assert second != first
        assert page.locator(".rk-status").inner_text().startswith(f"2 / {n_images}")
        page.click(".rk-prev")
        page.click(".rk-prev")  # wraps around to the last slide
        assert page.locator(".rk-status").inner_text().startswith(f"{n_images} / {n_images}")
        # clicking a region row shows that region's figure
        row = page.locator("tr[data-rk-slide]").first
        target = int(row.get_attribute("data-rk-slide"))
        row.click()
        assert page.locator(".rk-status").inner_text().startswith(f"{target + 1} / ")
        assert problems["console"] == [] and problems["page_errors"] == []
    finally:
        page.close()


def test_single_figure_report_has_no_buttons(browser, nifti_masker, tmp_path):
    page, problems, path = _render(browser, make_report(nifti_masker), tmp_path, "mask")
    try:
        _check_page(page, problems, path, 1)
        assert page.locator("figure.rk-slide:visible").count() == 1
        assert not page.locator(".rk-next").is_visible()
    finally:
        page.close()


def test_escaped_names_never_run(browser, tmp_path):
    from report_helpers import fit_labels_masker

    evil = "<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>"
    labels_masker = fit_labels_masker((evil, "b", "c", "d", "e"))
    page, problems, path = _render(browser, make_report(labels_masker), tmp_path, "evil")
    try:
        assert page.evaluate("() => window.__pwned === undefined")
        assert page.get_by_text(evil, exact=True).count() >= 1
        _check_page(page, problems, path, 6)
    finally:
        page.close()


def test_iframe_and_unfitted_report_render(browser, tmp_path):
    from regionkit.maskers import NiftiSpheresMasker

    report = make_report(NiftiSpheresMasker(np.zeros((2, 3)), radius=3))
    page = browser.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.set_content(f"<!DOCTYPE html><html><body>{report.get_iframe()}</body></html>")
        frame = page.frames[1]
        frame.wait_for_load_state()
        assert "has not been fitted yet" in frame.inner_text("body")
        assert errors == []
    finally:
        page.close()


def test_missing_browser_fails_in_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="browser tests must run in CI: no chromium"):
        _unavailable("no chromium")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="no chromium"):
        _unavailable("no chromium")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        _unavailable("no chromium")
