"""Samplers: how the ``sweep`` of an experiment becomes its parameter points.

A sampler is chosen by name with ``sampler:`` in an experiment file. Each is a :class:`Sampler`
registered with :func:`register_sampler`, the built-in ones included: ``grid`` (every
combination), ``zip`` (lists side by side), ``lhs`` (Latin hypercube), ``morris`` (elementary
effects) and ``sobol`` (Saltelli's design). A sampler says how many points it makes from the
sweep's spec alone, so that an experiment too large to run is refused before a point is built;
how it builds them from the root seed; what it checks; and, for a design made for a global
sensitivity analysis, how that analysis reads the sweep's responses (:class:`Analysis`).

A sampler sees the sweep as a *space*: each swept parameter's list of values, or, for a sampler
that draws from ranges, the ``(start, stop)`` of its ``{start, stop}`` range. A new one::

    def diagonal(space, samples, seed):
        steps = [i / max(samples - 1, 1) for i in range(samples)]
        return [as_point(space, [u] * len(space)) for u in steps]

    register_sampler("diagonal", Sampler(
        design="`samples` points along the diagonal of the ranges, from every start to every stop",
        count=lambda space, samples: samples, points=diagonal, ranges=True,
    ))
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from simsolidarity.errors import SimsolidarityError, shown
from simsolidarity.model.parameters import PARAMETERS
from simsolidarity.registry import check_name, check_registration

#: The swept parameters, in the order of the sweep: each one's list of values, or the
#: ``(start, stop)`` of its range for a sampler that draws from ranges.
Space = Mapping[str, "list[Any] | tuple[float, float]"]
#: A SALib problem definition: ``num_vars``, ``names`` and ``bounds`` (one ``[start, stop]`` per parameter).
Problem = dict[str, Any]
#: Grid levels of the Morris design.
MORRIS_LEVELS = 4


class SamplerError(SimsolidarityError):
    """A sampler cannot be registered, or an experiment's sweep does not suit its sampler.

    Attributes:
        key: the experiment key at fault when a sweep does not suit its sampler (``sweep`` or
            ``samples``), so that the message names it in the experiment file.
    """

    def __init__(self, message: str, key: str = "sampler") -> None:
        self.key = key
        super().__init__(message)


@dataclass(frozen=True)
class Analysis:
    """The global sensitivity analysis that ends a sweep of a sampler, over every outcome.

    Attributes:
        method: the analysis in words, as a figure's title names it (``Morris screening``).
        indices: the index names, in the columns' order of ``sensitivity.csv``: the main index,
            its 95% confidence half-width, a second index, and its half-width (``None`` if the
            analysis gives none).
        matrix: ``matrix(problem, samples, seed)``: the design matrix the analysis reads, one row
            per point of the sweep, with the parameters' values unrounded.
        analyze: ``analyze(problem, design, response, seed)``: each index of :attr:`indices` as
            an array with one value per parameter; ``design`` is :attr:`matrix`'s and
            ``response`` one outcome's mean over replicates at each point.
    """

    method: str
    indices: tuple[str, str, str, str | None]
    matrix: Callable[[Problem, int, int], np.ndarray]
    analyze: Callable[[Problem, np.ndarray, np.ndarray, int], Mapping[str, np.ndarray]]


@dataclass(frozen=True)
class Sampler:
    """How a sweep becomes parameter points.

    Attributes:
        design: what the points are, in one line (``simsolidarity list samplers`` shows it).
        count: ``count(space, samples)``: how many points :attr:`points` makes, from the spec
            alone (no point is built: the number of runs is checked before).
        points: ``points(space, samples, seed)``: the parameter points, each a mapping of every
            swept parameter to its value; the same for the same arguments. ``seed`` is the
            experiment's root seed.
        ranges: whether the sampler draws from ``{start, stop}`` ranges and takes ``samples``;
            otherwise a range is expanded into ``num`` values and ``samples`` is refused.
        check: ``check(space, samples)``, raising :class:`SamplerError` (with the ``key`` at
            fault) for a sweep the sampler cannot make points of; ``None`` if any will do.
        analysis: the sensitivity analysis that ends a sweep of the sampler, or ``None``. Its
            design needs a ``{start, stop}`` range for every swept parameter.
    """

    design: str
    count: Callable[[Space, int | None], int]
    points: Callable[[Space, int | None, int], list[dict[str, Any]]]
    ranges: bool = False
    check: Callable[[Space, int | None], None] | None = None
    analysis: Analysis | None = None


#: The registered samplers by name.
SAMPLERS: dict[str, Sampler] = {}
#: The built-in ones (empty until they are registered below); replacing one takes ``replace=True``.
BUILT_IN_SAMPLERS: Mapping[str, Sampler] = MappingProxyType({})


def register_sampler(name: str, sampler: Sampler, *, replace: bool = False) -> Sampler:
    """Register ``sampler`` as the sampler ``name``; returns it.

    Args:
        name: the name that ``sampler:`` gives in an experiment file; a non-empty string.
        sampler: the sampler.
        replace: allow taking a name already registered to another sampler, the built-in ones
            (``grid``, ``zip``, ``lhs``, ``morris``, ``sobol``) included.

    Registering the same definition again under its name (the same functions by module and
    qualified name, as when a notebook cell or a plugin module runs again) replaces it without
    ``replace``.

    Raises:
        SamplerError: for a name that is not a non-empty string, for something that is not a
            :class:`Sampler`, and, without ``replace``, for a name taken by a built-in sampler or
            by another one.
    """
    check_name(name, kind="sampler", error=SamplerError)
    if not isinstance(sampler, Sampler):
        raise SamplerError(f"sampler {name!r} must be a Sampler(design, count, points, ...), not {shown(sampler)}")
    check_registration(name, sampler, SAMPLERS.get(name), built_in=name in BUILT_IN_SAMPLERS, kind="sampler",
                       replace=replace, error=SamplerError)
    SAMPLERS[name] = sampler
    return sampler


class SamplerView(Mapping[str, Any]):
    """A read-only view of :data:`SAMPLERS`, always current: the samplers for which ``part`` gives
    something other than ``None``, each mapped to what it gives.

    For example the samplers that end with an analysis, each with it:
    ``SamplerView(lambda sampler: sampler.analysis)``.
    """

    def __init__(self, part: Callable[[Sampler], Any]) -> None:
        self._part = part

    def __getitem__(self, name: str) -> Any:
        value = self._part(SAMPLERS[name])
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return (name for name, sampler in list(SAMPLERS.items()) if self._part(sampler) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)})"


#: The samplers that draw points from ``{start, stop}`` ranges and take ``samples``.
RANGE_SAMPLERS: Mapping[str, Sampler] = SamplerView(lambda sampler: sampler if sampler.ranges else None)
#: The samplers that end with a global sensitivity analysis of every outcome, each with its analysis.
SENSITIVITY_SAMPLERS: Mapping[str, Analysis] = SamplerView(lambda sampler: sampler.analysis)


def as_point(space: Space, row: Sequence[float], *, scaled: bool = False) -> dict[str, Any]:
    """A parameter point from a row of a design, one entry per swept parameter in the space's order.

    Args:
        space: the swept parameters (see :data:`Space`).
        row: fractions in [0, 1), or, if ``scaled``, the ranges' values themselves. A fraction
            picks from a list by stratum (the i-th of n values for fractions in [i/n, (i+1)/n))
            and scales onto a range; range values of integer parameters are rounded.
    """
    point = {}
    for (name, values), u in zip(space.items(), row, strict=True):
        if isinstance(values, tuple):
            value = u if scaled else values[0] + u * (values[1] - values[0])
            point[name] = round(float(value)) if PARAMETERS[name].type is int else round(float(value), 12)
        else:
            point[name] = values[min(int(u * len(values)), len(values) - 1)]
    return point


def _problem(space: Space) -> Problem:
    """The ranges of a space as a SALib problem."""
    return {"num_vars": len(space), "names": list(space), "bounds": [list(values) for values in space.values()]}


# --- the built-in samplers ------------------------------------------------------------------------


def _grid_count(space: Space, samples: int | None) -> int:
    return math.prod(len(values) for values in space.values())


def _grid_points(space: Space, samples: int | None, seed: int) -> list[dict[str, Any]]:
    return [dict(zip(space, combination, strict=True)) for combination in itertools.product(*space.values())]


def _zip_count(space: Space, samples: int | None) -> int:
    return len(next(iter(space.values())))


def _zip_check(space: Space, samples: int | None) -> None:
    lengths = {name: len(values) for name, values in space.items()}
    if len(set(lengths.values())) > 1:
        raise SamplerError(f"zip pairs lists of equal length; got lengths {lengths}", key="sweep")


def _zip_points(space: Space, samples: int | None, seed: int) -> list[dict[str, Any]]:
    return [dict(zip(space, values, strict=True)) for values in zip(*space.values(), strict=True)]


def _lhs_count(space: Space, samples: int | None) -> int:
    return samples or 0


def _lhs_points(space: Space, samples: int | None, seed: int) -> list[dict[str, Any]]:
    from scipy.stats import qmc  # here, not at the top: scipy.stats takes a second to import

    unit = qmc.LatinHypercube(d=len(space), rng=np.random.default_rng(seed)).random(samples or 0)
    return [as_point(space, row) for row in unit]


def _morris_count(space: Space, samples: int | None) -> int:
    return (samples or 0) * (len(space) + 1)  # trajectories of one step per parameter


def _morris_matrix(problem: Problem, samples: int, seed: int) -> np.ndarray:
    from SALib.sample import morris

    return morris.sample(problem, N=samples, num_levels=MORRIS_LEVELS, seed=seed)


def _morris_points(space: Space, samples: int | None, seed: int) -> list[dict[str, Any]]:
    return [as_point(space, row, scaled=True) for row in _morris_matrix(_problem(space), samples or 0, seed)]


def _morris_analyze(problem: Problem, design: np.ndarray, response: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    from SALib.analyze import morris

    result = morris.analyze(problem, design, response, num_levels=MORRIS_LEVELS, seed=seed)
    return {index: np.asarray(result[index]) for index in ("mu_star", "mu_star_conf", "sigma")}


def _sobol_count(space: Space, samples: int | None) -> int:
    return (samples or 0) * (len(space) + 2)  # Saltelli's design without second-order terms


def _sobol_check(space: Space, samples: int | None) -> None:
    if samples is not None and samples & (samples - 1):
        raise SamplerError(f"the sobol sampler needs a power of 2, got {shown(samples)}", key="samples")


def _sobol_matrix(problem: Problem, samples: int, seed: int) -> np.ndarray:
    from SALib.sample import sobol

    return sobol.sample(problem, samples, calc_second_order=False, scramble=True, seed=seed)


def _sobol_points(space: Space, samples: int | None, seed: int) -> list[dict[str, Any]]:
    return [as_point(space, row, scaled=True) for row in _sobol_matrix(_problem(space), samples or 0, seed)]


def _sobol_analyze(problem: Problem, design: np.ndarray, response: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    from SALib.analyze import sobol

    result = sobol.analyze(problem, response, calc_second_order=False, seed=seed)
    return {index: np.asarray(result[index]) for index in ("ST", "ST_conf", "S1", "S1_conf")}


register_sampler("grid", Sampler(
    design="every combination of the swept values (ranges give num values each)",
    count=_grid_count, points=_grid_points,
))
register_sampler("zip", Sampler(
    design="the swept lists side by side: point i takes the i-th value of each (lists of equal length)",
    count=_zip_count, points=_zip_points, check=_zip_check,
))
register_sampler("lhs", Sampler(
    design="Latin hypercube: `samples` points, each range cut into `samples` strata hit once; lists by stratum",
    count=_lhs_count, points=_lhs_points, ranges=True,
))
register_sampler("morris", Sampler(
    design=f"Morris elementary effects: `samples` trajectories of k + 1 points on a {MORRIS_LEVELS}-level grid "
           "of the ranges, then Morris screening (mu_star, sigma)",
    count=_morris_count, points=_morris_points, ranges=True,
    analysis=Analysis("Morris screening", ("mu_star", "mu_star_conf", "sigma", None), _morris_matrix, _morris_analyze),
))
register_sampler("sobol", Sampler(
    design="Saltelli's design: `samples` (a power of 2) x (k + 2) points of the ranges, then Sobol first-order "
           "and total indices (S1, ST)",
    count=_sobol_count, points=_sobol_points, ranges=True, check=_sobol_check,
    analysis=Analysis("Sobol indices", ("ST", "ST_conf", "S1", "S1_conf"), _sobol_matrix, _sobol_analyze),
))

#: The samplers this module defines, by name: replacing one takes ``replace=True``.
BUILT_IN_SAMPLERS = MappingProxyType(dict(SAMPLERS))
