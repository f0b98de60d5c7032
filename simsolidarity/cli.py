"""The command line: ``simsolidarity run | sweep | compare | report | validate | list | viz | viz-assets``.

Exit codes: 0 success; 2 bad input or usage (one line on stderr, no traceback, nothing written);
1 runs that failed, an executor that failed mid-sweep, or a file that could not be written (one
line on stderr, a sweep folder left resumable); 130 interrupted.

Feedback goes to stderr through the package's logger: warnings (a run of a sweep that failed) by
default, what is done with ``-v`` (``-vv``: in detail), errors only with ``-q``, which also hides
the progress bars.
"""

from __future__ import annotations

import argparse
import inspect
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

# Only what every command needs is imported here: the rest (Mesa, pandas, SciPy, matplotlib) is
# imported by the command that uses it, so that --help, list and validate start at once.
from simsolidarity.errors import RunsFailedError, SimsolidarityError
from simsolidarity.log import level_of, log_to_stderr
from simsolidarity.model.outcomes import OUTCOMES, plot_outcomes, run_plot_names
from simsolidarity.model.parameters import PARAMETERS
from simsolidarity.model.recommenders import RECOMMENDERS
from simsolidarity.running.executors import DASK_NO_WORKER_TIMEOUT, EXECUTORS
from simsolidarity.running.experiment import MAX_RUNS, Experiment, load_scenario_or_experiment
from simsolidarity.running.samplers import SAMPLERS
from simsolidarity.running.scenario import StrictLoader, load_scenario, ready_scenarios
from simsolidarity.viz.commands import HANDLERS as VIZ_HANDLERS
from simsolidarity.viz.commands import add_commands as add_viz_commands

PROG = "simsolidarity"
LISTS = ("parameters", "recommenders", "scenarios", "outcomes", "plots", "samplers")


