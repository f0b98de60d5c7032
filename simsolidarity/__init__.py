"""simsolidarity: agent-based simulation of online versus offline social solidarity."""

from simsolidarity.model.agents import Person
from simsolidarity.errors import CapacityError, ExecutorError, ParameterError, RecommenderError, SimsolidarityError
from simsolidarity.model.model import SolidarityModel
from simsolidarity.model.outcomes import OUTCOMES, measure
from simsolidarity.model.parameters import PARAMETERS, Parameter, defaults, resolve_parameters
from simsolidarity.model.recommenders import RECOMMENDERS, register_recommender

__version__ = "0.1.0"

__all__ = [
    "CapacityError",
    "ExecutorError",
    "OUTCOMES",
    "PARAMETERS",
    "RECOMMENDERS",
    "Parameter",
    "ParameterError",
    "Person",
    "RecommenderError",
    "SimsolidarityError",
    "SolidarityModel",
    "defaults",
    "measure",
    "register_recommender",
    "resolve_parameters",
]
