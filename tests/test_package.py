"""Package-level contracts: import cost, no oracle imports, public names."""

import ast
import pathlib
import subprocess
import sys

import regionkit

SRC = pathlib.Path(regionkit.__file__).parent


def test_version_is_exposed():
    assert isinstance(regionkit.__version__, str)
    assert regionkit.__version__


def test_library_never_imports_nilearn_or_junifer():
    offenders = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [
                f"{path.relative_to(SRC)}: {name}"
                for name in names
                if name.split(".")[0] in {"nilearn", "junifer"}
            ]
    assert offenders == []


def test_import_is_lazy_and_does_not_load_oracles():
    code = (
        "import sys, regionkit; "
        "print(any(m.split('.')[0] in ('nilearn', 'junifer', 'matplotlib') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_no_print_calls_in_library():
    offenders = []
    for path in SRC.rglob("*.py"):
        if "cli" in path.relative_to(SRC).parts:
            continue  # the command line talks to the terminal on purpose
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []
