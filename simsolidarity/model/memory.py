"""How much memory a model of given parameters needs, and the working sizes of its step that bound it.

Before anything is allocated, a model whose :func:`estimate_memory` exceeds the memory available
is refused (:func:`check_memory`): by the model itself, by the scenario and experiment loaders
(which read this module without importing Mesa) and by a sweep for its workers together.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from simsolidarity.errors import CapacityError
from simsolidarity.model.recommenders import reads_block_table

#: People scored by a recommender at once, so that the (people x groups) score matrix stays small.
RECOMMEND_CHUNK = 1 << 15
#: A grid with at most this many cells per person is dense: neighbours are looked up offset by
#: offset in a (height x width) table of occupants; a sparser grid sorts people into buckets, so
#: that neither a huge grid nor a huge radius costs time or memory out of proportion to people.
DENSE_CELLS_PER_PERSON = 8
#: Entries a block of the groups' topic sums took when numpy summed them; the compiled kernel now adds
#: into one (groups, topics) table, so the term below that uses it is an upper bound, kept as such.
BINCOUNT_BLOCK = 1 << 16

#: Bytes of a float64 or int64 entry, and of a bool one.
_WORD, _FLAG = 8, 1
#: Bytes one recorded value takes in Mesa's DataCollector: a Python float and its list slot.
_RECORDED_VALUE = 36
#: Bytes of the Python objects of a model of any size (Mesa's model, the collector, dicts, caches).
_FIXED_OVERHEAD = 1 << 18
#: (people, groups) tables of scores alive at once while a chunk is recommended, the recommender's
#: own and the model's copy, random tie-breaks and ranking: 3 with ``similarity``, 4 with ``hybrid``
#: (the most of the built-in ones), and one to spare for a recommender of the user's own.
_SCORE_TABLES = 5
#: A random count is bounded this many standard deviations above its mean (exceeded about once in 10^9).
_MARGIN_SD = 6
#: The number of blocks, in words, for the messages.
_BLOCKS = "blocks (width x height / block_size^2)"
#: Most cells a grid can have: numpy draws the people's cells as 64-bit integers.
MAX_CELLS = np.iinfo(np.int64).max


def _bounded_count(mean: float, limit: int) -> int:
    """A random count of this ``mean`` that a run exceeds with negligible chance, at most ``limit``."""
    return min(limit, math.ceil(mean + _MARGIN_SD * math.sqrt(mean) + _MARGIN_SD))


def _pairs_within(p: Mapping[str, Any], reach_x: int, reach_y: int) -> float:
    """Expected number of pairs of people at most ``reach_x`` cells apart across and ``reach_y`` down, once each.

    A pair of cells at offset ``(dx, dy)`` holds two people with chance ``n (n - 1) / (c (c - 1))``
    on ``c`` cells, and there are ``(width - |dx|)(height - |dy|)`` such pairs of cells.
    """
    n, width, height = p["n_people"], p["width"], p["height"]
    cells = width * height
    across = (2 * reach_x + 1) * width - reach_x * (reach_x + 1)  # sum of (width - |dx|) over dx
    down = (2 * reach_y + 1) * height - reach_y * (reach_y + 1)
    return (across * down - cells) / 2 * n * (n - 1) / (cells * max(cells - 1, 1))  # offset (0, 0) left out


def _memory_terms(
    parameters: Mapping[str, Any], steps: int, n_outcomes: int
) -> tuple[dict[str, tuple[int, str]], dict[str, tuple[int, str]]]:
    """The terms of :func:`estimate_memory` as ``(kept, passing)``, each ``{what: (bytes, what drives it)}``.

    ``kept``: the arrays that live through a run, all at once. ``passing``: the temporaries of one
    phase each (placing people, ..., measuring), which run one after the other, so that only the
    largest counts. Sizes follow the arrays the model allocates; counts that are random (people
    online, people present, local ties) are bounded by :func:`_bounded_count`.
    """
    p = parameters
    n, topics, groups, slots = p["n_people"], p["n_topics"], p["n_virtual_groups"], p["max_memberships"]
    width, height, rounds = p["width"], p["height"], p["meetings_per_step"]
    cells, blocks = width * height, -(-width // p["block_size"]) * -(-height // p["block_size"])
    reach = max(min(p["local_tie_radius"], max(width, height) - 1), 1)
    shown_groups = min(p["n_recommendations"], groups)
    online = _bounded_count(n * p["online_share"] * p["online_activity"], n)  # active online in a step
    chunk = min(RECOMMEND_CHUNK, online) if groups else 0  # people the recommender scores at once
    # Entries of the groups attended in a step: the block's (for those present offline) and the
    # virtual groups of those online; the table itself has a column for each.
    table = n * (1 + slots)
    present = min(table, _bounded_count(n * (1.0 - p["isolation_mean"]), n) + online * slots)
    candidates = _bounded_count(_pairs_within(p, min(reach, width - 1), min(reach, height - 1)), n * (n - 1) // 2)
    ties = _bounded_count(candidates * (1.0 - p["isolation_mean"]) ** 2, candidates)
    meetings = rounds * (n // 2)  # a round pairs each person with at most one other
    block_table = groups * blocks if reads_block_table(p["recommender"]) else 0

    kept = {
        # position (2 words), block, opinion, isolation, belonging, local degree, support (3),
        # exposure mean and spread: 12 words; online, most isolated, active, present, in need: 5 flags.
        "the people's state": ((12 * _WORD + 5 * _FLAG) * n, "n_people"),
        "interests": (_WORD * n * topics, "n_people x n_topics"),
        "memberships and groups attended": (_WORD * (n * slots + table), "n_people x max_memberships"),
        "virtual groups": (_WORD * groups * (2 * topics + 2), "n_virtual_groups x n_topics"),
        "members per group and block": (_WORD * block_table, f"n_virtual_groups x {_BLOCKS}"),
        "local ties": (3 * _WORD * ties, "local_tie_radius^2 x n_people^2 / (width x height)"),
        "meetings of a step": ((2 * _WORD + _FLAG) * meetings, "meetings_per_step x n_people"),
        "time series": (_RECORDED_VALUE * (steps + 1) * (n_outcomes + 2), "steps x outcomes"),
        "Python objects": (_FIXED_OVERHEAD, "nothing"),
    }

    if cells > 10_000 and n > cells // 50:  # numpy's choice without replacement shuffles every cell
        drawing_cells = _WORD * (cells + n)
    else:  # Floyd's algorithm, with a hash set of the power of 2 above 1.2 n
        drawing_cells = _WORD * (n + 2 ** math.ceil(math.log2(1.2 * n + 1)))
    if cells <= DENSE_CELLS_PER_PERSON * n:
        # The occupant table, a dozen index arrays of an offset, the pairs listed and joined.
        finding_pairs = _WORD * (cells + 12 * n + 4 * candidates)
    else:
        # The buckets; for one bucket offset, a dozen arrays over the people in the bucket or the
        # next one (a bucket's side is the radius); the pairs kept with their offsets, listed,
        # joined and sorted.
        looked_at = n + _bounded_count(n * (n - 1) * reach**2 / max(cells - 1, 1), n * n)
        finding_pairs = _WORD * (12 * n + 12 * looked_at + 14 * candidates)
    # Then the pairs, each one's chance and draw and their partial products, the ties drawn.
    tying = max(finding_pairs, 7 * _WORD * candidates)
    # Summing the groups' topics: bounded by what numpy's blockwise bincounts took (the kernel needs less).
    topic_sums = 3 * _WORD * (min(max(n * slots, BINCOUNT_BLOCK), n * slots * topics) + groups * topics)
    passing = {
        "placing people": (max(drawing_cells, 5 * _WORD * n), "width x height"),
        "drawing traits": (4 * _WORD * n, "n_people"),
        "opening groups": (3 * _WORD * groups * topics, "n_virtual_groups x n_topics"),
        "finding local ties": (tying + 2 * _WORD * n, "local_tie_radius, n_people / (width x height)"),
        # The score tables; the interests of a chunk, the topics of the groups shown, the joins.
        "recommending": (
            _WORD * chunk * (
                max(_SCORE_TABLES * groups, groups + topics * (shown_groups + 2)) + 6 * (slots + shown_groups)
            )
            + 4 * _WORD * n,
            "n_virtual_groups x n_people online (at most 32768 at once), n_topics x n_recommendations",
        ),
        # The memberships kept for exposure and a round's uniforms (bounded by the two tables of who is
        # present where that this term was made for); a round's arrays over people (attendance, order,
        # pairs); the pairs met, collected over the rounds in a list and then joined.
        "meeting": (
            (2 * _WORD + 5 * _FLAG) * table + 10 * _WORD * n + 2 * (2 * _WORD + _FLAG) * meetings,
            "meetings_per_step x n_people, n_people x max_memberships",
        ),
        # Belonging and leaving: a few tables over the memberships; the groups' refresh.
        "belonging and leaving": (
            7 * _WORD * n * slots + 6 * _WORD * n + 3 * _WORD * blocks + topic_sums,
            f"n_people x max_memberships, {_BLOCKS}",
        ),
        # Exposure: a few arrays over the groups attended, bincounts over groups and blocks; the
        # contacts of the step (meetings and ties) with their distances.
        "measuring": (
            _FLAG * table + 6 * _WORD * present + 6 * _WORD * n + 3 * _WORD * (groups + blocks)
            + 4 * _WORD * (meetings + ties),
            f"n_people x max_memberships, meetings_per_step x n_people, {_BLOCKS}",
        ),
    }
    return kept, passing


def estimate_memory(parameters: Mapping[str, Any], steps: int = 0, n_outcomes: int = 0) -> int:
    """Bytes a model of these parameters needs at its peak while it is built and stepped.

    An upper bound within a factor of 3 (a test holds it to the peak ``tracemalloc`` measures; it was
    1.2 to 2.4 times that peak from 2,000 to 1,000,000 people, and with many groups, topics,
    memberships, meetings or a large radius): the
    arrays kept through a run (people's state, interests, memberships, groups, local ties, a
    step's meetings) plus the largest temporaries of any one phase of building or of a step (the
    cells drawn, the candidate local ties, a chunk's recommendation scores, the meeting tables, ...),
    plus the time series Mesa's DataCollector keeps.

    Args:
        parameters: resolved parameters (every canonical name present).
        steps: steps the run will take; ``n_outcomes``: outcomes recorded each step.

    A recommender of the user's own is assumed, like the built-in ones, to hold a few score tables
    of (people online, groups) at once; Mesa agent objects (made only when ``model.agents`` is
    read) are not counted, nor numba's own libraries and compiled kernels (about 160 MB, the same
    for a model of any size).
    """
    kept, passing = _memory_terms(parameters, steps, n_outcomes)
    return sum(size for size, _ in kept.values()) + max(size for size, _ in passing.values())


def available_memory(meminfo_path: str = "/proc/meminfo") -> int | None:
    """Bytes of memory available for new allocations: Linux's MemAvailable, read from ``meminfo_path``.

    Where that file is missing, the physical memory (``os.sysconf``); None where neither is known.
    """
    try:
        with open(meminfo_path) as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def human_bytes(size: float) -> str:
    """``size`` bytes in decimal units to three figures: ``512 B``, ``21.9 GB``, ``1.2 TB``."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 999.5:
            return f"{size:.3g} {unit}"
        size /= 1000
    return f"{size:.3g} PB" if size < 999.5 else f"{size:,.0f} PB"


