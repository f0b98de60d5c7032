"""The browser app: its pieces without a browser, then the served page in headless Chromium.

The browser test starts the server as ``simsolidarity viz`` does, on a free loopback port, drives
the page with Playwright (Debian's ``chromium`` as the browser, never a downloaded one), and
saves a screenshot to ``results/viz-screenshot.png``. It is skipped, with the reason, when
Playwright, Chromium or the offline asset cache (``simsolidarity viz-assets``) is missing.
"""

from __future__ import annotations

import argparse
import io
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from simsolidarity import SolidarityModel
from simsolidarity.errors import SimsolidarityError
from simsolidarity.model.parameters import PARAMETERS
from simsolidarity.running.scenario import load_scenario
from simsolidarity.viz import assets, commands, controls, server
from simsolidarity.viz.appmodel import VizModel, fit_grid, seed_from_text

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "results" / "viz-screenshot.png"
SMALL = {"n_people": 400, "width": 25, "height": 25, "block_size": 5, "n_virtual_groups": 12}


# --- the model as the app builds it ---------------------------------------------------------------


@pytest.mark.parametrize(("n_people", "width", "height", "reference"), [
    (2000, 50, 50, 2000), (100, 50, 50, 2000), (20000, 50, 50, 2000), (7777, 40, 20, 500), (3, 1, 1, 1),
])
def test_fit_grid_always_fits_and_keeps_shape(n_people, width, height, reference):
    new_width, new_height = fit_grid(n_people, width, height, reference)
    assert new_width * new_height >= n_people
    assert new_width / new_height == pytest.approx(width / height, rel=0.2)
    density = n_people / (new_width * new_height)
    assert density == pytest.approx(reference / (width * height), rel=0.3) or n_people < 10


def test_fit_grid_keeps_the_scenario_grid_for_its_own_population():
    assert fit_grid(2000, 50, 50, 2000) == (50, 50)


def test_seed_from_text():
    assert seed_from_text("42") == 42
    assert seed_from_text(" 7 ") == 7
    assert seed_from_text(42) == 42
    assert seed_from_text("") is None
    assert seed_from_text(None) is None
    assert seed_from_text("not a number") == seed_from_text("not a number") != seed_from_text("another")


def test_viz_model_is_the_model_of_the_command_line():
    """Same parameters and seed: the same run, whether the app built it or not."""
    plain = SolidarityModel(SMALL, rng=5)
    app = VizModel(SMALL, rng="5")
    for _ in range(3):
        plain.step()
        app.step()
    np.testing.assert_array_equal(plain.opinion, app.opinion)
    assert plain.outcomes() == pytest.approx(app.outcomes(), nan_ok=True)


def test_viz_model_fits_the_grid_to_the_population_control():
    model = VizModel(dict(SMALL), rng=1, n_people=1500)
    assert model.n_people == 1500
    assert model.parameters["width"] * model.parameters["height"] >= 1500
    model.step()


def test_an_empty_seed_box_draws_a_seed_that_is_shown_and_runs_again():
    """Mutation caught: a model built from ``rng=None`` (a seed nobody can read back) would differ from its rerun."""
    first = VizModel(SMALL, rng="")
    assert isinstance(first.seed, int)
    again = VizModel(SMALL, rng=str(first.seed))
    for _ in range(2):
        first.step()
        again.step()
    np.testing.assert_array_equal(first.opinion, again.opinion)


def test_a_run_stops_at_its_end_step_and_goes_on_when_the_end_is_raised():
    model = VizModel(SMALL, rng=1, run_until=2)
    for _ in range(4):
        model.step()
    assert model.steps == 2 and not model.running
    assert len(model.datacollector.model_vars["step"]) == 3  # steps 0, 1, 2: nothing recorded past the end
    model.stop_at(3)
    assert model.running
    model.step()
    assert model.steps == 3 and not model.running


# --- settings -------------------------------------------------------------------------------------


def test_every_parameter_has_one_control_and_the_scenarios_parameters_come_first():
    up_front = controls.headline_parameters()
    others = [name for names in controls.other_parameters().values() for name in names]
    assert sorted([*up_front, *others]) == sorted(PARAMETERS)
    assert len(set(up_front) | set(others)) == len(PARAMETERS)
    for name in ("homophily", "leave_threshold", "online_activity", "diversity_weight", "influence", "online_depth",
                 "recommender", "n_people", "confidence", "online_share", "isolation_mean"):
        assert name in up_front, name


