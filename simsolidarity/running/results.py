"""Results as Python objects: a :class:`Run` and a :class:`Sweep`, made by running or loaded from a folder.

Both are views of a results folder (see :mod:`simsolidarity.running.folders`) as pandas tables:
a run's time series, one row per step; a sweep's summary, one row per run with every parameter
of that run and every recorded outcome; and a sweep's time series as one tidy table, one row per
run and step, with the run's parameters joined. :func:`load` opens any run or sweep folder, written
by the command line or by the Python API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from simsolidarity.errors import SimsolidarityError, shown
from simsolidarity.running.folders import (
    CALIBRATION,
    EXPERIMENT_FILE,
    FAILURES,
    HYPOTHESES,
    MANIFEST,
    NETWORK,
    NETWORK_AT_STEP,
    PEOPLE,
    RUNS,
    SENSITIVITY,
    SUMMARY,
    TIMESERIES,
    complete_runs,
    is_run_folder,
    is_sweep_folder,
    read_json,
    read_table,
)

if TYPE_CHECKING:
    import networkx as nx

    from simsolidarity.model.model import SolidarityModel
    from simsolidarity.model.people import PeopleRecorder

#: The columns that identify a run of a sweep, first in every sweep table.
RUN_COLUMNS = ("run", "point", "replicate", "seed")
#: What a recorded experiment (``experiment.json``) holds at least, for a sweep to be read.
RECORD_KEYS = ("name", "scenario", "replicates", "swept", "points", "outcomes")
#: The columns of ``failures.csv``.
FAILURE_COLUMNS = (*RUN_COLUMNS, "error")


def summary_table(folder: Path, experiment: dict[str, Any]) -> pd.DataFrame:
    """One row per complete run of a sweep folder, in run order, from the runs' manifests.

    Columns: ``run``, ``point``, ``replicate``, ``seed``, then every model parameter of the run (in
    the schema's order), then the final-window mean of each of the experiment's outcomes (nan
    where undefined). ``experiment`` is the recorded experiment (``experiment.json``).
    """
    outcomes = list(experiment["outcomes"])
    parameters = list(experiment["scenario"]["model"])
    rows = []
    for index, run in complete_runs(folder).items():
        record = read_json(run / MANIFEST)
        summary = record["summary"]
        rows.append({
            "run": index, "point": record["point"], "replicate": record["replicate"], "seed": record["seed"],
            **record["scenario"]["model"],
            **{name: float("nan") if summary.get(name) is None else summary[name] for name in outcomes},
        })
    return pd.DataFrame(rows, columns=[*RUN_COLUMNS, *parameters, *outcomes])


@dataclass(frozen=True, eq=False)
class Run:
    """One simulation run: its record, its time series and, when just run, its model.

    What the scenario asked to record of its people is :attr:`people` (a table) and
    :meth:`network` (a graph).

    Attributes:
        manifest: the run's record: the resolved ``scenario``, ``seed``, ``steps``,
            ``final_outcomes`` (at the last step), ``summary`` (means over the last
            ``final_window`` steps), ``versions``, ``code`` and times.
        timeseries: one row per step: ``step``, then a column per recorded outcome.
        folder: the run folder, or ``None`` for a run kept in memory only.
        model: the :class:`~simsolidarity.SolidarityModel` in its final state, for a run made in
            this process (``None`` for a loaded run): its people, groups and Mesa ``DataCollector``.
    """

    manifest: dict[str, Any]
    timeseries: pd.DataFrame
    folder: Path | None = None
    model: SolidarityModel | None = field(default=None, repr=False)

    @classmethod
    def from_folder(cls, folder: str | Path) -> Run:
        """The run written in ``folder``."""
        folder = Path(folder)
        if not is_run_folder(folder):
            raise SimsolidarityError(f"{folder}: not a run folder ({MANIFEST} and {TIMESERIES})")
        return cls(read_json(folder / MANIFEST), read_table(folder / TIMESERIES), folder)

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.manifest["scenario"]["name"]

    @property
    def seed(self) -> int:
        """The seed the run used."""
        return self.manifest["seed"]

    @property
    def parameters(self) -> dict[str, Any]:
        """Every model parameter of the run."""
        return self.manifest["scenario"]["model"]

    @property
    def summary(self) -> dict[str, float]:
        """Each outcome's mean over the last ``final_window`` steps (nan where undefined)."""
        return {name: float("nan") if value is None else value for name, value in self.manifest["summary"].items()}

    @property
    def _recorder(self) -> PeopleRecorder | None:
        return getattr(self.model, "people_recorder", None) if self.model is not None else None

    @cached_property
    def people(self) -> pd.DataFrame | None:
        """Each person at the steps the scenario recorded (``outputs: people: {every: k}``); ``None`` if none.

        One row per person and recorded step (0, k, 2k, ... and the last): ``step``, ``person``
        (the agent's ``unique_id``, Mesa's ``AgentID``), then the variables of
        :data:`~simsolidarity.model.people.PEOPLE_VARIABLES`. From the run's model when it was
        made in this process, else read from the folder's ``people.csv.gz`` when first asked for.
        """
        recorder = self._recorder
        if recorder is not None and recorder.people is not None:
            return recorder.people
        if self.folder is not None and (self.folder / PEOPLE).is_file():
            return read_table(self.folder / PEOPLE)
        return None

    def network(self, step: int | None = None) -> nx.Graph:
        """The network at ``step`` (default: the last step) as a networkx graph.

        People and virtual groups as nodes, local ties and the step's meetings and memberships as
        edges, with their attributes: see :func:`~simsolidarity.model.people.network_graph`. From
        the run's model when it was made in this process (its last step, or a step it recorded),
        else read from the folder's GraphML file (``outputs: network``), with the same nodes,
        edges and attributes.

        Raises:
            SimsolidarityError: for a step whose network was not recorded, naming those that were.
        """
        wanted = int(self.manifest["steps"]) if step is None else step
        recorder = self._recorder
        if recorder is not None and wanted in recorder.networks:
            return recorder.networks[wanted]
        if self.model is not None and wanted == self.model.steps:
            from simsolidarity.model.people import network_graph

            return network_graph(self.model)
        files = self._network_files()
        if wanted in files and files[wanted].is_file():
            import networkx as nx  # only here: the command line starts without it

            return nx.read_graphml(files[wanted])
        recorded = sorted({*(recorder.networks if recorder is not None else ()), *files})
        steps = ", ".join(map(str, recorded)) if recorded else "none (see outputs: network in the scenario)"
        raise SimsolidarityError(f"step {shown(wanted)}: no network recorded at that step; recorded at steps: {steps}")

    def _network_files(self) -> dict[int, Path]:
        """The run folder's network files by step, as the scenario's ``outputs: network`` asked for them."""
        asked = self.manifest["scenario"].get("outputs", {}).get("network")
        if self.folder is None or asked is None:
            return {}
        last = int(self.manifest["steps"])
        if asked == "final":
            return {last: self.folder / NETWORK}
        from simsolidarity.model.people import recorded_steps

        return {step: self.folder / NETWORK_AT_STEP.format(step=step) for step in recorded_steps(asked["every"], last)}


@dataclass(frozen=True, eq=False)
class Sweep:
    """A sweep folder: its experiment, its runs as tables, and what its analysis wrote.

    Attributes:
        folder: the sweep folder.
        experiment: the resolved experiment as recorded (``experiment.json``): ``name``,
            ``scenario``, ``sampler``, ``swept``, ``points``, ``replicates``, ``outcomes`` ...
    """

    folder: Path
    experiment: dict[str, Any]

    @classmethod
    def from_folder(cls, folder: str | Path, summary: pd.DataFrame | None = None) -> Sweep:
        """The sweep written in ``folder`` (complete or not).

        ``summary``: the folder's :func:`summary_table` when the caller has just made it (a sweep
        that just ran), so that the runs' manifests are not read a second time.
        """
        folder = Path(folder)
        if not is_sweep_folder(folder):
            raise SimsolidarityError(f"{folder}: not a sweep folder (no {EXPERIMENT_FILE})")
        try:
            record = read_json(folder / EXPERIMENT_FILE)
        except (ValueError, UnicodeDecodeError) as error:
            raise SimsolidarityError(f"{folder / EXPERIMENT_FILE}: not readable as JSON ({error})") from None
        missing = [key for key in RECORD_KEYS if not isinstance(record, dict) or key not in record]
        if missing:
            raise SimsolidarityError(f"{folder / EXPERIMENT_FILE}: not an experiment recorded by simsolidarity "
                                     f"(no {', '.join(missing)})")
        sweep = cls(folder, record)
        if summary is not None:
            sweep.__dict__["summary"] = summary  # the cache of the ``summary`` property
        return sweep

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self.experiment["name"]

    @property
    def total(self) -> int:
        """How many runs the experiment has: points x replicates."""
        return len(self.experiment["points"]) * self.experiment["replicates"]

    @property
    def swept(self) -> list[str]:
        """The parameters the sweep varies."""
        return list(self.experiment["swept"])

    @property
    def outcomes(self) -> list[str]:
        """The outcomes the sweep records."""
        return list(self.experiment["outcomes"])

    @cached_property
    def summary(self) -> pd.DataFrame:
        """One row per complete run: run, point, replicate, seed, every parameter, every recorded outcome.

        Each outcome is its mean over the run's last ``final_window`` steps (nan where undefined).
        Read from the runs' manifests, so it is current even for a sweep that was stopped; a folder
        that keeps only the sweep's tables (``summary.csv`` without the run folders, as an archive
        of findings does) gives its ``summary.csv``.
        """
        if not (self.folder / RUNS).is_dir() and (self.folder / SUMMARY).is_file():
            return read_table(self.folder / SUMMARY)
        return summary_table(self.folder, self.experiment)

    @property
    def complete(self) -> int:
        """How many runs are complete."""
        return len(self.summary)

    @cached_property
    def failed(self) -> pd.DataFrame:
        """The runs that failed in the last sweep into the folder: run, point, replicate, seed, error.

        Empty when none failed. The tracebacks are in ``sweep.log``; a sweep into the same folder
        again retries them.
        """
        path = self.folder / FAILURES
        return read_table(path) if path.exists() else pd.DataFrame(columns=list(FAILURE_COLUMNS))

    @cached_property
    def hypotheses(self) -> pd.DataFrame | None:
        """The verdict on each expectation of the experiment's hypothesis, or ``None`` if it states none."""
        path = self.folder / HYPOTHESES
        return read_table(path) if path.exists() else None

    @cached_property
    def sensitivity(self) -> pd.DataFrame | None:
        """The sensitivity indices of a ``morris`` or ``sobol`` sweep, or ``None``."""
        path = self.folder / SENSITIVITY
        return read_table(path) if path.exists() else None

    @cached_property
    def calibration(self) -> pd.DataFrame | None:
        """Each parameter point against the experiment's ``targets``, or ``None`` if it states none.

        One row per point: ``point``, the swept parameters, ``runs``, each target outcome's mean over
        the point's runs, ``accepted`` (inside every target) and ``distance`` (to the targets' box).
        """
        path = self.folder / CALIBRATION
        return read_table(path) if path.exists() else None

    def run(self, index: int) -> Run:
        """The complete run ``index`` of the sweep."""
        folder = complete_runs(self.folder).get(index)
        if folder is None:
            raise SimsolidarityError(f"{self.folder}: run {index} is not complete (runs 0 to {self.total - 1})")
        return Run.from_folder(folder)

    def timeseries(
        self, outcomes: list[str] | None = None, parameters: Literal["all", "swept", "none"] = "all"
    ) -> pd.DataFrame:
        """Every complete run's time series as one tidy table: one row per run and step.

        Columns: ``run``, ``point``, ``replicate``, ``seed``, the run's parameters, ``step``, then
        the outcomes.

        Args:
            outcomes: the outcome columns to keep (default: every recorded outcome).
            parameters: which of the run's parameters to join: ``"all"`` (default: every model
                parameter, so that tables of several sweeps stack), ``"swept"`` (those the sweep
                varies) or ``"none"``.
        """
        outcomes = self.outcomes if outcomes is None else list(outcomes)
        unknown = sorted(set(outcomes) - set(self.outcomes))
        if unknown:
            raise SimsolidarityError(f"{unknown[0]!r}: not an outcome of this sweep ({', '.join(self.outcomes)})")
        choice = {"all": list(self.experiment["scenario"]["model"]), "swept": self.swept, "none": []}
        if parameters not in choice:
            raise SimsolidarityError(f"parameters={parameters!r}: expected 'all', 'swept' or 'none'")
        runs = self.summary[[*RUN_COLUMNS, *choice[parameters]]]
        tables = [read_table(folder / TIMESERIES)[["step", *outcomes]].assign(run=index)
                  for index, folder in complete_runs(self.folder).items()]
        if not tables:
            return pd.DataFrame(columns=[*runs.columns, "step", *outcomes])
        return runs.merge(pd.concat(tables, ignore_index=True), on="run", how="inner", validate="one_to_many")


def load(folder: str | Path) -> Run | Sweep:
    """Open a run folder as a :class:`Run` or a sweep folder as a :class:`Sweep`.

    Raises :class:`~simsolidarity.SimsolidarityError` for a folder that is neither.
    """
    folder = Path(folder)
    if is_sweep_folder(folder):
        return Sweep.from_folder(folder)
    if is_run_folder(folder):
        return Run.from_folder(folder)
    if not folder.exists():
        raise SimsolidarityError(f"{folder}: no such folder")
    raise SimsolidarityError(f"{folder}: neither a run folder ({MANIFEST}, {TIMESERIES}) nor a sweep folder "
                             f"({EXPERIMENT_FILE})")
