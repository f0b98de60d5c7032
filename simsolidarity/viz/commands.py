"""The app's subcommands of the command line: ``simsolidarity viz`` and ``simsolidarity viz-assets``.

:func:`add_commands` adds both to the command line's subparsers and returns their handlers (also
in :data:`HANDLERS`); :func:`main` runs them on their own (``python -m simsolidarity.viz viz ...``).
Importing this module does not import Solara: only the server it starts imports the app.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from simsolidarity.errors import SimsolidarityError
from simsolidarity.running.scenario import load_scenario, resolve_scenario_path

from .assets import CDN_HOST, CDN_PACKAGES, assets_ready, cdn_reachable, default_cache_dir, fetch_assets
from .server import serve

Handler = Callable[[argparse.Namespace], int]


def add_commands(subparsers: argparse._SubParsersAction) -> dict[str, Handler]:
    """Add the ``viz`` and ``viz-assets`` subcommands to ``subparsers``; returns ``{name: handler}``.

    A handler returns the exit code and raises :class:`~simsolidarity.errors.SimsolidarityError`
    for bad input.
    """
    viz = subparsers.add_parser(
        "viz",
        help="watch a scenario run in the browser (a Solara page with Mesa's controls)",
        description=(
            "Serve the browser app for a scenario and print the address to open: live plots of polarization, "
            "echo chambers, support and belonging, the map of people and the network of virtual groups; Step, "
            "Play and Reset, a step to run until and the speed of Play; every parameter, taking effect at Reset; "
            "saving the time series (CSV), each plot (PNG) and the settings (a scenario file for "
            "'simsolidarity run'). Stop with Ctrl-C. Without internet access, prepare the page's assets once "
            "with 'simsolidarity viz-assets'."
        ),
    )
    viz.add_argument(
        "scenario", nargs="?", default="baseline",
        help="a scenario file, or the name of a ready scenario such as 'echo_chamber' (default: baseline)",
    )
    viz.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    viz.add_argument("--port", type=int, default=8765, help="TCP port (default: 8765; 0 picks a free one)")
    viz.add_argument(
        "--assets", type=Path, metavar="DIR",
        help=f"offline asset cache to serve the page from (default: {default_cache_dir()}, used when complete)",
    )

    assets = subparsers.add_parser(
        "viz-assets",
        help="prepare the browser app's assets for use without internet access",
        description=(
            "Download the JavaScript and CSS that the browser app's page loads from a CDN (as npm packages, "
            f"with 'npm pack': {', '.join(CDN_PACKAGES)}) into Solara's asset cache, so that "
            "'simsolidarity viz' and 'solara run simsolidarity/viz/app.py' work offline. Needs npm and the npm "
            "registry. Online use needs none of this."
        ),
    )
    assets.add_argument(
        "--dest", type=Path, metavar="DIR",
        help=f"cache folder to fill (default: {default_cache_dir()}, where Solara looks by default)",
    )
    assets.add_argument("--force", action="store_true", help="fetch packages that are already there again")
    assets.add_argument("--quiet", action="store_true", help="print only the folder")
    return dict(HANDLERS)


def run_viz(args: argparse.Namespace) -> int:
    """``simsolidarity viz``: check the scenario, then serve the app until Ctrl-C."""
    scenario = load_scenario(args.scenario)
    if not 0 <= args.port <= 65535:
        raise SimsolidarityError(f"--port {args.port}: expected a TCP port in 0..65535")
    cache = args.assets if args.assets is not None else default_cache_dir()
    if assets_ready(cache):
        offline = cache
    else:
        offline = None
        if args.assets is not None:
            raise SimsolidarityError(f"--assets {cache}: not a complete asset cache; fill it with "
                                     f"'simsolidarity viz-assets --dest {cache}'")
        if not cdn_reachable():
            # Without its scripts the page would stay blank: say so here, not as a blank page.
            raise SimsolidarityError(
                f"the page's scripts can be loaded neither from the offline cache ({cache}, not filled) nor from "
                f"{CDN_HOST} (not reachable): fill the cache once with 'simsolidarity viz-assets' (needs npm and "
                "the npm registry), then run this again")
        print(f"simsolidarity viz: note: the page loads its scripts from {CDN_HOST} (no offline cache at {cache}; "
              "'simsolidarity viz-assets' prepares one)", file=sys.stderr)
    path = resolve_scenario_path(args.scenario).resolve()
    return serve(path, args.host, args.port, assets=offline,
                 title=f"scenario {scenario.name!r}, {scenario.model['n_people']:,} people,")


def prepare_assets(args: argparse.Namespace) -> int:
    """``simsolidarity viz-assets``: fill the offline asset cache from the npm registry."""
    folder = fetch_assets(args.dest, force=args.force, report=None if args.quiet else print)
    print(f"asset cache ready: {folder}")
    return 0


#: The handler of each subcommand that :func:`add_commands` adds.
HANDLERS: dict[str, Handler] = {"viz": run_viz, "viz-assets": prepare_assets}


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``viz`` or ``viz-assets`` on their own (as ``python -m simsolidarity.viz``); returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m simsolidarity.viz", description="The simsolidarity browser app.")
    handlers = add_commands(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    try:
        return handlers[args.command](args)
    except SimsolidarityError as error:
        print(f"simsolidarity: error: {error}", file=sys.stderr)
        return 2
