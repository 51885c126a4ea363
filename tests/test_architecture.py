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


# ---- layers: lower ones never import upper ones ---------------------------------------------------------------

FAMILIES = ("diffusion", "autoregressive", "vqvae", "dvae", "quantize", "eval", "nn", "data", "train", "viz")
# Above every family: the registry, the loader, the catalog of shipped models, the library's run entry point,
# and the consumers (report, lab, compression, commands).
UPPER = ("genvision.models", "genvision.loading", "genvision.pretrained", "genvision.runs", "genvision.commands",
         "genvision.cli", "genvision.report", "genvision.lab", "genvision.compress")
# Library modules above the registry that load checkpoints (evaluating a run, which writes a shipped model's
# results beside the caller since the package is read-only; the default eval classifier, which may be a shipped
# one; the patch-VQ command's tokenizer).
ALLOWED_LOADERS = {"genvision.eval.features": {"genvision.loading", "genvision.pretrained"},
                   "genvision.eval.run": {"genvision.loading", "genvision.models", "genvision.pretrained"},
                   "genvision.quantize.cli": {"genvision.loading"}}
# train/ sits below eval as well: the trainer knows nothing of evaluation, and only files (not pretrained:NAME).
TRAIN_ALSO_BELOW = ("genvision.eval",)
LEAVES = {"genvision.protocols": set(), "genvision.errors": set(),
          "genvision.entry": {"genvision.config", "genvision.data.config", "genvision.train.config"}}


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def upward_imports(module: str, deps: set[str]) -> set[str]:
    """The imports of `module` that point up the house (empty for modules outside the families)."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1] not in FAMILIES:
        return set()
    above = UPPER + (TRAIN_ALSO_BELOW if parts[1] == "train" else ())
    return {d for d in deps if _within(d, above)} - ALLOWED_LOADERS.get(module, set())


def test_the_layer_checker_flags_train_importing_pretrained():
    assert upward_imports("genvision.train.checkpoint", {"genvision.pretrained", "genvision.errors"}) == {
        "genvision.pretrained"}
    assert upward_imports("genvision.train.trainer", {"genvision.eval.features"}) == {"genvision.eval.features"}
    assert upward_imports("genvision.vqvae.registry", {"genvision.loading", "genvision.entry"}) == {
        "genvision.loading"}
    assert upward_imports("genvision.eval.features", {"genvision.loading"}) == set()
    assert upward_imports("genvision.report.targets", {"genvision.pretrained"}) == set()


def test_families_never_import_upward():
    """Families import the entry (genvision.entry), never the registry, the loader or the catalog; train/
    imports neither eval nor pretrained (a checkpoint is a file to it; loading.py resolves pretrained:NAME)."""
    found = {m: sorted(bad) for m, deps in import_graph().items() if (bad := upward_imports(m, deps))}
    assert not found, f"imports up the layers: {found}"


def test_train_does_not_import_pretrained():
    bad = sorted(m for m, deps in import_graph().items()
                 if m.startswith("genvision.train") and any(_within(d, ("genvision.pretrained",)) for d in deps))
    assert not bad, f"train/ modules import genvision.pretrained: {bad}"


def test_leaves_import_only_what_they_declare():
    for module, allowed in LEAVES.items():
        assert import_graph()[module] <= allowed, f"{module} imports {sorted(import_graph()[module] - allowed)}"


# ---- dispatch on capabilities, not names or attributes ---------------------------------------------------------

def _is_registry(module: str) -> bool:
    return module == "genvision.models" or module.endswith(".registry")


def _names_a_model(node: ast.AST) -> bool:
    """config["model"], config.get("model"), spec.model, target.kind, entry.name: expressions that hold a model's
    name."""
    text = ast.unparse(node)
    return '"model"' in text or "'model'" in text or text.endswith((".model", ".kind", ".name", "model_name"))


def _model_names_in(node: ast.AST, names: set[str]) -> bool:
    """A constant model name, or a tuple / list / set holding one ("x in ('cfg', 'ddpm')")."""
    if isinstance(node, ast.Constant):
        return node.value in names
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(isinstance(e, ast.Constant) and e.value in names for e in node.elts)
    return False


def model_name_dispatch(source: str, names: set[str]) -> list[int]:
    """Lines that compare a model's name with a registered name, or key a dict literal by registered names (a
    second registry): both are dispatch that belongs to the registry entry or a capability."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_model_names_in(o, names) for o in operands) and any(_names_a_model(o) for o in operands):
                lines.append(node.lineno)
        elif isinstance(node, ast.Dict):
            if sum(isinstance(k, ast.Constant) and k.value in names for k in node.keys) >= 2:
                lines.append(node.lineno)
    return lines


