"""Cohort-scale extraction behind ``regionkit extract``.

``_index`` finds runs (pybids), ``_atlases`` builds and caches fitted maskers,
``_outputs`` writes files atomically, ``_runner`` extracts runs serially, with
joblib or on Dask (``_dask``).
"""
