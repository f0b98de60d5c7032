"""The command line: ``simsolidarity run | validate | list``.

Exit codes: 0 success, 2 bad input or usage (a message on stderr, no traceback), 1 anything
unexpected. On bad input nothing is written.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from .errors import SimsolidarityError
from .outcomes import OUTCOMES
from .parameters import PARAMETERS
from .plots import PLOTS
from .recommenders import RECOMMENDERS
from .runner import run_scenario
from .scenario import load_scenario, ready_scenarios

PROG = "simsolidarity"
LISTS = ("parameters", "recommenders", "scenarios", "outcomes", "plots")


class UsageError(SimsolidarityError):
    """A command-line argument is wrong."""


def _assignment(text: str) -> tuple[str, object]:
    """Parse ``KEY=VALUE``; the value is read as YAML, so ``0.3`` is a number and ``random`` text."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), yaml.safe_load(value)
    except yaml.YAMLError:
        return key.strip(), value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``simsolidarity`` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Agent-based simulation of online versus offline social solidarity: people join geographic "
            "and virtual groups under a recommender, influence each other's opinions, support each other "
            "and feel they belong. Run scenario files, check them, and list what is available."
        ),
        epilog=f"Start with: {PROG} run baseline    (or any scenario file; see '{PROG} list scenarios')",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run",
        help="run one scenario and write its results folder",
        description=(
            "Run one simulation of a scenario, print its final outcomes, and write a results folder "
            "(manifest.json, timeseries.csv, plots/) under results/<name>/<timestamp>/ or --out."
        ),
    )
    run.add_argument(
        "scenario", nargs="?", default="baseline",
        help="a scenario file, or the name of a ready scenario such as 'echo_chamber' (default: baseline)",
    )
    run.add_argument("--seed", type=int, help="random seed (overrides the scenario's)")
    run.add_argument("--steps", type=int, help="steps to run (overrides the scenario's)")
    run.add_argument(
        "--set", dest="assignments", metavar="KEY=VALUE", type=_assignment, action="append", default=[],
        help="override a model parameter (online_depth=0.2 or model.online_depth=0.2) or a scenario key; repeatable",
    )
    run.add_argument("--out", type=Path, help="results folder to create (must not exist yet)")
    run.add_argument("--results", type=Path, default=Path("results"), help="root of results folders (default: results)")
    run.add_argument("--no-plots", action="store_true", help="write no plots")
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    validate = commands.add_parser(
        "validate", help="check scenario files", description="Check scenario files fully; exit 0 if all are valid, 2 if not."
    )
    validate.add_argument("files", nargs="+", type=Path, help="files to check")

    listing = commands.add_parser(
        "list", help="list parameters, recommenders, scenarios, outcomes or plots",
        description="Print what is available, one line of explanation each.",
    )
    listing.add_argument("what", choices=LISTS, help="what to list")
    return parser


def _run(args: argparse.Namespace) -> int:
    overrides = dict(args.assignments)
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.steps is not None:
        overrides["steps"] = args.steps
    scenario = load_scenario(args.scenario, overrides)
    if args.out is not None and args.out.exists():
        raise UsageError(f"--out {args.out}: already exists; choose a new folder")
    result = run_scenario(
        scenario, args.out, results_root=args.results, plots=not args.no_plots, progress=not args.quiet
    )
    print(f"{scenario.name}: {scenario.model['n_people']} people, {scenario.steps} steps, seed {scenario.seed}, "
          f"recommender {scenario.model['recommender']}")
    width = max(map(len, result.final), default=0)
    for name, value in result.final.items():
        print(f"  {name:<{width}}  {value:10.4f}   {OUTCOMES[name].meaning}")
    print(f"results: {result.folder}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        try:
            scenario = load_scenario(path)
        except SimsolidarityError as error:
            print(f"{PROG}: invalid: {error}", file=sys.stderr)
            failed += 1
        else:
            print(f"ok: {path} (scenario {scenario.name!r})")
    return 2 if failed else 0


def _first_line(text: str | None) -> str:
    return inspect.cleandoc(text or "").split("\n", 1)[0]


def _list(args: argparse.Namespace) -> int:
    if args.what == "parameters":
        rows = [(p.name, p.range_text, repr(p.default) if p.type is not str else p.default, p.meaning)
                for p in PARAMETERS.values()]
        header = ("parameter", "range", "default", "meaning")
    elif args.what == "recommenders":
        rows = [(name, _first_line(f.__doc__)) for name, f in sorted(RECOMMENDERS.items())]
        header = ("recommender", "what it shows")
    elif args.what == "outcomes":
        rows = [(o.name, o.family, o.meaning) for o in OUTCOMES.values()]
        header = ("outcome", "family", "meaning")
    elif args.what == "plots":
        rows = [(p.name, p.title) for p in PLOTS.values()]
        header = ("plot", "what it shows")
    else:
        rows = []
        for path in ready_scenarios():
            scenario = load_scenario(path)
            rows.append((path.stem, str(path), _first_line(scenario.description)))
        header = ("scenario", "file", "description")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        print("  ".join(f"{cell!s:<{w}}" for cell, w in zip(row, widths, strict=False)) + "  " + str(row[-1]))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    handlers = {"run": _run, "validate": _validate, "list": _list}
    try:
        return handlers[args.command](args)
    except SimsolidarityError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
