"""``simsolidarity report``: a Markdown report of sweep folders, and expectations marked mechanism or emergent.

One tiny sweep (100 people, 4 steps, 2 recommenders x 2 paired replicates) with one emergent and
one mechanism expectation is run once for the module; each test reads it. The mutation each test
catches is named in its docstring.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from simsolidarity import sweep
from simsolidarity.analysis.report import number, report
from simsolidarity.analysis.summary import summarize
from simsolidarity.cli import main
from simsolidarity.running.experiment import load_experiment
from simsolidarity.running.folders import read_json, read_table, write_json, write_table
from simsolidarity.running.results import Sweep

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"
EMERGENT_TEXT = "echo_chamber_index higher when recommender=similarity than when recommender=random"
MECHANISM_TEXT = "support_online higher when recommender=similarity than when recommender=random"
POLARIZATION_TEXT = "opinion_variance higher when recommender=similarity than when recommender=random"
TINY = {
    "name": "tiny_report",
    "description": "Two recommenders on a tiny population.",
    "scenario": {"name": "tiny", "steps": 4, "model": {"n_people": 100, "width": 10, "height": 10,
                                                        "n_virtual_groups": 6}},
    "seed": 11,
    "replicates": 2,
    "final_window": 2,
    "sweep": {"recommender": ["random", "similarity"]},
    "outcomes": ["echo_chamber_index", "support_online", "belonging", "opinion_variance"],
    "hypothesis": {
        "claim": "Similarity recommendation builds echo chambers.",
        "expect": [
            {"outcome": "echo_chamber_index", "higher_when": {"recommender": "similarity"},
             "than": {"recommender": "random"}},
            {"outcome": "support_online", "higher_when": {"recommender": "similarity"},
             "than": {"recommender": "random"}, "kind": "mechanism"},
            {"outcome": "opinion_variance", "higher_when": {"recommender": "similarity"},
             "than": {"recommender": "random"}},
        ],
    },
}
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)]+)\)")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """The tiny sweep's folder, with its plots."""
    folder = tmp_path_factory.mktemp("report") / "tiny"
    sweep(TINY, out=folder, workers=1, progress=False, plots=True)
    return folder


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def section(text: str, heading: str) -> str:
    """The report's text under ``### heading`` up to the next heading."""
    start = text.index(f"### {heading}\n")
    following = re.search(r"^#{1,3} ", text[start + 4:], flags=re.MULTILINE)
    return text[start: start + 4 + following.start()] if following else text[start:]


