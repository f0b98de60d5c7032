"""Recommenders: the rules that pick which virtual groups a person is shown.

A recommender is a vectorized function ``score(model, people) -> scores`` where ``people`` is an
array of person indices and ``scores`` has shape ``(len(people), n_virtual_groups)``: higher means
shown first. The model shows each active person the ``n_recommendations`` best-scored groups that
the person is not already in; the person joins a shown group if its interest match passes
``join_threshold`` (the person's own filter). Scores within 1e-9 of each other count as tied
and are shown in random order. A score of ``-inf`` means "never show this group"; NaN and
``+inf`` are refused (:class:`~simsolidarity.errors.RecommenderError`), as are scores of another
shape and an exception raised inside the recommender: the error names the recommender and, for an
exception, the file and line where it was raised. Note that a group nobody has joined has no mean
opinion (``model.group_opinion`` is NaN for it, as for every group at the start):
:meth:`~simsolidarity.model.model.SolidarityModel.opinion_similarity` scores such a group 0.5.

Recommenders are chosen by name in the parameters; a user adds one with
:func:`register_recommender`, without editing the package, and can check it on a small model with
:func:`probe_recommender` before a long run::

    @register_recommender("contrarian")
    def contrarian(model, people):
        return -model.opinion_similarity(people)
"""

from __future__ import annotations

import os
import sysconfig
import traceback
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from simsolidarity.errors import RecommenderError, shown
from simsolidarity.registry import check_name, check_registration

if TYPE_CHECKING:
    from simsolidarity.model.model import SolidarityModel

Recommender = Callable[["SolidarityModel", np.ndarray], np.ndarray]

#: The registered recommenders by name.
RECOMMENDERS: dict[str, Recommender] = {}
#: The built-in ones (empty until they are registered below); replacing one takes ``replace=True``.
BUILT_IN_RECOMMENDERS: Mapping[str, Recommender] = MappingProxyType({})

#: Upper bounds on the parameters of the small model that :func:`probe_recommender` builds.
PROBE_LIMITS = {
    "n_people": 100,
    "width": 20,
    "height": 20,
    "n_topics": 50,
    "n_virtual_groups": 500,
    "max_memberships": 50,
    "meetings_per_step": 2,  # the probe does not step; the model's memory check counts the meetings
}


def register_recommender(name: str, *, replace: bool = False) -> Callable[[Recommender], Recommender]:
    """Register the decorated function as the recommender ``name``.

    Args:
        name: the name that the ``recommender`` parameter gives; a non-empty string.
        replace: allow taking a name already registered to another function, the built-in ones
            (``random``, ``similarity``, ...) included.

    Registering the same definition again under its name (same module and qualified name, as when
    a notebook cell or a plugin module runs again) replaces it without ``replace``.

    Raises:
        RecommenderError: for a name that is not a non-empty string, for something that is not
            callable, and, without ``replace``, for a name taken by a built-in recommender or by
            another function.
    """
    check_name(name, kind="recommender", error=RecommenderError)

    def decorate(function: Recommender) -> Recommender:
        if not callable(function):
            raise RecommenderError(
                f"recommender {name!r} must be a function score(model, people), not {shown(function)}"
            )
        check_registration(name, function, RECOMMENDERS.get(name), built_in=name in BUILT_IN_RECOMMENDERS,
                           kind="recommender", replace=replace, error=RecommenderError)
        RECOMMENDERS[name] = function
        return function

    return decorate


def _raised_at(error: BaseException) -> str:
    """``file:line`` where ``error`` was raised inside a recommender, for a message without a traceback.

    The innermost frame outside Python's own and installed libraries: a recommender's bug often
    surfaces inside numpy (a shape that does not broadcast), but the line to fix is the user's call.
    The first frame, the call in :func:`checked_scores`, is never the place.
    """
    frames = traceback.extract_tb(error.__traceback__)[1:]
    if not frames:
        return "an unknown line"
    paths = {sysconfig.get_path(kind) for kind in ("stdlib", "platstdlib", "purelib", "platlib")}
    libraries = tuple(os.path.join(os.path.realpath(path), "") for path in paths if path)
    own = [frame for frame in frames if not os.path.realpath(frame.filename).startswith(libraries)]
    frame = (own or frames)[-1]
    return f"{frame.filename}:{frame.lineno}"


