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
import statistics
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
from simsolidarity.model.recommenders import RECOMMENDERS
from simsolidarity.running.scenario import load_scenario
from simsolidarity.viz import assets, commands, controls, server
from simsolidarity.viz.appmodel import VizModel, display_sample, fit_grid, seed_from_text

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
    """Same parameters and seed: the same run, whether the app built it or not (the sample draws nothing)."""
    plain = SolidarityModel(SMALL, rng=5)
    app = VizModel(SMALL, rng="5", display_limit=100)
    assert app.sample is not None and app.sample.size == 100
    for _ in range(3):
        plain.step()
        app.step()
    np.testing.assert_array_equal(plain.opinion, app.opinion)
    assert plain.outcomes() == pytest.approx(app.outcomes(), nan_ok=True)


def test_viz_model_fits_the_grid_to_the_population_slider():
    model = VizModel(dict(SMALL), rng=1, n_people=1500)
    assert model.n_people == 1500
    assert model.parameters["width"] * model.parameters["height"] >= 1500
    model.step()


def test_display_sample_is_fixed_and_only_for_large_populations():
    assert display_sample(4000, limit=5000) is None
    first, again = display_sample(20000, limit=5000), display_sample(20000, limit=5000)
    np.testing.assert_array_equal(first, again)
    assert first.size == 5000 and np.all(np.diff(first) > 0)


# --- controls -------------------------------------------------------------------------------------


def test_controls_come_from_the_schema_and_the_scenario():
    scenario = load_scenario("echo_chamber")
    params = controls.model_params(scenario)
    assert params["parameters"] == scenario.model
    assert params["rng"]["value"] == str(scenario.seed)
    assert params["recommender"] == {
        "type": "Select", "value": "similarity", "values": list(RECOMMENDERS), "label": "recommender",
    }
    confidence = params["confidence"]
    assert confidence["value"] == scenario.model["confidence"] == 0.4
    assert 0 < confidence["min"] <= 0.01 and confidence["max"] == PARAMETERS["confidence"].high
    assert params["online_depth"]["min"] == 0 and params["online_depth"]["max"] == 1
    people = params["n_people"]
    assert people["type"] == "SliderInt" and people["min"] >= PARAMETERS["n_people"].low
    assert people["min"] <= people["value"] <= people["max"]
    assert set(controls.CONTROLLED) <= set(params)


def test_controls_build_the_model_as_mesa_reset_does():
    """Reset calls the model class with the fixed entries and each control's value, the seed as text."""
    scenario = load_scenario("baseline")
    params = controls.model_params(scenario)
    kwargs = {k: (v["value"] if isinstance(v, dict) and "type" in v else v) for k, v in params.items()}
    kwargs["recommender"] = "bridging"
    kwargs["n_people"] = params["n_people"]["max"]
    model = VizModel(**kwargs)
    assert model.parameters["recommender"] == "bridging"
    assert model.n_people == params["n_people"]["max"]
    assert model.seed == scenario.seed


def test_a_scenario_value_outside_the_app_range_widens_the_slider():
    entry = controls.control("n_people", 40)
    assert entry["min"] == 40


# --- cards ----------------------------------------------------------------------------------------


def _cards(model):
    from simsolidarity.viz import components

    return [components.PeopleMapCard(model), components.OpinionHistogramCard(model),
            components.VirtualGroupsCard(model), *(components.TrendCard(model, t) for t in components.TRENDS)]


def test_cards_draw_pngs_that_change_with_each_step():
    model = VizModel(SMALL, rng=3)
    cards = _cards(model)
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
    model = VizModel(SMALL, rng=3)
    cards = _cards(model)
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


def test_map_of_a_large_population_draws_its_sample():
    from simsolidarity.viz import components

    model = VizModel({**SMALL, "n_people": 600}, rng=2, display_limit=250)
    card = components.PeopleMapCard(model)
    assert sum(len(layer.get_offsets()) for layer in card.layers.values()) == 250
    assert "250 of 600 people" in card.ax.get_title()


def test_redraw_of_a_step_is_quick_at_the_default_population():
    model = VizModel(rng=42)
    cards = _cards(model)
    for card in cards:
        card.png()
    started = time.process_time()
    for _ in range(5):
        model.step()
        for card in cards:
            card.update(model)
            card.png()
    per_step = (time.process_time() - started) / 5
    assert per_step < 0.6, f"a step and its redraw took {per_step:.2f} s of CPU"


def test_summary_names_the_model_from_its_own_parameters():
    from simsolidarity.viz.components import model_summary

    model = VizModel(SMALL, rng="9", scenario_name="mine", recommender="local")
    line = model_summary(model)
    assert line.startswith("mine · recommender local · 400 people on 25x25")
    assert line.endswith("seed 9")


