"""Experiment files: a base scenario, a sweep over model parameters, replicates and a sampler.

An experiment is a YAML mapping::

    name: recommenders
    description: What the sweep asks.
    scenario: ../scenarios/baseline.yaml   # a path relative to this file, or an inline scenario mapping
    seed: 2026                             # optional: the root of every run's seed (default: the scenario's)
    steps: 100                             # optional: overrides the scenario's steps
    replicates: 5                          # seeds per parameter point
    paired: true                           # replicate r uses the same seed at every point (default)
    sampler: grid                          # grid (product) | zip (lists side by side) | lhs (Latin hypercube)
                                           # | morris (elementary effects) | sobol (Saltelli design)
    samples: 20                            # lhs: points; morris: trajectories; sobol: base samples (a power of 2)
    sweep:
      recommender: [random, similarity, bridging]
      online_depth: {start: 0.1, stop: 0.9, num: 5}
    outcomes: [esteban_ray, belonging]     # outcomes summarised and plotted (default: all)
    final_window: 10                       # steps at the end averaged for summary.csv
    plots: all                             # all | none | a list of: outcomes, timeseries, frontier
    frontier: [esteban_ray, belonging]     # optional: the trade-off plot, x outcome then y outcome
    hypothesis:                            # optional: the claim, stated before the run
      claim: Similarity recommendation builds echo chambers.
      expect:
        - outcome: esteban_ray
          higher_when: {recommender: similarity}
          than: {recommender: random}
          kind: emergent                   # optional: emergent (default) | mechanism
        - outcome: support_isolated
          relative_to: support_received    # optional: the gap outcome - relative_to, within each run
          lower_when: {recommender: similarity}
          than: {recommender: random}
    targets:                               # optional: observed patterns the outcomes should reproduce
      unmet_need_share: {range: [0.15, 0.3], source: "adults often lonely: a fifth to a quarter in surveys"}

Each expectation has a ``kind``. ``mechanism``: its direction follows from one rule of the model
(support through online ties grows with their depth), so the sweep checks the implementation
and a verdict other than ``supported`` points to a bug. ``emergent`` (the default): no single rule
implies it, so its verdict is a finding about the model. The kind is per expectation, not per
hypothesis, because one claim often mixes both: the direct effect of a rule and what follows from
it through the people's interaction.

``relative_to`` turns an expectation into one on a gap between two outcomes of the same run
(``support_isolated`` relative to ``support_received``: how far the most isolated quartile falls
behind everyone), compared between the arms: the form of a question about *who* gains or loses,
which no single outcome answers.

``targets`` calibrate the model to observed patterns (pattern-oriented modelling, Grimm et al.
2005, Science 310:987): each names an outcome, the ``range`` ``[low, high]`` its final-window
mean at a point (averaged over the point's replicates) should fall in, and the ``source`` of
that range in one line. The points inside every target are accepted, the others rejected
(approximate Bayesian computation by rejection; :mod:`simsolidarity.analysis.calibration`).
A target's outcome is added to the experiment's outcomes if they leave it out.

A polarization verdict needs more than one measure (see :data:`POLARIZATION_CHECKS`): an
expectation on a polarization measure adds the measures it is checked with to the experiment's
outcomes, and the verdict holds only where they agree (:mod:`simsolidarity.analysis.hypotheses`).

Every point is checked against the parameter schema (with the base scenario's other values)
before any run starts; unknown names are errors with the nearest name suggested. The number of
runs is counted from the sweep's spec before any point is built, and an experiment of more than
:data:`MAX_RUNS` runs is refused unless the caller raises the limit (``max_runs``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from simsolidarity.errors import ParameterError, shown
from simsolidarity.model.memory import estimate_memory
from simsolidarity.model.outcomes import OUTCOMES
from simsolidarity.model.parameters import PARAMETERS, resolve_changes
from simsolidarity.running.samplers import RANGE_SAMPLERS, SAMPLERS, Sampler, SamplerError
from simsolidarity.running.scenario import (
    Outputs,
    Scenario,
    ScenarioCapacityError,
    ScenarioError,
    check_integer,
    check_keys,
    check_names,
    check_runnable,
    load_scenario,
    name_and_description,
    plain,
    read_yaml,
    resolve_scenario_path,
    scenario_from_dict,
    suggestion,
)

#: Steps at the end of a run whose outcomes are averaged into its summary (``final_window``).
DEFAULT_FINAL_WINDOW = 10
EXPERIMENT_KEYS = (
    "name", "description", "scenario", "seed", "steps", "replicates", "paired", "sampler", "samples",
    "sweep", "outcomes", "final_window", "plots", "frontier", "hypothesis", "targets",
)
SWEEP_PLOTS = ("outcomes", "timeseries", "frontier")
EXPECTATION_KEYS = ("outcome", "relative_to", "higher_when", "lower_when", "than", "kind")
#: The kinds of an expectation: its direction follows from one rule of the model, or from none alone.
MECHANISM, EMERGENT = "mechanism", "emergent"
EXPECTATION_KINDS = (MECHANISM, EMERGENT)
RANGE_KEYS = ("start", "stop", "num")
TARGET_KEYS = ("range", "source")
#: Most runs (points x replicates) an experiment may have unless the caller raises the limit. A
#: run takes seconds to minutes; more runs than this are most likely a mistake in the file (a
#: misplaced zero, a grid over too many parameters), and would take memory even to list.
MAX_RUNS = 100_000
#: How a user raises :data:`MAX_RUNS`, for messages.
RAISE_MAX_RUNS = "raise it with --max-runs N on the command line, max_runs=N in Python"


DIRECTIONS = ("higher_when", "lower_when")

#: The kernel measure of polarization, which does not hinge on bins, and the two moment measures, one of
#: which must agree with it for a polarization verdict to hold.
KERNEL_POLARIZATION = "duclos_esteban_ray"
MOMENT_POLARIZATION = ("opinion_variance", "bimodality")
#: The binned Esteban-Ray measure at 10, 20 and 40 bins: shown wherever ``esteban_ray`` carries a verdict.
BINNED_POLARIZATION = ("esteban_ray_10", "esteban_ray", "esteban_ray_40")
#: The measures an expectation on each polarization measure is checked with (the opinion clusters
#: are left out: how many camps form is a question of its own, not a degree of polarization).
POLARIZATION_CHECKS: dict[str, tuple[str, ...]] = {
    measure: (KERNEL_POLARIZATION, *MOMENT_POLARIZATION,
              *(BINNED_POLARIZATION if measure in BINNED_POLARIZATION else ()))
    for measure in (KERNEL_POLARIZATION, *MOMENT_POLARIZATION, *BINNED_POLARIZATION)
}


@dataclass(frozen=True)
class Expectation:
    """One direction on one outcome: ``outcome`` is higher (or lower) when ``when`` than when ``than``.

    ``kind`` is ``"mechanism"`` when the direction follows from one rule of the model (a check of
    the implementation) or ``"emergent"`` (the default) when no single rule implies it (a finding).
    """

    outcome: str
    direction: str  # "higher" or "lower"
    when: dict[str, Any]
    than: dict[str, Any]
    kind: str = EMERGENT
    relative_to: str | None = None  # compare the gap ``outcome - relative_to`` within each run

    @property
    def measure(self) -> str:
        """What is compared: the outcome, or its gap to ``relative_to``."""
        return self.outcome if self.relative_to is None else f"{self.outcome} - {self.relative_to}"

    @property
    def checks(self) -> tuple[str, ...]:
        """The measures the expectation's verdict is checked with: for one on a polarization measure
        (not a gap), the measures of :data:`POLARIZATION_CHECKS` other than its own; else none."""
        if self.relative_to is not None:
            return ()
        return tuple(m for m in POLARIZATION_CHECKS.get(self.outcome, ()) if m != self.outcome)

    def text(self) -> str:
        """The expectation in words."""
        def values(selection: dict[str, Any]) -> str:
            return ", ".join(f"{k}={v}" for k, v in selection.items())

        return f"{self.measure} {self.direction} when {values(self.when)} than when {values(self.than)}"

    def to_dict(self) -> dict[str, Any]:
        """The expectation as in an experiment file (the default kind and no ``relative_to`` left out,
        so that sweep folders recorded before those keys existed resume)."""
        return {"outcome": self.outcome, **({} if self.relative_to is None else {"relative_to": self.relative_to}),
                f"{self.direction}_when": self.when, "than": self.than,
                **({} if self.kind == EMERGENT else {"kind": self.kind})}


@dataclass(frozen=True)
class Hypothesis:
    """The claim an experiment tests, stated before it runs, as expectations."""

    claim: str
    expect: tuple[Expectation, ...]


@dataclass(frozen=True)
class Target:
    """An observed pattern that an outcome should reproduce: its mean at a point within ``[low, high]``.

    The mean is over the point's replicates of each run's final-window mean (as in ``summary.csv``);
    ``source`` says in one line where the range comes from.
    """

    outcome: str
    low: float
    high: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        """The target as in an experiment file, without its outcome (the key it is listed under)."""
        return {"range": [self.low, self.high], "source": self.source}


@dataclass(frozen=True)
class RunPlan:
    """One run of a sweep, before it runs: its index, parameter point, replicate and seed."""

    index: int
    point: int
    replicate: int
    seed: int
    values: dict[str, Any]


@dataclass(frozen=True)
class Experiment:
    """A validated experiment: the base scenario, the points of the sweep and how to run them."""

    name: str
    description: str
    scenario: Scenario
    seed: int
    replicates: int
    paired: bool
    sampler: str
    swept: tuple[str, ...]
    points: tuple[dict[str, Any], ...]
    outcomes: tuple[str, ...]
    final_window: int
    plots: tuple[str, ...]
    source: str = "<inline>"
    samples: int | None = None
    ranges: tuple[tuple[str, float, float], ...] = ()  # (parameter, start, stop) of each range a sampler draws from
    frontier: tuple[str, str] | None = None
    hypothesis: Hypothesis | None = None
    targets: tuple[Target, ...] = ()

    @cached_property
    def largest_model(self) -> tuple[dict[str, Any], int]:
        """The parameters of the sweep's largest model and the bytes it needs (:func:`estimate_memory`).

        Computed once per experiment: validation checks that model, a sweep multiplies its bytes
        by the workers.
        """
        steps, outcomes = self.scenario.steps, len(self.outcomes)
        candidates = ({**self.scenario.model, **point} for point in self.points)
        return max(((parameters, estimate_memory(parameters, steps, outcomes)) for parameters in candidates),
                   key=lambda pair: pair[1])

    def problem(self) -> dict[str, Any]:
        """The swept ranges as a SALib problem definition (for a sampler with an analysis: ``morris``, ``sobol``)."""
        return {
            "num_vars": len(self.ranges),
            "names": [name for name, _, _ in self.ranges],
            "bounds": [[low, high] for _, low, high in self.ranges],
        }

    @property
    def n_runs(self) -> int:
        """The number of runs: points x replicates (no run is built)."""
        return len(self.points) * self.replicates

    def design(self) -> np.ndarray:
        """The design matrix that the sampler's analysis reads (``morris``, ``sobol``), one row per point, unrounded.

        Raises:
            SamplerError: for a sampler without an analysis.
        """
        analysis = SAMPLERS[self.sampler].analysis
        if analysis is None:
            raise SamplerError(f"the {self.sampler} sampler has no sensitivity analysis, so no design matrix")
        return analysis.matrix(self.problem(), self.samples or 0, self.seed)

    def runs(self) -> list[RunPlan]:
        """Every (point, replicate) in run order, with seeds derived from the root seed by ``SeedSequence``.

        A run's seed depends only on the root seed and its replicate (``paired``, so that points are
        compared on the same seeds) or its run index; never on how or where it is executed.
        """
        # Paired runs share one seed per replicate: derive each once, not once per point.
        seeds = [self._seed(key) for key in range(self.replicates)] if self.paired else None
        runs = []
        for point, values in enumerate(self.points):
            for replicate in range(self.replicates):
                index = point * self.replicates + replicate
                seed = seeds[replicate] if seeds is not None else self._seed(index)
                runs.append(RunPlan(index, point, replicate, seed, values))
        return runs

    def _seed(self, key: int) -> int:
        """The seed of spawn key ``key`` (the replicate when paired, else the run index) under the root seed."""
        return int(np.random.SeedSequence(self.seed, spawn_key=(key,)).generate_state(1)[0])

    def scenario_for(self, run: RunPlan) -> Scenario:
        """The base scenario with the run's parameter values and seed, writing the experiment's outcomes.

        Runs of a sweep draw no plots of their own (the sweep draws its comparison plots).
        """
        return replace(
            self.scenario,
            model={**self.scenario.model, **run.values},
            seed=run.seed,
            outputs=Outputs(outcomes=self.outcomes, plots=(), people_every=self.scenario.outputs.people_every,
                            network_every=self.scenario.outputs.network_every),
        )

    def to_dict(self) -> dict[str, Any]:
        """The resolved experiment as plain data (written as ``experiment.json``)."""
        return {
            "name": self.name,
            "description": self.description,
            "scenario": self.scenario.to_dict(),
            "seed": self.seed,
            "replicates": self.replicates,
            "paired": self.paired,
            "sampler": self.sampler,
            "swept": list(self.swept),
            "points": [dict(p) for p in self.points],
            "outcomes": list(self.outcomes),
            "final_window": self.final_window,
            "plots": list(self.plots),
            "samples": self.samples,
            "frontier": list(self.frontier) if self.frontier else None,
            "hypothesis": None if self.hypothesis is None else {
                "claim": self.hypothesis.claim,
                "expect": [e.to_dict() for e in self.hypothesis.expect],
            },
            # only when there are targets, so that sweep folders recorded before targets existed resume
            **({"targets": {t.outcome: t.to_dict() for t in self.targets}} if self.targets else {}),
        }


def is_experiment(data: Any) -> bool:
    """Whether parsed YAML looks like an experiment (it has a ``sweep``) rather than a scenario."""
    return isinstance(data, dict) and "sweep" in data


def load_scenario_or_experiment(path: str | Path, *, max_runs: int = MAX_RUNS) -> Scenario | Experiment:
    """Load a file as an experiment if it has a ``sweep``, else as a scenario (``max_runs``: see load_experiment)."""
    path = resolve_scenario_path(path)
    data = read_yaml(path)
    if is_experiment(data):
        return experiment_from_dict(data, source=str(path), folder=path.parent, max_runs=max_runs)
    return scenario_from_dict(data, source=str(path), folder=path.parent)


def load_experiment(path: str | Path, *, max_runs: int = MAX_RUNS) -> Experiment:
    """Load and validate an experiment file; raises :class:`ScenarioError` naming the file and key.

    An experiment of more than ``max_runs`` runs is refused (:class:`ScenarioCapacityError`).
    """
    path = Path(path)
    return experiment_from_dict(read_yaml(path), source=str(path), folder=path.parent, max_runs=max_runs)


def _count_text(n: int, unit: str) -> str:
    """A count for messages, ``1,000,000 runs`` (or ``about 10^400 runs``: printing a huge one in full takes long)."""
    text = f"{n:,}" if n < 10**15 else f"about 10^{int(math.log10(n))}"
    return f"{text} {unit}{'' if n == 1 else 's'}"


def _values(name: str, spec: Any, source: str, sampler: str, max_runs: int) -> list[Any] | tuple[float, float]:
    """A swept parameter's values: a list, or ``{start, stop, num}`` (for a range sampler, its ``(start, stop)``).

    A range's ``num`` is bounded by ``max_runs`` before its values are made.
    """
    key = f"sweep.{name}"
    parameter = PARAMETERS[name]
    chosen = SAMPLERS[sampler]
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in RANGE_KEYS]
        if unknown:
            bad = unknown[0]
            raise ScenarioError(source, f"{key}.{plain(bad)}", f"unknown key{suggestion(bad, RANGE_KEYS)}")
        if parameter.type is str:
            raise ScenarioError(source, key, "a range needs a numeric parameter; give a list of values")
        bounds = []
        for end in ("start", "stop"):
            if end not in spec:
                raise ScenarioError(source, f"{key}.{end}", "missing: a range needs start and stop")
            bounds.append(_checked(parameter, spec[end], source, f"{key}.{end}"))
        if chosen.ranges:
            if bounds[0] >= bounds[1]:  # the designs scale [0, 1) onto [start, stop): an empty range has no points
                raise ScenarioError(source, key, f"the {sampler} sampler needs start < stop, got start "
                                    f"{shown(bounds[0])} and stop {shown(bounds[1])}")
            return (bounds[0], bounds[1])
        num = check_integer(spec.get("num"), source, f"{key}.num", least=1)
        if num > max_runs:
            raise ScenarioCapacityError(source, f"{key}.num", f"{_count_text(num, 'value')} make at least as many "
                                        f"runs, more than the limit of {max_runs:,}; {RAISE_MAX_RUNS}")
        values = np.linspace(bounds[0], bounds[1], num)
        if parameter.type is int:
            return list(dict.fromkeys(round(float(v)) for v in values))
        return [round(float(v), 12) for v in values]
    if chosen.analysis is not None:  # the analysis's design needs bounds for every parameter
        raise ScenarioError(source, key, f"the {sampler} sampler needs a numeric range {{start, stop}}, got "
                            f"{shown(spec)}")
    if isinstance(spec, list) and spec:
        return [_checked(parameter, v, source, f"{key}[{i}]") for i, v in enumerate(spec)]
    raise ScenarioError(source, key, f"expected a non-empty list or {{start, stop, num}}, got {shown(spec)}")


def _checked(parameter, value: Any, source: str, key: str) -> Any:
    try:
        return parameter.validate(value)
    except ParameterError as error:
        raise ScenarioError(source, key, f"got {shown(value)}: expected {error.expected}") from None


def _samples(data: dict[str, Any], sampler: str, source: str) -> int | None:
    """The ``samples`` of a range sampler (``None`` for the others, which take none)."""
    if not SAMPLERS[sampler].ranges:
        if "samples" in data:
            raise ScenarioError(source, "samples", f"only the {', '.join(RANGE_SAMPLERS)} samplers take samples")
        return None
    return check_integer(data.get("samples"), source, "samples", least=1)


def count_points(sampler: str, space: dict[str, Any], samples: int | None) -> int:
    """The number of points of a sweep, from its spec alone (no point is built): the sampler's count.

    ``grid``: the product of the numbers of values; ``zip``: their common length; ``lhs``:
    ``samples``; ``morris``: ``samples x (k + 1)`` (trajectories of k steps); ``sobol``:
    ``samples x (k + 2)`` (Saltelli's design without second-order terms); k parameters swept.
    """
    return SAMPLERS[sampler].count(space, samples)


def _check_runs(points: int, replicates: int, sampler: str, source: str, max_runs: int) -> None:
    """Refuse more than ``max_runs`` runs, naming what makes them many: the sweep, its samples or the replicates."""
    runs = points * replicates
    if runs <= max_runs:
        return
    key = "replicates" if points <= max_runs else "samples" if SAMPLERS[sampler].ranges else "sweep"
    raise ScenarioCapacityError(
        source, key, f"{_count_text(points, 'point')} x {_count_text(replicates, 'replicate')} = "
        f"{_count_text(runs, 'run')}, more than the limit of {max_runs:,}; {RAISE_MAX_RUNS}",
    )


def _points(
    chosen: Sampler, sampler: str, space: dict[str, Any], samples: int | None, seed: int, source: str, counted: int
) -> list[dict[str, Any]]:
    """The sampler's points, refused unless there are as many as it counted (the runs were checked on that count)."""
    points = list(chosen.points(space, samples, seed))
    if len(points) != counted:
        raise ScenarioError(source, "sampler", f"the {sampler} sampler made {len(points):,} points where it "
                            f"counted {counted:,}")
    return points


def _selection(value: Any, swept: tuple[str, ...], source: str, key: str) -> dict[str, Any]:
    """Swept parameter values that pick points, e.g. ``{recommender: similarity}``."""
    if not isinstance(value, dict) or not value:
        raise ScenarioError(source, key, f"expected a mapping of swept parameters to values, got {shown(value)}")
    for name in value:
        if name not in swept:
            raise ScenarioError(source, f"{key}.{plain(name)}", f"not a swept parameter{suggestion(name, swept)}")
    return {name: _checked(PARAMETERS[name], v, source, f"{key}.{name}") for name, v in value.items()}


def _hypothesis(value: Any, swept: tuple[str, ...], outcomes: tuple[str, ...], source: str) -> Hypothesis | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"claim", "expect"}:
        raise ScenarioError(source, "hypothesis", "expected a mapping with 'claim' and 'expect'")
    claim = value.get("claim")
    if not isinstance(claim, str) or not claim.strip():
        raise ScenarioError(source, "hypothesis.claim", "expected the claim in words")
    expect = value.get("expect")
    if not isinstance(expect, list) or not expect:
        raise ScenarioError(source, "hypothesis.expect", "expected a list of expectations")
    parsed = []
    for i, item in enumerate(expect):
        key = f"hypothesis.expect[{i}]"
        check_keys(item, EXPECTATION_KEYS, source, "expectation")
        outcome = item.get("outcome")
        for part in ("outcome", "relative_to"):
            if (part == "outcome" or part in item) and item.get(part) not in outcomes:
                raise ScenarioError(source, f"{key}.{part}", f"expected one of the experiment's outcomes "
                                    f"({', '.join(outcomes)}), got {shown(item.get(part))}")
        if item.get("relative_to") == outcome:
            raise ScenarioError(source, f"{key}.relative_to", f"expected an outcome other than {outcome!r}: "
                                "the gap of an outcome to itself is 0")
        directions = [d for d in DIRECTIONS if d in item]
        if len(directions) != 1 or "than" not in item:
            raise ScenarioError(source, key, "expected 'outcome', one of 'higher_when' or 'lower_when', and 'than'")
        direction = directions[0]
        kind = item.get("kind", EMERGENT)
        if kind not in EXPECTATION_KINDS:
            raise ScenarioError(source, f"{key}.kind", f"expected {' or '.join(EXPECTATION_KINDS)}, got {shown(kind)}"
                                f"{suggestion(kind, EXPECTATION_KINDS)}")
        parsed.append(Expectation(
            outcome, direction.removesuffix("_when"),
            _selection(item[direction], swept, source, f"{key}.{direction}"),
            _selection(item["than"], swept, source, f"{key}.than"),
            kind, item.get("relative_to"),
        ))
    return Hypothesis(claim.strip(), tuple(parsed))


