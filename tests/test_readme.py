"""The README's snippets work: its YAML blocks load, its commands parse and name what exists, its Python compiles.

Each YAML block is a scenario or an experiment that the package's loaders accept (a block without
a ``name`` is part of a scenario, checked inside one), or a copy of a file that its section names,
equal to that file. A Python block whose first line names a file (``# my_recommenders.py, ...``)
is that file, beside the scenarios. Each ``simsolidarity ...`` command, in a shell block or inline,
parses with the command line's parser and names files, folders and scenarios that exist: in the
repository, ready scenarios, files the README itself defines, folders an earlier command of the
README writes (``--out``), or a pattern (``<timestamp>``) that matches.

The mutation each test catches is named in its docstring.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from simsolidarity.cli import build_parser
from simsolidarity.model.recommenders import RECOMMENDERS
from simsolidarity.running.experiment import Experiment, load_scenario_or_experiment
from simsolidarity.running.scenario import SCENARIO_DIR, Scenario

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", flags=re.MULTILINE | re.DOTALL)
#: The name given to a YAML block that is part of a scenario, to load it as one.
FRAGMENT_NAME = "readme_fragment"
#: The start of a command of the package: ``simsolidarity run``, ``.venv/bin/simsolidarity sweep``.
COMMAND = re.compile(r"\s*(\S*/)?simsolidarity\s")
#: A placeholder in a command, such as ``<timestamp>``.
PLACEHOLDER = re.compile(r"<[^<>/]+>")
#: The arguments of each command that name something to read (a file, a folder, a scenario).
INPUTS = {"run": ("scenario",), "viz": ("scenario",), "sweep": ("experiment",), "compare": ("folders",),
          "validate": ("files",)}


def fenced(language: str) -> list[tuple[int, str]]:
    """The README's fenced blocks of ``language``: where each starts, and its text."""
    return [(m.start(), m.group(2)) for m in FENCE.finditer(README) if m.group(1) == language]


def section_before(offset: int) -> str:
    """The README's text from the last heading before ``offset`` up to it."""
    heading = max((m.start() for m in re.finditer(r"^#+ ", README[:offset], flags=re.MULTILINE)), default=0)
    return README[heading:offset]


