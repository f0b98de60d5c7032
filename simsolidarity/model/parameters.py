"""The parameter schema: the one place where the model's parameters are defined.

Each :class:`Parameter` carries its canonical name, type, range, default and one line of meaning.
From the schema come :class:`Parameters`, the typed and frozen object the models read their
parameters from, and the keyword arguments that the models' signatures show
(:func:`parameters_as_keywords`). Every value is validated by the schema, once, when a
:class:`Parameters` is built (:func:`resolve_parameters` builds one too); the scenario loader, the
sweep runner, the browser app and the documentation read the same :data:`PARAMETERS`.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from simsolidarity.errors import SHOWN_LENGTH, ParameterError


@dataclass(frozen=True)
class Parameter:
    """One model parameter.

    Attributes:
        name: canonical name, used in code, YAML, plots and docs.
        type: ``int``, ``float`` or ``str``.
        default: the value used when none is given.
        meaning: one line saying what the parameter means in the model.
        low, high: bounds of the range (``None``: unbounded on that side).
        low_open, high_open: whether the bound itself is excluded.
        group: the part of the model the parameter belongs to (for tables and app panels).
    """

    name: str
    type: type
    default: Any
    meaning: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    group: str = "model"

    @property
    def range_text(self) -> str:
        """The range in interval notation, e.g. ``(0, 2]`` or ``int >= 1``."""
        if self.type is str:
            return "a registered recommender name" if self.name == "recommender" else "text"
        if self.type is int:
            if self.high is None:
                return f"int >= {self.low:g}"
            return f"int in [{self.low:g}, {self.high:g}]"
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        if self.high is None:
            right = ")"  # no finite number reaches infinity
        return f"{left}{low}, {high}{right}"

    def validate(self, value: Any) -> Any:
        """Return ``value`` converted to this parameter's type, or raise :class:`ParameterError`."""
        if self.type is str:
            if not isinstance(value, str):
                raise ParameterError(self.name, value, self.range_text)
            if self.name == "recommender":
                from simsolidarity.model.recommenders import RECOMMENDERS

                if value not in RECOMMENDERS:
                    names = ", ".join(sorted(RECOMMENDERS))
                    raise ParameterError(self.name, value, f"one of the registered recommenders: {names}")
            return value
        if self.type is int:
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ParameterError(self.name, value, f"an integer ({self.range_text})")
            value = int(value)
        else:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ParameterError(self.name, value, f"a number in {self.range_text}")
            try:
                value = float(value)
            except OverflowError:  # an integer beyond the largest float, e.g. 10**400
                raise ParameterError(self.name, value, f"a finite number in {self.range_text}") from None
            if not math.isfinite(value):
                raise ParameterError(self.name, value, f"a finite number in {self.range_text}")
        too_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        too_high = self.high is not None and (value >= self.high if self.high_open else value > self.high)
        if too_low or too_high:
            kind = "an integer" if self.type is int else "a number"
            raise ParameterError(self.name, value, f"{kind} in {self.range_text}")
        return value


def _p(name, type_, default, meaning, low=None, high=None, *, low_open=False, high_open=False, group):
    return Parameter(name, type_, default, meaning, low, high, low_open, high_open, group)


