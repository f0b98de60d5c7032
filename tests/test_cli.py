"""The command line prints the final outcomes; bad input exits 2 with a message, no traceback."""

import subprocess
import sys

from simsolidarity import OUTCOMES
from simsolidarity.cli import main


def test_runs_and_prints_every_outcome(capsys):
    assert main(["--steps", "3", "--quiet", "--set", "n_people=300", "--set", "recommender=random"]) == 0
    out = capsys.readouterr().out
    assert "300 people, 3 steps" in out and "recommender random" in out
    for name in OUTCOMES:
        assert name in out


def test_bad_parameter_exits_2_with_a_clear_message(capsys):
    assert main(["--set", "online_depth=1.5", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "online_depth = 1.5" in err and "[0, 1]" in err and "Traceback" not in err


def test_as_a_module_from_a_shell():
    done = subprocess.run(
        [sys.executable, "-m", "simsolidarity", "--steps", "2", "--set", "confidance=0.3"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 2
    assert "did you mean 'confidence'" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "simsolidarity", "--steps", "2", "--quiet", "--set", "n_people=200"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0 and "belonging_isolated" in done.stdout