def copied_file(offset: int, data: Any) -> Path | None:
    """The file a YAML block is a copy of: one its section names (`path.yaml`) with the block's name."""
    if not isinstance(data, dict) or "name" not in data:
        return None
    for name in re.findall(r"`([\w./-]+\.ya?ml)`", section_before(offset)):
        path = ROOT / name
        if path.is_file() and (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("name") == data["name"]:
            return path
    return None


def defined_files() -> dict[str, str]:
    """The files the README defines: a Python block whose first line names a ``.py`` file, and each
    YAML block that is no copy, as ``<name>.yaml``; by file name, their text."""
    files = {}
    for _, text in fenced("python"):
        named = re.match(r"#\s*([\w.-]+\.py)\b", text)
        if named:
            files[named.group(1)] = text
    for offset, text in fenced("yaml"):
        data = yaml.safe_load(text)
        if isinstance(data, dict) and "name" in data and copied_file(offset, data) is None:
            files[f"{data['name']}.yaml"] = text
    return files


def commands() -> list[tuple[str, list[str]]]:
    """Every ``simsolidarity`` command of the README in order: its text and its arguments.

    From shell blocks (comments left out, ``&&`` and ``;`` split) and from inline code outside them.
    """
    found = []
    blocks = {offset: text for offset, text in fenced("bash")}
    prose = FENCE.sub(lambda m: " " * len(m.group(0)), README)
    inline = {m.start(): m.group(1) for m in re.finditer(r"`([^`\n]+)`", prose)}
    for offset in sorted({**blocks, **inline}):
        lines = [line.split(" #")[0] for line in blocks[offset].splitlines()] if offset in blocks else [inline[offset]]
        for line in lines:
            for part in re.split(r"&&|;", line):
                if COMMAND.match(part):  # other code (Python, paths) need not split as a shell line
                    found.append((part.strip(), shlex.split(part)[1:]))
    return found


@pytest.fixture
def plugin_sandbox(monkeypatch: pytest.MonkeyPatch):
    """The README's plugin modules, the recommenders they register and their folder on ``sys.path`` are
    gone after the test."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    recommenders = dict(RECOMMENDERS)
    yield
    for name in defined_files():
        if name.endswith(".py"):
            sys.modules.pop(name.removesuffix(".py"), None)
    RECOMMENDERS.clear()
    RECOMMENDERS.update(recommenders)


def test_yaml_blocks_load_or_are_the_files_they_copy(tmp_path, plugin_sandbox):
    """Catches: a README scenario or experiment with an unknown key, a renamed parameter or a value out
    of range; a copy of a file (``experiments/recommenders.yaml``) left behind when the file changes;
    a plugin module named by a README scenario that the README's own plugin no longer provides."""
    for name, text in defined_files().items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    blocks = fenced("yaml")
    assert len(blocks) >= 3
    copies = 0
    for index, (offset, text) in enumerate(blocks):
        data = yaml.safe_load(text)
        copy = copied_file(offset, data)
        if copy is not None:
            assert data == yaml.safe_load(copy.read_text(encoding="utf-8")), f"the README's copy of {copy} differs"
            copies += 1
            continue
        if "name" not in data:
            data = {"name": FRAGMENT_NAME, **data}
        path = tmp_path / f"block-{index}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        loaded = load_scenario_or_experiment(path)
        assert isinstance(loaded, Scenario | Experiment)
    assert copies >= 1


def test_readme_copy_of_the_recommenders_experiment_is_the_file():
    """The README's YAML block of ``experiments/recommenders.yaml`` reads as the same data as the file.

    Catches: the file edited (an outcome, a replicate count, the hypothesis) and the README's copy left behind.
    """
    copies = [yaml.safe_load(text) for _, text in fenced("yaml") if text.startswith("name: recommenders\n")]
    assert copies == [yaml.safe_load((ROOT / "experiments" / "recommenders.yaml").read_text(encoding="utf-8"))]


def exists(value: str, made: set[str], defined: set[str]) -> bool:
    """Whether a command's input names something there: see the module's docstring."""
    if PLACEHOLDER.search(value):
        parts = Path(value).parts
        if parts[0] == "results" and len(parts) > 1:  # a folder a run or sweep of that name writes
            names = {p.stem for p in [*SCENARIO_DIR.glob("*.yaml"), *(ROOT / "experiments").glob("*.yaml")]}
            return parts[1] in names
        return any(ROOT.glob(PLACEHOLDER.sub("*", value)))
    return (ROOT / value).exists() or (SCENARIO_DIR / f"{value}.yaml").exists() or value in made | defined


def test_commands_parse_and_name_what_exists():
    """Catches: a README command with a flag that was renamed or removed, a subcommand that no longer
    exists, or a scenario, experiment or folder that is not there (such as a comparison of folders that
    the README never writes)."""
    parser = build_parser()
    defined = set(defined_files())
    made: set[str] = set()
    found = commands()
    assert {words[0] for _, words in found if words} >= {"run", "sweep", "compare", "validate", "list", "viz"}
    for text, words in found:
        try:
            args = parser.parse_args(words)
        except SystemExit:
            pytest.fail(f"the README's command does not parse: {text}")
        for name in INPUTS.get(args.command, ()):
            values = getattr(args, name)
            for value in values if isinstance(values, list) else [values]:
                assert exists(str(value), made, defined), f"{text}: {value} is not there"
        if getattr(args, "out", None) is not None:
            made.add(str(args.out))


def test_the_command_check_sees_a_missing_file():
    """The check itself: a command naming a scenario file that does not exist is caught.

    Catches: an existence check that passes everything (every README would pass it).
    """
    assert not exists("scenarios/no_such.yaml", set(), set())
    assert not exists("results/no_such_experiment/<timestamp>", set(), set())
    assert exists("echo_chamber", set(), set()) and exists("results/recommenders/<timestamp>", set(), set())


def test_python_blocks_compile():
    """Catches: a README Python example with a syntax error (an unclosed bracket, a stray prompt)."""
    blocks = fenced("python")
    assert blocks
    for offset, text in blocks:
        compile(text, f"README.md, block at character {offset}", "exec")
