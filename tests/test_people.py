"""Person-level and network outputs, and Person attributes that keep the model's arrays true."""

import pickle

import mesa
import networkx as nx
import numpy as np
import pandas as pd
import pytest

import simsolidarity as ss
from simsolidarity.cli import main
from simsolidarity.errors import SimsolidarityError
from simsolidarity.model.agents import PersonError, PersonValueError
from simsolidarity.model.people import PEOPLE_VARIABLES, people_table
from simsolidarity.running.folders import NETWORK, PEOPLE
from simsolidarity.running.scenario import ScenarioError, scenario_from_dict

#: A small population with blocks, virtual groups and local ties.
MODEL = {"n_people": 100, "width": 15, "height": 15, "block_size": 5, "n_virtual_groups": 6}


def scenario(steps=5, **outputs):
    return {"name": "people", "seed": 11, "steps": steps, "model": MODEL, "outputs": outputs}


def edges_by_pair(graph):
    return {frozenset((u, v)): data for u, v, data in graph.edges(data=True)}


def test_the_people_table_is_mesas_agent_table():
    """Catches: a reporter reading the wrong array or the wrong step, or person ids other than Mesa's AgentID."""
    model = ss.SolidarityModel(MODEL, rng=5)
    tables = [people_table(model)]  # before any Person exists: the ids they will get
    reporters = {name: name for name in PEOPLE_VARIABLES}
    reporters.update(x=lambda a: a.position[0], y=lambda a: a.position[1],
                     n_memberships=lambda a: len(a.virtual_groups))
    collector = mesa.DataCollector(agent_reporters=reporters)
    collector.collect(model)
    for _ in range(5):
        model.step()
        collector.collect(model)
        tables.append(people_table(model))
    ours = pd.concat(tables, ignore_index=True)
    mesas = (collector.get_agent_vars_dataframe().reset_index()
             .rename(columns={"Step": "step", "AgentID": "person"})[list(ours.columns)])
    assert ours["step"].unique().tolist() == [0, 1, 2, 3, 4, 5]
    assert ours["n_memberships"].sum() > 0 and ours["active_online"].any() and ours["in_need"].any()
    by = ["step", "person"]
    pd.testing.assert_frame_equal(ours.sort_values(by, ignore_index=True), mesas.sort_values(by, ignore_index=True),
                                  check_dtype=False)


def test_people_every_two_steps_is_written_read_back_and_the_same_for_the_same_seed(tmp_path):
    """Catches: a missing last step or step 0, rows missing or repeated, a gzip file whose bytes change from run
    to run (its header's time), Run.people or load(folder).people not giving the table, and recording that
    changes a simulated number."""
    run = ss.run(scenario(people={"every": 2}), out=tmp_path / "a", plots=False)
    table = run.people
    assert (tmp_path / "a" / PEOPLE).is_file() and PEOPLE in run.manifest["files"]
    assert list(table.columns) == ["step", "person", *PEOPLE_VARIABLES]
    assert sorted(table["step"].unique()) == [0, 2, 4, 5]
    assert (table.groupby("step")["person"].nunique() == MODEL["n_people"]).all()
    assert len(table) == 4 * MODEL["n_people"]
    last = table[table["step"] == 5].sort_values("person")
    np.testing.assert_array_equal(last["opinion"].to_numpy(), run.model.opinion)
    pd.testing.assert_frame_equal(ss.load(tmp_path / "a").people, table, check_dtype=False)

    again = ss.run(scenario(people={"every": 2}), out=tmp_path / "b", plots=False)
    written = (tmp_path / "a" / PEOPLE).read_bytes()
    assert written[:2] == b"\x1f\x8b" and written[4:8] == bytes(4)  # gzip, its header's time 0
    assert written == (tmp_path / "b" / PEOPLE).read_bytes()
    plain = ss.run(scenario(), out=tmp_path / "c", plots=False)
    pd.testing.assert_frame_equal(plain.timeseries, again.timeseries)
    assert plain.people is None and ss.load(tmp_path / "c").people is None
    assert not (tmp_path / "c" / PEOPLE).exists()


@pytest.mark.parametrize("every", [0, -2, 2.5, "often", True, None])
def test_bad_every_values_are_refused_naming_the_key(every):
    """Catches: an ``every`` that is not a whole number of 1 or more let through (0 would divide by zero)."""
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(scenario(people={"every": every}), source="s.yaml")
    assert caught.value.key == "outputs.people.every" and str(caught.value).startswith("s.yaml: outputs.people.every")


@pytest.mark.parametrize(("people", "key"), [({"evry": 2}, "outputs.people.evry"), (3, "outputs.people")])
def test_a_misspelt_or_bare_people_output_is_refused(people, key):
    """Catches: unknown keys under ``outputs.people`` ignored (nothing recorded, no word said)."""
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(scenario(people=people), source="s.yaml")
    assert caught.value.key == key


