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
      people: {every: 10}             # people.csv.gz: each person every 10 steps (default: none)
      network: final                  # network.graphml at the last step, or {every: 50} (default: none)
    plugins: [my_recommenders]        # modules to import first (the scenario's folder is searched)

One loader serves the command line, the sweep runner and the browser app; the model's
parameters are checked against the one parameter schema, nothing else lists them.

YAML is read strictly (:class:`StrictLoader`): a key given twice in one mapping is an error, and a
file is refused when it is larger than :data:`MAX_YAML_BYTES`, nested deeper than
:data:`MAX_YAML_DEPTH` or when its aliases (``*name``) expand it to more than
:data:`MAX_YAML_NODES` values; so checking a file costs time and memory in proportion to the file,
never to what it describes.
"""

from __future__ import annotations

import difflib
import importlib
import stat
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from simsolidarity.errors import (
    SHOWN_LENGTH,
    CapacityError,
    ParameterError,
    RecommenderError,
    SimsolidarityError,
    shown,
)
from simsolidarity.model.memory import check_memory
from simsolidarity.model.outcomes import OUTCOMES, plot_outcomes, run_plot_names
from simsolidarity.model.parameters import PARAMETERS, resolve_parameters
from simsolidarity.model.recommenders import BUILT_IN_RECOMMENDERS, RECOMMENDERS, probe_recommender

DEFAULT_SEED = 42
DEFAULT_STEPS = 200
#: Where the ready scenarios live (a checkout's ``scenarios/`` folder).
SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
TOP_LEVEL_KEYS = ("name", "description", "seed", "steps", "model", "outputs", "plugins")
OUTPUT_KEYS = ("outcomes", "plots", "people", "network")
#: Longest name of a scenario or experiment: it names a results folder, and a folder name has at
#: most 255 bytes (60 characters of up to 4 bytes each in UTF-8).
MAX_NAME_LENGTH = 60
#: Largest YAML file read, in bytes; a scenario or experiment file has a few kilobytes.
MAX_YAML_BYTES = 1 << 20
#: Most values (scalars, lists and mappings) a YAML file may hold with every alias expanded; a
#: scenario has well under 1,000. Bounds the "billion laughs" file, where a few lines of aliases
#: of aliases describe billions of values.
MAX_YAML_NODES = 100_000
#: Deepest nesting of lists and mappings in a YAML file; a scenario needs 5 levels. Parsing,
#: loading and checking recurse once per level.
MAX_YAML_DEPTH = 50
#: Longest text of a problem reported by the YAML parser or a plugin inside a message.
PROBLEM_LENGTH = 200


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


class ScenarioCapacityError(ScenarioError, CapacityError):
    """A scenario or experiment asks for more than a documented limit (a file too large, too many runs)."""


@dataclass(frozen=True)
class Outputs:
    """What a run writes: the outcome columns of ``timeseries.csv``, the plots to draw, and its people.

    Attributes:
        outcomes: the outcome columns of ``timeseries.csv``.
        plots: the plots drawn into ``plots/``.
        people_every: steps between the rows of ``people.csv.gz`` (one row per person at steps 0,
            ``people_every``, ... and the last); ``None``: not written.
        network_every: steps between the GraphML network snapshots ``network-step-NNNNN.graphml``
            (likewise), or ``"final"`` for ``network.graphml`` at the last step only; ``None``: none.
    """

    outcomes: tuple[str, ...] = tuple(OUTCOMES)
    plots: tuple[str, ...] = run_plot_names()
    people_every: int | None = None
    network_every: int | Literal["final"] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The outputs as in a scenario file (``people`` and ``network`` only when asked for)."""
        written: dict[str, Any] = {"outcomes": list(self.outcomes), "plots": list(self.plots)}
        if self.people_every is not None:
            written["people"] = {"every": self.people_every}
        if self.network_every is not None:
            written["network"] = "final" if self.network_every == "final" else {"every": self.network_every}
        return written