#: Every parameter of the model, by canonical name, in the order of DESIGN.md.
PARAMETERS: dict[str, Parameter] = {
    p.name: p
    for p in [
        _p("n_people", int, 2000, "number of people", 2, group="population"),
        _p("width", int, 50, "grid width in cells (at most one person per cell)", 1, group="geography"),
        _p("height", int, 50, "grid height in cells", 1, group="geography"),
        _p("block_size", int, 10, "side of a neighbourhood block; one geographic group per block", 1,
           group="geography"),
        _p("local_tie_radius", int, 1, "Moore radius within which local ties form", 1, group="geography"),
        _p("isolation_mean", float, 0.3, "mean of the Beta distribution of isolation", 0, 1,
           group="population"),
        _p("isolation_concentration", float, 4.0,
           "concentration (alpha + beta) of the Beta distribution of isolation", 0, low_open=True,
           group="population"),
        _p("online_share", float, 0.8, "share of people with online access", 0, 1, group="online"),
        _p("online_activity", float, 0.5, "chance that a person with access is active online in a step",
           0, 1, group="online"),
        _p("n_topics", int, 5, "dimensions of interests and group topics", 1, group="groups"),
        _p("n_virtual_groups", int, 40, "virtual groups at the start", 0, group="groups"),
        _p("max_memberships", int, 3, "virtual groups a person can belong to at once", 1, group="groups"),
        _p("join_threshold", float, 0.6, "least interest match for joining a recommended group", 0, 1,
           group="groups"),
        _p("leave_threshold", float, 0.8,
           "opinion distance to a group's mean above which a person leaves it", 0, 2, low_open=True,
           group="groups"),
        _p("recommender", str, "similarity", "rule that picks the virtual groups shown to a person",
           group="recommendation"),
        _p("n_recommendations", int, 3, "candidate groups shown to an active person per step", 1,
           group="recommendation"),
        _p("homophily", float, 0.5,
           "weight of opinion against interest similarity in `similarity` (0: interests only)", 0, 1,
           group="recommendation"),
        _p("diversity_weight", float, 0.5, "weight of opinion difference in `bridging` and `hybrid`",
           0, 1, group="recommendation"),
        _p("confidence", float, 0.5, "bounded-confidence threshold on the [-1, 1] opinion scale", 0, 2,
           low_open=True, group="opinion"),
        _p("influence", float, 0.2, "convergence rate: share of the difference each side moves", 0, 0.5,
           low_open=True, group="opinion"),
        _p("meetings_per_step", int, 2, "pairwise meeting rounds inside each group per step", 1,
           group="opinion"),
        _p("need_rate", float, 0.1, "chance of a need event for a person in a step", 0, 1,
           group="support"),
        _p("online_depth", float, 0.4, "depth of an online tie (support it carries)", 0, 1,
           group="support"),
        _p("offline_depth", float, 1.0, "depth of a face-to-face tie", 0, 1, group="support"),
        _p("depth_need", float, 0.5, "depth a person needs from support to feel it met", 0, 1,
           group="support"),
        _p("belonging_rate", float, 0.1, "how fast belonging moves toward its target per step", 0, 1,
           low_open=True, group="support"),
        _p("compensation", float, 0.0,
           "how online activity responds to unmet need and offline belonging: + social compensation, "
           "- rich get richer, 0 none", -1, 1, group="feedback"),
        _p("leave_belonging", float, 0.0,
           "belonging through a virtual group below which a person leaves it (after a few steps); 0: off",
           0, 1, group="feedback"),
        _p("feed_bias", float, 0.0,
           "inside a group, partners chosen with chance proportional to (|x_i - x_j| + delta)^(-feed_bias)",
           0, group="feedback"),
    ]
}


#: Constants of the rules that read the parameters, shared by the model and the reference.
#: Compensation: the change in the log-odds of being active online, per unit of ``compensation``, of a
#: person whose offline belonging is 0 (or 1) against one at 0.5: at ``compensation`` 1 an activity of
#: 0.5 becomes 0.88 (or 0.12).
COMPENSATION_GAIN = 4.0
#: Leaving by belonging: attended steps in a row with a group's identification below ``leave_belonging``
#: after which a person leaves it.
LOW_BELONGING_STEPS = 3


def defaults() -> dict[str, Any]:
    """Every parameter at its default value."""
    return {name: p.default for name, p in PARAMETERS.items()}


#: The parameters that take part in a rule joining several of them (:func:`check_joint`): a change
#: to any other one cannot break a valid parameter set, as long as its own value is valid.
JOINT_PARAMETERS = frozenset({"n_people", "width", "height"})


def unknown_parameter_error(name: Any) -> ParameterError:
    """The error for a name that is not a parameter, suggesting the nearest canonical name."""
    # a YAML key may be a number or a long text: only a short text can be near a name
    near = isinstance(name, str) and len(name) <= SHOWN_LENGTH
    close = difflib.get_close_matches(name, PARAMETERS, n=1) if near else []
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ParameterError(name, None, f"one of the names in the parameter schema{hint}", unknown=True)


def check_joint(resolved: Mapping[str, Any]) -> None:
    """The rules that join several parameters (of :data:`JOINT_PARAMETERS`): one person per grid cell."""
    cells = resolved["width"] * resolved["height"]
    if cells < resolved["n_people"]:
        raise ParameterError(
            "n_people",
            resolved["n_people"],
            f"at most width x height = {resolved['width']} x {resolved['height']} = {cells} "
            "(one person per cell)",
        )


def describe_parameters(indent: str = "") -> str:
    """One line per parameter, in schema order: ``name (type and range; default value): meaning``.

    Args:
        indent: put before each line (for a docstring's section).
    """
    lines = []
    for p in PARAMETERS.values():
        accepted = f"float in {p.range_text}" if p.type is float else p.range_text
        lines.append(f"{indent}{p.name} ({accepted}; default {p.default!r}): {p.meaning}")
    return "\n".join(lines)


