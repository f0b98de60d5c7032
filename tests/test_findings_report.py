"""docs/FINDINGS.md and docs/findings/report.md agree with the findings' data, regenerated.

docs/findings/data/<experiment>/ keeps each findings sweep's small tables (experiment.json,
summary.csv, hypotheses.csv, sensitivity.csv) and outcome plots; docs/findings/regenerate.py
sweeps the experiments, refreshes those folders, and writes the report and FINDINGS.md's
generated blocks from them. These tests regenerate the same text from the committed folders.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
from pathlib import Path

import pytest

from simsolidarity.analysis.report import report

ROOT = Path(__file__).resolve().parent.parent
FINDINGS_DIR = ROOT / "docs" / "findings"
#: A decimal number, not part of a word, a version (1.2.3) or a longer number; a full stop may follow.
NUMBER = re.compile(r"(?<![\w.])\d+\.\d+(?![\w])(?!\.\d)")


def load_regenerate():
    spec = importlib.util.spec_from_file_location("regenerate", FINDINGS_DIR / "regenerate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


regenerate = load_regenerate()
NAMES = regenerate.experiment_names()


@pytest.fixture(scope="module")
def report_text() -> str:
    """The report regenerated from the committed data, with links as docs/findings/report.md has them."""
    with contextlib.chdir(FINDINGS_DIR):
        return report([Path("data") / name for name in NAMES])


def test_every_experiment_has_its_data(report_text):
    """Catches: an experiment added or renamed without its findings data."""
    for name in NAMES:
        folder = FINDINGS_DIR / "data" / name
        assert (folder / "experiment.json").is_file() and (folder / "summary.csv").is_file(), name
    assert sorted(p.name for p in (FINDINGS_DIR / "data").iterdir() if p.is_dir()) == NAMES


def test_the_committed_report_is_the_report_of_the_data(report_text):
    """Catches: report.md edited by hand, or left behind when the data changed."""
    assert (FINDINGS_DIR / "report.md").read_text(encoding="utf-8") == report_text


def test_the_generated_blocks_of_findings_are_the_report_s_tables(report_text):
    """Catches: a table in FINDINGS.md edited by hand or out of date."""
    findings = regenerate.FINDINGS.read_text(encoding="utf-8")
    sections = {s.split("\n", 1)[0].strip(): "## " + s for s in re.split(r"^## ", report_text, flags=re.M)[1:]}
    assert len(regenerate.BLOCK.findall(findings)) >= 5
    assert regenerate.fill_blocks(findings, sections) == findings


def quoted_numbers(text: str) -> set[str]:
    """The decimal numbers of ``text`` outside generated blocks, code and links, without their sign."""
    text = regenerate.BLOCK.sub("", text)
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`]*`", "", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return set(NUMBER.findall(text))


def test_every_number_the_findings_quote_is_in_the_regenerated_report(report_text):
    """Catches: a number in the prose that no table holds (made up, rounded differently, or stale).

    Every decimal number of FINDINGS.md's prose must appear, as the report writes it (four
    significant digits), somewhere in the report regenerated from the data.
    """
    quoted = quoted_numbers(regenerate.FINDINGS.read_text(encoding="utf-8"))
    assert len(quoted) >= 20
    shown = set(NUMBER.findall(report_text))
    assert sorted(quoted - shown) == []


def test_the_number_check_sees_a_number_no_table_holds(report_text):
    """The check above, shown to fail: a rounded or made-up number in the prose is caught, one in a
    code span or a generated block is not the prose's."""
    shown = set(NUMBER.findall(report_text))
    prose = ("Belonging rises to 0.7556, about 0.76, or 0.12345. `0.999`\n"
             "<!-- begin: a Verdicts -->\n0.888\n<!-- end -->")
    assert quoted_numbers(prose) - shown == {"0.76", "0.12345"}
