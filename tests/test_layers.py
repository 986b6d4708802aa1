"""The architecture, enforced: every import of our own code points down one chain of layers.

    L0  mcpstack.catalog (with mcpstack's package constants and quantities)   the model of the platform
    L1  mcpstack.generate                                                     files derived from it
    L2  mcpstack.deployment                                                   one typed view of a deployed service
    L3  mcpstack.local  |  infra                                              two renderings: Docker, Pulumi/Kubernetes
    L4  mcpstack.policy  |  mcpstack.capacity  |  mcpstack.observability      checks on what is rendered or running
    L5  mcpstack.cli                                                          the command line
Siblings on one layer never import each other. stacks/ (the Pulumi entry point) imports infra only;
loadtests/ (locustfiles) imports L0-L4; servers/ (our services, each its own image) imports only servers/;
tests/ and e2e/ may import anything. README.md "Architecture" says the same in prose.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from mcpstack import REPO_ROOT

# (layer, package prefix). A module belongs to the longest prefix that matches its dotted name.
LAYERS: tuple[tuple[int, str], ...] = (
    (0, "mcpstack"),  # mcpstack/__init__.py and mcpstack/quantities.py
    (0, "mcpstack.catalog"),
    (1, "mcpstack.generate"),
    (2, "mcpstack.deployment"),
    (3, "mcpstack.local"),
    (3, "infra"),
    (4, "mcpstack.policy"),
    (4, "mcpstack.preflight"),
    (4, "mcpstack.capacity"),
    (4, "mcpstack.observability"),
    (5, "mcpstack.cli"),
    (6, "stacks"),
    (5, "loadtests"),
)
# Where a tree may reach regardless of layers: nothing but itself.
ISOLATED = ("servers",)
# Extra limits on top of the layer order.
ONLY_MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "stacks": ("infra",),
    "loadtests": ("mcpstack.catalog", "mcpstack.capacity", "mcpstack", "loadtests"),
}
CHECKED_TREES = ("mcpstack", "infra", "stacks", "loadtests", "servers")
OURS = ("mcpstack", "infra", "stacks", "loadtests", "servers", "tests", "e2e", "benchmarks")


@dataclass(frozen=True)
class Violation:
    file: str
    line: int
    importer: str
    imported: str
    why: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.importer} imports {self.imported}: {self.why}"


ROOT_MODULES = ("mcpstack", "mcpstack.quantities")  # what layer "mcpstack" itself holds


def package_of(module: str) -> str | None:
    """The layer package a dotted module name belongs to (longest matching prefix); "?" for a module of
    mcpstack/ that no layer declares."""
    matches = [prefix for _, prefix in LAYERS if module == prefix or module.startswith(prefix + ".")]
    best = max(matches, key=len) if matches else None
    if best == "mcpstack" and module not in ROOT_MODULES:
        return "?"
    return best


def layer_of(package: str) -> int:
    return next(layer for layer, prefix in LAYERS if prefix == package)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def exists(root: Path, module: str) -> bool:
    path = root / module.replace(".", "/")
    return path.is_dir() or path.with_suffix(".py").is_file()


def imported_modules(tree: ast.AST, importer: str, is_package: bool, root: Path) -> list[tuple[int, str]]:
    """Every module an AST imports (absolute names; relative imports resolved), at any depth."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = importer.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # `from mcpstack import capacity` imports the subpackage mcpstack.capacity.
            submodules = (f"{module}.{alias.name}" for alias in node.names)
            found.extend((node.lineno, name) for name in submodules if exists(root, name))
    return found


