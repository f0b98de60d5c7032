"""The model as the browser app builds it: a grid that follows the population, a seed always known, an end step.

:class:`VizModel` is :class:`~simsolidarity.model.model.SolidarityModel` with three conveniences for the
app's controls, and nothing that changes the model's rules or its random stream:

- the grid grows or shrinks with ``n_people`` (keeping the scenario's density and shape), so the
  population control can never ask for more people than cells (:func:`fit_grid`);
- the seed may come as text from the seed box (:func:`seed_from_text`), and an empty box draws a
  seed that the page then shows, so that every run seen on screen can be run again;
- a run stops at ``run_until`` (as Mesa's controls stop at ``model.running``): a step asked for
  after it does nothing.
"""

from __future__ import annotations

import math
import secrets
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from simsolidarity.model.model import SolidarityModel
from simsolidarity.model.parameters import PARAMETERS

#: Seeds drawn for an empty seed box lie below this (short enough to read and type again).
DRAWN_SEEDS = 1_000_000


def fit_grid(n_people: int, width: int, height: int, reference_people: int | None = None) -> tuple[int, int]:
    """A grid for ``n_people`` that keeps the density and shape of a ``width`` x ``height`` grid.

    Args:
        n_people: the population to place.
        width, height: the scenario's grid.
        reference_people: the population the scenario's grid was made for (default ``n_people``).
            The grid is kept as it is when ``n_people`` equals it and fits; otherwise both sides are
            scaled by ``sqrt(n_people / reference_people)``.

    Returns:
        ``(width, height)`` with ``width * height >= n_people``.
    """
    reference = reference_people or n_people
    if n_people == reference and width * height >= n_people:
        return width, height
    scale = math.sqrt(n_people / max(reference, 1))
    new_width, new_height = max(1, round(width * scale)), max(1, round(height * scale))
    while new_width * new_height < n_people:  # rounding may leave a few cells short
        if new_width * height <= new_height * width:
            new_width += 1
        else:
            new_height += 1
    return new_width, new_height


def with_grid_fitted(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` over the parameters ``base``, with ``width`` and ``height`` refitted by :func:`fit_grid`
    when they change ``n_people`` without setting the grid themselves."""
    fitted = dict(overrides)
    if "n_people" in fitted and "width" not in fitted and "height" not in fitted:
        width = int(base.get("width", PARAMETERS["width"].default))
        height = int(base.get("height", PARAMETERS["height"].default))
        reference = int(base.get("n_people", PARAMETERS["n_people"].default))
        fitted["width"], fitted["height"] = fit_grid(int(fitted["n_people"]), width, height, reference)
    return fitted


def seed_from_text(seed: Any) -> int | None:
    """The seed of the seed box as an integer: whole numbers as they are, other text hashed (CRC-32).

    ``None`` or an empty box gives ``None`` (a fresh random seed); any other text is a valid,
    reproducible seed, so a typo never stops the app.
    """
    if seed is None or isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return None if seed is None else abs(int(seed))
    text = str(seed).strip()
    if not text:
        return None
    try:
        return abs(int(text))
    except ValueError:
        return zlib.crc32(text.encode("utf-8"))


class VizModel(SolidarityModel):
    """The model behind the browser app; the app's Reset builds a new one from the controls.

    Args:
        parameters: the scenario's model parameters (all of them, resolved).
        rng: seed: an integer, text from the seed box (see :func:`seed_from_text`), or ``None`` or
            empty text for a seed drawn now (and kept in :attr:`seed`).
        outcomes: outcome names the datacollector records each step (default: all).
        scenario_name: the scenario's name, shown on the page and given to an exported scenario.
        run_until: the step the run stops at (``None``: it never stops by itself).
        scenario: Mesa's own scenario object, which Mesa's Reset passes to any model that takes
            keyword arguments; ignored (the parameters come from ``parameters`` and the controls).
        **overrides: parameters set by the controls; they win over ``parameters``. When they change
            ``n_people`` without giving ``width`` and ``height``, the grid is refitted with
            :func:`fit_grid` from the scenario's grid.

    Attributes:
        seed: the integer seed in use: the one given, or the one drawn for an empty box.
        scenario_name: as given.
        run_until: as given; :meth:`stop_at` changes it.
    """

    def __init__(
        self,
        parameters: Mapping[str, Any] | None = None,
        *,
        rng: Any = None,
        outcomes: Iterable[str] | None = None,
        scenario_name: str = "",
        run_until: int | None = None,
        scenario: Any = None,
        **overrides: Any,
    ) -> None:
        base = dict(parameters or {})
        overrides = with_grid_fitted(base, overrides)
        seed = seed_from_text(rng)
        if seed is None:
            seed = secrets.randbelow(DRAWN_SEEDS)
        super().__init__(base, rng=seed, outcomes=outcomes, **overrides)
        self.seed: int = seed
        self.scenario_name = scenario_name
        # Mesa's Model.__init__ made ``step`` an instance attribute (its clock's step); a step past the
        # end must not even advance the clock.
        self._clock_step = self.step
        self.step = self._step_within_run
        self.stop_at(run_until)

    def stop_at(self, run_until: int | None) -> None:
        """Make the run end at step ``run_until`` (``None``: never); ``running`` says whether it may go on."""
        self.run_until = None if run_until is None else int(run_until)
        self.running = self.run_until is None or self.steps < self.run_until

    def _step_within_run(self) -> None:
        if self.running:
            self._clock_step()
        self.stop_at(self.run_until)
