"""Serve the browser app with three cards broken on purpose, to show that the browser test sees each.

    python -m tests.viz_mutant_server PORT

Runs ``solara run`` of the app in this process after three changes, each what a broken card looks
like to a person: the map draws nobody (an empty map), the echo-chamber card's picture is 2 x 2
pixels (a shrunk card), and every value the page shows as text is off by 0.25 (wrong values).
"""

from __future__ import annotations

import io
import os
import sys

from PIL import Image

from simsolidarity.running.scenario import resolve_scenario_path
from simsolidarity.viz import components
from simsolidarity.viz.server import APP_PATH, server_environment


def _tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), "white").save(buffer, format="png")
    return buffer.getvalue()


def break_cards() -> None:
    """The three broken cards."""
    components.PeopleMapCard.update = lambda self, model: None  # an empty map
    trend_png = components.TrendCard.png
    components.TrendCard.png = lambda self: _tiny_png() if self.title == "echo chambers" else trend_png(self)
    current = components.current
    components.current = lambda model, name: current(model, name) + 0.25  # wrong values


def main(port: str) -> None:
    break_cards()
    os.environ.update(server_environment(resolve_scenario_path("baseline").resolve(), None))  # as viz serves it
    from solara.__main__ import main as solara_main

    sys.argv = ["solara", "run", str(APP_PATH), "--host", "127.0.0.1", "--port", port, "--no-open",
                "--no-check-version", "--production"]
    solara_main()


if __name__ == "__main__":
    main(sys.argv[1])
