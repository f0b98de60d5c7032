"""The model layer: parameters, people, recommenders, outcomes, the model and its reference.

The bottom layer: it imports nothing from the running and analysis layers above it.
"""

from simsolidarity.model.agents import Person
from simsolidarity.model.model import SolidarityModel
from simsolidarity.model.outcomes import OUTCOMES, Outcome, OutcomeError, measure, register_outcome, run_plot_names
from simsolidarity.model.parameters import PARAMETERS, Parameter, Parameters, defaults, resolve_parameters
from simsolidarity.model.recommenders import RECOMMENDERS, register_recommender

__all__ = [
    "OUTCOMES",
    "PARAMETERS",
    "RECOMMENDERS",
    "Outcome",
    "OutcomeError",
    "Parameter",
    "Parameters",
    "Person",
    "SolidarityModel",
    "defaults",
    "measure",
    "register_outcome",
    "register_recommender",
    "resolve_parameters",
    "run_plot_names",
]
