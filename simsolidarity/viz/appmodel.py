"""The model as the browser app builds it: a grid that follows the population, a seed from text, a drawing sample.

:class:`VizModel` is :class:`~simsolidarity.model.model.SolidarityModel` with three conveniences for the
app's controls, and nothing that changes the model's rules or its random stream:

- the grid grows or shrinks with ``n_people`` (keeping the scenario's density and shape), so the
  population slider can never ask for more people than cells (:func:`fit_grid`);
- the seed may come as text from the seed box (:func:`seed_from_text`);
- for a large population, the map draws a fixed random sample of people, chosen once per model
  with a generator of its own (:func:`display_sample`), so stepping stays quick and the model's
  own draws stay those of a run from the command line with the same parameters and seed.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from simsolidarity.model.model import SolidarityModel
from simsolidarity.model.parameters import PARAMETERS

#: At most this many people are drawn on the map; a larger population is shown by a fixed sample.
DISPLAY_LIMIT = 5000
#: Seed of the generator that picks the drawing sample (never the model's generator).
SAMPLE_SEED = 20240601


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


def display_sample(n_people: int, limit: int = DISPLAY_LIMIT, seed: int = SAMPLE_SEED) -> np.ndarray | None:
    """Sorted row indices of at most ``limit`` people to draw, or ``None`` when everybody fits."""
    if n_people <= limit:
        return None
    return np.sort(np.random.default_rng(seed).choice(n_people, size=limit, replace=False))


class VizModel(SolidarityModel):
    """The model behind the browser app; Mesa's Reset builds a new one from the controls.

    Args:
        parameters: the scenario's model parameters (all of them, resolved).
        rng: seed: an integer, text from the seed box (see :func:`seed_from_text`) or ``None``.
        outcomes: outcome names the datacollector records each step (default: all).
        scenario_name: the scenario's name, shown on the page.
        display_limit: most people drawn on the map (see :func:`display_sample`).
        scenario: Mesa's own scenario object, which Mesa's Reset passes to any model that takes
            keyword arguments; ignored (the parameters come from ``parameters`` and the controls).
        **overrides: parameters set by the controls; they win over ``parameters``. When they change
            ``n_people`` without giving ``width`` and ``height``, the grid is refitted with
            :func:`fit_grid` from the scenario's grid.

    Attributes:
        seed: the integer seed actually used (``None`` for a fresh random one).
        scenario_name: as given.
        sample: row indices of the people drawn on the map, or ``None`` for everybody.
    """

    def __init__(
        self,
        parameters: Mapping[str, Any] | None = None,
        *,
        rng: Any = None,
        outcomes: Iterable[str] | None = None,
        scenario_name: str = "",
        display_limit: int = DISPLAY_LIMIT,
        scenario: Any = None,
        **overrides: Any,
    ) -> None:
        base = dict(parameters or {})
        if "n_people" in overrides and "width" not in overrides and "height" not in overrides:
            n_people = int(overrides["n_people"])
            width = int(base.get("width", PARAMETERS["width"].default))
            height = int(base.get("height", PARAMETERS["height"].default))
            reference = int(base.get("n_people", PARAMETERS["n_people"].default))
            overrides["width"], overrides["height"] = fit_grid(n_people, width, height, reference)
        seed = seed_from_text(rng)
        super().__init__(base, rng=seed, outcomes=outcomes, **overrides)
        self.seed = seed
        self.scenario_name = scenario_name
        self.sample = display_sample(self.n_people, display_limit)

    @property
    def drawn(self) -> np.ndarray:
        """Row indices of the people drawn on the map (everybody, or the fixed sample)."""
        return np.arange(self.n_people) if self.sample is None else self.sample