def table(text: str) -> list[list[str]]:
    """The rows of the first Markdown table in ``text``, header and rule left out, as cells."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("| ")), len(lines))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("| ")), len(lines))
    rows = lines[start:end]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[2:]]


def test_expectations_are_split_into_findings_and_checks_of_the_implementation(tiny):
    """Each table holds its own kind's rows: the emergent one under Verdicts, the mechanism one under the checks.

    Catches: the kind ignored (every expectation in one table), the tables swapped, a row dropped.
    """
    text = report([tiny])
    verdicts = table(section(text, "Verdicts"))
    checks = table(section(text, "Checks of the implementation"))
    assert [row[0] for row in verdicts] == [EMERGENT_TEXT, POLARIZATION_TEXT]
    assert [row[0] for row in checks] == [MECHANISM_TEXT]
    recorded = read_table(tiny / "hypotheses.csv").query("role == 'stated'").set_index("expectation")
    for row in (*verdicts, *checks):
        expected = recorded.loc[row[0]]
        assert row[1] == number(expected["difference"], signed=True)
        assert row[3:] == [str(expected["n"]), expected["verdict"], "paired"]
    assert "Similarity recommendation builds echo chambers." in text


def test_hypotheses_csv_records_each_expectation_s_kind(tiny):
    """Catches: ``kind`` parsed but lost on the way to ``hypotheses.csv`` or ``experiment.json``."""
    verdicts = read_table(tiny / "hypotheses.csv").query("role == 'stated'")
    assert list(verdicts["kind"]) == ["emergent", "mechanism", "emergent"]
    recorded = read_json(tiny / "experiment.json")["hypothesis"]["expect"]
    # the default kind is not written, so that folders recorded before kinds existed still resume
    assert [item.get("kind", "emergent") for item in recorded] == ["emergent", "mechanism", "emergent"]
    assert "kind" not in recorded[0]


def test_each_arm_shows_summarize_s_mean_and_interval(tiny):
    """Catches: arms grouped other than by ``summarize`` (a median, one replicate), or points mislabelled."""
    loaded = Sweep.from_folder(tiny)
    expected = summarize(loaded.summary, loaded.outcomes).set_index(["point", "outcome"])
    rows = table(section(report([tiny]), "Arms"))
    assert [row[:3] for row in rows] == [["0", "random", "2"], ["1", "similarity", "2"]]
    for row in rows:
        for outcome, cell in zip(loaded.outcomes, row[3:], strict=True):
            arm = expected.loc[(int(row[0]), outcome)]
            assert cell == f"{number(arm['mean'])} [{number(arm['low'])}, {number(arm['high'])}]", (row[0], outcome)


def test_image_links_resolve_to_the_sweep_s_plots(tiny, tmp_path, monkeypatch):
    """Every plot of the sweep is linked once, and each link opens that plot: from the written report's
    folder, and, for a report not written (``--out -``), from the current directory.

    Catches: links relative to the wrong folder, a plot not copied, a plot left out.
    """
    plots = sorted((tiny / "plots").glob("*.png"))
    assert plots
    out = tmp_path / "deep" / "r.md"
    links = IMAGE.findall(report([tiny], out))
    assert sorted(Path(link).name for link in links) == [plot.name for plot in plots]
    for link in links:
        copy = out.parent / link
        assert copy.is_file() and copy.read_bytes() == (tiny / "plots" / copy.name).read_bytes(), link
    monkeypatch.chdir(tmp_path)
    for link in IMAGE.findall(report([tiny])):
        assert (tmp_path / link).resolve() == (tiny / "plots" / Path(link).name).resolve(), link


def test_the_same_folders_give_the_same_bytes(tiny, tmp_path, capsys):
    """Two reports of the same folder into the default place (two timestamped folders) are byte-identical.

    Catches: a time, the output folder's name or an unordered listing in the report's body.
    """
    results = tmp_path / "results"
    written = []
    for _ in range(2):
        code, out, err = run_cli(capsys, "report", tiny, "--results", results)
        assert code == 0, err
        written.append(Path(out.strip().removeprefix("report: ")))
    assert written[0] != written[1] and written[0].name == "report.md"
    assert written[0].read_bytes() == written[1].read_bytes()
    code, printed, _ = run_cli(capsys, "report", tiny, "--out", "-")
    assert code == 0 and printed.startswith("# Sweep report\n")


def test_a_bad_kind_is_refused_naming_the_key(tmp_path, capsys):
    """Catches: an unknown kind taken as emergent (a typo would quietly turn a check into a finding)."""
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["hypothesis"]["expect"][1]["kind"] = "mechansm"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    code, _, err = run_cli(capsys, "sweep", path, "--out", tmp_path / "out", "--quiet")
    assert code == 2
    assert f"{path}" in err and "hypothesis.expect[1].kind" in err and "did you mean 'mechanism'" in err, err
    assert not (tmp_path / "out").exists()


def test_a_run_folder_is_refused(tiny, tmp_path, capsys):
    """Catches: a run folder read as an empty sweep, or a traceback instead of one line naming the folder."""
    run = tiny / "runs" / "run-00000"
    out = tmp_path / "r.md"
    code, _, err = run_cli(capsys, "report", run, "--out", out)
    assert code == 2 and f"{run}: a run folder, not a sweep folder" in err and "Traceback" not in err, err
    assert not out.exists()


def test_a_stopped_sweep_reports_what_it_has(tiny, tmp_path):
    """A folder with its experiment but no complete run still gives its claim and design, and says what is missing.

    Catches: a report that fails on a sweep stopped before its first run.
    """
    empty = tmp_path / "empty"
    empty.mkdir()
    shutil.copyfile(tiny / "experiment.json", empty / "experiment.json")
    text = report([empty])
    assert "| runs | 0 of 4 complete |" in text
    assert "No run is complete yet." in section(text, "Arms")
    assert "Not tested: no run is complete." in section(text, "Verdicts")
    assert "Checks of the implementation" not in text and "### Plots" not in text


def test_an_older_folder_takes_the_kind_from_its_recorded_experiment(tiny, tmp_path):
    """A ``hypotheses.csv`` without a ``kind`` column reads each kind from ``experiment.json``, or emergent.

    Catches: an older folder's mechanism rows reported as findings, or its report failing.
    """
    older = tmp_path / "older"
    shutil.copytree(tiny, older)
    stated = read_table(tiny / "hypotheses.csv").query("role == 'stated'")
    write_table(older / "hypotheses.csv", stated.drop(columns=["kind", "role", "measured"]))
    assert [row[0] for row in table(section(report([older]), "Checks of the implementation"))] == [MECHANISM_TEXT]
    record = read_json(older / "experiment.json")
    for item in record["hypothesis"]["expect"]:
        item.pop("kind", None)
    write_json(older / "experiment.json", record)
    text = report([older])
    assert [row[0] for row in table(section(text, "Verdicts"))] == [EMERGENT_TEXT, MECHANISM_TEXT, POLARIZATION_TEXT]
    assert "Checks of the implementation" not in text


def test_numbers_have_four_significant_digits():
    """Catches: a fixed number of decimals, which shows a small effect (0.0001234) as 0.0000."""
    assert number(0.123456) == "0.1235" and number(0.0001234) == "0.0001234" and number(1234.5) == "1234"
    assert number(-0.05, signed=True) == "-0.05" and number(0.05, signed=True) == "+0.05"
    assert number(float("nan")) == number(None) == "—" and number(12) == "12"


def test_a_polarization_verdict_is_shown_measure_by_measure(tiny):
    """Catches: the measures a polarization verdict was checked with left out of the report, or its verdict
    reported from the stated measure alone."""
    text = report([tiny])
    part = text[text.index("#### Polarization, measure by measure"):text.index("### Checks of the implementation")]
    recorded = read_table(tiny / "hypotheses.csv").query(f"expectation == '{POLARIZATION_TEXT}'")
    assert f"{POLARIZATION_TEXT}: **{recorded['verdict'].iloc[0]}**." in part
    rows = table(part)
    assert [row[0] for row in rows] == [f"`{m}`" for m in recorded["outcome"]]
    assert [row[0] for row in rows] == ["`opinion_variance`", "`duclos_esteban_ray`", "`bimodality`"]
    assert [row[3] for row in rows] == list(recorded["measured"])


def test_no_ready_experiment_tests_a_rule_as_a_finding():
    """The directions that follow from one rule are tests of the model (tests/test_model.py), not
    expectations of the ready experiments, whose verdicts the findings report.

    Catches: a mechanism expectation back among the findings' experiments.
    """
    kinds = {path.name: {e.kind for e in load_experiment(path).hypothesis.expect}
             for path in sorted(EXPERIMENTS.glob("*.yaml")) if load_experiment(path).hypothesis}
    assert len(kinds) == 7 and all(found == {"emergent"} for found in kinds.values()), kinds
