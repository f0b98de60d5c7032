"""docs/ODD.md stays in step with the code: its parameter table, outcomes and recommenders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simsolidarity.model.outcomes import OUTCOMES
from simsolidarity.model.parameters import PARAMETERS, Parameter
from simsolidarity.model.recommenders import RECOMMENDERS

ODD = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"
HEADER = ["name", "type", "range", "default", "meaning", "reason for the default"]


def odd_text() -> str:
    if not ODD.is_file():
        pytest.fail(f"{ODD} is missing")
    return ODD.read_text(encoding="utf-8")


def cells(line: str) -> list[str]:
    """The cells of one Markdown table row (``\\|`` is a literal bar inside a cell)."""
    inner = line.strip().removeprefix("|").removesuffix("|")
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", inner)]


def parameter_table(text: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of each row of the table whose header is :data:`HEADER`."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.lstrip().startswith("|") and cells(line) == HEADER]
    if len(starts) != 1:
        pytest.fail(
            f"docs/ODD.md must hold exactly one table with the header | {' | '.join(HEADER)} |; found {len(starts)}"
        )
    rows = []
    for number in range(starts[0] + 2, len(lines)):  # skip the header and its | --- | line
        line = lines[number]
        if not line.lstrip().startswith("|"):
            break
        rows.append((number + 1, cells(line)))
    return rows


def expected_row(p: Parameter) -> dict[str, str]:
    """What the table must say about ``p``: each column as the schema gives it."""
    default = p.default if p.type is str else repr(p.default)
    return {
        "name": f"`{p.name}`",
        "type": p.type.__name__,
        "range": p.range_text,
        "default": default,
        "meaning": p.meaning,
    }


def test_parameter_table_lists_the_schema_names_in_schema_order():
    rows = parameter_table(odd_text())
    documented = [row[0].strip("`") if row else "" for _, row in rows]
    schema = list(PARAMETERS)
    if documented != schema:
        missing = [name for name in schema if name not in documented]
        extra = [name for name in documented if name not in PARAMETERS]
        pairs = zip(documented, schema)
        first = next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(documented), len(schema)))
        pytest.fail(
            "the parameter table of docs/ODD.md drifted from simsolidarity.model.parameters.PARAMETERS:\n"
            f"  missing from the table: {missing}\n  in the table but not in the schema: {extra}\n"
            f"  first difference at row {first + 1}: table has "
            f"{documented[first] if first < len(documented) else '(end of table)'!r}, schema has "
            f"{schema[first] if first < len(schema) else '(end of schema)'!r}"
        )


def test_parameter_table_rows_match_the_schema():
    problems = []
    for line, row in parameter_table(odd_text()):
        if len(row) != len(HEADER):
            problems.append(f"line {line}: {len(row)} cells, expected {len(HEADER)}: {row}")
            continue
        got = dict(zip(HEADER, row))
        name = got["name"].strip("`")
        if name not in PARAMETERS:
            problems.append(f"line {line}: {got['name']} is not a parameter of the schema")
            continue
        for column, want in expected_row(PARAMETERS[name]).items():
            if got[column] != want:
                problems.append(
                    f"line {line} ({name}): column '{column}' says {got[column]!r}, the schema says {want!r}"
                )
        if not got["reason for the default"]:
            problems.append(f"line {line} ({name}): no reason for the default")
    assert not problems, "docs/ODD.md parameter table differs from the schema:\n  " + "\n  ".join(problems)


def test_every_outcome_is_documented():
    text = odd_text()
    missing = [name for name in OUTCOMES if f"`{name}`" not in text]
    assert not missing, f"outcomes not named (in backticks) in docs/ODD.md: {missing}"


def built_in_recommenders() -> list[str]:
    """Registered recommenders defined at the top level of simsolidarity.model.recommenders (not tests' or users')."""
    return [
        name
        for name, function in RECOMMENDERS.items()
        if getattr(function, "__module__", None) == "simsolidarity.model.recommenders"
        and "<locals>" not in getattr(function, "__qualname__", "<locals>")
    ]


def test_every_built_in_recommender_is_documented():
    names = built_in_recommenders()
    assert names, "no built-in recommender found in the registry"
    text = odd_text()
    missing = [name for name in names if f"`{name}`" not in text]
    assert not missing, f"recommenders not named (in backticks) in docs/ODD.md: {missing}"