def _targets(value: Any, source: str) -> tuple[Target, ...]:
    """The ``targets`` mapping: each a registered outcome with ``range: [low, high]`` and a ``source``."""
    if value is None:
        return ()
    if not isinstance(value, dict) or not value:
        raise ScenarioError(source, "targets", "expected a mapping of outcome names to {range: [low, high], "
                            f"source: text}}, got {shown(value)}")
    targets = []
    for outcome, spec in value.items():
        key = f"targets.{plain(outcome)}"
        if outcome not in OUTCOMES:
            raise ScenarioError(source, key, f"not an outcome{suggestion(outcome, list(OUTCOMES))}; "
                                "'simsolidarity list outcomes' lists them")
        if not isinstance(spec, dict):
            raise ScenarioError(source, key, f"expected {{range: [low, high], source: text}}, got {shown(spec)}")
        for name in spec:
            if name not in TARGET_KEYS:
                raise ScenarioError(source, f"{key}.{plain(name)}", f"unknown key{suggestion(name, TARGET_KEYS)}")
        bounds = spec.get("range")
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(_is_number(b) for b in bounds)):
            raise ScenarioError(source, f"{key}.range", f"expected two numbers [low, high], got {shown(bounds)}")
        low, high = map(float, bounds)
        if low > high:
            raise ScenarioError(source, f"{key}.range", f"expected low <= high, got [{low:g}, {high:g}]")
        text = spec.get("source")
        if not isinstance(text, str) or not text.strip():
            raise ScenarioError(source, f"{key}.source", "expected where the range comes from, in one line")
        targets.append(Target(outcome, low, high, " ".join(text.split())))
    return tuple(targets)


