"""Reports of fitted estimators: content, numbers, options, errors, no kept images."""

from __future__ import annotations

import gc
import re
import sys
import time
import weakref

import nibabel as nib
import numpy as np
import pytest
import report_fakes as fakes
from report_helpers import LABEL_NAMES, SEEDS, ParsedHTML, fit_labels_masker, png_size

from regionkit import RegionkitWarning
from regionkit.reporting import HTMLReport, make_report, supported_estimators

EVIL = "<script>alert(1)</script>"


def _region_statuses(body: str) -> list[str]:
    """Status class of each region-table row, '' for plain rows."""
    regions = body[body.index('<table class="rk-table rk-regions">'):]
    regions = regions[: regions.index("</table>")]
    page = ParsedHTML(regions)
    rows = [a for t, a in page.tags if t == "tr"][1:]  # skip the header row
    return [a.get("class", "").removeprefix("rk-") for a in rows]


def _images(body: str) -> list[dict]:
    return ParsedHTML(body).find("img")


def _check_figures(report: HTMLReport, n_expected: int) -> None:
    images = _images(report.body)
    assert len(images) == n_expected
    for image in images:
        width, height = png_size(image["src"])
        assert (str(width), str(height)) == (image["width"], image["height"])
        assert width > 200 and height > 100


# ----------------------------------------------------------------------------------
# spheres (the real NiftiSpheresMasker)


def test_spheres_report_uses_the_maskers_numbers(spheres_masker):
    report = make_report(spheres_masker)
    body = report.body
    page = ParsedHTML(body)
    n_voxels = [len(p) for p in spheres_masker.extraction_plan_.positions]
    coverage = spheres_masker.region_coverage_
    assert n_voxels[3] == 0 and 0 < coverage[2] < 0.8 and coverage[0] == 1.0
    assert _region_statuses(body) == ["", "", "clipped", "empty"]
    text = page.text
    for count in n_voxels:
        assert f"{count}" in text
    assert f"{100 * coverage[2]:.1f}" in text
    assert "empty spheres 1" in " ".join(text.split())
    # one glass overview + one figure per sphere that exists (4)
    _check_figures(report, 1 + len(SEEDS))
    captions = [t for t in page.text_parts if t.startswith("sphere ")]
    assert any("(0.0, -60.0, 40.0) mm" in c for c in captions)


def test_displayed_spheres_selects_figures(spheres_masker):
    assert len(_images(make_report(spheres_masker, displayed_spheres=2).body)) == 3
    assert len(_images(make_report(spheres_masker, displayed_spheres="all").body)) == 5
    body = make_report(spheres_masker, displayed_spheres=[3, 0]).body
    captions = [c for c in ParsedHTML(body).text_parts if c.startswith("sphere ")]
    assert [c.split(":")[0] for c in captions[:2]] == ["sphere 3", "sphere 0"]
    assert len(_images(make_report(spheres_masker, displayed_spheres=np.array([1])).body)) == 2


def test_displayed_out_of_range_warns_and_trims(spheres_masker):
    with pytest.warns(RegionkitWarning, match="displayed_spheres=12 was requested but there are only 4"):
        report = make_report(spheres_masker, displayed_spheres=12)
    assert len(_images(report.body)) == 5
    assert "showing 4" in ParsedHTML(report.body).text
    with pytest.warns(RegionkitWarning, match=r"spheres \[7\], which do not exist"):
        report = make_report(spheres_masker, displayed_spheres=[1, 7])
    assert len(_images(report.body)) == 2


def test_default_display_is_trimmed_silently(spheres_masker, recwarn):
    make_report(spheres_masker)  # default 10 > 4 spheres: no warning
    assert not [w for w in recwarn if issubclass(w.category, RegionkitWarning)]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"displayed_spheres": "some"}, ValueError, "displayed_spheres must be 'all'"),
        ({"displayed_spheres": -1}, ValueError, "displayed_spheres must be >= 0, got -1"),
        ({"displayed_spheres": 2.5}, TypeError, "got float 2.5"),
        ({"displayed_spheres": [0.5]}, TypeError, "list of ints"),
        ({"displayed_maps": 3}, TypeError, "unexpected keyword argument.*displayed_maps"),
        ({"engine": "plotly"}, ValueError, "engine must be 'matplotlib', got 'plotly'"),
        ({"title": 3}, TypeError, "title must be a str or None, got int 3"),
    ],
)
def test_bad_options_raise_before_any_work(spheres_masker, kwargs, error, message):
    with pytest.raises(error, match=message):
        make_report(spheres_masker, **kwargs)