def _validate_fields(self: Parameters) -> None:
    """Check each field through the schema and keep the converted value, then the joint rules."""
    for name, parameter in PARAMETERS.items():
        # the object is frozen: a conversion (an int given for a float) is stored past the guard
        object.__setattr__(self, name, parameter.validate(getattr(self, name)))
    check_joint(self.as_dict())


def _as_dict(self: Parameters) -> dict[str, Any]:
    """The parameters as a plain dict by canonical name, in schema order (as :func:`resolve_parameters` gives)."""
    return {name: getattr(self, name) for name in PARAMETERS}


def _from_mapping(cls: type[Parameters], given: Mapping[str, Any] | Parameters | None = None,
                  /, **overrides: Any) -> Parameters:
    """The parameters of ``given`` with ``overrides`` applied, the others at their defaults.

    Args:
        given: parameters by canonical name (a mapping, as read from a scenario file), or a
            :class:`Parameters`.
        **overrides: parameters by canonical name; they win over ``given``.

    Raises:
        ParameterError: for a name that is not a parameter (suggesting the nearest one), and for
            any bad value, as :class:`Parameters` does.
    """
    base = given.as_dict() if isinstance(given, cls) else dict(given or {})
    merged = {**base, **overrides}
    for name in merged:
        if name not in PARAMETERS:
            raise unknown_parameter_error(name)
    return cls(**merged)


def _parameters_doc() -> str:
    return f"""The model's parameters as one typed, frozen object: one field per entry of :data:`PARAMETERS`.

    Generated from the schema, in its order, each field with the parameter's type and default.
    Building one validates every value through the schema and keeps it converted to its type
    (``Parameters(confidence=1).confidence`` is ``1.0``); a bad value raises
    :class:`~simsolidarity.errors.ParameterError` naming the parameter, the value and what was
    expected, as :func:`resolve_parameters` does. A keyword that is not a parameter is a
    ``TypeError``, as for any function; :meth:`from_mapping` builds one from a mapping and
    raises ``ParameterError`` for an unknown name, with the nearest canonical one.
    ``dataclasses.replace(parameters, influence=0.1)`` gives a validated copy, and
    :meth:`as_dict` the plain dict a scenario or manifest holds.

    Attributes:
{describe_parameters(indent="        ")}
"""


Parameters = dataclasses.make_dataclass(
    "Parameters",
    [(name, p.type, dataclasses.field(default=p.default)) for name, p in PARAMETERS.items()],
    namespace={
        "__doc__": _parameters_doc(),
        "__post_init__": _validate_fields,
        "as_dict": _as_dict,
        "from_mapping": classmethod(_from_mapping),
    },
    frozen=True,
    slots=True,
    module=__name__,
)


def resolve_parameters(given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Validate ``given`` against the schema and fill in defaults: ``Parameters.from_mapping(given).as_dict()``.

    Raises :class:`ParameterError` naming the parameter, the value and what was expected for an
    unknown name, a wrong type, a value out of range, an unknown recommender, or a grid with fewer
    cells than people.
    """
    return Parameters.from_mapping(given).as_dict()


_Init = TypeVar("_Init", bound=Callable[..., None])


def parameters_as_keywords(init: _Init) -> _Init:
    """Show the schema's parameters in the signature of a model's ``__init__``.

    ``init`` is declared ``(self, parameters=None, *, ..., **overrides)``; its signature (what
    ``help()``, an IDE and ``inspect.signature`` show) gets one keyword-only argument per
    parameter, with its default and type, in schema order, in place of ``**overrides``. The
    function itself is unchanged: it still takes the parameters through ``**overrides``. Binding
    the signature to a misspelled keyword raises ``TypeError``, and Mesa's browser app, which
    reads the signature, sees a model without ``**kwargs``.
    """
    declared = inspect.signature(init, eval_str=True)
    kept = [p for p in declared.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    keywords = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=p.default, annotation=p.type)
        for name, p in PARAMETERS.items()
    ]
    init.__signature__ = declared.replace(parameters=[*kept, *keywords])
    return init


def resolve_changes(resolved: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``resolved`` (a result of :func:`resolve_parameters`) with ``changes`` validated and applied.

    The result of ``resolve_parameters({**resolved, **changes})``, and an error where it has one,
    at the cost of the changes alone: each changed value is checked, and the joint rules only when
    a changed parameter takes part in them. A sweep checks each of its points this way.
    """
    for name in changes:
        if name not in PARAMETERS:
            raise unknown_parameter_error(name)
    updated = {**resolved, **{name: PARAMETERS[name].validate(value) for name, value in changes.items()}}
    if not JOINT_PARAMETERS.isdisjoint(changes):
        check_joint(updated)
    return updated
