"""Sphinx configuration of the regionkit documentation.

Build (from the repository root)::

    pip install -e ".[docs]" && sphinx-build -W --keep-going -b html docs docs/_build/html

or ``docs/build.sh``, which adds nitpicky reference checking. Nothing is fetched
from the network: intersphinx is not used, the gallery runs on bundled data.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))

import regionkit  # noqa: E402

os.environ.setdefault("MPLBACKEND", "Agg")

project = "regionkit"
author = "regionkit developers"
copyright = "regionkit developers"  # noqa: A001
release = regionkit.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
    "benchmark_tables",
    "numpydoc_strict",
    "api_pages",
    "internal_refs",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "dev",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "**/sg_execution_times.rst",
    "sg_execution_times.rst",
]
root_doc = "index"
default_role = "py:obj"
pygments_style = "sphinx"

# -- API reference ------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"  # the numpydoc sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# Types stay plain text: there is no intersphinx to link numpy/nibabel types to.
numpydoc_xref_param_type = False
# Fail the build on docstrings numpydoc cannot validate: GL08 (no docstring) and
# the section parser's own errors. Keep this list short and meaningful.
numpydoc_validation_checks = {"GL08"}
numpydoc_validation_exclude = {
    r"\.__init__$",
    r"\.set_output$",
    r"\.set_params$",
    r"\.get_params$",
    r"\.get_metadata_routing$",
    r"\.set_fit_request$",
    r"\.set_transform_request$",
    r"\.set_inverse_transform_request$",
    r"\.set_score_request$",
    r"\.fit_transform$",
}

# Private helpers that public docstrings name for the curious reader: they have
# no page of their own.
nitpick_ignore = [
    ("py:func", "threshold_maps"),
    ("py:func", "split_map"),
    ("py:func", "random_walker_labels"),
    # the sparse 4D image behind RegionExtractor.regions_img_ (not exported)
    ("py:class", "SparseRegions"),
]

# Names in docstrings that are not ours: without intersphinx they cannot link,
# so nitpicky mode is told they are known outside this site.
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|scipy|sklearn|nibabel|nib|pandas|pd|polars|pl|dask|"
               r"matplotlib|joblib|pathlib|os|collections|typing|distributed|"
               r"dask_jobqueue|bids|tqdm|isal)(\..*)?"),
    (r"py:.*", r"(ndarray|array-like|array_like|DataFrame|Nifti1Image|Bunch|"
               r"callable|Callable|Path|PathLike|Generator|Iterator|Iterable|"
               r"Sequence|Mapping|Any|optional|default|None|True|False|int|float|"
               r"str|bool|dict|list|tuple|bytes|object|type|slice|shape|of|or|"
               r"sparse matrix|Memory|BaseEstimator|TransformerMixin|Figure|Axes)"),
]

# -- Gallery --------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "matplotlib_animations": False,
    "min_reported_time": 0,
    "image_scrapers": ("matplotlib",),
    "backreferences_dir": None,
    "write_computation_times": True,
    "show_memory": False,
}

# -- Figures at build time (plot directive) -----------------------------------
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]
plot_rcparams = {"figure.figsize": (8, 5)}

# -- Benchmarks -------------------------------------------------------------------
benchmark_results_dir = str(ROOT / "benchmarks" / "results")

# -- HTML -----------------------------------------------------------------------
html_theme = "furo"
html_title = f"regionkit {release}"
html_static_path = []
html_show_sourcelink = False


# scikit-learn's metadata-routing methods (``set_fit_request`` ...) are set on
# every estimator class; they are scikit-learn's API, documented there.
def _skip_sklearn_routing(app, what, name, obj, skip, options):
    if name == "get_metadata_routing" or (name.startswith("set_") and name.endswith("_request")):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_routing)
