"""The layout's rules (docs/ARCHITECTURE.md), read from the code's imports: the model knows nothing of
the experiments; the experiments' subpackages import only downwards; no module imports another's
private names; every module declares its public names."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# experiments' layers, lowest first: a module may import from its own layer and the ones below
LAYERS = ("base", "inputs", "runs", "sweeps", "analysis", "search", "report", "dashboard", "cli")
BASE_MODULES = ("experiments.errors", "experiments.files", "experiments.formatting")
FACADES = ("experiments", "experiments.report", "experiments.dashboard")  # lazy: names resolved on first use


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    module_name(p): p for package in ("simulation", "experiments") for p in sorted((ROOT / package).rglob("*.py"))
}


def imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module imported, names taken from it, line) of every import in the file, relative ones resolved."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((base, [alias.name for alias in node.names], node.lineno))
    return found


def layer(module: str) -> int:
    if module in BASE_MODULES or module == "experiments":
        return 0
    return LAYERS.index(module.split(".")[1])


def test_the_model_imports_nothing_from_the_experiments():
    wrong = [
        f"{name}:{line} imports {target}"
        for name, path in MODULES.items()
        if name.startswith("simulation")
        for target, _, line in imports(path)
        if target.split(".")[0] == "experiments"
    ]
    assert not wrong, wrong


def test_experiments_subpackages_import_only_downwards():
    wrong = []
    for name, path in MODULES.items():
        if not name.startswith("experiments") or name in FACADES:
            continue
        for target, names, line in imports(path):
            targets = [f"{target}.{n}" if f"{target}.{n}" in MODULES else target for n in names] or [target]
            for imported in targets:
                if imported.startswith("experiments") and imported not in FACADES and layer(imported) > layer(name):
                    wrong.append(
                        f"{name}:{line} imports {imported} (layer {LAYERS[layer(imported)]} above "
                        f"{LAYERS[layer(name)]})"
                    )
    assert not wrong, wrong


def test_no_module_imports_another_modules_private_names():
    wrong = [
        f"{name}:{line} imports {n} from {target}"
        for name, path in MODULES.items()
        for target, names, line in imports(path)
        if target != name
        for n in names
        if n.startswith("_") and not n.startswith("__")
    ]
    assert not wrong, wrong


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.endswith("__main__")))
def test_every_module_declares_its_public_names(name):
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    declared = [
        node
        for node in tree.body
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
    ]
    assert declared, f"{name} has no __all__"
    names = ast.literal_eval(declared[0].value)
    targets = [
        t
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
    ]
    defined = {n.id for t in targets for n in (t.elts if isinstance(t, ast.Tuple) else [t]) if isinstance(n, ast.Name)}
    defined |= {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)}
    defined |= {
        alias.asname or alias.name.split(".")[0]
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    lazy = {
        n
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name) and t.id == "_HOMES"
        for n in ast.literal_eval(node.value)
    }
    missing = [n for n in names if n not in defined | lazy]
    assert not missing, f"{name}.__all__ names what it does not define: {missing}"