#: The source of an override given with no source of its own.
OVERRIDE_SOURCE = "override"


@dataclass(frozen=True)
class Override:
    """A value set over a scenario's own, and where it was set; a run's manifest lists them.

    Attributes:
        key: the key as given: a parameter (``online_depth``), ``model.<parameter>``, a scenario
            key (``seed``, ``steps``, ``name``, ...) or ``outputs.<key>``.
        value: the value the scenario took: a model parameter, seed or steps as validated, any
            other key as given.
        source: where it was set: ``--set``, ``--seed`` or ``--steps`` on the command line,
            ``simsolidarity.run`` for a keyword of the Python call.
    """

    key: str
    value: Any
    source: str

    def to_dict(self) -> dict[str, Any]:
        """``{"key": ..., "value": ..., "source": ...}``, as a manifest records it."""
        return {"key": self.key, "value": self.value, "source": self.source}


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
    #: The folder searched first for the plugins (the scenario file's, or its experiment file's).
    folder: str | None = None
    #: The values set over the file's (``--set``, ``--seed``, keywords of ``simsolidarity.run``), in order.
    overrides: tuple[Override, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data, as it would be written back to YAML or JSON."""
        return {
            "name": self.name,
            "description": self.description,
            "seed": self.seed,
            "steps": self.steps,
            "model": dict(self.model),
            "outputs": self.outputs.to_dict(),
            "plugins": list(self.plugins),
        }

    def to_yaml(self) -> str:
        """The scenario as a YAML file that :func:`load_scenario` (and ``simsolidarity run``) reads back unchanged."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    @property
    def collected_outcomes(self) -> tuple[str, ...]:
        """Outcomes the model must collect: those written and those the plots draw."""
        wanted = set(self.outputs.outcomes)
        for plot in self.outputs.plots:
            wanted.update(plot_outcomes(plot))
        return tuple(name for name in OUTCOMES if name in wanted)


def suggestion(word: Any, choices: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the nearest of ``choices``; nothing if none is near or ``word`` is no short text."""
    if not isinstance(word, str) or len(word) > SHOWN_LENGTH:
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def plain(text: Any) -> str:
    """``text`` as it is when it is short printable text (a key, a path), else :func:`shown` of it.

    Keys and paths come from a user's file; this keeps a message one line of bounded length.
    """
    if isinstance(text, str) and len(text) <= SHOWN_LENGTH and text.isprintable():
        return text
    return shown(text)


def one_line(text: Any, limit: int = PROBLEM_LENGTH) -> str:
    """``str(text)`` on one line (runs of white space made one space), cut to ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


class _YamlProblem(yaml.YAMLError):
    """A problem :class:`StrictLoader` finds; :func:`read_yaml` turns it into a ``kind`` error naming the file."""

    def __init__(self, key: str, problem: str, kind: type[ScenarioError] = ScenarioError) -> None:
        super().__init__(problem)
        self.key, self.problem, self.kind = key, problem, kind


_MERGE_TAG = "tag:yaml.org,2002:merge"


class StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses duplicate keys and bounds a document's depth and expanded size.

    Merge keys keep their meaning: ``<<: *base`` followed by a key of ``base`` overrides it, and is
    no duplicate. Values the safe constructors cannot build (a date that does not exist, an integer
    too long to print) are YAML errors at their line, not exceptions of other kinds.
    """

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0
        self._composed = 0
        #: id of each node -> (its parent node, its label in the parent): key paths for messages.
        self._parents: dict[int, tuple[yaml.Node | None, str]] = {}
        self._checked: set[int] = set()

    # --- composing: bounded depth and size ------------------------------------------------------

    def compose_node(self, parent: Any, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):  # the node it names was counted where it was defined
            return super().compose_node(parent, index)
        self._composed += 1
        if self._composed > MAX_YAML_NODES:  # refuse a huge file before parsing all of it
            raise _too_many_values()
        if self._depth >= MAX_YAML_DEPTH:
            mark = self.peek_event().start_mark
            raise _YamlProblem("", f"line {mark.line + 1}: nested deeper than {MAX_YAML_DEPTH} levels of lists "
                               "and mappings", ScenarioCapacityError)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None:
            self._count(node, None, "", {})
        return node

    def _count(self, node: yaml.Node, parent: yaml.Node | None, label: str, sizes: dict[int, int]) -> int:
        """Values in ``node`` with every alias expanded, counted once per distinct node (``sizes``: by id).

        Refuses the file past :data:`MAX_YAML_NODES`, and records each node's parent and label on
        the way. The recursion is as deep as the nesting (:data:`MAX_YAML_DEPTH`). A node met again
        while it is being counted contains itself: it expands without end.
        """
        if id(node) in sizes:
            if sizes[id(node)] > MAX_YAML_NODES:
                raise _too_many_values()
            return sizes[id(node)]
        sizes[id(node)] = MAX_YAML_NODES + 1  # until it is counted
        self._parents[id(node)] = (parent, label)
        total = 1
        for child, child_label in _children(node):
            total += self._count(child, node, child_label, sizes)
            if total > MAX_YAML_NODES:
                raise _too_many_values()
        sizes[id(node)] = total
        return total

    def _path(self, node: yaml.Node) -> str:
        """The key path of ``node``, e.g. ``hypothesis.expect[0]`` (empty for the document itself)."""
        labels = []
        while node is not None:
            node, label = self._parents.get(id(node), (None, ""))
            labels.append(label)
        path = ""
        for label in reversed(labels):
            path += label if label.startswith("[") or not path else f".{label}"
        return path

    # --- constructing: duplicate keys, values that cannot be built ------------------------------

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        # construct_mapping flattens every mapping first, and flattening a mapping also flattens the
        # mappings it merges, rewriting them with their merged keys: check each one before that.
        if id(node) not in self._checked:
            self._checked.add(id(node))
            self._refuse_duplicates(node)
        super().flatten_mapping(node)

    def _refuse_duplicates(self, node: yaml.MappingNode) -> None:
        """Refuse a key given twice in ``node`` itself; keys that merge keys (``<<``) bring may be overridden."""
        lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in lines
            except TypeError:  # an unhashable key: the constructor's own error names it
                continue
            line = key_node.start_mark.line + 1
            if duplicate:
                where = self._path(node)
                raise _YamlProblem(f"{where}.{plain(key)}" if where else plain(key),
                                   f"duplicate key (lines {lines[key]} and {line})")
            lines[key] = line

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as error:  # e.g. a date that does not exist: 2021-02-30
            mark = node.start_mark
            raise _YamlProblem(self._path(node), f"cannot read the value at line {mark.line + 1}, column "
                               f"{mark.column + 1} ({one_line(error)})") from None

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        value = super().construct_yaml_int(node)
        # Python refuses to print an integer of more decimal digits than sys.get_int_max_str_digits()
        # (it would take quadratic time); a hexadecimal or binary one can be that long: refuse it
        # here, where its line is known, rather than in whatever message prints it.
        str(value)
        return value


StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)


def _children(node: yaml.Node) -> list[tuple[yaml.Node, str]]:
    """The nodes directly inside ``node``, each with its label in a key path (``[i]`` or the key)."""
    if isinstance(node, yaml.SequenceNode):
        return [(child, f"[{i}]") for i, child in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        pairs = []
        for key, value in node.value:
            label = key.value if isinstance(key, yaml.ScalarNode) else "?"
            pairs += [(key, "?"), (value, label)]
        return pairs
    return []


def _too_many_values() -> _YamlProblem:
    return _YamlProblem(
        "", f"the file expands to more than {MAX_YAML_NODES:,} values (with its aliases *name expanded); "
        "a scenario or experiment has well under 1,000", ScenarioCapacityError,
    )


def _read_text(path: Path) -> str:
    """The text of a regular file of at most :data:`MAX_YAML_BYTES`, as UTF-8."""
    source = str(path)
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise ScenarioError(source, "", "no such file") from None
    except (OSError, ValueError) as error:  # a name too long, a NUL byte in it, no permission
        reason = getattr(error, "strerror", None) or error  # without the file's name again
        raise ScenarioError(source, "", f"cannot read it ({one_line(reason)})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError(source, "", "is a folder, expected a YAML file")
    if not stat.S_ISREG(info.st_mode):  # a device such as /dev/zero or a pipe never ends, or blocks
        raise ScenarioError(source, "", "is not a regular file (a device, pipe or socket), expected a YAML file")
    too_large = f"has more than {MAX_YAML_BYTES:,} bytes, the limit for a YAML file"
    if info.st_size > MAX_YAML_BYTES:
        raise ScenarioCapacityError(source, "", too_large)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_YAML_BYTES + 1)  # it may have grown since stat
        if len(data) > MAX_YAML_BYTES:
            raise ScenarioCapacityError(source, "", too_large)
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(source, "", f"cannot read it as UTF-8 text ({one_line(error)})") from None


def read_yaml(path: Path) -> Any:
    """Parse a YAML file strictly (:class:`StrictLoader`).

    A missing file, a folder, a device, bad text, bad YAML, a duplicate key or a file beyond the
    limits (:data:`MAX_YAML_BYTES`, :data:`MAX_YAML_DEPTH`, :data:`MAX_YAML_NODES`) is a
    :class:`ScenarioError` naming the file.
    """
    source = str(path)
    text = _read_text(path)
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader
    except _YamlProblem as problem:
        raise problem.kind(source, problem.key, problem.problem) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ScenarioError(source, "", f"YAML syntax error at {where}{one_line(error.problem or error)}") from None
    except yaml.YAMLError as error:
        raise ScenarioError(source, "", f"not valid YAML ({one_line(error)})") from None


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """A path as given, or the ready scenario of that name (``baseline`` -> ``scenarios/baseline.yaml``)."""
    path = Path(name_or_path)
    if _exists(path) or path.suffix in (".yaml", ".yml") or len(path.parts) > 1:
        return path
    ready = SCENARIO_DIR / f"{path.name}.yaml"
    return ready if _exists(ready) else path


def _exists(path: Path) -> bool:
    """Whether ``path`` exists; ``False`` for a path the system cannot look up (too long a name, say)."""
    try:
        return path.exists()
    except OSError:  # Path.exists passes on ENAMETOOLONG and others; read_yaml then says what is wrong
        return False


def ready_scenarios() -> list[Path]:
    """The ready scenario files, sorted by name."""
    return sorted(SCENARIO_DIR.glob("*.yaml"))


def load_scenario(
    path: str | Path, overrides: Mapping[str, Any] | None = None, *, origin: str | Mapping[str, str] = OVERRIDE_SOURCE
) -> Scenario:
    """Load and validate a scenario file; ``overrides`` (``{"seed": 3, "online_depth": 0.2}``) apply first.

    ``origin`` says where the overrides were set (``"--set"``), for all of them or by key; the
    scenario records each (:attr:`Scenario.overrides`). Raises :class:`ScenarioError` naming the
    file and the key path for any problem.
    """
    path = resolve_scenario_path(path)
    data = read_yaml(path)
    return scenario_from_dict(data, source=str(path), overrides=overrides, folder=path.parent, origin=origin)


def _apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Set ``key: value`` pairs; a bare parameter name means ``model.<name>``."""
    data = {**data, "model": dict(data.get("model") or {})}
    for key, value in overrides.items():
        parts = str(key).split(".")
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
            raise ScenarioError(source, f"--set {plain(key)}",
                                f"not a parameter or scenario key{suggestion(key, choices)}")
    return data


def _recorded(
    overrides: Mapping[str, Any], origin: str | Mapping[str, str], validated: Mapping[str, Any],
    model: Mapping[str, Any],
) -> tuple[Override, ...]:
    """Each override with its source and the value the scenario took: a model parameter, or a top-level
    key of ``validated`` (seed, steps, name ...), as validated; any other key as given."""
    recorded = []
    for key, given in overrides.items():
        parts = str(key).split(".")
        if len(parts) == 1 and key in model:
            value = model[key]
        elif len(parts) == 2 and parts[0] == "model" and parts[1] in model:
            value = model[parts[1]]
        else:
            value = validated.get(key, given)
        source = origin if isinstance(origin, str) else origin.get(key, OVERRIDE_SOURCE)
        recorded.append(Override(str(key), value, source))
    return tuple(recorded)


def check_keys(data: Any, keys: Sequence[str], source: str, kind: str) -> None:
    """``data`` must be a mapping whose keys are all in ``keys`` (the nearest one is suggested)."""
    if data is None:
        raise ScenarioError(source, "", f"the file is empty; expected a {kind} mapping with at least a 'name'")
    if not isinstance(data, dict):
        raise ScenarioError(source, "", f"expected a mapping of {kind} keys, got {type(data).__name__}")
    for key in data:
        if key not in keys:
            raise ScenarioError(source, plain(key), f"unknown key{suggestion(key, keys)}")


def name_and_description(data: dict[str, Any], source: str) -> tuple[str, str]:
    """The required ``name`` (at most :data:`MAX_NAME_LENGTH` characters) and optional ``description``, stripped."""
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError(source, "name", f"expected a non-empty text, got {shown(name)}")
    if len(name.strip()) > MAX_NAME_LENGTH:  # it names a folder: a longer name fails when results are written
        raise ScenarioError(source, "name", f"expected at most {MAX_NAME_LENGTH} characters, got "
                            f"{len(name.strip()):,}: {shown(name)}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ScenarioError(source, "description", f"expected text, got {shown(description)}")
    return name.strip(), description.strip()


def check_integer(value: Any, source: str, key: str, least: int = 0) -> int:
    """``value`` if it is an integer of at least ``least``; else a :class:`ScenarioError` for ``key``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ScenarioError(source, key, f"expected an integer >= {least}, got {shown(value)}")
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
        raise ScenarioError(source, key, f"expected 'all', 'none' or a list of names, got {shown(value)}")
    for i, name in enumerate(value):
        if name not in known:
            raise ScenarioError(
                source, f"{key}[{i}]", f"unknown name {shown(name)}{suggestion(name, known)}; known: {', '.join(known)}"
            )
    return tuple(dict.fromkeys(value))


def check_every(value: Any, source: str, key: str, *, final: bool = False) -> int | Literal["final"] | None:
    """How often an output is recorded: ``{every: steps}`` (an integer >= 1), ``none`` (or absent) for never,
    and, where ``final``, ``final`` for the last step only.
    """
    if value in (None, "none"):
        return None
    if final and value == "final":
        return "final"
    if not isinstance(value, dict):
        choices = "{every: steps}, 'final' or 'none'" if final else "{every: steps} or 'none'"
        raise ScenarioError(source, key, f"expected {choices}, got {shown(value)}")
    for entry in value:
        if entry != "every":
            raise ScenarioError(source, f"{key}.{plain(entry)}", f"unknown key{suggestion(entry, ['every'])}")
    if "every" not in value:
        raise ScenarioError(source, f"{key}.every", "missing: expected an integer >= 1 (steps between records)")
    return check_integer(value["every"], source, f"{key}.every", least=1)


def import_plugins(scenario: Scenario) -> None:
    """Import a validated scenario's plugins (again), e.g. in a fresh worker process.

    Their folder comes with the scenario: a worker started apart from this process (a Dask
    worker) has not seen the file, and an inline scenario of an experiment has no file of its own.
    """
    folder = Path(scenario.folder) if scenario.folder else None
    _import_plugins(list(scenario.plugins), scenario.source, folder)


def _import_plugins(value: Any, source: str, folder: Path | None) -> tuple[str, ...]:
    """Import each module of a scenario's ``plugins`` list; any failure is a :class:`ScenarioError` naming it."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScenarioError(source, "plugins", f"expected a list of module names, got {shown(value)}")
    if folder is not None and str(folder.resolve()) not in sys.path:
        sys.path.insert(0, str(folder.resolve()))  # a plugin may sit beside its scenario file
    for i, module in enumerate(value):
        try:
            importlib.import_module(module)
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # noqa: BLE001 - even sys.exit() in a user's module is an input problem
            raise ScenarioError(source, f"plugins[{i}]", _import_problem(module, error)) from None
    return tuple(value)


def _import_problem(module: str, error: BaseException) -> str:
    """Why ``module`` could not be imported, in one line: it does not exist, or what it raised."""
    missing = getattr(error, "name", None)  # ModuleNotFoundError's: the module (or package) not found
    if isinstance(error, ModuleNotFoundError) and missing and f"{module}.".startswith(f"{missing}."):
        return f"cannot import {shown(module)}: no such module (searched the scenario's folder and sys.path)"
    detail = one_line(error)
    return f"cannot import {shown(module)}: {type(error).__name__}{': ' + detail if detail else ''}"


def scenario_from_dict(
    data: Any,
    *,
    source: str = "<inline>",
    overrides: Mapping[str, Any] | None = None,
    folder: Path | None = None,
    origin: str | Mapping[str, str] = OVERRIDE_SOURCE,
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
        raise ScenarioError(source, "model", f"expected a mapping of parameters, got {shown(model)}")
    try:
        resolved = resolve_parameters(model)
    except ParameterError as error:
        problem = "not a parameter" if error.unknown else f"got {shown(error.value)}"
        raise ScenarioError(source, f"model.{plain(error.name)}", f"{problem}: expected {error.expected}") from None

    outputs = data.get("outputs") or {}
    if not isinstance(outputs, dict):
        raise ScenarioError(source, "outputs", f"expected a mapping with keys {', '.join(OUTPUT_KEYS)}")
    for key in outputs:
        if key not in OUTPUT_KEYS:
            raise ScenarioError(source, f"outputs.{plain(key)}", f"unknown key{suggestion(key, OUTPUT_KEYS)}")
    chosen = Outputs(
        outcomes=check_names(outputs.get("outcomes", "all"), list(OUTCOMES), source, "outputs.outcomes"),
        plots=check_names(outputs.get("plots", "all"), list(run_plot_names()), source, "outputs.plots"),
        people_every=check_every(outputs.get("people"), source, "outputs.people"),
        network_every=check_every(outputs.get("network"), source, "outputs.network", final=True),
    )
    scenario = Scenario(name, description, seed, steps, resolved, chosen, plugins, source,
                        folder=str(folder.resolve()) if folder is not None else None,
                        overrides=_recorded(overrides or {}, origin, {"name": name, "description": description,
                                                                      "seed": seed, "steps": steps}, resolved))
    check_runnable(resolved, steps, len(scenario.collected_outcomes), source)
    return scenario


def check_runnable(parameters: Mapping[str, Any], steps: int, n_outcomes: int, source: str, key: str = "model") -> None:
    """Refuse, while validating, a model that would not fit in memory or a recommender that fails.

    The memory a model of these ``parameters`` needs for ``steps`` steps collecting ``n_outcomes``
    outcomes is estimated (:func:`~simsolidarity.model.memory.check_memory`), and a recommender that is
    not built in is tried once on a small model (:func:`~simsolidarity.model.recommenders.probe_recommender`):
    NaN scores or a wrong shape are found before any run, not after.
    """
    try:
        check_memory(parameters, steps, n_outcomes)
    except CapacityError as error:
        raise ScenarioCapacityError(source, key, str(error)) from None
    name = parameters["recommender"]
    if RECOMMENDERS.get(name) is not BUILT_IN_RECOMMENDERS.get(name):
        try:
            probe_recommender(name, parameters)
        except RecommenderError as error:
            raise ScenarioError(source, f"{key}.recommender", str(error)) from None