def test_an_edit_is_checked_against_the_schema_when_it_is_made():
    base = load_scenario("baseline").model
    assert controls.check_edit(base, {}, "confidence", 0.3) is None
    assert "confidence" in controls.check_edit(base, {}, "confidence", 5.0)
    assert controls.check_edit(base, {}, "n_people", 9000) is None  # the grid is refitted, as at Reset
    assert "available" in controls.check_edit(base, {}, "n_people", 10**11)  # the memory check


def test_pending_changes_name_what_reset_would_change_and_reset_applies_them():
    scenario = load_scenario("baseline")
    model = VizModel(scenario.model, rng=scenario.seed, scenario_name=scenario.name)
    assert controls.pending_changes(model, scenario, {}, str(scenario.seed)) == []
    edits = {"confidence": 0.3, "recommender": "bridging", "n_people": 900}
    pending = controls.pending_changes(model, scenario, edits, "7")
    assert any(line.startswith("confidence: 0.5 -> 0.3") for line in pending)
    assert any(line.startswith("recommender: similarity -> bridging") for line in pending)
    assert any(line.startswith("seed: 42 -> 7") for line in pending)
    assert not any(line.startswith(("width", "height")) for line in pending)
    reset = VizModel(**controls.reset_arguments(scenario, edits, "7", 30))
    assert controls.pending_changes(reset, scenario, edits, "7") == []
    assert (reset.seed, reset.run_until, reset.n_people) == (7, 30, 900)


# --- cards ----------------------------------------------------------------------------------------


def test_cards_draw_pngs_that_change_with_each_step():
    from simsolidarity.viz.components import all_cards

    model = VizModel(SMALL, rng=3)
    cards = all_cards(model)
    before = [card.png() for card in cards]
    assert all(png.startswith(b"\x89PNG") for png in before)
    model.step()
    model.step()
    for card in cards:
        card.update(model)
    after = [card.png() for card in cards]
    assert all(a != b for a, b in zip(before, after, strict=True))


def test_kept_frame_gives_the_picture_of_a_full_draw():
    """Drawing only the dynamic artists over the kept frame looks like drawing everything again."""
    from simsolidarity.viz.components import all_cards

    model = VizModel(SMALL, rng=3)
    cards = all_cards(model)
    for _ in range(12):
        model.step()
        for card in cards:
            card.update(model)
            card.render()
    for card in cards:
        kept = card.render()[..., :3].astype(int)
        card.canvas.draw()
        full = np.asarray(card.canvas.buffer_rgba())[..., :3].astype(int)
        assert np.abs(kept - full).mean() < 1.0, type(card).__name__


@pytest.mark.parametrize("colour", ["opinion", "belonging", "isolation", "online"])
def test_the_map_puts_each_persons_value_on_their_cell(colour):
    """Mutation caught: rows and columns swapped, or a person's value on another's cell."""
    from simsolidarity.viz.components import MAP_COLOURS, PeopleMapCard

    model = VizModel({**SMALL, "n_people": 300}, rng=2)
    model.step()
    card = PeopleMapCard(model, colour)
    cells = card.raster.get_array()
    x, y = model.position[:, 0], model.position[:, 1]
    np.testing.assert_array_equal(cells[y, x], MAP_COLOURS[colour].read(model))
    empty = np.ones(cells.shape, dtype=bool)
    empty[y, x] = False
    assert np.isnan(np.asarray(cells)[empty]).all()
    assert "all 300 people" in card.ax.get_title()


def test_the_map_of_a_large_population_draws_everybody():
    from simsolidarity.viz.components import PeopleMapCard

    model = VizModel({"n_people": 100_000, "width": 354, "height": 354}, rng=2)
    card = PeopleMapCard(model)
    assert np.isfinite(card.raster.get_array()).sum() == 100_000
    assert "all 100,000 people" in card.ax.get_title()