def test_unfitted_estimator_reports_instead_of_failing():
    from regionkit.maskers import NiftiSpheresMasker

    masker = NiftiSpheresMasker([(0, 0, 0)], radius=4)
    report = make_report(masker, title="before fit")
    page = ParsedHTML(report.body)
    assert "has not been fitted yet" in page.text
    assert not page.find("img")
    assert "radius" in page.text_parts  # the parameters are still listed
    assert report.title == "before fit"


def test_report_does_not_touch_the_estimator(spheres_masker):
    before = {k: id(v) for k, v in vars(spheres_masker).items()}
    make_report(spheres_masker)
    assert {k: id(v) for k, v in vars(spheres_masker).items()} == before


def _spheres(mask):
    from regionkit.maskers import NiftiSpheresMasker

    return NiftiSpheresMasker(SEEDS[:2], radius=6.0, mask_img=mask)


def _labels(mask):
    from regionkit.maskers import NiftiLabelsMasker

    labels = fakes.labels_data()
    labels[labels == 9] = 0  # no region masked out: no EmptyRegionWarning at transform
    return NiftiLabelsMasker(fakes.nifti(labels), mask_img=mask)


def _maps(mask):
    from regionkit.maskers import NiftiMapsMasker

    return NiftiMapsMasker(fakes.nifti(fakes.maps_data()[..., :3]), mask_img=mask)


def _nifti_masker(mask):
    from regionkit.maskers import NiftiMasker

    return NiftiMasker(mask_img=mask)


def _parcellations(mask):
    from regionkit.regions import Parcellations

    return Parcellations(method="kmeans", n_parcels=2, mask=mask, smoothing_fwhm=None,
                         standardize=None)


@pytest.mark.parametrize("make_masker", [_spheres, _labels, _maps, _nifti_masker,
                                         _parcellations])
def test_input_images_are_not_kept_alive(make_masker):
    values = np.random.default_rng(0).normal(size=(*fakes.SHAPE, 6)).astype(np.float32)
    run = nib.Nifti1Image(values, fakes.AFFINE)
    mask = fakes.nifti(fakes.mask_data())
    alive = [weakref.ref(run), weakref.ref(mask)]
    masker = make_masker(mask)
    masker.fit_transform(run)
    report = make_report(masker)
    masker.set_params(**{  # the parameter is the user's reference, not a kept input
        "mask" if make_masker is _parcellations else "mask_img": None
    })
    del run, mask
    gc.collect()
    # neither the report nor the fitted masker keeps the run or the user's mask
    assert [ref() is None for ref in alive] == [True, True]
    assert isinstance(report, HTMLReport) and len(_images(report.body)) >= 1


def test_fit_extras_show_warnings_files_and_mean_image(spheres_masker):
    mean = nib.Nifti1Image(np.full(fakes.SHAPE, 7.0, np.float32), fakes.AFFINE)
    spheres_masker._report_extras = {
        "input_files": [f"/data/sub-01_{EVIL}.nii.gz"],
        "warnings": [f"3 voxels were NaN {EVIL}"],
        "background_img": mean,
    }
    try:
        report = make_report(spheres_masker)
    finally:
        del spheres_masker._report_extras
    assert EVIL not in report.html
    page = ParsedHTML(report.body)
    assert f"fit: /data/sub-01_{EVIL}.nii.gz" in page.text_parts
    assert f"3 voxels were NaN {EVIL}" in page.text_parts
    assert "background mean image seen at fit" in " ".join(page.text.split())


def test_reports_false_is_said(spheres_img):
    from regionkit.maskers import NiftiSpheresMasker

    masker = NiftiSpheresMasker(SEEDS[:1], radius=6.0, reports=False).fit(spheres_img)
    assert "reports=False" in ParsedHTML(make_report(masker).body).text


def test_missing_matplotlib_says_which_extra(spheres_masker, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'pip install "regionkit\[all\]"'):
        make_report(spheres_masker)


def test_unknown_estimator_is_refused():
    class Thing:
        pass

    with pytest.raises(TypeError, match="No report builder for Thing; reports exist for"):
        make_report(Thing())
    assert {"NiftiSpheresMasker", "NiftiLabelsMasker", "NiftiMapsMasker", "NiftiMasker",
            "Parcellations", "RegionExtractor"} <= set(supported_estimators())


def test_subclasses_use_their_parents_builder(spheres_masker):
    from regionkit.maskers import NiftiSpheresMasker

    class MySpheres(NiftiSpheresMasker):
        pass

    mine = MySpheres(SEEDS, radius=8.0, allow_empty=True)
    mine.seeds_ = spheres_masker.seeds_
    mine.mask_img_ = None
    report = make_report(mine)
    assert len(_region_statuses(report.body)) == len(SEEDS)


