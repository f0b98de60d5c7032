"""Exceptions of the package, and how a value is shown inside an error message.

Every error that a user can cause by bad input derives from :class:`SimsolidarityError`, so a
command line or an app can tell "your input is wrong" (a clear message, no traceback) from "the
program is wrong" (a bug). Every one of them survives a pickle round trip with its message and
attributes, so that an error raised in a worker process (a sweep's pool, ``mesa.batch_run``, a
Dask worker) reaches the caller instead of breaking the pool that carries it back.
"""

from __future__ import annotations

import reprlib
from typing import Any

#: Longest text of a value shown in an error message; longer ones are cut with ``...``.
SHOWN_LENGTH = 80



class _ShortRepr(reprlib.Repr):
    """``reprlib.Repr`` that also shows integers too long for ``repr`` (over 4,300 digits) by their size."""

    def repr_int(self, value: int, level: int) -> str:
        if value.bit_length() > 1000:  # about 300 digits: printing a huge one takes quadratic time
            return f"<an integer of about {int(value.bit_length() * 0.30103):,} digits>"
        return super().repr_int(value, level)


_SHORT = _ShortRepr(maxlevel=3, maxtuple=4, maxlist=4, maxarray=4, maxdict=4, maxset=4, maxfrozenset=4,
                    maxdeque=4, maxstring=SHOWN_LENGTH, maxlong=40, maxother=SHOWN_LENGTH)


def shown(value: Any) -> str:
    """``repr(value)`` bounded in time and length, for error messages.

    A value read from a user's file can be arbitrarily large (a list of a million items, a YAML
    alias structure that expands to billions of nodes); ``reprlib`` looks at a bounded number of
    items at a bounded depth, and the result is cut to :data:`SHOWN_LENGTH` characters.
    """
    text = _SHORT.repr(value)
    return text if len(text) <= SHOWN_LENGTH else text[: SHOWN_LENGTH - 3] + "..."


def _restore(kind: type[BaseException], args: tuple, state: dict[str, Any]) -> BaseException:
    """Rebuild a pickled error without calling its constructor (whose arguments differ from ``args``)."""
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(state)
    return error


class SimsolidarityError(Exception):
    """Base class of the errors a user's input can cause.

    ``exit_code`` is the command line's exit status for the error: 2 for bad input.
    """

    exit_code = 2

    def __reduce__(self) -> tuple:
        # Exception's own pickling calls ``type(self)(*self.args)``: wrong for any subclass whose
        # constructor takes other arguments than the message it passes on.
        return _restore, (type(self), self.args, dict(self.__dict__))


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
            message = f"{shown(name)} is not a parameter: expected {expected}"
        else:
            message = f"{name} = {shown(value)}: expected {expected}"
        super().__init__(message)


class RecommenderError(SimsolidarityError):
    """A recommender cannot be registered, or returned scores the model cannot use."""


class CapacityError(SimsolidarityError):
    """What was asked for exceeds a documented limit or the memory of this machine."""


class ExecutorError(SimsolidarityError):
    """A sweep's executor failed while runs were under way (workers died, the cluster went away).

    The sweep folder keeps every run finished before, so the same sweep resumes from there.
    """

    exit_code = 1


class RunsFailedError(SimsolidarityError):
    """Runs of a sweep failed; the sweep's other runs are complete in its folder.

    Attributes:
        folder: the sweep folder (resumable: a sweep into it again retries only what is missing).
        failed: each failed run's index and the last line of its error (the tracebacks are in
            ``sweep.log``).
    """

    exit_code = 1

    def __init__(self, folder: Any, failed: dict[int, str], total: int) -> None:
        self.folder = folder
        self.failed = dict(failed)
        first = min(self.failed)
        listed = ", ".join(map(str, sorted(self.failed)[:10])) + (", ..." if len(self.failed) > 10 else "")
        super().__init__(
            f"{len(self.failed)} of {total} runs failed (runs {listed}); run {first}: {self.failed[first]}; "
            f"the tracebacks are in {folder}/sweep.log"
        )
