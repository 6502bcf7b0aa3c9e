"""The package's shape, as README "Architecture" states it, read from the source (no import runs).

- stages import only their own stage or the stages below them, in the order of ``LAYERS``
  (README's table), lazy imports inside functions and type-checking imports included;
- no import cycle between modules;
- no module over 400 lines; the top level holds ``__init__.py`` and ``revision_api.py`` only;
- one definition of quoting (``schema/quoting.py``) and one state entry (``catalog/state.py``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from .helpers import REPO

PACKAGE = REPO / "src" / "nakamura_misaki_db"
# Bottom first, as README's Architecture table lists them.
LAYERS = ("schema", "connect", "diff", "catalog", "legacy", "authoring", "deploy", "appcheck", "bridge",
          "devtools", "(top)")
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _stage(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or (len(parts) == 2 and f"{module}" not in _PACKAGES):
        return "(top)"
    return parts[1]


_PACKAGES = {m for m, p in MODULES.items() if p.name == "__init__.py"}


def _imports(module: str) -> list[tuple[int, str]]:
    """(line, module) of every import of this package anywhere in ``module``'s file."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "nakamura_misaki_db"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "nakamura_misaki_db":
                continue
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                sub = f"{target}.{alias.name}"
                out.append((node.lineno, sub if sub in MODULES else target))
    return out


def test_the_stages_are_the_readme_s() -> None:
    stages = {_stage(m) for m in MODULES}
    assert stages == set(LAYERS)
    readme = (REPO / "README.md").read_text()
    architecture = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    for stage in LAYERS[:-1]:
        assert f"`{stage}/`" in architecture, f"README's Architecture section does not name {stage}/"


def test_no_module_imports_a_stage_above_its_own() -> None:
    upward = []
    for module in MODULES:
        mine = LAYERS.index(_stage(module))
        for line, target in _imports(module):
            if target == "nakamura_misaki_db":  # the root package holds only __version__
                continue
            theirs = LAYERS.index(_stage(target))
            if theirs > mine:
                upward.append(f"{module}:{line} imports {target} ({_stage(target)} is above {_stage(module)})")
    assert upward == []


def test_no_import_cycle() -> None:
    graph = {m: {t for _, t in _imports(m) if t in MODULES and t != m} for m in MODULES}
    # A package's __init__ importing its own submodules is how a package exports; a submodule
    # importing a sibling imports the package's __init__ first only when it names the package.
    seen: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        seen[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if seen.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in seen:
                visit(nxt)
        stack.pop()
        seen[node] = 2

    for module in sorted(graph):
        if module not in seen:
            visit(module)
    assert cycles == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_400_lines(module: str) -> None:
    assert len(MODULES[module].read_text().splitlines()) <= MAX_LINES


def test_the_top_level_holds_only_the_package_and_the_revision_api() -> None:
    top = sorted(p.name for p in PACKAGE.iterdir() if p.suffix == ".py")
    assert top == ["__init__.py", "revision_api.py"]


_QUOTING = re.compile(r"""replace\(\s*(['"])(\\'|'|")\1\s*,\s*(['"])(\\'\\'|''|\\"\\"|"")\3\s*\)""")


def test_quoting_is_defined_once() -> None:
    # Doubling a quote character is how SQL quotes; only schema/quoting.py may do it.
    found = [f"{m}:{n}" for m, p in MODULES.items() if m != "nakamura_misaki_db.schema.quoting"
             for n, line in enumerate(p.read_text().splitlines(), 1) if _QUOTING.search(line)]
    assert found == []
    assert _QUOTING.search((PACKAGE / "schema" / "quoting.py").read_text())


def test_every_command_asks_the_one_state_entry() -> None:
    # classify() is the pure rule; read_state() is the entry every command and env.py use.
    callers = sorted(m for m, p in MODULES.items() if m != "nakamura_misaki_db.catalog.state"
                     and re.search(r"\bclassify\(", p.read_text()))
    assert callers == []
    users = {m for m, p in MODULES.items() if "read_state(" in p.read_text()}
    for command in ("bridge.status", "bridge.plan", "deploy.alembic_env", "deploy.offline", "deploy.recover_version"):
        assert f"nakamura_misaki_db.{command}" in users, command
    assert "nakamura_misaki_db.deploy.alembic_env import run" in (REPO / "alembic" / "env.py").read_text()


def test_revisions_import_only_the_revision_api() -> None:
    for path in sorted((REPO / "alembic" / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")):
        ours = [target for _, target in _imports_of_file(path)]
        assert all(t == "nakamura_misaki_db.revision_api" for t in ours), (path.name, ours)


def _imports_of_file(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nakamura_misaki_db"):
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("nakamura_misaki_db")]
    return out
