#!/usr/bin/env bash
# Build the documentation as CI does: warnings are errors, every gallery example
# runs, nitpicky mode checks that every cross-reference resolves, and every
# internal link of the built site is checked (no network access at any step).
#
#   pip install -e ".[docs]"     # once: this script installs nothing
#   docs/build.sh                # -> docs/_build/html/index.html
#
# Options: --clean removes previous output first (a full rebuild).
# Environment: SPHINXOPTS adds options to sphinx-build (e.g. "-j 2").
set -euo pipefail
docs="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$docs/.."

if [[ "${1:-}" == "--clean" ]]; then
    rm -rf docs/_build docs/auto_examples docs/api/generated docs/sg_execution_times.rst
fi

export MPLBACKEND=Agg
start=$(date +%s)
# -W: warnings are errors; --keep-going: report all of them; -n: nitpicky
# (unresolved references are warnings); -T: full traceback on errors.
# shellcheck disable=SC2086
python -m sphinx -W --keep-going -n -T -b html ${SPHINXOPTS:-} docs docs/_build/html
python docs/check_links.py docs/_build/html
# Gallery timings (each example should stay under 30 s; reported, not enforced,
# since a loaded CI machine can be slower than the examples' own cost).
python - <<'PY'
import re
from pathlib import Path
table = Path("docs/sg_execution_times.rst")
if table.exists():
    text = table.read_text()
    pairs = re.findall(r"auto_examples_(plot_\w+)\.py`.*?\n\s+- (\d+):(\d+\.\d+)", text)
    for name, minutes, seconds in pairs:
        total = 60 * int(minutes) + float(seconds)
        flag = "  <-- over 30 s" if total > 30 else ""
        print(f"gallery: {name} {total:.1f} s{flag}")
PY
echo "docs built in $(( $(date +%s) - start )) s: docs/_build/html/index.html"
