"""The documentation holds: the tour notebook executes as written, and docs/API.md names every public name.

The README's snippets are checked in tests/test_readme.py."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

import simsolidarity

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOTEBOOK = DOCS / "tour.ipynb"
API_DOC = DOCS / "API.md"
#: The tag of the notebook cell that draws the figure.
PLOT_TAG = "plot"
#: A cell run after the notebook, in its kernel: what the test reads of the kernel's state, as one line of JSON.
PROBE = """import json, sys
print(json.dumps({"executable": sys.executable, "complete": again.complete, "total": again.total,
                  "failed": len(again.failed), "recommenders": sorted(again.summary["recommender"].unique())}))"""


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    """The tour notebook executed in a kernel of the Python running the tests, and what the probe read."""
    # the test extra installs them; without it, only the notebook's tests are skipped
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    kernelspec = pytest.importorskip("ipykernel.kernelspec")
    kernels = tmp_path_factory.mktemp("kernels")
    # A "python3" spec earlier on the Jupyter path (a user-wide one from another install) may start
    # another Python, with another simsolidarity or none; this spec names the one under test, and
    # JUPYTER_PATH is searched before every other place.
    kernelspec.write_kernel_spec(kernels / "kernels" / "python3")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(PROBE))
    workdir = tmp_path_factory.mktemp("tour")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(kernels))
        client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                         resources={"metadata": {"path": str(workdir)}})
        client.execute()
    probe = notebook.cells.pop()
    lines = [output["text"] for output in probe.outputs if output.get("output_type") == "stream"]
    return notebook, json.loads("".join(lines))


def test_notebook_runs_in_this_python(executed):
    """Every code cell ran, in a kernel on this interpreter.

    Catches: a notebook executed by another Python (a stale user-wide kernel spec), which would test
    another installed simsolidarity or fail to import it; a cell left unexecuted.
    """
    notebook, probe = executed
    assert probe["executable"] == sys.executable
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.execution_count for cell in code)
    assert not [output for cell in code for output in cell.outputs if output.get("output_type") == "error"]


def test_notebook_sweep_is_complete(executed):
    """The inline experiment gives 3 recommenders x 2 replicates, all complete, none failed.

    Catches: a sweep through the Python API that stops short or drops failed runs silently, or a
    notebook whose experiment no longer sweeps the recommenders it plots.
    """
    _, probe = executed
    assert (probe["complete"], probe["total"], probe["failed"]) == (6, 6, 0)
    assert probe["recommenders"] == ["bridging", "random", "similarity"]


def test_notebook_draws_its_figure(executed):
    """The plotting cell shows an image.

    Catches: a notebook that silently stops plotting (a non-interactive backend, a figure never shown).
    """
    notebook, _ = executed
    plotting = [cell for cell in notebook.cells if PLOT_TAG in cell.metadata.get("tags", [])]
    assert len(plotting) == 1
    assert any("image/png" in output.get("data", {}) for output in plotting[0].outputs)


def test_committed_notebook_has_no_outputs():
    """The notebook in the repository carries no outputs or execution counts.

    Catches: a notebook committed after running, whose stale outputs would read as the current ones.
    """
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    assert code and all(not cell["outputs"] and cell["execution_count"] is None for cell in code)


def documented_names(text: str) -> set[str]:
    """The identifiers of the headings and inline code spans of a Markdown text (fenced blocks left out)."""
    prose = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    places = [line for line in prose.splitlines() if line.startswith("#")]
    places += re.findall(r"`([^`\n]+)`", prose)
    return {word for place in places for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", place)}


def test_api_doc_names_every_public_name():
    """Every name of ``simsolidarity.__all__`` appears in docs/API.md in a heading or as code.

    Catches: a public name added to the package without documentation.
    """
    missing = sorted(set(simsolidarity.__all__) - documented_names(API_DOC.read_text(encoding="utf-8")))
    assert not missing, f"docs/API.md does not document: {', '.join(missing)}"


def test_documented_names_reads_headings_and_code_only():
    """A name only in running text or in a fenced block does not count as documented.

    Catches: a check that passes for any mention of a name (every doc would pass it).
    """
    text = "## `run(scenario)`\n\nThe sweep of measure.\n\n```python\nload(folder)\n```\n\nSee `Sweep.summary`.\n"
    assert documented_names(text) >= {"run", "scenario", "Sweep", "summary"}
    assert not documented_names(text) & {"measure", "load"}