def test_no_tick_label_covers_an_axis_title_at_100000_people():
    """Mutation caught: counts labelled in full ("12000") or with an offset ("1e4") that runs into a title."""
    from simsolidarity.viz.components import all_cards

    model = VizModel({"n_people": 100_000, "width": 354, "height": 354}, rng=2)
    for _ in range(2):
        model.step()
    for card in all_cards(model):
        card.png()
        renderer = card.canvas.get_renderer()
        figure_box = card.figure.bbox
        for ax in card.figure.axes:
            titles = [text for text in (ax.xaxis.label, ax.yaxis.label, ax.title) if text.get_text()]
            ticks = [label for label in [*ax.get_xticklabels(), *ax.get_yticklabels()] if label.get_text()]
            ticks += [axis.get_offset_text() for axis in (ax.xaxis, ax.yaxis) if axis.get_offset_text().get_text()]
            for title in titles:
                box = title.get_window_extent(renderer)
                assert figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1 + 1, (card.title, title.get_text())
                for tick in ticks:
                    assert not box.overlaps(tick.get_window_extent(renderer)), (card.title, title.get_text(),
                                                                                 tick.get_text())


def test_cards_follow_the_dark_theme():
    from simsolidarity.viz.components import DARK_BACKGROUND, all_cards

    model = VizModel(SMALL, rng=3)
    for card in all_cards(model, dark=True):
        corner = card.render()[0, 0, :3]
        assert tuple(corner) == tuple(int(DARK_BACKGROUND[i:i + 2], 16) for i in (1, 3, 5)), card.title
    for card in all_cards(model):
        assert tuple(card.render()[0, 0, :3]) == (255, 255, 255), card.title


def test_shared_members_counts_the_people_in_both_groups():
    from simsolidarity.viz.components import shared_members

    model = VizModel(SMALL, rng=4)
    for _ in range(5):
        model.step()
    shared = shared_members(model.memberships, model.n_virtual_groups)
    slow = np.zeros_like(shared)
    for row in model.memberships:
        groups = sorted(set(row[row >= 0].tolist()))
        for a in groups:
            for b in groups:
                if a != b:
                    slow[a, b] += 1
    np.testing.assert_array_equal(shared, slow)
    assert shared.sum() > 0


def test_the_network_draws_each_group_with_members_once_where_its_ties_pull_it():
    """Mutation caught: nodes coloured by another group's opinion, or a layout that ignores shared members."""
    from simsolidarity.viz.components import GroupNetworkCard, shared_members

    model = VizModel(SMALL, rng=4)
    for _ in range(5):
        model.step()
    card = GroupNetworkCard(model)
    active = np.flatnonzero(model.group_size > 0)
    offsets = card.nodes.get_offsets()
    assert len(offsets) == active.size
    np.testing.assert_array_equal(card.nodes.get_array(), model.group_opinion[active])
    assert np.all(np.abs(offsets) <= 1.0 + 1e-9)
    # The two groups that share the most members sit closer than the average pair of groups.
    shared = np.triu(shared_members(model.memberships, model.n_virtual_groups), 1)
    a, b = np.unravel_index(np.argmax(shared), shared.shape)
    where = card.positions
    distances = [np.linalg.norm(where[i] - where[j]) for i in active for j in active if i < j]
    assert np.linalg.norm(where[a] - where[b]) < np.mean(distances)


def test_summary_names_the_model_from_its_own_parameters():
    from simsolidarity.viz.components import model_summary

    model = VizModel(SMALL, rng="9", scenario_name="mine", recommender="local")
    line = model_summary(model)
    assert line.startswith("mine · recommender local · 400 people on 25x25")
    assert line.endswith("seed 9")


def test_a_value_the_page_cannot_show_says_why():
    from simsolidarity.viz.components import shown_value

    assert shown_value(0.12345) == "0.123"
    assert shown_value(40.0) == "40"
    assert "not defined" in shown_value(float("nan"))


# --- saving ---------------------------------------------------------------------------------------


def test_saved_time_series_is_the_runs_own(tmp_path):
    import pandas as pd

    from simsolidarity.running.run import timeseries
    from simsolidarity.viz.export import timeseries_csv

    model = VizModel(SMALL, rng=3)
    for _ in range(3):
        model.step()
    table = pd.read_csv(io.StringIO(timeseries_csv(model)))
    assert list(table["step"]) == [0, 1, 2, 3]
    pd.testing.assert_frame_equal(table, timeseries(model), check_dtype=False)


