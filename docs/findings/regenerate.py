"""Regenerate the findings from the experiment files: one command for every table and plot of docs/FINDINGS.md.

    .venv/bin/python docs/findings/regenerate.py            # sweep what is missing, then write
    .venv/bin/python docs/findings/regenerate.py --fresh    # after a change to the model: run all again
    .venv/bin/python docs/findings/regenerate.py --tables   # only rewrite from docs/findings/data/

For each experiment in ``experiments/``:

1. the sweep runs into ``results/findings/<name>/`` (a sweep there of the same experiment resumes:
   complete runs are not run again; ``--fresh`` starts over);
2. its small tables (``experiment.json``, ``summary.csv``, ``hypotheses.csv``, ``sensitivity.csv``,
   ``calibration.csv``)
   and its plots of each outcome against the swept parameters, the frontier, the sensitivity
   indices and the calibration (``plots/``, not the time series) are
   copied into ``docs/findings/data/<name>/``, which is committed;

then, from those folders alone, ``simsolidarity report`` writes ``docs/findings/report.md`` (every
arm, every verdict, every plot), and each block of docs/FINDINGS.md between
``<!-- begin: NAME PART -->`` and ``<!-- end -->`` is replaced by that part (``Verdicts``,
``Polarization``, ``Arms``, ``Sensitivity``, ``Calibration``, ``Checks``) of sweep NAME's
report. The prose around the blocks is written by hand; tests/test_findings_report.py checks that
every number it quotes is in the regenerated tables.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

from simsolidarity.errors import SimsolidarityError

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ROOT / "experiments"
DATA = ROOT / "docs" / "findings" / "data"
REPORT = ROOT / "docs" / "findings" / "report.md"
FINDINGS = ROOT / "docs" / "FINDINGS.md"
SWEEPS = ROOT / "results" / "findings"
#: The files of a sweep folder that the findings keep: small, and all the report reads.
KEPT = ("experiment.json", "summary.csv", "hypotheses.csv", "sensitivity.csv", "calibration.csv")
#: The parts of a sweep's report a block of FINDINGS.md can hold, by the heading that starts each.
PARTS = {"Design": "### Design", "Arms": "### Arms", "Verdicts": "### Verdicts",
         "Polarization": "#### Polarization, measure by measure", "Checks": "### Checks of the implementation",
         "Sensitivity": "### Sensitivity", "Calibration": "### Calibration"}
BLOCK = re.compile(r"(<!-- begin: (\S+) (\S+) -->\n)(.*?)(<!-- end -->)", flags=re.DOTALL)


def experiment_names() -> list[str]:
    """The ready experiments, by file name."""
    return sorted(path.stem for path in EXPERIMENTS.glob("*.yaml"))


def run_sweeps(names: list[str], workers: int | None, fresh: bool) -> None:
    """Sweep each experiment into results/findings/<name>, resuming a sweep of the same experiment."""
    from simsolidarity import sweep

    for name in names:
        folder = SWEEPS / name
        if fresh and folder.exists():
            shutil.rmtree(folder)
        print(f"== {name}", flush=True)
        sweep(EXPERIMENTS / f"{name}.yaml", out=folder, resume=folder.exists(), workers=workers)


def keep_tables(names: list[str]) -> None:
    """Copy each sweep's small tables and outcome plots into docs/findings/data/<name>/."""
    from simsolidarity.running.results import Sweep

    for name in names:
        source, target = SWEEPS / name, DATA / name
        if target.exists():
            shutil.rmtree(target)
        (target / "plots").mkdir(parents=True)
        for file in KEPT:
            if (source / file).exists():
                shutil.copyfile(source / file, target / file)
        outcomes = Sweep.from_folder(source).outcomes
        for plot in sorted((source / "plots").glob("*.png")):
            kept = plot.stem in outcomes or plot.stem in ("frontier", "sensitivity")
            if kept or plot.stem.startswith("calibration"):
                shutil.copyfile(plot, target / "plots" / plot.name)


def sweep_reports(names: list[str]) -> dict[str, str]:
    """Each sweep's section of the report, from docs/findings/data alone, by sweep name."""
    from simsolidarity.analysis.report import report

    text = report([DATA / name for name in names], REPORT, copy_plots=False)
    sections = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    return {section.split("\n", 1)[0].strip(): "## " + section for section in sections}


def part(section: str, name: str) -> str:
    """The part ``name`` of one sweep's section: from its heading (left out) to the next heading."""
    heading = PARTS[name]
    start = section.index(heading + "\n") + len(heading) + 1
    following = re.search(r"^#{2,4} ", section[start:], flags=re.MULTILINE)
    return section[start: start + following.start() if following else len(section)].strip("\n") + "\n"


def fill_blocks(findings: str, sections: dict[str, str]) -> str:
    """FINDINGS.md with each generated block replaced by the part of the report it names."""
    def replace(match: re.Match) -> str:
        sweep, name = match.group(2), match.group(3)
        if sweep not in sections or name not in PARTS:
            raise SystemExit(f"{FINDINGS}: a block names {sweep} {name}, which the report does not have")
        return match.group(1) + part(sections[sweep], name) + match.group(5)

    return BLOCK.sub(replace, findings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fresh", action="store_true", help="run every sweep again from the start")
    parser.add_argument("--tables", action="store_true", help="only rewrite the report and FINDINGS.md's "
                        "tables from docs/findings/data (no sweep)")
    parser.add_argument("--workers", type=int, default=None, help="parallel workers (default: the CPU count)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="sweep only these experiments")
    args = parser.parse_args(argv)
    names = experiment_names()
    if not args.tables:
        chosen = args.only or names
        try:
            run_sweeps(chosen, args.workers, args.fresh)
        except SimsolidarityError as error:  # a sweep folder of another experiment, a bad file: said, no traceback
            print(f"regenerate.py: error: {error} (--fresh sweeps the experiments again from the start)",
                  file=sys.stderr)
            return error.exit_code
        keep_tables(chosen)
    sections = sweep_reports(names)
    FINDINGS.write_text(fill_blocks(FINDINGS.read_text(encoding="utf-8"), sections), encoding="utf-8", newline="\n")
    print(f"wrote {REPORT.relative_to(ROOT)} and the tables of {FINDINGS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
