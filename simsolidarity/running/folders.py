"""Results on disk: run folders written whole or not at all, manifests, tidy time series.

A run folder holds ``manifest.json`` (the resolved scenario, seed, versions, code version and
times), ``timeseries.csv`` (one row per step, an integer ``step`` column, a column per outcome)
and ``plots/``. It is written under a temporary name beside its final place and renamed when
complete, so a folder under its final name is always whole.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from simsolidarity.errors import SimsolidarityError

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


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
    """Versions of Python, the package and the libraries a result depends on."""
    found = {"python": platform.python_version()}
    for package in ("simsolidarity", "mesa", "numpy", "scipy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "unknown"
    return found


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


def _cell(value: Any) -> str:
    """A CSV cell: text and integers as they are, floats at full precision, missing values empty."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    value = float(value)
    return "" if math.isnan(value) else repr(value)


def write_timeseries(path: Path, columns: Mapping[str, Sequence[Any]]) -> None:
    """Write a tidy table, one row per entry of the columns, in the order the columns are given."""
    names = list(columns)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(names)
        for row in zip(*(columns[name] for name in names), strict=True):
            writer.writerow([_cell(v) for v in row])


def write_rows(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write records that share their keys as a table, one row each, columns in the first record's order."""
    write_timeseries(path, {key: [row[key] for row in rows] for key in rows[0]})


def _parse(cell: str) -> Any:
    """A CSV cell back as a number (empty as nan), or as text when it is not one."""
    if not cell:
        return math.nan
    for kind in (int, float):
        try:
            return kind(cell)
        except ValueError:
            pass
    return cell


def read_timeseries(path: Path) -> dict[str, list[Any]]:
    """Read a table written by :func:`write_timeseries`: integers, floats (empty as nan) and text."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    names, body = rows[0], rows[1:]
    return {name: [_parse(row[i]) for row in body] for i, name in enumerate(names)}


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
