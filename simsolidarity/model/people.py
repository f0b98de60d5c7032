"""Person-level and network outputs, read straight from the model's arrays.

:func:`people_table` is one row per person at the model's current step, the same numbers as
Mesa's ``DataCollector(agent_reporters=...)`` reading the :class:`~simsolidarity.model.agents.Person`
attributes, without making a ``Person`` object. :func:`network_graph` is the network at the
current step as a networkx graph, for GraphML (Gephi, networkx, igraph). A :class:`PeopleRecorder`
records both while a model runs, every so many steps.

networkx is imported only by the functions that build or need a graph, so that a run that does
not ask for a network does not pay for importing it.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
import pandas as pd

from simsolidarity.model.outcomes import row_entries

if TYPE_CHECKING:
    import networkx as nx

    from simsolidarity.model.model import SolidarityModel


class PersonVariable(NamedTuple):
    """A column of the people table: what it is, and how to read it for every person from the model."""

    description: str
    read: Callable[[SolidarityModel], np.ndarray]


#: The people table's variables after ``step`` and ``person``, in column order. Each reads a
#: ``(people,)`` array of the model; the Person attribute of the same name (or, for ``x``, ``y``
#: and ``n_memberships``, ``position[0]``, ``position[1]`` and ``len(virtual_groups)``) gives the
#: same value for one person.
PEOPLE_VARIABLES: dict[str, PersonVariable] = {
    "x": PersonVariable("grid column of the person's cell", lambda m: m.position[:, 0]),
    "y": PersonVariable("grid row of the person's cell", lambda m: m.position[:, 1]),
    "block": PersonVariable("neighbourhood block, i.e. geographic group", attrgetter("block")),
    "online": PersonVariable("whether the person has online access", attrgetter("online")),
    "isolation": PersonVariable("isolation where the person lives, in [0, 1]", attrgetter("isolation")),
    "opinion": PersonVariable("opinion on the contested issue, in [-1, 1]", attrgetter("opinion")),
    "belonging": PersonVariable("felt belonging, in [0, 1]", attrgetter("belonging")),
    "n_memberships": PersonVariable(
        "number of virtual groups the person is in", lambda m: np.count_nonzero(m.memberships >= 0, axis=1)
    ),
    "local_degree": PersonVariable("number of local ties", attrgetter("local_degree")),
    "active_online": PersonVariable("whether the person was active online this step", attrgetter("active_online")),
    "offline_present": PersonVariable("whether the person took part offline this step", attrgetter("offline_present")),
    "in_need": PersonVariable("whether a need event hit the person this step", attrgetter("in_need")),
    "support": PersonVariable("support received this step, in [0, 1]", attrgetter("support")),
    "offline_belonging": PersonVariable("the belonging offline life alone gives, in [0, 1]",
                                        attrgetter("offline_belonging")),
    "online_engagement": PersonVariable("share of recent steps active online, in [0, 1]",
                                        attrgetter("online_engagement")),
}


def person_ids(model: SolidarityModel) -> np.ndarray:
    """The ``unique_id`` of each person, by row: the ``AgentID`` of Mesa's tables.

    Mesa numbers agents in the order they register; the people are the model's only agents,
    registered together in row order when first asked for (``model.agents``). Before that, these
    are the ids they will get; no ``Person`` object is made here.
    """
    # The model makes its Person objects on first use only; its flag says whether they exist yet.
    first = model.person(0).unique_id if model._people_created else model.agent_id_counter
    return first + np.arange(model.n_people)


def people_table(model: SolidarityModel) -> pd.DataFrame:
    """One row per person at the model's current step: ``step``, ``person``, then :data:`PEOPLE_VARIABLES`.

    ``person`` is the person's ``unique_id``; rows are in the order of the model's arrays.
    Every column is a copy, so the table does not change as the model steps on.
    """
    n = model.n_people
    columns = {"step": np.full(n, model.steps, dtype=np.int64), "person": person_ids(model)}
    columns.update({name: np.array(variable.read(model), copy=True) for name, variable in PEOPLE_VARIABLES.items()})
    return pd.DataFrame(columns)


def person_node(unique_id: int) -> str:
    """The node id of a person in :func:`network_graph`: ``p<unique_id>``."""
    return f"p{unique_id}"


def group_node(group: int) -> str:
    """The node id of a virtual group in :func:`network_graph`: ``g<group id>``."""
    return f"g{group}"


def network_graph(model: SolidarityModel) -> nx.Graph:
    """The network at the model's current step: people, virtual groups, ties, this step's meetings, memberships.

    A bipartite-style undirected ``networkx.Graph``, as Gephi and networkx's ``bipartite``
    functions expect: node attribute ``bipartite`` is 0 for people and 1 for virtual groups, and
    ``kind`` is ``"person"`` or ``"group"``.

    - **People** (node ``p<unique_id>``, see :func:`person_node`): ``person`` (the unique id),
      ``label``, and every variable of :data:`PEOPLE_VARIABLES` (``x`` and ``y`` are the grid
      cell, which Gephi takes as the node's place).
    - **Virtual groups** (node ``g<id>``): ``group`` (the id), ``label``, ``size`` (members) and
      ``opinion`` (the members' mean; left out for an empty group, as GraphML has no nan).
      Geographic groups are the people's ``block`` attribute.
    - **Ties between people** (``kind="tie"``): one edge per pair that has a local tie or met this
      step, with ``local_tie`` (True or False), ``met_online`` and ``met_offline`` (how many times
      the pair met this step in a virtual group, and in their block's group; the model keeps the
      meetings of the current step only) and ``distance`` (on the grid).
    - **Memberships** (``kind="membership"``): one edge from a person to each virtual group they are in.

    Graph attributes: ``step``, ``n_people``, ``n_virtual_groups``.
    """
    import networkx as nx  # only here: the command line starts without it

    n, g = model.n_people, model.n_virtual_groups
    graph = nx.Graph(step=int(model.steps), n_people=int(n), n_virtual_groups=int(g))

    ids = person_ids(model).tolist()
    people = [person_node(uid) for uid in ids]
    values = {name: np.asarray(variable.read(model)).tolist() for name, variable in PEOPLE_VARIABLES.items()}
    graph.add_nodes_from(
        (node, {"kind": "person", "bipartite": 0, "person": uid, "label": f"person {uid}",
                **{name: column[row] for name, column in values.items()}})
        for row, (node, uid) in enumerate(zip(people, ids, strict=True))
    )
    sizes, opinions = model.group_size.tolist(), model.group_opinion.tolist()
    graph.add_nodes_from(
        (group_node(group), {"kind": "group", "bipartite": 1, "group": group, "label": f"group {group}",
                             "size": sizes[group], **({"opinion": opinions[group]} if sizes[group] else {})})
        for group in range(g)
    )

    # Every pair once, as (lower row, higher row); a pair may be a local tie and meet several times.
    def key_of(pairs: np.ndarray) -> np.ndarray:
        return pairs[:, 0].astype(np.int64) * n + pairs[:, 1]

    ties, meetings = np.sort(model.local_ties, axis=1), np.sort(model.meeting_pairs, axis=1)
    keys = np.unique(np.concatenate([key_of(ties), key_of(meetings)]))
    local = np.isin(keys, key_of(ties))
    online = np.searchsorted(keys, key_of(meetings[model.meeting_online]))
    offline = np.searchsorted(keys, key_of(meetings[~model.meeting_online]))
    met_online, met_offline = np.bincount(online, minlength=keys.size), np.bincount(offline, minlength=keys.size)
    first, second = keys // n, keys % n
    distance = np.hypot(*(model.position[first] - model.position[second]).T)
    graph.add_edges_from(
        (people[a], people[b], {"kind": "tie", "local_tie": tie, "met_online": on, "met_offline": off,
                                "distance": d})
        for a, b, tie, on, off, d in zip(first.tolist(), second.tolist(), local.tolist(), met_online.tolist(),
                                         met_offline.tolist(), distance.tolist(), strict=True)
    )
    member, group = row_entries(model.memberships)
    graph.add_edges_from(
        (people[row], group_node(group), {"kind": "membership"})
        for row, group in zip(member.tolist(), group.tolist(), strict=True)
    )
    return graph


def recorded_steps(every: int, steps: int) -> list[int]:
    """The steps recorded every ``every`` steps of a run of ``steps`` steps: 0, every, 2 every, ..., and the last."""
    return sorted({*range(0, steps + 1, every), steps})


class PeopleRecorder:
    """Records a running model's people table and network every so many steps, and at the last step.

    Call :meth:`record` once before the first step and after each step, and :meth:`finish` after
    the last; what was recorded is then :attr:`people` and :attr:`networks`.

    Args:
        people_every: steps between rows of the people table (0, ``people_every``, ..., and the
            last step); ``None`` records none.
        network_every: steps between network snapshots, likewise; ``"final"`` records the
            network at the last step only; ``None`` records none. Each snapshot is a networkx
            graph kept in memory until the run is written.
    """

    def __init__(self, people_every: int | None = None, network_every: int | Literal["final"] | None = None) -> None:
        self.people_every = people_every
        self.network_every = network_every
        self._tables: dict[int, pd.DataFrame] = {}
        self._people: pd.DataFrame | None = None
        #: Network snapshots by step, in step order.
        self.networks: dict[int, nx.Graph] = {}

    def record(self, model: SolidarityModel) -> None:
        """Record what is due at the model's current step: call it before the first step and after each."""
        self._record(model, lambda every: isinstance(every, int) and model.steps % every == 0)

    def finish(self, model: SolidarityModel) -> None:
        """Record the model's last step, where it is not recorded yet: call it after the last step."""
        self._record(model, lambda every: every is not None)

    def _record(self, model: SolidarityModel, due: Callable[[int | str | None], bool]) -> None:
        step = model.steps
        if due(self.people_every) and step not in self._tables:
            self._tables[step] = people_table(model)
            self._people = None
        if due(self.network_every) and step not in self.networks:
            self.networks[step] = network_graph(model)

    @property
    def people(self) -> pd.DataFrame | None:
        """One row per person and recorded step (see :func:`people_table`); ``None`` if not asked for."""
        if self.people_every is None:
            return None
        if self._people is None:
            columns = ["step", "person", *PEOPLE_VARIABLES]
            tables = list(self._tables.values())
            self._people = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=columns)
        return self._people