def test_the_name_checker_flags_comparisons_and_name_keyed_tables():
    names = {"cfg", "ddpm", "eval-classifier", "noisy-classifier"}
    assert model_name_dispatch('if config["model"] == "cfg": pass', names) == [1]
    assert model_name_dispatch('ok = spec.model not in ("eval-classifier", "noisy-classifier")', names) == [1]
    assert model_name_dispatch('if t.kind == "ddpm": pass', names) == [1]
    assert model_name_dispatch('FIGS = {"cfg": 1, "ddpm": 2}', names) == [1]
    assert model_name_dispatch('if sampler == "ddpm": pass', names) == []  # a sampler, not a model
    assert model_name_dispatch('load_model(p, expect="cfg")', names) == []


def test_no_model_name_comparison_outside_the_registry():
    """Dispatch on capabilities (genvision.protocols) or on what the entry declares, not on
    `config["model"] == "cfg"`."""
    from genvision.models import registry

    names = set(registry())
    found = [f"{module}:{line}" for module, path in _modules().items() if not _is_registry(module)
             for line in model_name_dispatch(path.read_text(), names)]
    assert not found, f"model-name dispatch outside the registry: {found}"


# getattr(x, "NAME") with a constant NAME that is not a model's capability: (module, NAME).
PLAIN_GETATTR = {("genvision.config", "__name__"), ("genvision.train.distributed", "mps"),
                 ("genvision.device", "mps"),  # torch.backends.mps is absent from some torch builds
                 ("genvision.cli", "describe"),  # a command function's optional help for its arguments
                 ("genvision.loading", "RENAMED")}
# Known exceptions, each with why it stays.
ATTRIBUTE_PROBES_ALLOWED: set[tuple[str, str]] = set()


def attribute_probes(module: str, source: str) -> list[str]:
    """`hasattr(x, "a")` anywhere, and `getattr(x, "a", ...)` with a constant name: capability checks by
    attribute, which belong in genvision.protocols as a named Protocol (isinstance(model, Likelihood))."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in ("hasattr", "getattr") and len(node.args) >= 2):
            continue
        name = node.args[1]
        attr = name.value if isinstance(name, ast.Constant) else None
        if node.func.id == "getattr" and (attr is None or (module, attr) in PLAIN_GETATTR):
            continue  # getattr(obj, variable): reflection over fields, not a capability probe
        if (module, attr) in ATTRIBUTE_PROBES_ALLOWED:
            continue
        found.append(f"{module}:{node.lineno} {node.func.id}(..., {attr!r})")
    return found


def test_the_attribute_checker_flags_hasattr_and_getattr_probes():
    assert attribute_probes("genvision.m", 'if hasattr(model, "nll_top_rows"): pass') == [
        "genvision.m:1 hasattr(..., 'nll_top_rows')"]
    assert attribute_probes("genvision.m", 'k = getattr(model, "num_classes", 0)') == [
        "genvision.m:1 getattr(..., 'num_classes')"]
    assert attribute_probes("genvision.m", "v = getattr(cfg, field.name)") == []
    assert attribute_probes("genvision.config", 'n = getattr(a, "__name__", None)') == []


def test_no_attribute_probes_outside_protocols():
    """Capabilities are named Protocols (genvision.protocols); nothing else asks a model what it has."""
    found = [probe for module, path in _modules().items() if module != "genvision.protocols"
             for probe in attribute_probes(module, path.read_text())]
    assert not found, f"hasattr/getattr capability probes: {found}"


def concrete_type_dispatch(module: str, source: str) -> list[str]:
    """`isinstance(x, C)` where C is imported from another family's module (a model class, e.g. DiffusionModel
    in the report): dispatch on a type outside its family, where a Protocol or the entry should decide."""
    tree = ast.parse(source)
    origin = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE + "."):
            for alias in node.names:
                origin[alias.asname or alias.name] = node.module
    family = module.split(".")[1] if module.count(".") else ""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance":
            classes = node.args[1].elts if isinstance(node.args[1], ast.Tuple) else [node.args[1]]
            for c in classes:
                source_module = origin.get(c.id, "") if isinstance(c, ast.Name) else ""
                parts = source_module.split(".")
                if len(parts) > 2 and parts[1] in FAMILIES and parts[1] != family:
                    found.append(f"{module}:{node.lineno} isinstance(..., {c.id})")
    return found


def test_the_type_checker_flags_a_model_class_outside_its_family():
    snippet = "from genvision.diffusion.model import DiffusionModel\nok = isinstance(m, DiffusionModel)"
    assert concrete_type_dispatch("genvision.report.diffusion", snippet) == [
        "genvision.report.diffusion:2 isinstance(..., DiffusionModel)"]
    assert concrete_type_dispatch("genvision.diffusion.sweep", snippet) == []
    protocol = "from genvision.protocols import NoisyClassifier\nok = isinstance(m, NoisyClassifier)"
    assert concrete_type_dispatch("genvision.lab.guidance", protocol) == []


def test_no_dispatch_on_a_model_class_outside_its_family():
    found = [hit for module, path in _modules().items() for hit in concrete_type_dispatch(module, path.read_text())]
    assert not found, f"isinstance on another family's class (use genvision.protocols): {found}"
