"""The command line starts at once: --help, list and validate import none of the heavy libraries.

Times are measured in benchmarks/bench.py (section 5); this test checks the cause instead of the
clock: which modules a command imports.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Libraries that take from a quarter of a second to seconds to import, each.
HEAVY = ("mesa", "pandas", "scipy.stats", "matplotlib", "SALib", "solara", "dask", "networkx")

SCRIPT = """
import contextlib, io, json, sys
from simsolidarity.cli import main
commands = json.loads(sys.argv[1])
for arguments in commands:
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(arguments)
        except SystemExit as stop:
            code = stop.code
    assert code in (0, None), (arguments, code)
print(json.dumps(sorted(name for name in json.loads(sys.argv[2]) if name in sys.modules)))
"""


def imported_by(*commands: list[str]) -> list[str]:
    done = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(commands), json.dumps(HEAVY)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_list_and_validate_import_no_heavy_library():
    """Catches: a module-level import of the API, the analysis layer or Mesa in the command line's path."""
    assert imported_by(
        ["--help"], ["list", "parameters"], ["list", "recommenders"], ["list", "outcomes"], ["list", "plots"],
        ["list", "samplers"], ["list", "scenarios"],
        ["validate", "scenarios/baseline.yaml", "experiments/recommenders.yaml"],
    ) == []
    # a morris or sobol experiment builds its points with SALib (and so pandas) to check them; no more
    assert imported_by(["validate", "experiments/sensitivity.yaml"]) == ["SALib", "pandas"]


def test_run_imports_mesa(tmp_path):
    """The check itself: a command that builds a model imports Mesa, and the check sees it."""
    assert "mesa" in imported_by(["run", "baseline", "--steps", "1", "--set", "n_people=50", "--set", "width=10",
                                  "--set", "height=10", "--no-plots", "-q", "--out", str(tmp_path / "r")])
