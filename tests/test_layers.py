"""The package's layers: imports point only downward, there is no import cycle, and each piece of
shared logic (grouping by parameter point, the results-folder layout, table I/O) lives in one place."""

import ast
import inspect
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "simsolidarity"
#: Bottom up: a module may import from its own layer and the layers below it, never above.
LAYERS = {"errors": 0, "registry": 0, "log": 0, "model": 1, "running": 2, "analysis": 3,
          "api": 4, "cli": 4, "viz": 4, "__main__": 4, "__init__": 5}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return LAYERS["__init__"]
    return LAYERS[parts[1]]


def _executed_on_import(tree: ast.Module) -> list[ast.AST]:
    """The statements run when the module is imported: module level, but not ``if TYPE_CHECKING:``."""
    nodes = []
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            nodes.extend(ast.walk(node))
    return nodes


def imports(path: Path, source: str | None = None, on_import: bool = False) -> set[str]:
    """Every simsolidarity module ``path`` (or ``source`` in its place) imports: anywhere in its code
    (imports inside functions count too), or with ``on_import`` only those run when it is imported."""
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in (_executed_on_import(tree) if on_import else ast.walk(tree)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("simsolidarity"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]  # level 1 is the package itself
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            if name.startswith("simsolidarity"):
                # ``from simsolidarity import api`` imports the module simsolidarity.api
                found.update(f"{name}.{alias.name}" if f"{name}.{alias.name}" in MODULES else name
                             for alias in node.names)
    return found


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_belongs_to_a_layer():
    """Catches: a new top-level module added outside the layers (it would escape this test)."""
    for module in MODULES:
        layer_of(module)  # raises KeyError for a module of no layer


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_only_downward(module):
    """Catches: the running layer importing plots, the model importing a scenario, and the like."""
    upward = sorted(name for name in imports(MODULES[module]) if layer_of(name) > layer_of(module))
    assert not upward, f"{module} (layer {layer_of(module)}) imports from a higher layer: {upward}"


def test_there_is_no_import_cycle():
    """Catches: two modules that import each other when imported, directly or through others."""
    graph = {module: {name for name in imports(path, on_import=True) if name in MODULES and name != module}
             for module, path in MODULES.items() if not module.endswith("__init__")}
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        if module in trail:
            cycle = trail[trail.index(module):] + (module,)
            pytest.fail(f"import cycle: {' -> '.join(cycle)}")
        if module in done:
            return
        for name in sorted(graph.get(module, ())):
            if name != "simsolidarity" and not MODULES[name].name == "__init__.py":
                visit(name, (*trail, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())


def test_the_layer_check_catches_an_upward_import():
    """The check itself: an outcomes module that imports the plots (even inside a function) is reported."""
    path = MODULES["simsolidarity.model.outcomes"]
    source = path.read_text(encoding="utf-8") + "\ndef f():\n    from ..analysis.plots import PLOTS\n"
    upward = [name for name in imports(path, source) if layer_of(name) > layer_of("simsolidarity.model.outcomes")]
    assert upward == ["simsolidarity.analysis.plots"]


# --- one place for each piece of shared logic ---------------------------------------------------------


def calls(function_name: str, module: str) -> bool:
    """Whether the source of ``module`` calls ``function_name``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    return any(isinstance(node, ast.Call)
               and getattr(node.func, "id", getattr(node.func, "attr", None)) == function_name
               for node in ast.walk(tree))


def test_grouping_by_parameter_point_is_one_function_that_every_site_calls():
    """Catches: a site that groups runs by point with its own loop again."""
    from simsolidarity.analysis.summary import summarize

    assert inspect.signature(summarize).parameters["by"].default == ("point",)
    for module in ("simsolidarity.analysis.compare", "simsolidarity.analysis.sensitivity",
                   "simsolidarity.analysis.plots"):
        assert calls("summarize", module), module
    for module in MODULES:  # nobody else builds per-point dictionaries of runs
        source = MODULES[module].read_text(encoding="utf-8")
        assert "by_point" not in source and "setdefault(point" not in source, module


def test_the_results_folder_layout_is_named_in_one_module():
    """Catches: a file name of a results folder spelled out again outside the layout module."""
    from simsolidarity.running import folders

    names = [folders.MANIFEST, folders.TIMESERIES, folders.EXPERIMENT_FILE, folders.SUMMARY, folders.FAILURES,
             folders.LOG, folders.HYPOTHESES, folders.SENSITIVITY, folders.COMPARISON]
    for module, path in MODULES.items():
        if module == "simsolidarity.running.folders":
            continue
        source = path.read_text(encoding="utf-8")
        for name in names:
            assert f'"{name}"' not in source and f"'{name}'" not in source, f"{module} spells out {name}"


def test_tables_are_written_and_read_by_one_pair_of_functions():
    """Catches: a CSV written or parsed by hand (csv module, to_csv, read_csv) outside the layout module."""
    for module, path in MODULES.items():
        if module == "simsolidarity.running.folders":
            continue
        source = path.read_text(encoding="utf-8")
        for pattern in ("import csv", "to_csv(", "read_csv(", "csv.writer", "csv.reader"):
            assert pattern not in source, f"{module} uses {pattern}"
    for module in ("simsolidarity.running.run", "simsolidarity.running.sweep", "simsolidarity.analysis.compare",
                   "simsolidarity.analysis.sensitivity", "simsolidarity.analysis.finish"):
        assert calls("write_table", module), module
    assert calls("read_table", "simsolidarity.running.results")
