"""The command line over real scenario files: runs, results folders, validation, exit codes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simsolidarity import OUTCOMES, PARAMETERS
from simsolidarity.analysis.plots import PLOTS
from simsolidarity.cli import main
from simsolidarity.running.folders import read_table
from simsolidarity.running.scenario import ready_scenarios

#: Small enough to run every ready scenario quickly; the scenario's own parameters still apply.
QUICK = ["--steps", "3", "--set", "n_people=300", "--quiet"]


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_there_are_the_five_ready_scenarios():
    names = {p.stem for p in ready_scenarios()}
    assert {"baseline", "offline_village", "echo_chamber", "bridging", "isolated_online"} <= names


@pytest.mark.parametrize("path", ready_scenarios(), ids=lambda p: p.stem)
def test_every_ready_scenario_runs_and_writes_a_complete_folder(path, tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(capsys, "run", path, *QUICK, "--out", out)
    assert code == 0, stderr
    assert f"results: {out}" in stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["model"]["n_people"] == 300
    assert manifest["scenario"]["steps"] == 3 and manifest["steps"] == 3
    assert set(manifest["scenario"]["model"]) == set(PARAMETERS)  # every default filled in
    assert {"python", "mesa", "numpy", "simsolidarity"} <= set(manifest["versions"])
    assert "git_commit" in manifest["code"] and manifest["started"] <= manifest["finished"]
    table = read_table(out / "timeseries.csv")
    assert list(table) == ["step", *OUTCOMES]
    assert table["step"].tolist() == [0, 1, 2, 3]
    assert sorted(p.stem for p in (out / "plots").glob("*.png")) == sorted(PLOTS)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_same_seed_gives_byte_identical_timeseries(tmp_path, capsys):
    for name in ("a", "b", "c"):
        seed = "7" if name != "c" else "8"
        assert run_cli(capsys, "run", "baseline", *QUICK, "--seed", seed, "--no-plots", "--out", tmp_path / name)[0] == 0
    first, second, other = ((tmp_path / n / "timeseries.csv").read_bytes() for n in "abc")
    assert first == second
    assert first != other
    assert not (tmp_path / "a" / "plots").exists()


def test_default_folder_is_results_name_timestamp(tmp_path, capsys):
    code, stdout, _ = run_cli(capsys, "run", "echo_chamber", *QUICK, "--results", tmp_path)
    assert code == 0
    (folder,) = (tmp_path / "echo_chamber").iterdir()
    assert f"results: {folder}" in stdout and (folder / "manifest.json").exists()


def test_outputs_choose_columns_and_plots(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: pick\nsteps: 2\nmodel: {n_people: 200}\n"
        "outputs: {outcomes: [belonging, esteban_ray], plots: [support]}\n"
    )
    assert run_cli(capsys, "run", scenario, "--quiet", "--out", tmp_path / "r")[0] == 0
    assert list(read_table(tmp_path / "r" / "timeseries.csv")) == ["step", "belonging", "esteban_ray"]
    assert [p.name for p in (tmp_path / "r" / "plots").iterdir()] == ["support.png"]


def test_a_plugin_recommender_named_in_a_scenario(tmp_path, capsys):
    (tmp_path / "my_recommenders.py").write_text(
        "import numpy as np\n"
        "from simsolidarity import register_recommender\n"
        "CALLS = []\n"
        "@register_recommender('plugin_contrarian')\n"
        "def contrarian(model, people):\n"
        "    CALLS.append(len(people))\n"
        "    return -model.opinion_similarity(people)\n"
    )
    scenario = tmp_path / "plugin.yaml"
    scenario.write_text(
        "name: plugin\nsteps: 3\nplugins: [my_recommenders]\n"
        "model: {n_people: 200, recommender: plugin_contrarian}\n"
    )
    code, _, stderr = run_cli(capsys, "run", scenario, "--quiet", "--no-plots", "--out", tmp_path / "r")
    assert code == 0, stderr
    assert sys.modules["my_recommenders"].CALLS
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["scenario"]["plugins"] == ["my_recommenders"]


BAD_FILES = {
    "syntax": ("name: x\nmodel:\n  online_depth: [0.2\n", "line 4"),
    "unknown_key": ("name: x\nmodle:\n  online_depth: 0.2\n", "modle: unknown key (did you mean 'model'?)"),
    "unknown_parameter": ("name: x\nmodel:\n  online_dept: 0.2\n", "model.online_dept: not a parameter"),
    "wrong_type": ("name: x\nmodel:\n  n_people: many\n", "model.n_people: got 'many'"),
    "out_of_range": ("name: x\nmodel:\n  online_depth: 1.5\n", "model.online_depth: got 1.5: expected a number in [0, 1]"),
    "unknown_recommender": ("name: x\nmodel:\n  recommender: oracle\n", "model.recommender"),
    "empty": ("", "empty"),
    "not_a_mapping": ("- just\n- a list\n", "expected a mapping"),
    "not_yaml": ("\x00\x01 binary {{{", "bad.yaml"),
    "bad_steps": ("name: x\nsteps: -4\n", "steps: expected an integer >= 0"),
    "bad_plot": ("name: x\noutputs:\n  plots: [polarisation]\n", "outputs.plots[0]: unknown name 'polarisation'"),
    "bad_plugin": ("name: x\nplugins: [no_such_module_here]\n", "plugins[0]: cannot import"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_bad_files_exit_2_naming_file_and_key_and_write_nothing(case, tmp_path, capsys):
    text, fragment = BAD_FILES[case]
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    results = tmp_path / "results"
    code, _, stderr = run_cli(capsys, "run", bad, "--results", results, "--quiet")
    assert code == 2
    assert str(bad) in stderr and fragment in stderr, stderr
    assert "Traceback" not in stderr
    assert not results.exists()
    assert run_cli(capsys, "validate", bad)[0] == 2


def test_unknown_recommender_lists_the_known_ones(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmodel: {recommender: oracle}\n")
    _, _, stderr = run_cli(capsys, "validate", bad)
    assert "bridging" in stderr and "similarity" in stderr


def test_missing_file_and_bad_overrides(tmp_path, capsys):
    code, _, stderr = run_cli(capsys, "run", tmp_path / "nope.yaml", "--results", tmp_path / "r")
    assert code == 2 and "nope.yaml: no such file" in stderr
    code, _, stderr = run_cli(capsys, "run", "baseline", "--set", "online_dpth=0.1", "--results", tmp_path / "r")
    assert code == 2 and "--set online_dpth" in stderr and "online_depth" in stderr
    code, _, stderr = run_cli(capsys, "run", "baseline", "--steps", "-1", "--results", tmp_path / "r")
    assert code == 2 and "steps" in stderr
    assert not (tmp_path / "r").exists()


def test_out_folder_that_exists_is_refused(tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    code, _, stderr = run_cli(capsys, "run", "baseline", *QUICK, "--out", tmp_path / "taken")
    assert code == 2 and "already exists" in stderr
    assert list((tmp_path / "taken").iterdir()) == []


def test_validate_accepts_every_ready_scenario(capsys):
    code, stdout, _ = run_cli(capsys, "validate", *ready_scenarios())
    assert code == 0 and stdout.count("ok: ") == len(ready_scenarios())


@pytest.mark.parametrize("what", ["parameters", "recommenders", "scenarios", "outcomes", "plots"])
def test_list(what, capsys):
    code, stdout, _ = run_cli(capsys, "list", what)
    assert code == 0
    expected = {
        "parameters": ["online_depth", "[0, 1]", "confidence", "(0, 2]"],
        "recommenders": ["bridging", "hybrid", "local", "popularity", "random", "similarity"],
        "scenarios": ["baseline", "echo_chamber", "isolated_online"],
        "outcomes": list(OUTCOMES),
        "plots": list(PLOTS),
    }[what]
    for word in expected:
        assert word in stdout


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["frobnicate"])
    assert exited.value.code == 2


def test_the_installed_command_from_a_shell(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "simsolidarity", "run", "baseline", *QUICK, "--out", str(tmp_path / "r")],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "belonging_isolated" in done.stdout and Path(tmp_path / "r" / "timeseries.csv").exists()
    done = subprocess.run(
        [sys.executable, "-m", "simsolidarity", "run", "baseline", "--set", "confidence=9", "--results", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 2 and "model.confidence" in done.stderr and "Traceback" not in done.stderr