def _is_number(value: Any) -> bool:
    """Whether ``value`` is a finite number (not a boolean, which YAML reads from ``yes`` or ``true``)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_points_runnable(experiment: Experiment) -> None:
    """:func:`check_runnable` for the sweep: the point with the largest model, and each recommender once."""
    base, steps, n_outcomes = experiment.scenario.model, experiment.scenario.steps, len(experiment.outcomes)
    largest, _ = experiment.largest_model
    check_runnable(largest, steps, n_outcomes, experiment.source, key="sweep")
    tried = {largest["recommender"]}
    for point in experiment.points:
        if point.get("recommender", base["recommender"]) not in tried:
            tried.add(point["recommender"])
            check_runnable({**base, **point}, steps, n_outcomes, experiment.source, key="sweep")


def experiment_from_dict(
    data: Any, *, source: str = "<inline>", folder: Path | None = None, max_runs: int = MAX_RUNS
) -> Experiment:
    """Validate an experiment given as a mapping; see :func:`load_experiment`.

    More than ``max_runs`` runs (points x replicates, counted before any point is built) is a
    :class:`ScenarioCapacityError`.
    """
    check_keys(data, EXPERIMENT_KEYS, source, "experiment")
    name, description = name_and_description(data, source)

    base = data.get("scenario")
    if isinstance(base, str):
        base_path = (folder or Path(".")) / base
        try:
            scenario = load_scenario(base_path)
        except ScenarioError as error:  # the same kind of error (a limit stays a limit), named in this file
            raise type(error)(source, "scenario", f"{plain(str(base_path))}: {error.key + ': ' if error.key else ''}"
                              f"{error.problem}") from None
    elif isinstance(base, dict):
        scenario = scenario_from_dict(base, source=f"{source}: scenario", folder=folder)
    else:
        raise ScenarioError(source, "scenario", "expected a scenario file path or an inline mapping, got "
                            f"{shown(base)}")
    if "steps" in data:
        scenario = replace(scenario, steps=check_integer(data["steps"], source, "steps"))
    seed = check_integer(data.get("seed", scenario.seed), source, "seed")
    replicates = check_integer(data.get("replicates", 1), source, "replicates", least=1)
    paired = data.get("paired", True)
    if not isinstance(paired, bool):
        raise ScenarioError(source, "paired", f"expected true or false, got {shown(paired)}")
    sampler = data.get("sampler", "grid")
    if not isinstance(sampler, str) or sampler not in SAMPLERS:
        raise ScenarioError(source, "sampler", f"unknown sampler {shown(sampler)}"
                            f"{suggestion(sampler, list(SAMPLERS))}; known: {', '.join(SAMPLERS)}")
    chosen = SAMPLERS[sampler]

    sweep = data.get("sweep")
    if not isinstance(sweep, dict) or not sweep:
        raise ScenarioError(source, "sweep", "expected a mapping of parameter names to values")
    for parameter in sweep:
        if parameter not in PARAMETERS:
            raise ScenarioError(source, f"sweep.{plain(parameter)}",
                                f"not a parameter{suggestion(parameter, list(PARAMETERS))}")
    space = {p: _values(p, spec, source, sampler, max_runs) for p, spec in sweep.items()}
    swept = tuple(space)
    samples = _samples(data, sampler, source)
    if chosen.check is not None:
        try:
            chosen.check(space, samples)
        except SamplerError as error:
            raise ScenarioError(source, error.key, str(error)) from None
    # Count before building: a few lines of YAML can ask for more points than memory holds.
    counted = count_points(sampler, space, samples)
    _check_runs(counted, replicates, sampler, source, max_runs)
    points = _points(chosen, sampler, space, samples, seed, source, counted)

    for i, point in enumerate(points):  # the whole parameter set of every point must be valid
        try:
            resolve_changes(scenario.model, point)
        except ParameterError as error:
            raise ScenarioError(source, f"sweep (point {i}: {point})", str(error)) from None

    outcomes = check_names(data.get("outcomes", "all"), list(OUTCOMES), source, "outcomes")
    final_window = check_integer(data.get("final_window", DEFAULT_FINAL_WINDOW), source, "final_window", least=1)
    plots = check_names(data.get("plots", "all"), list(SWEEP_PLOTS), source, "plots")
    frontier = data.get("frontier")
    if frontier is not None:
        if not (isinstance(frontier, list) and len(frontier) == 2 and all(f in outcomes for f in frontier)):
            raise ScenarioError(source, "frontier", "expected two of the experiment's outcomes [x, y], got "
                                f"{shown(frontier)}")
        frontier = tuple(frontier)
    hypothesis = _hypothesis(data.get("hypothesis"), swept, outcomes, source)
    if hypothesis is not None:  # the measures that polarization verdicts are checked with are recorded too
        checks = [m for e in hypothesis.expect for m in e.checks]
        outcomes = (*outcomes, *dict.fromkeys(m for m in checks if m not in outcomes))
    targets = _targets(data.get("targets"), source)
    outcomes = (*outcomes, *(t.outcome for t in targets if t.outcome not in outcomes))  # targets are recorded too
    ranges = tuple((p, *v) for p, v in space.items()) if chosen.ranges else ()
    experiment = Experiment(
        name, description, scenario, seed, replicates, paired, sampler, swept,
        tuple(points), outcomes, final_window, plots, source,
        samples=samples, ranges=ranges, frontier=frontier, hypothesis=hypothesis, targets=targets,
    )
    _check_points_runnable(experiment)
    return experiment