def test_264_spheres_report_is_fast():
    from regionkit.datasets import load_power_2011
    from regionkit.maskers import NiftiSpheresMasker

    masker = NiftiSpheresMasker(load_power_2011().seeds, radius=5.0).fit()
    make_report(masker, displayed_spheres=1)  # imports and caches warmed up
    start = time.process_time()
    report = make_report(masker)
    elapsed = time.process_time() - start
    assert len(_region_statuses(report.body)) == 264
    assert len(_images(report.body)) == 11
    assert elapsed < 2.0, f"report of 264 spheres took {elapsed:.2f} s of CPU"


# ----------------------------------------------------------------------------------
# labels, maps, mask, parcellations, region extractor (fakes until merged)


def test_labels_report_uses_the_maskers_numbers(labels_masker):
    report = make_report(labels_masker, displayed_regions="all")
    page = ParsedHTML(report.body)
    used = [len(p) for p in labels_masker.extraction_plan_.positions]
    assert used == [125, 27, 27, 9, 0]
    # labels 1, 2, 5 whole; 7 keeps 9 of 27 voxels in the mask; 9 masked out
    assert _region_statuses(report.body) == ["", "", "", "clipped", "empty"]
    for name in LABEL_NAMES:
        assert name in page.text_parts
    for count in used:
        assert str(count) in page.text_parts
    assert f"{100 * labels_masker.region_coverage_[3]:.1f}" == "33.3"
    assert "33.3" in page.text_parts
    assert "27000.0" in page.text_parts  # 125 voxels x 216 mm3
    # centre: a voxel of the region nearest its centroid
    assert "(-30.0, -18.0, 12.0)" in page.text_parts
    # overview + one per region (the masked-out one is shown where it lies)
    _check_figures(report, 1 + 5)
    assert any(t.startswith("region 4: masked out (label 9), 0 of 27 voxels used")
               for t in page.text_parts)
    assert "labels_img: " not in page.text  # in-memory images have no file name


def test_labels_report_lists_file_names(tmp_path):
    from regionkit.maskers import NiftiLabelsMasker

    evil_file = "<img src=x onerror=alert(1)>&\"'"  # no '/' in a file name
    atlas = tmp_path / f"atlas_{evil_file}.nii.gz"
    nib.save(fakes.nifti(fakes.labels_data()), atlas)
    report = make_report(NiftiLabelsMasker(str(atlas)).fit())
    assert "<img src=x" not in report.html
    assert f"labels_img: {atlas}" in ParsedHTML(report.body).text_parts


def test_lut_names_are_escaped():
    labels_masker = fit_labels_masker((EVIL, "b & c", "front", "top", "gone"))
    report = make_report(labels_masker)
    assert EVIL not in report.html
    page = ParsedHTML(report.body)
    assert EVIL in page.text_parts
    assert "b & c" in page.text_parts
    assert len(page.find("script")) == 1


def test_fake_labels_without_lut_name_regions_by_value():
    masker = fakes.NiftiLabelsMasker().fit()
    del masker.lut_
    report = make_report(masker, displayed_regions=1)
    page = ParsedHTML(report.body)
    assert [t for t in page.text_parts if re.fullmatch(r"region \d+", t)] == [
        "region 1", "region 2", "region 5", "region 7", "region 9"
    ]
    assert len(page.find("img")) == 2


def test_maps_report_uses_the_maskers_coverage(maps_masker):
    report = make_report(maps_masker)
    page = ParsedHTML(report.body)
    maps = fakes.maps_data()
    nonzero = [int((maps[..., i] != 0).sum()) for i in range(4)]
    for count in nonzero[:3]:
        assert str(count) in page.text_parts
    assert _region_statuses(report.body)[3] == "empty"
    assert "(-30.0, -18.0, 12.0)" in page.text_parts  # nearest voxel to blob centre
    assert "-0.961" in page.text_parts  # the negative map's peak keeps its sign
    coverage = maps_masker.region_coverage_
    assert 0.9 < coverage[2] < 1.0 and coverage[3] == 0.0
    assert f"{100 * coverage[2]:.1f}" in page.text_parts  # the masker's own coverage
    _check_figures(report, 1 + 3)
    with pytest.warns(RegionkitWarning, match="displayed_maps=9 was requested"):
        make_report(maps_masker, displayed_maps=9)


def test_region_extractor_report_shows_source_maps(region_extractor):
    assert region_extractor.index_.tolist() == [0, 1]  # the negative blob is dropped
    report = make_report(region_extractor, displayed_maps=[1])
    page = ParsedHTML(report.body)
    assert "source map" in page.text_parts
    assert _region_statuses(report.body) == ["", ""]
    _check_figures(report, 2)
    assert any(t.startswith("region 1:") for t in page.text_parts)
    regions = np.asarray(region_extractor.regions_img_.dataobj)
    for count in (regions != 0).sum(axis=(0, 1, 2)):
        assert str(count) in page.text_parts
    with pytest.warns(RegionkitWarning, match=r"regions \[5\], which do not exist"):
        make_report(region_extractor, displayed_maps=[5])


