"""Scenario files: load, validate fully before any work, resolve defaults.

A scenario is a YAML mapping::

    name: echo_chamber                # required; names the results folder
    description: Which claim of the essay it explores.
    seed: 42                          # default 42
    steps: 200                        # default 200
    model:                            # parameters by canonical name; each optional
      recommender: similarity
      homophily: 0.9
    outputs:
      outcomes: all                   # or a list of outcome names for timeseries.csv
      plots: all                      # or a list of plot names, or none
    plugins: [my_recommenders]        # modules to import first (the scenario's folder is searched)

One loader serves the command line, the sweep runner and the browser app; the model's
parameters are checked against the one parameter schema, nothing else lists them.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ParameterError, SimsolidarityError
from .outcomes import OUTCOMES
from .parameters import PARAMETERS, resolve_parameters
from .plots import PLOTS

DEFAULT_SEED = 42
DEFAULT_STEPS = 200
#: Where the ready scenarios live (a checkout's ``scenarios/`` folder).
SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
TOP_LEVEL_KEYS = ("name", "description", "seed", "steps", "model", "outputs", "plugins")
OUTPUT_KEYS = ("outcomes", "plots")


class ScenarioError(SimsolidarityError):
    """A scenario (file, mapping or override) is invalid.

    Attributes:
        source: the file (or other origin) of the scenario.
        key: the key path of the bad entry, e.g. ``model.online_depth`` (empty for the whole file).
        problem: what is wrong and what was expected.
    """

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source, self.key, self.problem = source, key, problem
        super().__init__(f"{source}: {key}: {problem}" if key else f"{source}: {problem}")


@dataclass(frozen=True)
class Outputs:
    """What a run writes: the outcome columns of ``timeseries.csv`` and the plots to draw."""

    outcomes: tuple[str, ...] = tuple(OUTCOMES)
    plots: tuple[str, ...] = tuple(PLOTS)


@dataclass(frozen=True)
class Scenario:
    """A validated scenario with every model parameter resolved (defaults filled in)."""

    name: str
    description: str
    seed: int
    steps: int
    model: dict[str, Any]
    outputs: Outputs = field(default_factory=Outputs)
    plugins: tuple[str, ...] = ()
    source: str = "<inline>"

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data, as it would be written back to YAML or JSON."""
        return {
            "name": self.name,
            "description": self.description,
            "seed": self.seed,
            "steps": self.steps,
            "model": dict(self.model),
            "outputs": {"outcomes": list(self.outputs.outcomes), "plots": list(self.outputs.plots)},
            "plugins": list(self.plugins),
        }

    @property
    def collected_outcomes(self) -> tuple[str, ...]:
        """Outcomes the model must collect: those written and those the plots draw."""
        wanted = set(self.outputs.outcomes)
        for plot in self.outputs.plots:
            wanted.update(PLOTS[plot].outcomes)
        return tuple(name for name in OUTCOMES if name in wanted)