def check_import(importer: str, imported: str) -> str | None:
    """Why this import breaks the architecture, or None."""
    top = imported.split(".", maxsplit=1)[0]
    if top not in OURS:
        return None
    if importer.split(".", maxsplit=1)[0] in ISOLATED:
        return None if top == importer.split(".", maxsplit=1)[0] else "servers/ imports nothing of the tooling"
    if top in ISOLATED:
        return f"{top}/ is its own images' code, not a library of the tooling"
    if top in ("tests", "e2e", "benchmarks"):
        return f"production code never imports {top}/"
    source, target = package_of(importer), package_of(imported)
    if "?" in (source, target):
        unknown = importer if source == "?" else imported
        return f"{unknown} is in no layer: declare its package in tests/test_layers.py LAYERS"
    if source is None or target is None or source == target:
        return None
    allowed = ONLY_MAY_IMPORT.get(source)
    if allowed is not None and target not in allowed:
        return f"{source} may import only {', '.join(allowed)}"
    if source == "mcpstack" and target != "mcpstack":
        return "mcpstack's package constants are layer 0 and import nothing of ours"
    if source == "mcpstack.catalog" and target != "mcpstack":
        return "the catalog imports nothing of ours"
    if layer_of(target) > layer_of(source):
        return f"points up: {source} is layer {layer_of(source)}, {target} is layer {layer_of(target)}"
    if layer_of(target) == layer_of(source) and target != "mcpstack":
        return f"siblings on layer {layer_of(source)} never import each other"
    return None


def violations(root: Path, trees: tuple[str, ...] = CHECKED_TREES) -> list[Violation]:
    found: list[Violation] = []
    for tree_name in trees:
        for path in sorted((root / tree_name).rglob("*.py")):
            if "tests" in path.relative_to(root).parts[1:]:
                continue  # servers/*/tests are tests
            importer = module_name(path, root)
            syntax = ast.parse(path.read_text(), filename=str(path))
            for line, imported in imported_modules(syntax, importer, path.name == "__init__.py", root):
                why = check_import(importer, imported)
                if why:
                    found.append(Violation(str(path.relative_to(root)), line, importer, imported, why))
    one_per_line = {(v.file, v.line): v for v in sorted(found, key=lambda v: v.imported, reverse=True)}
    return sorted(one_per_line.values(), key=lambda v: (v.file, v.line))


def test_every_import_of_our_code_points_down_the_layers() -> None:
    found = violations(REPO_ROOT)
    assert not found, "imports that break the layering (README.md, Architecture):\n" + "\n".join(map(str, found))


def test_every_layer_package_exists() -> None:
    """A renamed package must not silently leave its layer rule checking nothing."""
    missing = [prefix for _, prefix in LAYERS if not (REPO_ROOT / prefix.replace(".", "/")).exists()]
    missing = [m for m in missing if not (REPO_ROOT / (m.replace(".", "/") + ".py")).exists()]
    assert not missing, f"layer packages that do not exist: {missing}"


@pytest.mark.parametrize(
    ("path", "source", "why"),
    [
        ("mcpstack/catalog/bad.py", "from mcpstack.generate import gateway\n", "the catalog imports nothing of ours"),
        ("mcpstack/generate/bad.py", "import mcpstack.local.stack\n", "points up"),
        ("mcpstack/local/bad.py", "from infra.render import Rendered\n", "siblings on layer 3"),
        ("infra/bad.py", "import mcpstack.cli\n", "points up"),
        ("mcpstack/policy/bad.py", "from ..capacity import gate\n", "siblings on layer 4"),
        ("servers/timeserver/bad.py", "from mcpstack.catalog import Catalog\n", "servers/ imports nothing"),
        ("mcpstack/capacity/bad.py", "from servers.gateway import settings\n", "servers/ is its own"),
        ("stacks/bad.py", "import mcpstack.local\n", "stacks may import only infra"),
        ("loadtests/bad.py", "from mcpstack.cli import app\n", "loadtests may import only"),
        ("mcpstack/cli/verify.py", "import e2e.target\n", "production code never imports e2e/"),
    ],
)
def test_an_upward_import_is_caught(tmp_path: Path, path: str, source: str, why: str) -> None:
    """A synthetic tree with one bad import: the check names the file, the line and the rule."""
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    for parent in target.relative_to(tmp_path).parents:
        if parent != Path("."):
            (tmp_path / parent / "__init__.py").touch()
    target.write_text('"""synthetic"""\n' + source)
    found = violations(tmp_path, trees=(path.split("/", maxsplit=1)[0],))
    assert len(found) == 1, found
    assert found[0].file == path
    assert found[0].line == 2
    assert why in found[0].why


def test_a_downward_import_is_allowed(tmp_path: Path) -> None:
    target = tmp_path / "mcpstack" / "policy" / "good.py"
    target.parent.mkdir(parents=True)
    target.write_text("from infra.render import Rendered\nfrom mcpstack.catalog import Catalog\nimport yaml\n")
    assert violations(tmp_path, trees=("mcpstack",)) == []