def test_nifti_masker_report_counts_mask_voxels(nifti_masker):
    assert nifti_masker.n_elements_ == 729
    report = make_report(nifti_masker)
    text = " ".join(ParsedHTML(report.body).text.split())
    assert "voxels in mask 729" in text
    assert f"volume (mm3) {729 * 216}" in text
    _check_figures(report, 1)


def test_nifti_masker_with_computed_mask():
    from regionkit.maskers import NiftiMasker

    run = np.zeros((*fakes.SHAPE, 5), np.float32)
    run[fakes.box((0, -10, 10), 5)] = 100.0 + np.arange(5)
    masker = NiftiMasker().fit(nib.Nifti1Image(run, fakes.AFFINE))
    n_voxels = int(np.asarray(masker.mask_img_.dataobj).astype(bool).sum())
    text = " ".join(ParsedHTML(make_report(masker).body).text.split())
    assert n_voxels > 0 and f"voxels in mask {n_voxels}" in text


def test_parcellations_report_lists_every_parcel(parcellations):
    labels = np.asarray(parcellations.labels_img_.dataobj)
    sizes = np.bincount(labels.ravel())[1:]
    assert len(sizes) == 6 and sizes.sum() == 2926
    report = make_report(parcellations)
    page = ParsedHTML(report.body)
    assert [t for t in page.text_parts if re.fullmatch(r"parcel \d+", t)] == [
        f"parcel {v}" for v in range(1, 7)
    ]
    for size in sizes:
        assert str(size) in page.text_parts
    assert _region_statuses(report.body) == [""] * 6  # parcels lie inside the mask
    assert "6 parcels from method 'kmeans'." in page.text_parts
    _check_figures(report, 1 + 6)


def test_parcellations_report_flags_missing_parcels(parcellations):
    parcellations.n_parcels = 8  # as if fit had found fewer parcels than asked for
    report = make_report(parcellations, displayed_regions=0)
    assert "n_parcels=8 was requested but the parcellation has 6 parcels." in (
        ParsedHTML(report.body).text_parts
    )
    _check_figures(report, 1)


@pytest.mark.parametrize(
    "fixture", ["labels_masker", "maps_masker", "nifti_masker", "parcellations",
                "region_extractor"],
)
def test_unfitted_estimators_report_instead_of_failing(fixture, request):
    estimator = type(request.getfixturevalue(fixture))()
    page = ParsedHTML(make_report(estimator).body)
    assert "has not been fitted yet" in page.text
    assert not page.find("img")


def _hook_problem(module: str, name: str) -> str | None:
    """Why ``name.generate_report`` is not nilearn's hook yet (None when it is)."""
    import importlib
    import inspect

    try:
        method = getattr(importlib.import_module(module), name).generate_report
    except (ImportError, AttributeError):
        return f"{name} has no generate_report hook yet"
    first = list(inspect.signature(method).parameters)[1:2]
    if first != ["engine"]:
        return (
            f"{name}.generate_report takes {first} first; nilearn 0.14.1's takes "
            "(engine='matplotlib', title=None, **kwargs)"
        )
    return None


def _hook_case(fixture, module, name, kwargs):
    problem = _hook_problem(module, name)
    return pytest.param(
        fixture, kwargs,
        marks=pytest.mark.xfail(problem is not None, reason=problem or "", strict=True),
        id=name,
    )


@pytest.mark.parametrize(
    ("fixture", "kwargs"),
    [
        _hook_case("spheres_masker", "regionkit.maskers", "NiftiSpheresMasker",
                   {"displayed_spheres": 1}),
        _hook_case("labels_masker", "regionkit.maskers", "NiftiLabelsMasker",
                   {"displayed_regions": 1}),
        _hook_case("maps_masker", "regionkit.maskers", "NiftiMapsMasker",
                   {"displayed_maps": 1}),
        _hook_case("nifti_masker", "regionkit.maskers", "NiftiMasker", {}),
        _hook_case("parcellations", "regionkit.regions", "Parcellations",
                   {"displayed_regions": 1}),
        _hook_case("region_extractor", "regionkit.regions", "RegionExtractor",
                   {"displayed_maps": 1}),
    ],
)
def test_generate_report_hook(fixture, kwargs, request):
    estimator = request.getfixturevalue(fixture)
    report = estimator.generate_report(title=f"hook {EVIL}", **kwargs)
    assert isinstance(report, HTMLReport)
    assert report.title == f"hook {EVIL}"
    assert EVIL not in report.html
    assert len(_images(report.body)) == (1 if fixture == "nifti_masker" else 2)
    with pytest.raises(ValueError, match="engine must be 'matplotlib'"):
        estimator.generate_report("brainsprite")  # nilearn's positional order: engine first
