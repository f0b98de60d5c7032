"""Hardening of the command line: bad flags and unwritable places are refused before any work, with
exit code 2, one line and nothing written; a write that fails late is one line with exit code 1.

The mutation each test catches is named in its docstring.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

from simsolidarity.cli import main
from simsolidarity.running import run as runner
from simsolidarity.running.experiment import experiment_from_dict
from simsolidarity.running.folders import write_json

TINY = "name: tiny\nsteps: 2\nmodel: {n_people: 100, width: 10, height: 10, n_virtual_groups: 5}\n"
EXPERIMENT = "name: e\nscenario: tiny.yaml\nreplicates: 1\nplots: none\nsweep: {online_depth: [0.2, 0.4]}\n"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A tiny scenario, an experiment over it, and a plain file to trip over."""
    (tmp_path / "tiny.yaml").write_text(TINY)
    (tmp_path / "exp.yaml").write_text(EXPERIMENT)
    (tmp_path / "a-file").write_text("not a folder\n")
    return tmp_path


def refused(capsys, code: int) -> str:
    """The one line of a refusal with exit code 2, checked."""
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.parametrize("flag, value", [
    ("--workers", "0"), ("--workers", "-3"), ("--workers", "two"), ("--workers", "1.5"),
    ("--worker-timeout", "0"), ("--worker-timeout", "-1"), ("--worker-timeout", "soon"),
    ("--max-runs", "0"),
])
def test_counts_and_times_must_be_positive(files, capsys, flag, value):
    """Catches: '--workers 0' read as 'all cores' (0 is falsy), and negative limits accepted."""
    with pytest.raises(SystemExit) as stopped:
        main(["sweep", str(files / "exp.yaml"), "--out", str(files / "o"), flag, value, "--quiet"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and flag in err and "Traceback" not in err
    assert not (files / "o").exists()


@pytest.mark.parametrize("command", [
    ["run", "{tiny}", "--out", "{file}/run"],
    ["run", "{tiny}", "--results", "{file}"],
    ["sweep", "{exp}", "--out", "{file}"],
    ["sweep", "{exp}", "--out", "{file}/sweep"],
    ["sweep", "{exp}", "--results", "{file}"],
    ["compare", "{tmp}", "--out", "{file}/cmp"],
])
def test_a_place_that_cannot_be_written_is_refused_before_any_work(files, capsys, command):
    """Catches: finding out only when writing, after the whole simulation, with a
    NotADirectoryError or PermissionError traceback."""
    names = {"tiny": files / "tiny.yaml", "exp": files / "exp.yaml", "file": files / "a-file", "tmp": files}
    args = [part.format(**names) for part in command]
    started = time.monotonic()
    err = refused(capsys, main([*args, "--quiet"] if command[0] != "compare" else args))
    assert time.monotonic() - started < 10
    assert "a-file" in err
    assert (files / "a-file").read_text() == "not a folder\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_folder_without_write_permission_is_refused_before_the_run(files, capsys):
    """Catches: a PermissionError traceback after the simulation."""
    locked = files / "locked"
    locked.mkdir(mode=0o500)
    try:
        err = refused(capsys, main(["run", str(files / "tiny.yaml"), "--out", str(locked / "run"), "--quiet"]))
    finally:
        locked.chmod(0o700)
    assert "locked" in err


def test_run_checks_its_folder_before_simulating(files, capsys):
    """Catches: a check made after the simulation (here a million steps, which would not end)."""
    started = time.monotonic()
    refused(capsys, main(["run", str(files / "tiny.yaml"), "--steps", "1000000", "--out",
                          str(files / "a-file" / "x"), "--quiet"]))
    assert time.monotonic() - started < 10


def test_a_write_that_fails_late_is_one_line_with_exit_1_and_leaves_nothing(files, capsys, monkeypatch):
    """Catches: an OSError (a full disk) ending in a traceback, or leaving a half-written folder."""

    def full_disk(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(runner, "write_json", full_disk)
    code = main(["run", str(files / "tiny.yaml"), "--out", str(files / "run"), "--quiet", "--no-plots"])
    err = capsys.readouterr().err
    assert code == 1 and "No space left on device" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (files / "run").exists() and not [p for p in files.iterdir() if p.name.startswith(".run")]


def test_compare_says_when_a_sweep_folder_has_no_complete_run(files, capsys):
    """Catches: a sweep folder silently left out of the comparison."""
    assert main(["run", str(files / "tiny.yaml"), "--out", str(files / "run"), "--quiet", "--no-plots"]) == 0
    empty = files / "empty-sweep"
    (empty / "runs").mkdir(parents=True)
    recorded = experiment_from_dict({"name": "e", "scenario": {"name": "s"}, "sweep": {"online_depth": [0.2]}})
    write_json(empty / "experiment.json", recorded.to_dict())
    capsys.readouterr()
    err = refused(capsys, main(["compare", str(files / "run"), str(empty), "--out", str(files / "cmp")]))
    assert "empty-sweep" in err and "no complete run" in err
    assert not (files / "cmp").exists()


def test_an_unreachable_scheduler_writes_nothing(files, capsys):
    """Catches: experiment.json, runs/ and sweep.log created before the connection is tried."""
    pytest.importorskip("dask.distributed")
    out = files / "o"
    err = refused(capsys, main(["sweep", str(files / "exp.yaml"), "--executor", "dask", "--scheduler",
                                "tcp://127.0.0.1:1", "--out", str(out), "--quiet"]))
    assert "cannot connect" in err
    assert not out.exists()


def test_max_runs_raises_the_limit_on_runs(files, capsys):
    """Catches: a limit that cannot be raised, or a flag that is not passed on."""
    (files / "many.yaml").write_text(EXPERIMENT.replace("replicates: 1", "replicates: 60000"))
    err = refused(capsys, main(["validate", str(files / "many.yaml")]))
    assert "120,000" in err or "120000" in err
    assert "--max-runs" in err
    assert main(["validate", str(files / "many.yaml"), "--max-runs", "200000"]) == 0
    assert "120000 runs" in capsys.readouterr().out