def test_saved_settings_run_unchanged_from_the_command_line(tmp_path):
    """The settings file of an edited run is a scenario ``simsolidarity run`` takes, and it gives the same numbers."""
    from simsolidarity.cli import main
    from simsolidarity.viz.export import settings_yaml

    scenario = load_scenario("echo_chamber")
    model = VizModel(scenario.model, rng="", scenario_name=scenario.name, run_until=4, confidence=0.3, n_people=600)
    path = tmp_path / "saved.yaml"
    path.write_text(settings_yaml(model, scenario))
    loaded = load_scenario(path)
    assert loaded.model == model.parameters and loaded.seed == model.seed and loaded.steps == 4
    assert loaded.name == scenario.name
    for _ in range(4):
        model.step()
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    import pandas as pd

    ran = pd.read_csv(tmp_path / "run" / "timeseries.csv")
    np.testing.assert_allclose(ran["esteban_ray"].iloc[-1], model.outcomes()["esteban_ray"])


# --- the page, rendered by Solara without a browser -----------------------------------------------


def test_page_steps_stops_at_its_end_and_resets_with_edited_settings():
    """The page's widgets drive the model: Step, the end step, an edited parameter waiting for Reset, then Reset."""
    import ipyvuetify as v
    import solara

    from simsolidarity.viz import app

    _box, rc = solara.render(app.Page(), handle_error=False)
    try:
        def body() -> str:
            return " ".join(str(w.widget.children) for w in rc.find(v.Html)) + " ".join(
                str(getattr(w.widget, "label", "")) for w in rc.find(v.Alert))

        step = rc.find(v.Btn, children=["Step"])
        step.assert_single()
        step.widget.click()
        step.widget.click()
        assert "step 2 of 200" in body()
        def type_in(label: str, text: str) -> None:  # as a person does: type, then leave the box
            box = rc.find(v.TextField, label=label).widget
            box.v_model = text
            box.fire_event("focusout", None)

        type_in("run until step", "3")
        rc.find(v.Btn, children=["Step"]).widget.click()
        rc.find(v.Btn, children=["Step"]).widget.click()
        assert "step 3 of 3" in body() and "the run has ended" in body()

        type_in("confidence", "0.3")
        assert "confidence: 0.5 -> 0.3" in str([w.widget.children for w in rc.find(v.Alert)])
        rc.find(v.TextField, label="confidence (changed)").assert_single()
        rc.find(v.Btn, children=["Reset"]).widget.click()
        assert "step 0 of 3" in body() and "confidence 0.3" in body()
        assert not rc.find(v.Alert)
    finally:
        rc.close()


# --- assets ---------------------------------------------------------------------------------------


def _fake_tarball(folder: Path) -> Path:
    path = folder / "pkg-1.0.0.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in (("package/package.json", b"{}"), ("package/dist/app.js", b"x"),
                           ("package/dist/app.js.map", b"y")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_fetch_assets_unpacks_npm_packs_under_their_cdn_paths(tmp_path, monkeypatch):
    packed = []

    def fake_pack(npm, spec, workdir):
        packed.append(spec)
        return _fake_tarball(workdir)

    monkeypatch.setattr(assets, "_npm", lambda: "npm")
    monkeypatch.setattr(assets, "_pack", fake_pack)
    dest = tmp_path / "cdn"
    specs = ("@scope/app@1.0.0", "lib@2")
    assert not assets.assets_ready(dest, specs)
    assert assets.fetch_assets(dest, packages=specs) == dest
    assert assets.assets_ready(dest, specs)
    assert (dest / "@scope/app@1.0.0/dist/app.js").read_bytes() == b"x"
    assert not (dest / "lib@2/dist/app.js.map").exists()
    assets.fetch_assets(dest, packages=specs)  # already there: kept, not fetched again
    assert packed == list(specs)
    assert not list(dest.rglob(".partial-*"))


def test_fetch_assets_without_npm_is_an_input_error(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SimsolidarityError, match="npm was not found"):
        assets.fetch_assets(tmp_path)