def test_a_bad_every_in_a_file_exits_2_and_writes_nothing(tmp_path, capsys):
    """Catches: the command line running, or failing with a traceback, on a bad ``outputs.people.every``."""
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nsteps: 2\noutputs:\n  people: {every: 0}\n")
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: outputs.people.every" in err and ">= 1" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_the_final_network_has_every_person_group_tie_meeting_and_membership(tmp_path):
    """Catches: people or groups left out as nodes, local ties, this step's meetings or memberships left out
    (or doubled) as edges, and node attributes read from another row."""
    run = ss.run(scenario(steps=4, network="final"), out=tmp_path / "r", plots=False)
    model = run.model
    graph = nx.read_graphml(tmp_path / "r" / NETWORK)
    kinds = nx.get_node_attributes(graph, "kind")
    assert list(kinds.values()).count("person") == model.n_people
    assert list(kinds.values()).count("group") == model.n_virtual_groups
    pairs = {frozenset(pair) for pair in [*model.local_ties.tolist(), *model.meeting_pairs.tolist()]}
    memberships = int(np.count_nonzero(model.memberships >= 0))
    assert len(model.meeting_pairs) > 0 and memberships > 0
    assert graph.number_of_edges() == len(pairs) + memberships
    row = 37
    person = graph.nodes[f"p{model.person(row).unique_id}"]
    assert person["opinion"] == model.opinion[row] and person["block"] == model.block[row]
    groups = {int(node[1:]) for node in graph[f"p{model.person(row).unique_id}"] if node.startswith("g")}
    assert groups == set(model.person(row).virtual_groups)
    in_memory, loaded = run.network(), ss.load(tmp_path / "r").network()
    assert dict(loaded.nodes(data=True)) == dict(in_memory.nodes(data=True))
    assert edges_by_pair(loaded) == edges_by_pair(in_memory)


def test_networks_every_two_steps_are_written_and_loaded_by_step(tmp_path):
    """Catches: snapshots at the wrong steps or under the wrong file names, and Run.network(step) reading
    another step's file (or none) for a loaded run."""
    run = ss.run(scenario(steps=5, network={"every": 2}), out=tmp_path / "r", plots=False)
    names = sorted(p.name for p in (tmp_path / "r").glob("*.graphml"))
    assert names == [f"network-step-{step:05d}.graphml" for step in (0, 2, 4, 5)]
    loaded = ss.load(tmp_path / "r")
    for step in (0, 2, 5):
        graph = loaded.network(step)
        assert graph.graph["step"] == step
        assert graph.number_of_edges() == run.network(step).number_of_edges()
    assert loaded.network().graph["step"] == 5
    with pytest.raises(SimsolidarityError, match="recorded at steps: 0, 2, 4, 5"):
        loaded.network(3)


def test_a_sweep_writes_the_people_table_in_each_run_folder(tmp_path):
    """Catches: a sweep's runs dropping the scenario's people output."""
    experiment = {"name": "e", "scenario": scenario(steps=3, people={"every": 2}), "replicates": 2,
                  "sweep": {"recommender": ["random"]}, "outcomes": ["belonging"]}
    done = ss.sweep(experiment, out=tmp_path / "s", workers=1, progress=False, plots=False)
    assert done.complete == 2
    for index in range(2):
        table = done.run(index).people
        assert sorted(table["step"].unique()) == [0, 2, 3] and len(table) == 3 * MODEL["n_people"]


def test_person_writes_are_checked_and_people_cannot_be_removed():
    """Catches: a Person write that puts a value out of range into the model's arrays, a valid write that does not
    reach the array, a writable view of what the model's rules decide, and remove() leaving the arrays a row too
    many."""
    model = ss.SolidarityModel(MODEL, rng=2)
    person = model.person(7)
    before = model.opinion[7]
    with pytest.raises(PersonValueError) as caught:
        person.opinion = 5.0
    assert isinstance(caught.value, SimsolidarityError) and isinstance(caught.value, ValueError)
    assert "opinion = 5.0" in str(caught.value) and "[-1, 1]" in str(caught.value)
    assert model.opinion[7] == before
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (copy.attribute, copy.value, str(copy)) == ("opinion", 5.0, str(caught.value))
    for attribute, value in [("belonging", -0.1), ("isolation", float("nan")), ("online", 0.5), ("opinion", True),
                             ("interests", [1.0])]:
        with pytest.raises(PersonValueError, match=attribute):
            setattr(person, attribute, value)

    person.opinion = -0.25
    person.belonging = 1.0
    person.online = not model.online[7]
    assert (model.opinion[7], model.belonging[7], person.online) == (-0.25, 1.0, bool(model.online[7]))

    with pytest.raises(AttributeError, match="read-only"):
        person.block = 0
    with pytest.raises(ValueError, match="read-only"):
        person.memberships[0] = 3
    with pytest.raises(PersonError, match="cannot be removed"):
        person.remove()
    assert person in model.agents and len(model.agents) == model.n_people