def _assignment(text: str) -> tuple[str, object]:
    """Parse ``KEY=VALUE``; the value is read as YAML, so ``0.3`` is a number and ``random`` text."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), yaml.load(value, Loader=StrictLoader)  # noqa: S506 - a SafeLoader, bounded
    except yaml.YAMLError:
        return key.strip(), value


def _count(text: str) -> int:
    """A whole number of 1 or more (workers, runs)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _seconds(text: str) -> float:
    """A positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text}")
    return value


def _add_max_runs(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--max-runs", type=_count, default=MAX_RUNS, metavar="N",
        help=f"refuse experiments of more than N runs (default: {MAX_RUNS:,}), so that a typo cannot start a "
             "sweep of years",
    )


def _add_output_options(command: argparse.ArgumentParser, out_help: str) -> None:
    """Where results go and what is shown while they are made."""
    command.add_argument("--out", type=Path, help=out_help)
    command.add_argument("--results", type=Path, default=Path("results"), help="root of results folders (default: results)")
    command.add_argument("--no-plots", action="store_true", help="draw no plots")
    _add_feedback_options(command, "no progress bar, and only errors on stderr")


def _add_feedback_options(command: argparse.ArgumentParser, quiet_help: str = "only errors on stderr") -> None:
    """``-v`` and ``-q`` after the command too. Their defaults are the top-level options': a command's
    own default would overwrite ``simsolidarity -q run`` (argparse copies a subcommand's values last)."""
    command.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                         help="say what is done on stderr (-vv: in detail)")
    command.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help=quiet_help)


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
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="say what is done on stderr: runs and sweeps started and ended, folders written "
                             "(-vv: in detail)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="only errors on stderr (no warning of a failed run), and no progress bars")
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
    _add_output_options(run, "results folder to create (must not exist yet)")
    run.add_argument("--keep-progress", action="store_true",
                     help="leave the progress bar showing when the run ends (by default it is cleared)")

    sweep = commands.add_parser(
        "sweep",
        help="run an experiment: a parameter sweep with replicates",
        description=(
            "Run every (parameter point, replicate) of an experiment file, in parallel, writing each finished "
            "run at once under runs/, then summary.csv (one row per run) and comparison plots. A sweep that "
            "was stopped resumes where it left off: run it again with the same --out, or with --resume."
        ),
    )
    sweep.add_argument("experiment", type=Path, help="an experiment file (see experiments/)")
    sweep.add_argument("--workers", type=_count,
                       help="parallel workers, 1 or more (default: the cores this process may use; "
                            "1 runs in this process)")
    sweep.add_argument("--executor", choices=list(EXECUTORS), default="local",
                       help="; ".join(f"{name}: {_first_line(factory.__doc__).rstrip('.')}"
                                     for name, factory in EXECUTORS.items())
                       + " (default: local)")
    sweep.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (default: a local cluster)")
    sweep.add_argument("--worker-timeout", type=_seconds, default=DASK_NO_WORKER_TIMEOUT, metavar="SECONDS",
                       help="dask: stop when the cluster has had no worker for this long (default: "
                            f"{DASK_NO_WORKER_TIMEOUT:g}); the folder stays resumable")
    _add_max_runs(sweep)
    sweep.add_argument("--resume", action="store_true",
                       help="continue the latest sweep of this experiment under --results (or --out)")
    _add_output_options(sweep, "sweep folder (default: results/<name>/<timestamp>); an existing one is resumed")

    compare = commands.add_parser(
        "compare",
        help="compare run and sweep folders side by side",
        description=(
            "Put run folders and sweep folders side by side: a table of final outcomes (mean and 95%% CI per "
            "run folder or per parameter point of a sweep) and overlaid time-series plots."
        ),
    )
    compare.add_argument("folders", nargs="+", type=Path, help="run folders or sweep folders")
    compare.add_argument("--out", type=Path, help="folder for comparison.csv and plots (default: results/compare/<timestamp>)")
    compare.add_argument("--results", type=Path, default=Path("results"), help="root of results folders (default: results)")
    compare.add_argument("--allow-mismatch", action="store_true",
                         help="compare runs of different steps or final windows anyway (refused by default: their "
                              "outcomes measure different things), with a note that says so")
    _add_feedback_options(compare)

    report = commands.add_parser(
        "report",
        help="write a Markdown report of sweep folders",
        description=(
            "Write a Markdown report of sweep folders: per sweep, its claim, design, every arm's outcomes "
            "(mean and 95%% CI), the verdicts on its emergent expectations (a polarization verdict with every "
            "measure it was checked with), the checks of the implementation "
            "(mechanism expectations), sensitivity indices and plots. Written to results/report/<timestamp>/"
            "report.md or --out, with the plots copied into <report>_files/ beside it."
        ),
    )
    report.add_argument("folders", nargs="+", type=Path, help="sweep folders, in the order the report shows them")
    report.add_argument("--out", help="the report's file (default: results/report/<timestamp>/report.md); "
                                      "'-' prints it, linking to the sweep folders' plots")
    report.add_argument("--results", type=Path, default=Path("results"),
                        help="root of results folders (default: results)")
    _add_feedback_options(report)

    validate = commands.add_parser(
        "validate", help="check scenario and experiment files",
        description="Check scenario and experiment files fully; exit 0 if all are valid, 2 if not.",
    )
    validate.add_argument("files", nargs="+", type=Path, help="files to check")
    _add_max_runs(validate)
    _add_feedback_options(validate)

    listing = commands.add_parser(
        "list", help="list parameters, recommenders, scenarios, outcomes, plots or samplers",
        description="Print what is available, one line of explanation each.",
    )
    listing.add_argument("what", choices=LISTS, help="what to list")
    _add_feedback_options(listing)
    add_viz_commands(commands)
    return parser