def checked_scores(recommender: Recommender, name: str, model: SolidarityModel, people: np.ndarray) -> np.ndarray:
    """``recommender``'s scores for ``people`` as a float array (the one it returned, if it was one: the model only
    reads it), refusing what the model cannot use.

    Args:
        recommender: the score function; ``name`` is what it is registered as, for the messages.

    Raises:
        RecommenderError: for an exception inside the recommender (its type, message and
            ``file:line``; chained from it), a result that is not an array of numbers, a shape
            other than ``(len(people), n_virtual_groups)``, and NaN or ``+inf`` scores (``-inf`` is
            allowed: "never show"). Checking costs one pass over fine scores, with no temporary.
    """
    expected = (len(people), model.n_virtual_groups)
    try:
        result = recommender(model, people)
    except Exception as error:
        message = str(error).strip()
        said = f": {shown(message)[1:-1]}" if message else ""  # bounded, on one line, without quotes
        raise RecommenderError(
            f"recommender {name!r} raised {type(error).__name__}{said} at {_raised_at(error)}"
        ) from error
    try:
        scores = np.asarray(result, dtype=float)
    except (TypeError, ValueError) as error:
        raise RecommenderError(
            f"recommender {name!r} returned {shown(result)}: expected an array of numbers of shape "
            f"(people, groups) = {expected}"
        ) from error
    if scores.shape != expected:
        got = f"scores of shape {scores.shape}" if scores.ndim else shown(result)
        swapped = " (people and groups swapped?)" if scores.shape == expected[::-1] != expected else ""
        raise RecommenderError(
            f"recommender {name!r} returned {got}{swapped}: expected (people, groups) = {expected}"
        )
    # The sum is finite or -inf unless a score is NaN or +inf, or finite scores overflow (which the
    # exact count then clears): one pass, where np.isfinite would also allocate a boolean table.
    total = scores.sum()
    if not (np.isfinite(total) or total == -np.inf):
        _refuse_nan_and_infinity(name, scores)
    return scores


def _refuse_nan_and_infinity(name: str, scores: np.ndarray) -> None:
    nan, infinite = int(np.count_nonzero(np.isnan(scores))), int(np.count_nonzero(scores == np.inf))
    found = [f"{count} {what}" for count, what in ((nan, "NaN"), (infinite, "+inf")) if count]
    if found:
        raise RecommenderError(
            f"recommender {name!r} returned {' and '.join(found)} among its {scores.shape[0]} x "
            f"{scores.shape[1]} (people x groups) scores: expected numbers, or -inf for a group never to show "
            "(an empty group, as every group is at the start, has a NaN group_opinion; "
            "model.opinion_similarity scores it 0.5)"
        )


def probe_recommender(name: str, parameters: Mapping[str, Any]) -> None:
    """Call recommender ``name`` once for every person of a small model built from ``parameters``.

    The model has the given parameters cut down to :data:`PROBE_LIMITS` (at most 100 people on
    at most 20 x 20 cells, ...), so the probe takes milliseconds. It is probed as at the start of
    a run, when every virtual group is empty and its ``group_opinion`` is NaN: a recommender that
    reads it raw returns NaN, which a long run would otherwise find only at its first step.

    Raises:
        RecommenderError: naming the recommender, if it is not registered, raises, or returns
            scores of the wrong shape or with NaN or ``+inf``.
        ParameterError: for a bad parameter.
    """
    from simsolidarity.model.model import SolidarityModel
    from simsolidarity.model.parameters import resolve_parameters

    if name not in RECOMMENDERS:
        raise RecommenderError(f"no recommender is registered as {shown(name)}; registered: {', '.join(RECOMMENDERS)}")
    small = resolve_parameters({**parameters, "recommender": name})
    small.update({key: min(small[key], limit) for key, limit in PROBE_LIMITS.items()})
    small["n_people"] = min(small["n_people"], small["width"] * small["height"])
    if small["n_virtual_groups"] == 0:
        return  # the model never asks a recommender when there are no groups
    model = SolidarityModel(small, rng=0, outcomes=())
    checked_scores(RECOMMENDERS[name], name, model, np.arange(model.n_people))


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
    homophily = model.params.homophily
    return model.similarity(people, interest_weight=1.0 - homophily, opinion_weight=homophily)


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
    weight = model.params.diversity_weight
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
    weight = model.params.diversity_weight
    return mix({"similarity": 1.0 - weight, "bridging": weight})(model, people)


#: The recommenders this module defines, by name: replacing one takes ``replace=True``.
BUILT_IN_RECOMMENDERS = MappingProxyType(dict(RECOMMENDERS))
#: The built-in recommenders that read ``model.group_members_by_block()``, a (groups x blocks) table.
_READING_BLOCKS = frozenset({"local"})


def reads_block_table(name: str) -> bool:
    """Whether recommender ``name`` may build the (groups x blocks) table: ``local``, or one not built in."""
    return name in _READING_BLOCKS or RECOMMENDERS.get(name) is not BUILT_IN_RECOMMENDERS.get(name)