# --- the page, rendered by Solara without a browser -----------------------------------------------


def test_page_steps_and_resets_with_a_new_recommender():
    """SolaraViz's buttons and the recommender dropdown drive the model (widgets only, no browser)."""
    import ipyvuetify as v
    import ipywidgets
    import solara

    from simsolidarity.viz import app

    @solara.component
    def Layout():
        with solara.AppLayout():
            app.Page()

    _box, rc = solara.render(Layout(), handle_error=False)
    try:
        def body() -> str:
            return " ".join(str(w.widget.children) for w in rc.find(v.Html))

        def images() -> list[bytes]:
            return [w.widget.value for w in rc.find(ipywidgets.Image)]

        first = images()
        assert len(first) == 7
        assert "Time: 0.0" in body()
        step = rc.find(v.Btn, children=["Step"])
        step.assert_single()
        for _ in range(2):
            step.widget.click()
        assert "Time: 2.0" in body()
        assert all(a != b for a, b in zip(first, images(), strict=True))

        select = rc.find(v.Select, label="recommender")
        select.assert_single()
        assert select.widget.items == list(RECOMMENDERS)
        select.widget.v_model = "bridging"
        rc.find(v.Btn, children=["Reset"]).widget.click()
        assert "Time: 0.0" in body()
        assert "recommender bridging" in body()
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
CARDS = 7
#: The SHA-256 of each card's image, fetched from the page.
IMAGE_HASHES = """async () => {
  const out = [];
  for (const img of document.querySelectorAll('.vue-grid-item img')) {
    const data = await (await fetch(img.src)).arrayBuffer();
    const digest = await crypto.subtle.digest('SHA-256', data);
    out.push(Array.from(new Uint8Array(digest)).map(b => b.toString(16).padStart(2, '0')).join(''));
  }
  return out;
}"""
IMAGE_SOURCES = "() => Array.from(document.querySelectorAll('.vue-grid-item img')).map(e => e.src)"
ALL_REPLACED = """old => {
  const now = Array.from(document.querySelectorAll('.vue-grid-item img')).map(e => e.src);
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
    """The ``simsolidarity viz`` process and the lines it printed."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "simsolidarity.viz", "viz", "baseline", "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
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
                if self.url in self.lines.get(timeout=0.5):
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


def _time_is(page, value: float) -> None:
    page.wait_for_function("t => document.body.innerText.includes('Time: ' + t)", arg=f"{value:.1f}", timeout=20_000)


def test_browser_steps_plays_resets_and_stops(browser_tools, served):
    sync_playwright, chromium = browser_tools
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1720})
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
            page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
            page.goto(served.url)

            step = page.get_by_role("button", name=re.compile(r"^\s*step\s*$", re.IGNORECASE))
            step.wait_for(timeout=60_000)
            page.wait_for_function(f"() => document.querySelectorAll('.vue-grid-item img').length >= {CARDS}",
                                   timeout=30_000)
            _time_is(page, 0)
            assert "recommender similarity" in page.inner_text("body")
            before = page.evaluate(IMAGE_HASHES)
            assert len(before) == CARDS

            redraws = []
            for n in range(1, 4):
                sources = page.evaluate(IMAGE_SOURCES)
                started = time.monotonic()
                step.click()
                _time_is(page, n)
                page.wait_for_function(ALL_REPLACED, arg=sources, timeout=20_000)
                redraws.append(time.monotonic() - started)
            after = page.evaluate(IMAGE_HASHES)
            assert all(a != b for a, b in zip(before, after, strict=True)), "a card did not change after 3 steps"
            print("step redraws (s):", [round(r, 2) for r in redraws])
            assert statistics.median(redraws) < 1.0, f"step redraws took {redraws} s"

            page.get_by_role("button", name="▶").click()
            page.wait_for_function("() => /Time: ([6-9]|\\d\\d+)\\.0/.test(document.body.innerText)", timeout=20_000)
            page.get_by_role("button", name="❚❚").click()
            page.get_by_role("button", name="▶").wait_for(timeout=10_000)

            page.locator(".v-select", has_text="recommender").click()
            page.locator(".menuable__content__active .v-list-item", has_text="bridging").click()
            page.get_by_role("button", name=re.compile(r"^\s*reset\s*$", re.IGNORECASE)).click()
            _time_is(page, 0)
            page.wait_for_function("() => document.body.innerText.includes('recommender bridging')", timeout=20_000)
            step.click()
            _time_is(page, 1)

            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.wait_for_timeout(300)
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    assert not problems, problems
    assert Image.open(SCREENSHOT).size == (1400, 1720)

    os.kill(served.process.pid, signal.SIGINT)  # Ctrl-C
    assert served.process.wait(timeout=20) == 0
    time.sleep(0.2)
    assert "simsolidarity viz: stopped" in served.output