def suggestion(word: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the nearest of ``choices``, or nothing when none is near."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; a missing file, a folder, bad text or bad YAML is a :class:`ScenarioError`."""
    source = str(path)
    if not path.exists():
        raise ScenarioError(source, "", "no such file")
    if path.is_dir():
        raise ScenarioError(source, "", "is a folder, expected a YAML file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(source, "", f"cannot read it as UTF-8 text ({error})") from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ScenarioError(source, "", f"YAML syntax error at {where}{error.problem or error}") from None
    except yaml.YAMLError as error:
        raise ScenarioError(source, "", f"not valid YAML ({error})") from None


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """A path as given, or the ready scenario of that name (``baseline`` -> ``scenarios/baseline.yaml``)."""
    path = Path(name_or_path)
    if path.exists() or path.suffix in (".yaml", ".yml") or len(path.parts) > 1:
        return path
    ready = SCENARIO_DIR / f"{path.name}.yaml"
    return ready if ready.exists() else path


def ready_scenarios() -> list[Path]:
    """The ready scenario files, sorted by name."""
    return sorted(SCENARIO_DIR.glob("*.yaml"))


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario file; ``overrides`` (``{"seed": 3, "online_depth": 0.2}``) apply first.

    Raises :class:`ScenarioError` naming the file and the key path for any problem.
    """
    path = resolve_scenario_path(path)
    data = read_yaml(path)
    return scenario_from_dict(data, source=str(path), overrides=overrides, folder=path.parent)


def _apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Set ``key: value`` pairs; a bare parameter name means ``model.<name>``."""
    data = {**data, "model": dict(data.get("model") or {})}
    for key, value in overrides.items():
        parts = key.split(".")
        if len(parts) == 1 and key in PARAMETERS:
            data["model"][key] = value
        elif len(parts) == 1 and key in TOP_LEVEL_KEYS and key not in ("model", "outputs"):
            data[key] = value
        elif len(parts) == 2 and parts[0] == "model":
            data["model"][parts[1]] = value
        elif len(parts) == 2 and parts[0] == "outputs":
            data["outputs"] = {**dict(data.get("outputs") or {}), parts[1]: value}
        else:
            choices = [*PARAMETERS, "seed", "steps", "name", "description"]
            raise ScenarioError(source, f"--set {key}", f"not a parameter or scenario key{suggestion(key, choices)}")
    return data


def check_keys(data: Any, keys: Sequence[str], source: str, kind: str) -> None:
    """``data`` must be a mapping whose keys are all in ``keys`` (the nearest one is suggested)."""
    if data is None:
        raise ScenarioError(source, "", f"the file is empty; expected a {kind} mapping with at least a 'name'")
    if not isinstance(data, dict):
        raise ScenarioError(source, "", f"expected a mapping of {kind} keys, got {type(data).__name__}")
    for key in data:
        if key not in keys:
            raise ScenarioError(source, str(key), f"unknown key{suggestion(str(key), keys)}")


def name_and_description(data: dict[str, Any], source: str) -> tuple[str, str]:
    """The required ``name`` and the optional ``description``, both stripped."""
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError(source, "name", f"expected a non-empty text, got {name!r}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ScenarioError(source, "description", f"expected text, got {description!r}")
    return name.strip(), description.strip()


def check_integer(value: Any, source: str, key: str, least: int = 0) -> int:
    """``value`` if it is an integer of at least ``least``; else a :class:`ScenarioError` for ``key``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ScenarioError(source, key, f"expected an integer >= {least}, got {value!r}")
    return value


def check_names(value: Any, known: Sequence[str], source: str, key: str) -> tuple[str, ...]:
    """``all``, ``none`` or a list of names from ``known``."""
    if value in ("all", None):
        return tuple(known)
    if value == "none":
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScenarioError(source, key, f"expected 'all', 'none' or a list of names, got {value!r}")
    for i, name in enumerate(value):
        if name not in known:
            raise ScenarioError(
                source, f"{key}[{i}]", f"unknown name {name!r}{suggestion(name, known)}; known: {', '.join(known)}"
            )
    return tuple(dict.fromkeys(value))


def import_plugins(scenario: Scenario) -> None:
    """Import a validated scenario's plugins (again), e.g. in a fresh worker process."""
    folder = Path(scenario.source).parent if Path(scenario.source).exists() else None
    _import_plugins(list(scenario.plugins), scenario.source, folder)


def _import_plugins(value: Any, source: str, folder: Path | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScenarioError(source, "plugins", f"expected a list of module names, got {value!r}")
    if folder is not None and str(folder.resolve()) not in sys.path:
        sys.path.insert(0, str(folder.resolve()))  # a plugin may sit beside its scenario file
    for i, module in enumerate(value):
        try:
            importlib.import_module(module)
        except Exception as error:  # noqa: BLE001 - any failure inside a user's module is an input problem
            raise ScenarioError(source, f"plugins[{i}]", f"cannot import {module!r}: {error}") from None
    return tuple(value)


def scenario_from_dict(
    data: Any,
    *,
    source: str = "<inline>",
    overrides: Mapping[str, Any] | None = None,
    folder: Path | None = None,
) -> Scenario:
    """Validate a scenario given as a mapping (as read from YAML); see :func:`load_scenario`."""
    check_keys(data, TOP_LEVEL_KEYS, source, "scenario")
    if overrides:
        data = _apply_overrides(data, overrides, source)
    name, description = name_and_description(data, source)
    seed = check_integer(data.get("seed", DEFAULT_SEED), source, "seed")
    steps = check_integer(data.get("steps", DEFAULT_STEPS), source, "steps")

    # Plugins first: they may register recommenders that the model section names.
    plugins = _import_plugins(data.get("plugins"), source, folder)

    model = data.get("model") or {}
    if not isinstance(model, dict):
        raise ScenarioError(source, "model", f"expected a mapping of parameters, got {model!r}")
    try:
        resolved = resolve_parameters(model)
    except ParameterError as error:
        problem = "not a parameter" if error.unknown else f"got {error.value!r}"
        raise ScenarioError(source, f"model.{error.name}", f"{problem}: expected {error.expected}") from None

    outputs = data.get("outputs") or {}
    if not isinstance(outputs, dict):
        raise ScenarioError(source, "outputs", f"expected a mapping with keys {', '.join(OUTPUT_KEYS)}")
    for key in outputs:
        if key not in OUTPUT_KEYS:
            raise ScenarioError(source, f"outputs.{key}", f"unknown key{suggestion(str(key), OUTPUT_KEYS)}")
    chosen = Outputs(
        outcomes=check_names(outputs.get("outcomes", "all"), list(OUTCOMES), source, "outputs.outcomes"),
        plots=check_names(outputs.get("plots", "all"), list(PLOTS), source, "outputs.plots"),
    )
    return Scenario(name, description, seed, steps, resolved, chosen, plugins, source)