def test_cdn_packages_are_those_the_installed_solara_loads():
    """A Solara upgrade that changes a pinned asset version must show up here, not as a blank page offline."""
    import solara

    root = Path(solara.__file__).parent
    text = "".join((root / name).read_text() for name in
                   ("server/templates/solara.html.j2", "widgets/vue/gridlayout.vue", "server/settings.py"))
    for spec in assets.CDN_PACKAGES:
        if re.search(r"@\d+\.\d+\.\d+", spec):
            assert f"/{spec}/" in text, spec


def test_default_cache_dir_follows_solaras_setting(monkeypatch, tmp_path):
    monkeypatch.setenv(assets.CACHE_DIR_VARIABLE, str(tmp_path))
    assert assets.default_cache_dir() == tmp_path
    monkeypatch.delenv(assets.CACHE_DIR_VARIABLE)
    assert assets.default_cache_dir() == Path(sys.prefix) / "share" / "solara" / "cdn"


# --- commands -------------------------------------------------------------------------------------


def _parse(argv):
    parser = argparse.ArgumentParser()
    handlers = commands.add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return handlers[args.command], args


def test_commands_parse():
    handler, args = _parse(["viz", "echo_chamber", "--port", "0", "--host", "127.0.0.1"])
    assert handler is commands.run_viz and args.scenario == "echo_chamber" and args.port == 0
    handler, args = _parse(["viz-assets", "--dest", "x", "--quiet"])
    assert handler is commands.prepare_assets and args.dest == Path("x") and args.quiet


@pytest.mark.parametrize("argv", [
    ["viz", "no_such_scenario"], ["viz", "--port", "70000"], ["viz", "--assets", "/nonexistent/cdn"],
])
def test_bad_input_is_exit_code_2_before_any_server_starts(argv, monkeypatch, capsys):
    monkeypatch.setattr(commands, "serve", lambda *a, **k: pytest.fail("the server must not start"))
    assert commands.main(argv) == 2
    assert "simsolidarity: error:" in capsys.readouterr().err


def test_viz_refuses_to_start_when_the_page_could_load_no_scripts(monkeypatch, tmp_path, capsys):
    """No asset cache and no CDN: exit code 2 and the command that fixes it, before any server starts.

    Mutation caught: the check skipped, which leaves a blank page and one line on the terminal.
    """
    monkeypatch.setenv(assets.CACHE_DIR_VARIABLE, str(tmp_path / "empty-cache"))
    monkeypatch.setattr(commands, "cdn_reachable", lambda: False)
    monkeypatch.setattr(commands, "serve", lambda *a, **k: pytest.fail("the server must not start"))
    assert commands.main(["viz", "baseline"]) == 2
    error = capsys.readouterr().err
    assert "simsolidarity viz-assets" in error and str(tmp_path / "empty-cache") in error
    monkeypatch.setattr(commands, "cdn_reachable", lambda: True)  # online: served from the CDN, with a note
    monkeypatch.setattr(commands, "serve", lambda *a, **k: 0)
    assert commands.main(["viz", "baseline"]) == 0
    assert "loads its scripts from" in capsys.readouterr().err


def test_a_port_in_use_is_an_input_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(server.ServerError, match="in use"):
            server.serve(ROOT / "scenarios/baseline.yaml", "127.0.0.1", taken.getsockname()[1])


def test_address_to_open():
    assert server.address("127.0.0.1", 8765) == "http://127.0.0.1:8765/"
    assert server.address("0.0.0.0", 80) == "http://localhost:80/"


# --- the page in a real browser -------------------------------------------------------------------

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]
#: The window a person opens the app in.
VIEWPORT = {"width": 1400, "height": 900}
#: The SHA-256 of each card's picture, fetched from the page.
IMAGE_HASHES = """async () => {
  const out = [];
  for (const img of document.querySelectorAll('.simsolidarity-card img')) {
    const data = await (await fetch(img.src)).arrayBuffer();
    const digest = await crypto.subtle.digest('SHA-256', data);
    out.push(Array.from(new Uint8Array(digest)).map(b => b.toString(16).padStart(2, '0')).join(''));
  }
  return out;
}"""
IMAGE_SOURCES = "() => Array.from(document.querySelectorAll('.simsolidarity-card img')).map(e => e.src)"
ALL_REPLACED = """old => {
  const now = Array.from(document.querySelectorAll('.simsolidarity-card img')).map(e => e.src);
  return now.length === old.length && now.every((src, i) => src !== old[i]);
}"""


