"""Benchmarks of simsolidarity, measured in one run on one machine.

    python benchmarks/bench.py [--quick] [--out DIR]

1. Speed of the vectorized ``SolidarityModel`` against the object-per-person ``ReferenceModel``
   at 1,000, 10,000 and 100,000 people (the reference only where it finishes in reasonable time).
2. How the cost grows with the population, 1e3 to 1e6 people: seconds per step and peak memory,
   each size in a fresh process so that peaks do not mix; drawn as a log-log plot.
3. A sweep of short runs with 1 and with N workers: the parallel efficiency, read against the machine's own
   ceiling (the same run in N independent processes started together: what busy neighbours cost each).
4. The cost of data collection per step, per outcome.
5. Start-up of the command line: ``--help``, ``list``, ``validate``, each the best of several fresh
   processes, against its target (0.5 s, 0.5 s, 1 s).
6. The default 2,000-person scenario: milliseconds per step with every outcome collected, and a
   whole 200-step ``simsolidarity run`` of it (start-up and plots included), at ``feed_bias`` 0 and 1.
7. The browser app on the default scenario: a click of Step and the page's redraw, in Solara's widgets
   without a browser (the model's step, every card drawn and encoded, the page drawn again), and the
   cards' share of it.

It ends with one ``name: value`` line per headline figure, then a table of each figure of the
performance targets (benchmarks/PROFILE.md) against its target.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from simsolidarity import OUTCOMES, SolidarityModel, sweep
from simsolidarity.model.reference import ReferenceModel
from simsolidarity.running.executors import usable_cores
from simsolidarity.running.experiment import experiment_from_dict

#: Share of grid cells occupied, as in the default scenario (2,000 people on 50 x 50).
DENSITY = 0.8
#: The outcomes each run of the timed sweeps records, and so the machine-ceiling runs too.
SWEEP_OUTCOMES = ("esteban_ray", "belonging")


def grid_for(n: int) -> dict[str, int]:
    """Population ``n`` on a square grid at the default density."""
    side = math.ceil(math.sqrt(n / DENSITY))
    return {"n_people": n, "width": side, "height": side}


def median_seconds(action, repeats: int, warmup: int) -> float:
    """Median seconds of ``action()`` over ``repeats`` calls, after ``warmup`` calls that are not timed."""
    for _ in range(warmup):
        action()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def seconds_per_step(model, steps: int, warmup: int = 2) -> float:
    """Median seconds of one step over ``steps`` steps, after ``warmup`` steps (first joins settle)."""
    return median_seconds(model.step, steps, warmup)


def child(n: int, steps: int) -> None:
    """Measure one population size in this (fresh) process and print JSON."""
    start = time.perf_counter()
    model = SolidarityModel(grid_for(n), rng=1)
    init = time.perf_counter() - start
    per_step = seconds_per_step(model, steps)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"n": n, "init_s": init, "step_s": per_step, "peak_mb": peak}))


def measure_size(n: int, steps: int) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(n), str(steps)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def against_reference(sizes: list[int], steps: int, reference_limit: int) -> list[dict]:
    rows = []
    for n in sizes:
        fast = seconds_per_step(SolidarityModel(grid_for(n), rng=1), steps)
        row = {"n": n, "fast_s": fast, "reference_s": math.nan, "speedup": math.nan}
        if n <= reference_limit:
            reference_steps = max(2, steps // 5) if n >= 10_000 else steps
            row["reference_s"] = seconds_per_step(ReferenceModel(grid_for(n), rng=1), reference_steps, warmup=1)
            row["speedup"] = row["reference_s"] / fast
        rows.append(row)
        print(f"  {n:>9,d} people: vectorized {fast * 1e3:9.2f} ms/step ({n / fast:12,.0f} person-steps/s)"
              + ("" if math.isnan(row["speedup"]) else
                 f"; reference {row['reference_s'] * 1e3:10.1f} ms/step; speed-up {row['speedup']:7.1f}x"),
              flush=True)
    return rows


def sweep_efficiency(workers: int, runs: int, people: int, steps: int) -> dict:
    """Throughput of a sweep of ``runs`` equal runs with 1 and with ``workers`` workers.

    A first, tiny sweep starts the pool's fork server, which imports Mesa, SciPy and matplotlib
    once per process (a fixed cost of a few seconds, reported on its own); the timed sweeps then
    measure throughput.
    """
    def experiment(replicates: int, length: int):
        return experiment_from_dict({
            "name": "bench", "replicates": replicates, "paired": False, "sweep": {"recommender": ["similarity"]},
            "outcomes": list(SWEEP_OUTCOMES), "plots": "none",
            "scenario": {"name": "bench", "steps": length, "model": grid_for(people)},
        })

    elapsed = {}
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        sweep(experiment(workers, 1), out=Path(scratch) / "warm", workers=workers, progress=False, plots=False)
        startup = time.perf_counter() - start
        for count in (1, workers):
            start = time.perf_counter()
            sweep(experiment(runs, steps), out=Path(scratch) / f"w{count}", workers=count, progress=False,
                  plots=False)
            elapsed[count] = time.perf_counter() - start
    speedup = elapsed[1] / elapsed[workers]
    return {"workers": workers, "runs": runs, "run_s": elapsed[1] / runs, "speedup": speedup,
            "efficiency": speedup / workers, "startup_s": startup}


def timed_run(people: int, steps: int) -> None:
    """In this (fresh) process: one run like a sweep's (build, steps, two outcomes), started when a line arrives
    on standard input, timed; prints JSON."""
    SolidarityModel(grid_for(100), rng=0).step()  # numba's kernels loaded before the start
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.perf_counter()
    model = SolidarityModel(grid_for(people), rng=0, outcomes=SWEEP_OUTCOMES)
    for _ in range(steps):
        model.step()
    print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)


def machine_ceiling(workers: int, people: int, steps: int) -> dict:
    """The same run alone, then in ``workers`` independent processes started at the same moment.

    How much busy neighbours slow each run (shared caches, memory bandwidth, cores that are hardware
    threads of one another) is the machine's, not the sweep's: ``alone / together`` is the most any
    sweep's efficiency on ``workers`` workers can reach here, the ceiling the sweep's figure is read against.
    """
    def together(count: int) -> list[float]:
        children = [subprocess.Popen([sys.executable, __file__, "--timed-run", str(people), str(steps)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    for _ in range(count)]
        try:
            for child in children:
                if child.stdout.readline().strip() != "ready":
                    raise RuntimeError(f"a timed run failed before its start: {child.communicate()[1].strip()[-2000:]}")
            for child in children:
                child.stdin.write("go\n")
                child.stdin.flush()
            seconds = []
            for child in children:
                out, err = child.communicate()
                if child.returncode != 0:
                    raise RuntimeError(f"a timed run failed: {err.strip()[-2000:]}")
                seconds.append(json.loads(out.strip().splitlines()[-1])["seconds"])
            return seconds
        finally:
            for child in children:  # after a failure, the others are stopped rather than left to run
                child.kill()
                child.wait()

    alone = float(np.median(together(1) + together(1) + together(1)))
    busy = float(np.mean(together(workers)))
    return {"alone_s": alone, "together_s": busy, "ceiling": alone / busy}


def collection_cost(n: int, steps: int) -> dict:
    """Seconds per step without data collection, with all outcomes, and each outcome's own cost."""
    bare = seconds_per_step(SolidarityModel(grid_for(n), rng=1, outcomes=[]), steps)
    full = seconds_per_step(SolidarityModel(grid_for(n), rng=1), steps)
    model = SolidarityModel(grid_for(n), rng=1)
    for _ in range(3):
        model.step()
    each = {}
    for name, outcome in OUTCOMES.items():
        start = time.perf_counter()
        for _ in range(5):
            outcome.report(model)
        each[name] = (time.perf_counter() - start) / 5
    return {"n": n, "bare_s": bare, "full_s": full, "each": each}


