"""The import graph of src/genvision runs one way: no cycle (lazy imports inside functions count too), and
only the command layer imports a CLI module."""

import ast
import functools
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "genvision"
# The command layer: the only modules that may import a `cli` module (cli.py dispatches to them by name).
COMMAND_LAYER = {"genvision.cli", "genvision.commands"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every genvision module `name` imports, at any depth of its code (function-level imports included)."""
    is_package = path.name == "__init__.py"
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(
                PACKAGE + ".") and ":" in node.value:  # a dispatch table entry "genvision.module:function"
            targets = [node.value.partition(":")[0]]
        else:
            continue
        out |= {t for t in targets if t in modules and t != name}
    return out


@functools.cache
def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_checker_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_src():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("module", sorted(import_graph()))
def test_only_the_command_layer_imports_a_cli_module(module):
    if module in COMMAND_LAYER:
        return
    bad = sorted(m for m in import_graph()[module] if m.split(".")[-1] == "cli")
    assert not bad, f"{module} imports {bad}"


FAMILIES = ("diffusion", "autoregressive", "vqvae", "dvae", "quantize", "eval", "nn", "data", "train")


def test_families_import_the_entry_not_the_registry_or_loader():
    for module, deps in import_graph().items():
        parts = module.split(".")
        if len(parts) > 1 and parts[1] in FAMILIES:
            uses_registry = deps & {"genvision.models", "genvision.loading"}
            assert not uses_registry or module in ALLOWED_LOADERS, module


def _names_a_model(node: ast.AST) -> bool:
    """config["model"], config.get("model"), target.kind, entry.name: expressions that hold a model's name."""
    text = ast.unparse(node)
    return '"model"' in text or "'model'" in text or text.endswith((".kind", ".name", "model_name"))


def test_no_model_name_comparison_outside_the_registry():
    """Dispatch on capabilities (genvision.protocols), not on `config["model"] == "cfg"`."""
    from genvision.models import registry

    names = set(registry())
    found = []
    for module, path in _modules().items():
        if module == "genvision.models" or module.endswith(".registry"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
                if (any(isinstance(o, ast.Constant) and o.value in names for o in operands)
                        and any(_names_a_model(o) for o in operands)):
                    found.append(f"{module}:{node.lineno}")
    assert not found, f"model-name comparisons: {found}"


# Library modules above the registry that load checkpoints (evaluation of a run, the report's targets).
ALLOWED_LOADERS = {"genvision.eval.features", "genvision.eval.run", "genvision.eval.suites",
                   "genvision.eval.cli", "genvision.quantize.cli"}