def _chromium() -> str | None:
    return os.environ.get("SIMSOLIDARITY_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser_tools():
    """Playwright's API and the Chromium to drive, or a skip naming what is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)")
    if not assets.assets_ready():
        pytest.skip(f"no offline asset cache at {assets.default_cache_dir()} (run: simsolidarity viz-assets)")
    return sync_playwright, chromium


class Served:
    """A server of the app (``simsolidarity viz`` by default) and the lines it printed."""

    def __init__(self, port: int, command: list[str] | None = None, ready: str | None = None) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.ready = ready or self.url
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.process = subprocess.Popen(
            command or [sys.executable, "-m", "simsolidarity.viz", "viz", "baseline", "--host", "127.0.0.1",
                        "--port", str(port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, cwd=ROOT,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.output.append(line.rstrip())
            self.lines.put(line)

    def wait_for_address(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.ready in self.lines.get(timeout=0.5):
                    return
            except queue.Empty:
                if self.process.poll() is not None:
                    break
        pytest.fail("the server printed no address:\n" + "\n".join(self.output))

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def served(browser_tools):
    """``simsolidarity viz baseline`` on a free loopback port; always killed afterwards."""
    handle = Served(server.free_port())
    try:
        handle.wait_for_address()
        yield handle
    finally:
        handle.kill()


@pytest.fixture
def served_broken(browser_tools):
    """The app with three cards broken on purpose (:mod:`tests.viz_mutant_server`); always killed afterwards."""
    port = server.free_port()
    handle = Served(port, [sys.executable, "-m", "tests.viz_mutant_server", str(port)], ready=f":{port}")
    try:
        handle.wait_for_address()
        yield handle
    finally:
        handle.kill()


def _open(playwright, chromium, url: str, problems: list[str]):
    """A 1400 x 900 page of ``url`` whose errors (page, console, failed requests) go to ``problems``."""
    browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=BROWSER_ARGS)
    page = browser.new_page(viewport=VIEWPORT, accept_downloads=True)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(f"console error: {message.text}")
            if message.type == "error" else None)
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.goto(url)
    page.get_by_role("button", name=re.compile(r"^\s*step\s*$", re.IGNORECASE)).wait_for(timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('.simsolidarity-card img').length >= 8", timeout=30_000)
    return browser, page


def _button(page, name: str):
    return page.get_by_role("button", name=re.compile(rf"^\s*{re.escape(name)}\s*$", re.IGNORECASE))


def _at_step(page, step: int, end: int) -> None:
    page.wait_for_function("t => document.body.innerText.includes(t)", arg=f"step {step} of {end}", timeout=20_000)


def _steady_step(page) -> int:
    """The step the page shows once it stays the same for 0.4 s (a step under way when Play was paused ends)."""
    last = None
    for _ in range(25):
        now = int(re.search(r"step (\d+) of", page.inner_text("body")).group(1))
        if now == last:
            return now
        last = now
        page.wait_for_timeout(400)
    pytest.fail(f"the step shown did not settle after Play was paused (last: {last})")


def _type_in(page, label: str, text: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Enter")


def _step(page, expected, end: int, every_picture_changes: bool = True) -> float:
    """Click Step and wait until every picture is new (or, where some cannot change, a while); the seconds it
    took. ``expected`` takes the same step."""
    sources = page.evaluate(IMAGE_SOURCES)
    started = time.monotonic()
    _button(page, "step").click()
    expected.step()
    _at_step(page, expected.model.steps, end)
    if every_picture_changes:
        page.wait_for_function(ALL_REPLACED, arg=sources, timeout=20_000)
    else:
        page.wait_for_timeout(1500)
    return time.monotonic() - started


def _download(page, name: str) -> Path:
    with page.expect_download(timeout=20_000) as download:
        _button(page, name).first.click()
    return Path(download.value.path())


def test_browser_shows_the_model_as_it_is_and_saves_what_it_shows(browser_tools, served, tmp_path):
    """At 1400 x 900, what a person sees is the model: cards in view, pictures the cards' own, values the outcomes.

    Then Play and pause, a run that stops at its end step, an edited parameter that waits for Reset,
    and the three saved files, each read back. Mutations caught (the test below shows each): an empty
    map, a shrunk card, wrong values; an error in the page's console fails it too.
    """
    import pandas as pd

    from tests.viz_page import Expected, page_problems

    sync_playwright, chromium = browser_tools
    problems: list[str] = []
    expected = Expected("baseline")
    with sync_playwright() as playwright:
        browser, page = _open(playwright, chromium, served.url, problems)
        try:
            _at_step(page, 0, 200)
            assert page.title() == "simsolidarity: baseline"
            assert "runs on Solara" not in page.inner_text("body")  # no banner over the cards
            assert page_problems(page, expected) == []
            before = page.evaluate(IMAGE_HASHES)
            redraws = [_step(page, expected, 200) for _ in range(3)]
            assert page_problems(page, expected) == []
            after = page.evaluate(IMAGE_HASHES)
            assert all(a != b for a, b in zip(before, after, strict=True)), "a card did not change after 3 steps"
            # Speed is measured in benchmarks/bench.py; this only reports what the browser saw.
            print("step redraws in the browser (s):", [round(r, 2) for r in redraws])

            _button(page, "▶").click()
            page.wait_for_function("() => /step ([6-9]|\\d\\d+) of/.test(document.body.innerText)", timeout=20_000)
            _button(page, "❚❚").click()
            _button(page, "▶").wait_for(timeout=10_000)
            reached = _steady_step(page)
            _type_in(page, "run until step", str(reached + 2))
            _at_step(page, reached, reached + 2)
            page.wait_for_timeout(300)  # the controller for the new end is being drawn, as a person sees it
            _button(page, "▶").click()
            _at_step(page, reached + 2, reached + 2)
            page.wait_for_function("() => document.body.innerText.includes('the run has ended')", timeout=10_000)
            page.wait_for_timeout(500)  # Play has stopped by itself: the step stays
            _at_step(page, reached + 2, reached + 2)

            table = pd.read_csv(_download(page, "time series (CSV)"))
            assert list(table["step"]) == list(range(reached + 3)) and "esteban_ray" in table
            picture = Image.open(_download(page, "PNG"))
            assert picture.size == (400, 260)

            _type_in(page, "confidence", "0.3")
            page.wait_for_function("() => document.body.innerText.includes('confidence: 0.5 -> 0.3')", timeout=10_000)
            old_pictures = page.evaluate(IMAGE_HASHES)
            _button(page, "reset").click()
            _at_step(page, 0, reached + 2)
            page.wait_for_function("() => document.body.innerText.includes('confidence 0.3')", timeout=10_000)
            assert "wait for Reset" not in page.inner_text("body")
            _button(page, "step").click()
            _at_step(page, 1, reached + 2)
            page.wait_for_timeout(500)
            assert page.evaluate(IMAGE_HASHES) != old_pictures
            saved = tmp_path / "saved.yaml"
            saved.write_bytes(_download(page, "settings (scenario YAML)").read_bytes())
            scenario = load_scenario(saved)
            assert scenario.model["confidence"] == 0.3 and scenario.seed == 42 and scenario.steps == reached + 2

            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    assert not problems, problems
    assert Image.open(SCREENSHOT).size == (VIEWPORT["width"], VIEWPORT["height"])

    os.kill(served.process.pid, signal.SIGINT)  # Ctrl-C
    assert served.process.wait(timeout=20) == 0
    time.sleep(0.2)
    assert "simsolidarity viz: stopped" in served.output


def test_browser_check_names_each_broken_card(browser_tools, served_broken):
    """The check of the test above, on an app with an empty map, a shrunk card and wrong values: it names all three."""
    from tests.viz_page import Expected, page_problems

    sync_playwright, chromium = browser_tools
    expected = Expected("baseline")
    with sync_playwright() as playwright:
        browser, page = _open(playwright, chromium, served_broken.url, [])
        try:
            for _ in range(2):
                _step(page, expected, 200, every_picture_changes=False)  # a broken card may never change
            problems = page_problems(page, expected)
        finally:
            browser.close()
    assert any(p.startswith("map of people: the picture is not the card's drawing") for p in problems), problems
    assert any(p.startswith("echo chambers: picture of [2, 2] pixels") for p in problems), problems
    assert any(p.startswith("value of esteban_ray:") for p in problems), problems