#: Commands whose start-up is measured, by a short name, and the most seconds each may take.
STARTUP = {
    "help": (["--help"], 0.5),
    "list_parameters": (["list", "parameters"], 0.5),
    "list_outcomes": (["list", "outcomes"], 0.5),
    "validate": (["validate", "scenarios/baseline.yaml", "experiments/recommenders.yaml"], 1.0),
}


def default_scenario(feed_bias: float, steps: int, runs: int = 3) -> dict:
    """The default scenario (2,000 people, every outcome): seconds per step, and a whole ``simsolidarity run``
    (the median wall time of ``runs`` fresh processes, this machine's speed drifting between seconds)."""
    per_step = seconds_per_step(SolidarityModel(rng=1, feed_bias=feed_bias), steps)
    root = Path(__file__).resolve().parent.parent
    walls = []
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "simsolidarity", "-q", "run", "scenarios/baseline.yaml",
                            "--set", f"feed_bias={feed_bias}", "--out", str(Path(scratch) / f"run{run}")],
                           cwd=root, check=True, stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - start)
    return {"feed_bias": feed_bias, "step_s": per_step, "run_s": float(np.median(walls))}


def app_redraw(steps: int) -> dict:
    """The browser app at 2,000 people: the median seconds of a Step click and the page's redraw, in Solara's
    widgets (no browser: the transfer of the pictures and the browser's drawing are not in it), and of the
    cards' own part (a model step, then each card updated and encoded as PNG)."""
    import ipyvuetify
    import solara

    from simsolidarity.viz import app
    from simsolidarity.viz.components import all_cards

    _box, page = solara.render(app.Page(), handle_error=False)
    try:
        button = page.find(ipyvuetify.Btn, children=["Step"]).widget
        click_s = median_seconds(button.click, steps, warmup=3)  # the first redraws draw each card's frame
    finally:
        page.close()
    model = app.initial_model(app.scenario)
    cards = all_cards(model)

    def step_and_draw() -> None:
        model.step()
        for card in cards:
            card.update(model)
            card.png()

    return {"click_s": click_s, "cards_s": median_seconds(step_and_draw, steps, warmup=3)}