def _run(args: argparse.Namespace) -> int:
    from simsolidarity import api
    from simsolidarity.running.folders import new_run_folder

    overrides = dict(args.assignments)
    origin = dict.fromkeys(overrides, "--set")  # recorded in the manifest with each value
    for key, value in (("seed", args.seed), ("steps", args.steps)):
        if value is not None:
            overrides[key], origin[key] = value, f"--{key}"
    scenario = api.scenario_of(args.scenario, overrides, origin)
    out = args.out if args.out is not None else new_run_folder(args.results, scenario.name)
    progress = False if args.quiet else "keep" if args.keep_progress else True
    result = api.run(scenario, out=out, plots=not args.no_plots, progress=progress)
    print(f"{scenario.name}: {scenario.model['n_people']} people, {scenario.steps} steps, seed {scenario.seed}, "
          f"recommender {scenario.model['recommender']}")
    final = result.manifest["final_outcomes"]
    width = max(map(len, final), default=0)
    for name, value in final.items():
        print(f"  {name:<{width}}  {value:10.4f}   {OUTCOMES[name].meaning}")
    print(f"results: {result.folder}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from simsolidarity import api

    result = api.sweep(
        args.experiment, workers=args.workers, executor=args.executor, scheduler=args.scheduler, out=args.out,
        resume=args.resume, results=args.results, progress=not args.quiet, plots=not args.no_plots,
        allow_failures=True, max_runs=args.max_runs, no_worker_timeout=args.worker_timeout,
    )
    experiment = result.experiment
    print(f"{result.name}: {result.complete} of {result.total} runs complete "
          f"({len(experiment['points'])} points x {experiment['replicates']} replicates)")
    if result.hypotheses is not None:
        print(f"hypothesis: {experiment['hypothesis']['claim']}")
        for row in result.hypotheses.itertuples():
            if getattr(row, "role", "stated") == "check":  # a measure a polarization verdict is checked with
                print(f"      {row.outcome}: difference {row.difference:.4f} [{row.low:.4f}, {row.high:.4f}], "
                      f"{row.measured}")
                continue
            check = ", a check of the implementation" if row.kind == "mechanism" else ""
            print(f"  {row.verdict:<12}  {row.expectation}: difference {row.difference:.4f} "
                  f"[{row.low:.4f}, {row.high:.4f}] ({row.comparison}, n={row.n}{check})")
    if result.calibration is not None:
        from simsolidarity.analysis.calibration import acceptance_text
        from simsolidarity.running.folders import CALIBRATION

        print(f"calibration: {acceptance_text(result.calibration)} ({CALIBRATION})")
    print(f"results: {result.folder}")
    if not result.failed.empty:
        error = RunsFailedError(result.folder, dict(zip(result.failed["run"], result.failed["error"], strict=True)),
                                result.total)
        print(f"{PROG}: {error}", file=sys.stderr)
        return error.exit_code
    return 0


def _compare(args: argparse.Namespace) -> int:
    from simsolidarity.analysis.compare import compare, default_compare_folder
    from simsolidarity.analysis.summary import interval_note

    comparison = compare(args.folders, args.out or default_compare_folder(args.results),
                         allow_mismatch=args.allow_mismatch)
    for note in comparison.notes:
        print(f"note: {note}")
    table = comparison.table
    width = max(map(len, table["group"]))
    for outcome, rows in table.groupby("outcome", sort=False):
        print(f"\n{outcome}  (mean [95% CI], runs)  {interval_note(rows['interval'])}")
        for row in rows.itertuples():
            interval = "" if row.n < 2 else f" [{row.low:.4f}, {row.high:.4f}]"
            print(f"  {row.group:<{width}}  {row.mean:.4f}{interval}  n={row.n}")
    print(f"\nresults: {comparison.folder}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from simsolidarity.analysis.report import default_report_file, report

    if args.out == "-":
        sys.stdout.write(report(args.folders))
        return 0
    out = Path(args.out) if args.out is not None else default_report_file(args.results)
    report(args.folders, out)
    print(f"report: {out}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        try:
            loaded = load_scenario_or_experiment(path, max_runs=args.max_runs)
        except SimsolidarityError as error:
            print(f"{PROG}: invalid: {error}", file=sys.stderr)
            failed += 1
        else:
            kind = "experiment" if isinstance(loaded, Experiment) else "scenario"
            runs = f", {loaded.n_runs} runs" if isinstance(loaded, Experiment) else ""
            print(f"ok: {path} ({kind} {loaded.name!r}{runs})")
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
        rows = [(name, ", ".join(plot_outcomes(name)) or "the opinions of everyone at the start and the end")
                for name in run_plot_names()]
        header = ("plot", "what it shows")
    elif args.what == "samplers":
        rows = [(name, "yes" if sampler.ranges else "", sampler.design) for name, sampler in SAMPLERS.items()]
        header = ("sampler", "samples", "design")
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
    handlers = {
        "run": _run, "sweep": _sweep, "compare": _compare, "report": _report, "validate": _validate, "list": _list,
        **VIZ_HANDLERS,
    }
    try:
        with log_to_stderr(level_of(args.verbose, args.quiet), PROG):
            return handlers[args.command](args)
    except SimsolidarityError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:  # the disk filled up, a folder vanished: the machine's, not the input's
        where = f"{error.filename}: " if error.filename else ""
        print(f"{PROG}: error: {where}{error.strerror or error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130


def console() -> None:
    """The ``simsolidarity`` command: :func:`main`, then the process ends at once.

    Everything the command writes is closed by then; what is left is the interpreter's own teardown
    (freeing every module of Mesa, SciPy, matplotlib and numba one object at a time), which takes
    longer than a short command's work: 0.3 to 0.5 s on a 2-core machine. So the output streams and
    the log are flushed and the process exits without it.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    console()
