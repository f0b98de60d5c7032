"""simsolidarity: agent-based simulation of online versus offline social solidarity."""

from .agents import Person
from .errors import CapacityError, ExecutorError, ParameterError, RecommenderError, SimsolidarityError
from .model import SolidarityModel
from .outcomes import OUTCOMES, measure
from .parameters import PARAMETERS, Parameter, defaults, resolve_parameters
from .recommenders import RECOMMENDERS, register_recommender

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