def startup_seconds(arguments: list[str], repeats: int) -> float:
    """The shortest wall time of ``simsolidarity ARGUMENTS`` over ``repeats`` fresh processes."""
    root = Path(__file__).resolve().parent.parent
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "simsolidarity", *arguments], cwd=root, check=True,
                       stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def scaling_plot(rows: list[dict], path: Path) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 4), layout="constrained")
    left, right = figure.subplots(1, 2)
    n = [r["n"] for r in rows]
    left.loglog(n, [r["step_s"] for r in rows], "o-", label="measured")
    left.loglog(n, [rows[0]["step_s"] * x / n[0] for x in n], ":", color="grey", label="linear in people")
    left.set_xlabel("people")
    left.set_ylabel("seconds per step")
    left.legend(frameon=False)
    right.loglog(n, [r["peak_mb"] for r in rows], "o-", color="tab:red")
    right.axhline(2048, color="grey", linestyle=":", label="2 GB")
    right.set_xlabel("people")
    right.set_ylabel("peak memory (MB)")
    right.legend(frameon=False)
    figure.suptitle(f"SolidarityModel cost by population ({platform.processor() or platform.machine()})")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer steps and runs: about 3 minutes on 2 cores")
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks"), help="where the plot goes")
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--timed-run", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.timed_run:
        timed_run(*args.timed_run)
        return
    quick = args.quick
    cores = usable_cores()
    print(f"machine: {platform.machine()}, {cores} cores, Python {platform.python_version()}, numpy {np.__version__}")

    print("\n1. vectorized model against the object-per-person reference (median seconds per step)")
    # The reference is left out at 100,000 people: a step there takes minutes.
    reference = against_reference([1_000, 10_000, 100_000], steps=5 if quick else 20, reference_limit=10_000)

    print("\n2. cost by population (a fresh process per size)")
    # Ten million people take some 10 GB of memory to build and a minute to measure: not in --quick.
    sizes = [1_000, 10_000, 100_000, 1_000_000] + ([] if quick else [10_000_000])
    scaling = []
    for n in sizes:
        row = measure_size(n, steps=3 if quick or n > 1_000_000 else 10)
        scaling.append(row)
        print(f"  {n:>9,d} people: {row['step_s']:8.3f} s/step, {n / row['step_s']:12,.0f} person-steps/s, "
              f"peak {row['peak_mb']:7.0f} MB, set-up {row['init_s']:6.2f} s", flush=True)
    if not quick:
        scaling_plot(scaling, args.out / "scaling.png")
        print(f"  plot: {args.out / 'scaling.png'}")

    print(f"\n3. sweep of short runs, 1 against {cores} workers")
    # Runs of a second or more each, as the target is stated for.
    sweep = sweep_efficiency(max(cores, 2), runs=4 * max(cores, 2) if quick else 12 * max(cores, 2),
                             people=20_000, steps=300)
    print(f"  {sweep['runs']} runs of {sweep['run_s']:.2f} s: {sweep['workers']} workers give a speed-up of "
          f"{sweep['speedup']:.2f} (efficiency {sweep['efficiency']:.2f}); starting the worker server once per "
          f"process took {sweep['startup_s']:.1f} s")
    ceiling = machine_ceiling(sweep["workers"], people=20_000, steps=300)
    print(f"  the same run in {sweep['workers']} independent processes at once took {ceiling['together_s']:.2f} s "
          f"each, against {ceiling['alone_s']:.2f} s alone: no sweep can pass an efficiency of "
          f"{ceiling['ceiling']:.2f} on this machine; the sweep reached {sweep['efficiency'] / ceiling['ceiling']:.2f} "
          "of that")

    print("\n4. data collection per step (10,000 people)")
    cost = collection_cost(10_000, steps=5 if quick else 20)
    print(f"  step without collection {cost['bare_s'] * 1e3:.1f} ms, with every outcome {cost['full_s'] * 1e3:.1f} ms")
    for name, seconds in sorted(cost["each"].items(), key=lambda item: -item[1]):
        print(f"    {name:<22} {seconds * 1e3:7.2f} ms")

    print("\n5. start-up of the command line (best of fresh processes)")
    startup = {}
    for name, (arguments, target) in STARTUP.items():
        startup[name] = startup_seconds(arguments, repeats=3 if quick else 7)
        verdict = "within" if startup[name] <= target else "OVER"
        print(f"  simsolidarity {' '.join(arguments):<62} {startup[name]:6.2f} s  ({verdict} the {target:g} s target)")

    print("\n6. the default scenario, 2,000 people, every outcome (feed_bias 0 and 1)")
    default = {}
    for bias in (0.0, 1.0):
        default[bias] = default_scenario(bias, steps=20 if quick else 100)
        print(f"  feed_bias {bias:g}: {default[bias]['step_s'] * 1e3:7.2f} ms/step; a 200-step 'simsolidarity run' "
              f"with its plots {default[bias]['run_s']:5.2f} s", flush=True)

    print("\n7. the browser app, default scenario: a Step click and the page's redraw (Solara's widgets, no browser)")
    redraw = app_redraw(steps=10 if quick else 40)
    print(f"  {redraw['click_s'] * 1e3:.0f} ms a step, of which the eight cards' drawing and PNG encoding "
          f"{redraw['cards_s'] * 1e3:.0f} ms with the model's step ({default[0.0]['step_s'] * 1e3:.1f} ms of it)")

    by_size = {row["n"]: row for row in scaling}
    speedup_10k = next(r["speedup"] for r in reference if r["n"] == 10_000)
    print()
    print(f"speedup_vs_reference_10000: {speedup_10k:.1f}")
    print(f"person_steps_per_s_1000000: {1_000_000 / by_size[1_000_000]['step_s']:.0f}")
    print(f"peak_mb_1000000: {by_size[1_000_000]['peak_mb']:.0f}")
    print(f"sweep_efficiency_{sweep['workers']}_workers: {sweep['efficiency']:.2f}")
    print(f"machine_ceiling_{sweep['workers']}_processes: {ceiling['ceiling']:.2f}")
    print(f"collection_overhead_10000: {cost['full_s'] / cost['bare_s']:.2f}")
    for name, seconds in startup.items():
        print(f"startup_s_{name}: {seconds:.2f}")
    print(f"default_ms_per_step: {default[0.0]['step_s'] * 1e3:.2f}")
    print(f"default_run_s: {default[0.0]['run_s']:.2f}")
    print(f"app_redraw_s: {redraw['click_s']:.3f}")
    if 10_000_000 in by_size:
        print(f"person_steps_per_s_10000000: {10_000_000 / by_size[10_000_000]['step_s']:.0f}")
        print(f"peak_mb_10000000: {by_size[10_000_000]['peak_mb']:.0f}")

    # The performance targets (benchmarks/PROFILE.md), each with the figure measured in this run.
    targets = [
        ("1,000,000 people: person-steps/s, every outcome", 1_000_000 / by_size[1_000_000]["step_s"], ">=", 5e6),
        ("default scenario: ms per step, every outcome", default[0.0]["step_s"] * 1e3, "<=", 1.0),
        ("default scenario: 200-step run, s", default[0.0]["run_s"], "<=", 3.0),
        ("speed-up over the reference, 10,000 people", speedup_10k, ">=", 150.0),
        ("browser app: a step and its redraw, s", redraw["click_s"], "<=", 0.1),
        (f"sweep efficiency, {sweep['workers']} workers", sweep["efficiency"], ">=",
         0.95 if sweep["workers"] <= 2 else 0.9),
    ]
    if 10_000_000 in by_size:
        targets += [
            ("10,000,000 people: person-steps/s, every outcome", 10_000_000 / by_size[10_000_000]["step_s"], ">=",
             4e6),
            ("10,000,000 people: peak memory, MB", by_size[10_000_000]["peak_mb"], "<=", 2000.0),
        ]
    print("\ntargets (this machine; feed_bias 0, and the same figure at feed_bias 1 where one was measured)")
    beside = {"default scenario: ms per step, every outcome": default[1.0]["step_s"] * 1e3,
              "default scenario: 200-step run, s": default[1.0]["run_s"]}
    for label, value, sense, target in targets:
        met = value >= target if sense == ">=" else value <= target
        biased = f"  (feed_bias 1: {beside[label]:,.2f})" if label in beside else ""
        print(f"  {label:<50} {value:14,.2f}  target {sense} {target:<12,g} {'met' if met else 'MISSED'}{biased}")


if __name__ == "__main__":
    main()
