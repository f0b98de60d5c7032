"""Command line: run the model and print its final outcomes.

Exit codes: 0 success, 2 bad input (a message on stderr, no traceback), 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import yaml
from tqdm import tqdm

from .errors import SimsolidarityError
from .model import SolidarityModel
from .outcomes import OUTCOMES
from .parameters import PARAMETERS

DEFAULT_STEPS = 200
DEFAULT_SEED = 42


def _assignment(text: str) -> tuple[str, object]:
    """Parse ``NAME=VALUE``; the value is read as YAML, so ``0.3`` is a number and ``random`` text."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), yaml.safe_load(value)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``simsolidarity``."""
    parser = argparse.ArgumentParser(
        prog="simsolidarity",
        description=(
            "Agent-based simulation of online versus offline social solidarity. Runs the model "
            "with its default parameters (or those given with --set) and prints the final outcomes."
        ),
        epilog="Parameters: " + ", ".join(PARAMETERS),
    )
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help=f"steps to run (default {DEFAULT_STEPS})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument(
        "--set",
        dest="assignments",
        metavar="NAME=VALUE",
        type=_assignment,
        action="append",
        default=[],
        help="set a model parameter by its canonical name, e.g. --set recommender=random (repeatable)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.steps < 0:
        print("simsolidarity: error: --steps must be 0 or more", file=sys.stderr)
        return 2
    try:
        model = SolidarityModel(dict(args.assignments), rng=args.seed)
    except SimsolidarityError as error:
        print(f"simsolidarity: error: {error}", file=sys.stderr)
        return 2
    for _ in tqdm(range(args.steps), desc="steps", unit="step", disable=args.quiet, file=sys.stderr):
        model.step()
    print(f"{model.n_people} people, {model.steps} steps, seed {args.seed}, recommender {model.parameters['recommender']}")
    width = max(map(len, OUTCOMES))
    for name, value in model.outcomes().items():
        print(f"  {name:<{width}}  {value:10.4f}   {OUTCOMES[name].meaning}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
