"""Careless and hostile input files are refused at once, in one line that names the file and the key.

The contract for bad input: exit code 2, one line ``path: key: problem`` on stderr, no traceback,
and a cost in proportion to the file, never to what it describes (a YAML alias bomb, a billion
runs). Cases that would hang or fill the memory where the contract is broken run in a subprocess
with a time limit and a memory limit, so that such a regression fails its own test, not the run.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

import simsolidarity
from simsolidarity.cli import main

#: The folder that holds the package under test, for the subprocesses' PYTHONPATH.
PACKAGE_ROOT = Path(simsolidarity.__file__).resolve().parent.parent
#: Wall-clock limit of a subprocess, start-up included.
SUBPROCESS_SECONDS = 60
#: Longest a refusal may take once the package is imported ("well under a second" with margin).
QUICK_SECONDS = 1.0
#: Address space of a subprocess: a few times what importing the package takes.
SUBPROCESS_MEMORY = 3 << 30
#: Longest acceptable error line: bounded whatever the file holds.
LONGEST_LINE = 600

#: Validates the file named by argv[1] and prints how long that took, after the imports.
DRIVER = """
import sys, time
from simsolidarity.cli import main
start = time.perf_counter()
code = main(["validate", sys.argv[1]])
print(f"elapsed {time.perf_counter() - start:.3f}")
sys.exit(code)
"""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (SUBPROCESS_MEMORY, SUBPROCESS_MEMORY))


def validate_in_subprocess(path: Path) -> tuple[int, str, float]:
    """Exit code, stderr and seconds of ``simsolidarity validate path`` in a bounded subprocess."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    try:
        done = subprocess.run(
            [sys.executable, "-c", DRIVER, str(path)], capture_output=True, text=True, env=env, cwd=path.parent,
            timeout=SUBPROCESS_SECONDS, preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"validating {path.name} ran longer than {SUBPROCESS_SECONDS} s")
    elapsed = float(done.stdout.rsplit("elapsed", 1)[1]) if "elapsed" in done.stdout else float("inf")
    return done.returncode, done.stderr, elapsed


def validate_here(path: Path, capsys) -> tuple[int, str, float]:
    """Exit code, stderr and seconds of ``simsolidarity validate path`` in this process."""
    capsys.readouterr()
    start = time.perf_counter()
    code = main(["validate", str(path)])
    return code, capsys.readouterr().err, time.perf_counter() - start


def assert_refused(code: int, err: str, path: Path, key: str | None, fragments: tuple[str, ...]) -> None:
    """Exit 2 and one bounded line naming the file, the key (``""``: the whole file; ``None``: not checked)."""
    assert code == 2, err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1, err[-2000:]
    line = lines[0]
    assert len(line) <= LONGEST_LINE, line[:2000]
    if key:
        assert f"{path}: {key}: " in line, line
    else:
        assert f"{path}: " in line, line
    for fragment in fragments:
        assert fragment in line, line


# --- the files -------------------------------------------------------------------------------------

EXPERIMENT = "name: e\nscenario: {name: x}\n"


def alias_bomb(indent: str) -> str:
    """A YAML list of 9 levels of aliases, each 9 of the one before: a few lines, 9**9 values expanded."""
    names = "abcdefghi"
    lines = [f"{indent}- &a [x, x, x, x, x, x, x, x, x]\n"]
    lines += [f"{indent}- &{n} [{', '.join([f'*{names[i]}'] * 9)}]\n" for i, n in enumerate(names[1:])]
    return "".join(lines)


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def grid_of(parameters: int, values: int) -> str:
    floats = ["homophily", "online_depth", "online_share", "online_activity", "join_threshold", "need_rate",
              "offline_depth", "depth_need", "diversity_weight", "isolation_mean"]
    return "".join(f"  {name}: {{start: 0, stop: 1, num: {values}}}\n" for name in floats[:parameters])


def missing_dependency(folder: Path) -> None:
    (folder / "hardening_plugin_dependency.py").write_text("import hardening_missing_dependency_xyz\n")


PLUGIN_SOURCES = {
    "hardening_plugin_exits": "import sys\nsys.exit(3)\n",
    "hardening_plugin_raises": "raise RuntimeError('boom\\nsecond line')\n",
    "hardening_plugin_syntax": "def broken(:\n    pass\n",
}

