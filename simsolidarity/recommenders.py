"""Recommenders: the rules that pick which virtual groups a person is shown.

A recommender is a vectorized function ``score(model, people) -> scores`` where ``people`` is an
array of person indices and ``scores`` has shape ``(len(people), n_virtual_groups)``: higher means
shown first. The model shows each active person the ``n_recommendations`` best-scored groups that
the person is not already in; the person joins a shown group if its interest match passes
``join_threshold`` (the person's own filter). Recommenders are chosen by name in the parameters;
a user adds one with :func:`register_recommender`, without editing the package::

    @register_recommender("contrarian")
    def contrarian(model, people):
        return -model.opinion_similarity(people)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .model import SolidarityModel

Recommender = Callable[["SolidarityModel", np.ndarray], np.ndarray]

#: The registered recommenders by name.
RECOMMENDERS: dict[str, Recommender] = {}


def register_recommender(name: str) -> Callable[[Recommender], Recommender]:
    """Register the decorated function as the recommender ``name`` (replacing any of that name)."""

    def decorate(function: Recommender) -> Recommender:
        RECOMMENDERS[name] = function
        return function

    return decorate


@register_recommender("random")
def random_groups(model: SolidarityModel, people: np.ndarray) -> np.ndarray:
    """Every group equally likely: the platform without a recommendation algorithm."""
    return model.rng.random((len(people), model.n_virtual_groups))


@register_recommender("similarity")
def similar_groups(model: SolidarityModel, people: np.ndarray) -> np.ndarray:
    """Groups similar to the person: interest similarity, mixed with opinion similarity by ``homophily``.

    ``homophily = 0`` ranks by shared interests only; ``homophily = 1`` by closeness of the
    group's mean opinion only (the "select close" filter of the echo-chamber literature).
    """
    homophily = model.parameters["homophily"]
    return (1.0 - homophily) * model.interest_similarity(people) + homophily * model.opinion_similarity(people)