def check_memory(parameters: Mapping[str, Any], steps: int = 0, n_outcomes: int = 0) -> None:
    """Refuse, before anything is allocated, a model that would not fit in the memory available.

    Args: as for :func:`estimate_memory`. Where the available memory cannot be read (no
    ``/proc/meminfo`` and no ``os.sysconf``) only the grid's size is checked.

    Raises:
        CapacityError: when :func:`estimate_memory` exceeds :func:`available_memory`, saying both,
            and the largest parts with the parameters that drive them; or when the grid has more
            than :data:`MAX_CELLS` cells.
    """
    cells = parameters["width"] * parameters["height"]
    if cells > MAX_CELLS:
        raise CapacityError(
            f"width x height = {parameters['width']} x {parameters['height']} cells: at most {MAX_CELLS} "
            "(cells are numbered with 64-bit integers)"
        )
    needed, available = estimate_memory(parameters, steps, n_outcomes), available_memory()
    if available is None or needed <= available:
        return
    kept, passing = _memory_terms(parameters, steps, n_outcomes)
    parts = sorted([*kept.items(), max(passing.items(), key=lambda item: item[1][0])], key=lambda item: -item[1][0])
    # The parts that make up most of the need: the largest, and any other of at least a tenth of it.
    large = [part for part in parts[:3] if part is parts[0] or part[1][0] >= needed / 10]
    raise CapacityError(
        f"the model needs about {human_bytes(needed)}, {human_bytes(available)} available; mostly "
        + "; ".join(f"{what} {human_bytes(size)} (grows with {drivers})" for what, (size, drivers) in large)
    )