#: id -> (file text, key named in the message, fragments of the message, whether to isolate it).
CASES: dict[str, tuple[str, str | None, tuple[str, ...], bool]] = {
    # duplicate keys: at the top, nested, in a flow mapping, beside a merge key, in experiments
    "duplicate_top_level": ("name: a\nsteps: 3\nseed: 1\nsteps: 5\n", "steps", ("duplicate key (lines 2 and 4)",),
                            False),
    "duplicate_nested": ("name: a\nmodel:\n  homophily: 0.1\n  online_depth: 0.2\n  homophily: 0.3\n",
                         "model.homophily", ("duplicate key (lines 3 and 5)",), False),
    "duplicate_one_line": ("name: a\nmodel: {homophily: 0.1, homophily: 0.2}\n", "model.homophily",
                           ("duplicate key (lines 2 and 2)",), False),
    "duplicate_beside_merge": (  # overriding a merged key is no duplicate; giving one twice is
        "name: a\nmodel:\n  <<: {homophily: 0.3, online_depth: 0.2}\n  homophily: 0.9\n  online_share: 0.5\n"
        "  online_share: 0.6\n", "model.online_share", ("duplicate key (lines 5 and 6)",), False),
    "duplicate_experiment": (EXPERIMENT + "replicates: 2\nsweep: {homophily: [0.1]}\nreplicates: 3\n",
                             "replicates", ("duplicate key (lines 3 and 5)",), False),
    "duplicate_experiment_sweep": (EXPERIMENT + "sweep:\n  homophily: [0.1]\n  homophily: [0.2]\n",
                                   "sweep.homophily", ("duplicate key (lines 4 and 5)",), False),
    "duplicate_experiment_nested": (
        EXPERIMENT + "sweep: {recommender: [random, similarity]}\nhypothesis:\n  claim: c\n  expect:\n"
        "    - outcome: belonging\n      outcome: esteban_ray\n      higher_when: {recommender: similarity}\n"
        "      than: {recommender: random}\n",
        "hypothesis.expect[0].outcome", ("duplicate key (lines 7 and 8)",), False),
    # YAML that describes far more than it holds
    "alias_bomb_name": ("name:\n" + alias_bomb("  "), "", ("expands to more than",), True),
    "alias_bomb_sweep_start": (EXPERIMENT + "sweep:\n  homophily:\n    stop: 1\n    num: 2\n    start:\n"
                               + alias_bomb("      "), "", ("expands to more than",), True),
    "alias_bomb_model_value": ("name: a\nmodel:\n  homophily:\n" + alias_bomb("    "), "",
                               ("expands to more than",), True),
    "alias_bomb_plugins": ("name: a\nplugins:\n" + alias_bomb("  "), "", ("expands to more than",), True),
    "alias_to_itself": ("name: a\nmodel: {homophily: &h [*h]}\n", "", ("expands to more than",), False),
    "deep_nesting": (f"name: a\nmodel: {{homophily: {deep(20_000)}}}\n", "", ("nested deeper than",), True),
    "file_too_large": ("name: a\n# " + "x" * (1 << 20) + "\n", "", ("bytes",), False),
    "scenario_is_a_device": (EXPERIMENT.replace("{name: x}", "/dev/zero") + "sweep: {homophily: [0.1]}\n",
                             "scenario", ("not a regular file",), True),
    # more runs than the limit, counted before any is built
    "replicates_1e9": (EXPERIMENT + "replicates: 1000000000\nsweep: {homophily: [0.1]}\n", "replicates",
                       ("1,000,000,000 runs", "100,000", "--max-runs N on the command line", "max_runs=N in Python"),
                       True),
    "grid_10_parameters_x_100_values": (EXPERIMENT + "sweep:\n" + grid_of(10, 100), "sweep",
                                        ("about 10^20 runs", "--max-runs N"), True),
    "lhs_samples_1e9": (EXPERIMENT + "sampler: lhs\nsamples: 1000000000\nsweep: {homophily: {start: 0, stop: 1}}\n",
                        "samples", ("1,000,000,000 runs", "--max-runs N"), True),
    "morris_samples_1e9": (EXPERIMENT + "sampler: morris\nsamples: 1000000000\n"
                           "sweep: {homophily: {start: 0, stop: 1}, online_depth: {start: 0, stop: 1}}\n",
                           "samples", ("3,000,000,000 runs", "--max-runs N"), True),
    "sobol_samples_2_30": (EXPERIMENT + "sampler: sobol\nsamples: 1073741824\n"
                           "sweep: {homophily: {start: 0, stop: 1}}\n", "samples", ("3,221,225,472 runs",), True),
    "range_num_1e9": (EXPERIMENT + "sweep: {homophily: {start: 0, stop: 1, num: 1000000000}}\n",
                      "sweep.homophily.num", ("1,000,000,000 values", "--max-runs N"), True),
    # ranges the designs cannot draw from
    "sobol_start_equals_stop": (EXPERIMENT + "sampler: sobol\nsamples: 8\n"
                                "sweep: {homophily: {start: 0.5, stop: 0.5}}\n", "sweep.homophily", ("start < stop",),
                                False),
    "morris_start_above_stop": (EXPERIMENT + "sampler: morris\nsamples: 4\n"
                                "sweep: {homophily: {start: 0.9, stop: 0.1}}\n", "sweep.homophily", ("start < stop",),
                                False),
    "sobol_integer_start_above_stop": (EXPERIMENT + "sampler: sobol\nsamples: 8\n"
                                       "sweep: {n_people: {start: 400, stop: 100}}\n", "sweep.n_people",
                                       ("start < stop",), False),
    "lhs_start_equals_stop": (EXPERIMENT + "sampler: lhs\nsamples: 4\nsweep: {homophily: {start: 0.2, stop: 0.2}}\n",
                              "sweep.homophily", ("start < stop",), False),
    # plugins that fail to import in any way
    "plugin_exits": ("name: a\nplugins: [hardening_plugin_exits]\n", "plugins[0]",
                     ("cannot import 'hardening_plugin_exits'", "SystemExit: 3"), False),
    "plugin_raises": ("name: a\nplugins: [hardening_plugin_raises]\n", "plugins[0]",
                      ("cannot import 'hardening_plugin_raises'", "RuntimeError: boom second line"), False),
    "plugin_syntax_error": ("name: a\nplugins: [hardening_plugin_syntax]\n", "plugins[0]",
                            ("cannot import 'hardening_plugin_syntax'", "SyntaxError"), False),
    "plugin_missing": ("name: a\nplugins: [os, hardening_no_such_plugin]\n", "plugins[1]",
                       ("cannot import 'hardening_no_such_plugin'", "no such module"), False),
    "plugin_missing_dependency": ("name: a\nplugins: [hardening_plugin_dependency]\n", "plugins[0]",
                                  ("ModuleNotFoundError", "hardening_missing_dependency_xyz"), False),
    # values Python cannot take as given
    "integer_key": ("name: a\nmodel: {1: 2}\n", "model.1", ("not a parameter",), False),
    "boolean_key": ("name: a\nmodel: {true: 2}\n", "model.True", ("not a parameter",), False),
    "integer_beyond_float": (f"name: a\nmodel: {{online_depth: {10**400}}}\n", "model.online_depth",
                             ("finite number",), False),
    "integer_of_5000_digits": ("name: a\nseed: " + "9" * 5000 + "\n", "seed", ("cannot read the value",), False),
    "hexadecimal_of_5000_digits": ("name: a\nsteps: -0x" + "f" * 5000 + "\n", "steps", ("cannot read the value",),
                                   False),
    "date_that_does_not_exist": ("name: a\nseed: 2021-02-30\n", "seed", ("cannot read the value",), False),
    "name_too_long": ("name: " + "n" * 300 + "\n", "name", ("at most 60 characters",), False),
    "name_a_long_list": ("name: [" + ", ".join(["0"] * 50_000) + "]\n", "name", ("expected a non-empty text",),
                         False),
    "long_unknown_key": ("name: a\n" + "k" * 1000 + ": 1\n", None, ("unknown key",), False),
    "range_keys_of_two_types": (EXPERIMENT + "sweep: {homophily: {start: 0, stop: 1, num: 2, 1: 2, x: 3}}\n",
                                "sweep.homophily.1", ("unknown key",), False),
    "scenario_path_too_long": (EXPERIMENT.replace("{name: x}", "s" * 5000) + "sweep: {homophily: [0.1]}\n",
                               "scenario", ("cannot read it",), False),
    "nul_character": ("name: a\x00\n", "", ("not valid YAML",), False),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_files_are_refused_at_once_in_one_line(case, tmp_path, capsys):
    text, key, fragments, isolated = CASES[case]
    if "/dev/zero" in text and not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    for module, source in PLUGIN_SOURCES.items():
        (tmp_path / f"{module}.py").write_text(source)
    missing_dependency(tmp_path)
    path = tmp_path / ("exp.yaml" if text.startswith(EXPERIMENT[:8]) else "scenario.yaml")
    path.write_text(text, encoding="utf-8")
    if isolated:
        code, err, seconds = validate_in_subprocess(path)
    else:
        code, err, seconds = validate_here(path, capsys)
    assert_refused(code, err, path, key, fragments)
    assert seconds < (QUICK_SECONDS if isolated else 10 * QUICK_SECONDS), f"took {seconds:.2f} s"


# --- the Python API --------------------------------------------------------------------------------

def sweep_of(points: int, replicates: int) -> dict:
    return {"name": "e", "scenario": {"name": "x"}, "replicates": replicates,
            "sweep": {"homophily": {"start": 0, "stop": 1, "num": points}}}


def test_max_runs_is_a_limit_the_caller_can_raise(tmp_path):
    from simsolidarity.errors import CapacityError
    from simsolidarity.running.experiment import (
        MAX_RUNS,
        experiment_from_dict,
        load_experiment,
        load_scenario_or_experiment,
    )
    from simsolidarity.running.scenario import ScenarioError

    data = sweep_of(150, 1000)
    with pytest.raises(CapacityError) as caught:
        experiment_from_dict(data, source="big.yaml")
    assert isinstance(caught.value, ScenarioError) and caught.value.key == "replicates"
    assert "big.yaml: replicates: " in str(caught.value) and f"{MAX_RUNS:,}" in str(caught.value)
    assert experiment_from_dict(data, max_runs=150_000).n_runs == 150_000
    path = tmp_path / "big.yaml"
    path.write_text("name: e\nscenario: {name: x}\nreplicates: 1000\n"
                    "sweep: {homophily: {start: 0, stop: 1, num: 150}}\n")
    for load in (load_experiment, load_scenario_or_experiment):
        with pytest.raises(CapacityError):
            load(path)
        assert load(path, max_runs=150_000).n_runs == 150_000


@pytest.mark.parametrize(
    "changes",
    [
        {"sweep": {"recommender": ["random", "similarity"], "homophily": {"start": 0, "stop": 1, "num": 3}}},
        {"sampler": "zip", "sweep": {"homophily": [0.1, 0.2, 0.3], "n_people": {"start": 100, "stop": 300, "num": 3}}},
        {"sampler": "lhs", "samples": 7, "sweep": {"homophily": {"start": 0, "stop": 1}, "recommender": ["random"]}},
        {"sampler": "morris", "samples": 3, "sweep": {"homophily": {"start": 0, "stop": 1},
                                                      "online_depth": {"start": 0, "stop": 1}}},
        {"sampler": "sobol", "samples": 4, "sweep": {"homophily": {"start": 0, "stop": 1},
                                                     "n_people": {"start": 100, "stop": 400}}},
    ],
    ids=["grid", "zip", "lhs", "morris", "sobol"],
)
def test_runs_are_counted_exactly_before_any_is_built(changes):
    from simsolidarity.errors import CapacityError
    from simsolidarity.running.experiment import experiment_from_dict

    data = {"name": "e", "scenario": {"name": "x"}, "replicates": 3, **changes}
    experiment = experiment_from_dict(data)
    runs = len(experiment.points) * 3
    assert experiment.n_runs == runs == len(experiment.runs())
    assert experiment_from_dict(data, max_runs=runs).points == experiment.points  # the count is exact ...
    with pytest.raises(CapacityError):
        experiment_from_dict(data, max_runs=runs - 1)  # ... and checked


def test_validating_100000_runs_takes_seconds():
    from simsolidarity.running.experiment import experiment_from_dict

    # 100 x 100 x 10 points, each of which changes a parameter of the joint rule (one person per cell)
    data = {"name": "e", "scenario": {"name": "x"},
            "sweep": {"n_people": {"start": 100, "stop": 400, "num": 100},
                      "width": {"start": 20, "stop": 119, "num": 100},
                      "homophily": {"start": 0, "stop": 1, "num": 10}}}
    start = time.perf_counter()
    experiment = experiment_from_dict(data)
    assert experiment.n_runs == 100_000
    assert len(experiment.runs()) == 100_000
    assert time.perf_counter() - start < 10


def test_a_point_that_breaks_the_joint_rule_is_still_refused():
    from simsolidarity.model.parameters import resolve_changes, resolve_parameters
    from simsolidarity.running.experiment import experiment_from_dict
    from simsolidarity.running.scenario import ScenarioError

    base = resolve_parameters({"width": 20, "height": 20, "n_people": 300})
    assert resolve_changes(base, {"homophily": 0.2}) == resolve_parameters({**base, "homophily": 0.2})
    with pytest.raises(ScenarioError, match="one person per cell"):
        experiment_from_dict({"name": "e", "scenario": {"name": "x", "model": {"width": 20, "height": 20}},
                              "sweep": {"n_people": [100, 401]}})
