"""Recommenders: the rules that pick which virtual groups a person is shown.

A recommender is a vectorized function ``score(model, people) -> scores`` where ``people`` is an
array of person indices and ``scores`` has shape ``(len(people), n_virtual_groups)``: higher means
shown first. The model shows each active person the ``n_recommendations`` best-scored groups that
the person is not already in; the person joins a shown group if its interest match passes
``join_threshold`` (the person's own filter). Scores within 1e-9 of each other count as tied
and are shown in random order. Recommenders are chosen by name in the parameters;
a user adds one with :func:`register_recommender`, without editing the package::

    @register_recommender("contrarian")
    def contrarian(model, people):
        return -model.opinion_similarity(people)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


@register_recommender("popularity")
def popular_groups(model: SolidarityModel, people: np.ndarray) -> np.ndarray:
    """Bigger groups first (rich get richer): a group's size over the largest group's size."""
    size = model.group_size.astype(float)
    return np.broadcast_to(size / max(size.max(initial=0.0), 1.0), (len(people), model.n_virtual_groups))


@register_recommender("bridging")
def bridging_groups(model: SolidarityModel, people: np.ndarray) -> np.ndarray:
    """Similar interests, different opinions: ``(1 - w) interest similarity + w opinion difference``.

    ``w`` is ``diversity_weight``; opinion difference is ``|opinion - group mean| / 2`` in [0, 1].
    """
    weight = model.parameters["diversity_weight"]
    return (1.0 - weight) * model.interest_similarity(people) + weight * (1.0 - model.opinion_similarity(people))


@register_recommender("local")
def local_groups(model: SolidarityModel, people: np.ndarray) -> np.ndarray:
    """Groups whose members live near the person: the share of a group's members in the person's block."""
    nearby = model.group_members_by_block()[:, model.block[people]].T
    return nearby / np.maximum(model.group_size, 1)[None, :]


def mix(weights: Mapping[str, float]) -> Recommender:
    """A recommender that adds up registered recommenders' scores with fixed weights.

    The parts are looked up by name when the mix runs, so a mix may name a recommender that a
    plugin registers later. For example ``register_recommender("mine")(mix({"similarity": 0.7,
    "popularity": 0.3}))``.
    """
    parts = dict(weights)

    def mixed(model: SolidarityModel, people: np.ndarray) -> np.ndarray:
        return sum(w * np.asarray(RECOMMENDERS[name](model, people), dtype=float) for name, w in parts.items())

    return mixed


@register_recommender("hybrid")
def hybrid_groups(model: SolidarityModel, people: np.ndarray) -> np.ndarray:
    """``similarity`` and ``bridging`` mixed: ``(1 - w) similarity + w bridging`` with ``w = diversity_weight``."""
    weight = model.parameters["diversity_weight"]
    return mix({"similarity": 1.0 - weight, "bridging": weight})(model, people)
