"""Exceptions of the package.

Every error that a user can cause by bad input derives from :class:`SimsolidarityError`, so a
command line or an app can tell "your input is wrong" (a clear message, no traceback) from "the
program is wrong" (a bug).
"""

from __future__ import annotations

from typing import Any


class SimsolidarityError(Exception):
    """Base class of the errors a user's input can cause."""


class ParameterError(SimsolidarityError, ValueError):
    """A model parameter is unknown, of the wrong type or out of its range.

    Attributes:
        name: the parameter's canonical name (or the unknown name as given).
        value: the value that was given.
        expected: what would have been accepted, in words.
    """

    def __init__(self, name: str, value: Any, expected: str, *, unknown: bool = False) -> None:
        self.name = name
        self.value = value
        self.expected = expected
        self.unknown = unknown
        if unknown:
            message = f"{name!r} is not a parameter: expected {expected}"
        else:
            message = f"{name} = {value!r}: expected {expected}"
        super().__init__(message)
