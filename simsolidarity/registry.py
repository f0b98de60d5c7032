"""The rule every registry of the package follows when a name is registered.

Recommenders, outcomes, samplers and executors are each a dict from a name to what the user
registered. Registering is the same in all four: the name must be a non-empty string; a name
already taken (by a built-in or by someone else) needs ``replace=True``; but registering the same
definition again (a notebook cell or a plugin module run twice makes new function objects of the
same code) is no conflict. Used by every layer, so it imports nothing of the package but its errors.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from simsolidarity.errors import SimsolidarityError, shown


def definition(value: Any) -> Any:
    """What identifies a registered value's definition: a function by its module and qualified name,
    a dataclass by its fields (compared the same way), anything else by itself."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple(definition(getattr(value, field.name)) for field in dataclasses.fields(value))
    if callable(value):
        names = (getattr(value, "__module__", None), getattr(value, "__qualname__", None))
        return names if None not in names else id(value)
    return value


def check_name(name: Any, *, kind: str, error: type[SimsolidarityError] = SimsolidarityError) -> None:
    """Refuse a ``kind``'s name that is not a non-empty string, raising ``error``.

    Checked on its own where a decorator is made, so that a bad name fails where it is written.
    """
    if not isinstance(name, str) or not name.strip():
        raise error(f"a {kind}'s name must be a non-empty string, not {shown(name)}")


def check_registration(
    name: Any,
    value: Any,
    taken: Any,
    *,
    built_in: bool,
    kind: str,
    replace: bool,
    error: type[SimsolidarityError] = SimsolidarityError,
) -> None:
    """Refuse to register ``value`` as the ``kind`` ``name`` when the rule forbids it.

    Args:
        name: the name asked for.
        value: what would be registered under it.
        taken: what the name holds now (``None`` if it is free), compared with ``value``.
        built_in: whether the name is one of the package's own.
        kind: the kind of thing registered, for the messages (``"recommender"``).
        replace: the user's permission to take a name that is held.
        error: the error raised.

    Raises ``error`` for a name that is not a non-empty string, and, without ``replace``, for a name
    that a built-in or another definition holds.
    """
    check_name(name, kind=kind, error=error)
    if taken is None or taken is value or replace or definition(taken) == definition(value):
        return
    holder = definition(taken)
    by_name = isinstance(holder, tuple) and len(holder) == 2 and all(isinstance(part, str) for part in holder)
    owner = (f"a built-in {kind}" if built_in else f"taken by {holder[0]}.{holder[1]}" if by_name
             else f"taken by another {kind}")
    raise error(f"{kind} name {name!r} is {owner}: choose another name, or pass replace=True to replace it")
