"""Results on disk: the layout of run and sweep folders, their tables and manifests, written whole.

The one place that knows where each file of a results folder lives. A **run folder** holds
``manifest.json`` (the resolved scenario, seed, versions, code version, times and the run's
final-window summary), ``timeseries.csv`` (one row per step: an integer ``step`` column, a column
per outcome) and ``plots/``. A **sweep folder** holds ``experiment.json`` (the resolved
experiment), ``runs/run-NNNNN/`` (one run folder per run), ``summary.csv`` (one row per complete
run), ``failures.csv`` (the runs that failed in the last sweep into it), ``sweep.log``, and the
analysis: ``hypotheses.csv``, ``sensitivity.csv``, ``calibration.csv`` and ``plots/``.

A folder is written under a temporary name beside its final place and renamed when complete,
so a folder under its final name is always whole. Every table goes through :func:`write_table`
and :func:`read_table` (pandas), every manifest through :func:`write_json` and :func:`read_json`.
"""

from __future__ import annotations

import contextlib
import json
import math
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from simsolidarity.errors import SimsolidarityError

PACKAGE_ROOT = Path(__file__).resolve().parents[1]

# --- the layout -----------------------------------------------------------------------------------

#: A run folder's manifest, time series and plots folder.
MANIFEST = "manifest.json"
TIMESERIES = "timeseries.csv"
PLOTS = "plots"
#: A run folder's people table (``outputs: people``) and network files (``outputs: network``):
#: GraphML at the last step, or at each recorded step (format with ``step=``).
PEOPLE = "people.csv.gz"
NETWORK = "network.graphml"
NETWORK_AT_STEP = "network-step-{step:05d}.graphml"
#: A sweep folder's record of its experiment, its run folders, tables and log.
EXPERIMENT_FILE = "experiment.json"
RUNS = "runs"
SUMMARY = "summary.csv"
FAILURES = "failures.csv"
LOG = "sweep.log"
HYPOTHESES = "hypotheses.csv"
SENSITIVITY = "sensitivity.csv"
CALIBRATION = "calibration.csv"
#: A comparison folder's table.
COMPARISON = "comparison.csv"
#: The lock file of a sweep folder; it holds the process id of the sweep writing in the folder.
LOCK = ".lock"


def run_folder(sweep_folder: Path, index: int) -> Path:
    """The folder of run ``index`` inside a sweep folder."""
    return sweep_folder / RUNS / f"run-{index:05d}"


def run_index(folder: Path) -> int | None:
    """The index of a sweep's run folder from its name (``None`` for a temporary or foreign entry)."""
    number = folder.name.removeprefix("run-")
    return int(number) if folder.name.startswith("run-") and number.isdigit() else None


def is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` is a complete run folder (it has its manifest and time series)."""
    return (folder / MANIFEST).is_file() and (folder / TIMESERIES).is_file()


def is_sweep_folder(folder: Path) -> bool:
    """Whether ``folder`` is a sweep folder (it records its experiment)."""
    return (folder / EXPERIMENT_FILE).is_file()


def complete_runs(folder: Path) -> dict[int, Path]:
    """The complete run folders of a sweep folder by run index, in run order."""
    runs = folder / RUNS
    if not runs.is_dir():
        return {}
    found = {run_index(entry): entry for entry in runs.iterdir() if (entry / MANIFEST).is_file()}
    return {index: found[index] for index in sorted(i for i in found if i is not None)}



def now() -> str:
    """The current time in ISO 8601, UTC, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def code_version() -> dict[str, Any]:
    """The git commit of the package's checkout and whether it has uncommitted changes (when known)."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(PACKAGE_ROOT), *args], capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"git_commit": None, "git_dirty": None}
    return {"git_commit": commit, "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def versions() -> dict[str, str]:
    """Versions of Python, the package and the libraries a result depends on.

    Read once per process (some 20 ms a run otherwise, parsing each package's metadata): the modules
    a process has imported do not change when another version is installed beside them.
    """
    return dict(_versions())


@cache
def _versions() -> tuple[tuple[str, str], ...]:
    found = {"python": platform.python_version()}
    for package in ("simsolidarity", "mesa", "numpy", "scipy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "unknown"
    return tuple(found.items())


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON (nan written as null)."""
    path.write_text(json.dumps(_json_safe(data), indent=2, sort_keys=False) + "\n", encoding="utf-8")


def json_data(data: Any) -> Any:
    """``data`` as it reads back from a file written by :func:`write_json` (tuples as lists, nan as null)."""
    return json.loads(json.dumps(_json_safe(data)))


def read_json(path: Path) -> Any:
    """Read a JSON file written by :func:`write_json`."""
    return json.loads(path.read_text(encoding="utf-8"))


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return _json_safe(value.item())
    return value


def write_table(path: Path | TextIO,
                table: pd.DataFrame | Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]]) -> None:
    """Write a table as CSV: a DataFrame, columns by name, or records sharing their keys (one row each).

    The one writer of every table in a results folder (and of the browser app's saved time series, written
    into a text buffer): floats at full precision (they read back equal), missing values as empty cells,
    no index column, ``\\n`` line ends, so that the same numbers always give the same bytes. A path ending
    in ``.gz`` is compressed with gzip, its header's time set to 0 so that the bytes stay the same.
    """
    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
    gzip = isinstance(path, (str, Path)) and Path(path).suffix == ".gz"
    compression = {"method": "gzip", "mtime": 0} if gzip else "infer"
    frame.to_csv(path, index=False, lineterminator="\n", na_rep="", compression=compression)


def read_table(path: Path) -> pd.DataFrame:
    """Read a table written by :func:`write_table`: integers, floats (empty cells as nan) and text.

    Only an empty cell is missing: text such as ``NA`` or ``null`` (a recommender could be named
    so) stays text.
    """
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def new_run_folder(root: Path, name: str) -> Path:
    """A fresh ``root/<name>/<timestamp>`` path (suffixed ``-2``, ``-3``, ... if it exists)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    base = root / safe_name(name) / stamp
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{stamp}-{n}")
    return candidate


def safe_name(name: str) -> str:
    """``name`` made safe as one folder name: letters, digits, ``-``, ``_`` and ``.`` kept, the rest ``_``."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".")
    return cleaned or "unnamed"


def check_writable(folder: Path) -> None:
    """Refuse, before any work, a folder that cannot be created or written in.

    Looks at the nearest part of ``folder`` that exists: it must be a folder in which this process
    can create a folder (tried for real, then removed, so that read-only file systems, permissions
    and quotas all count). Raises :class:`SimsolidarityError` naming the path and the reason.
    """
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise SimsolidarityError(f"{folder}: cannot be created: {existing} is a file, not a folder")
    try:
        Path(tempfile.mkdtemp(prefix=".write-check-", dir=existing)).rmdir()
    except OSError as error:
        raise SimsolidarityError(f"{folder}: cannot write in {existing} ({error.strerror or error})") from None


@contextlib.contextmanager
def atomic_folder(final: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``final``; rename it to ``final`` if the block succeeds, else remove it."""
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
    try:
        yield temporary
        temporary.rename(final)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
