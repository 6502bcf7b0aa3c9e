"""Checks every migration script must pass (``baseline-bridge lint`` and the tests).

The rules:

- revision ids are four digits, consecutive from ``0001``, each declared once;
- the file is named ``<id>_<slug>.py`` after its own revision id;
- the chain is linear: ``0001`` revises nothing, every later id revises the one
  before it, nothing branches or merges, and there is exactly one head;
- ids fit ``alembic_version.version_num`` (``varchar(32)``);
- every revision has a real ``downgrade()`` (not just ``pass``, ``...`` or a docstring);
- no migration imports the live models (``nakamura_misaki_db.schema.models``): a
  migration must keep meaning what it meant the day it was written;
- a migration imports nothing of this package but ``nakamura_misaki_db.revision_api``: it
  must keep importing while the internal modules move;
- every revision can run twice (see ``idempotency``): ``op.drop_*`` passes
  ``if_exists=True``, ``op.create_table`` / ``op.create_index`` /
  ``op.add_column`` pass ``if_not_exists=True`` or sit under an ``if`` that
  checks the catalog, constraints (which have no such flag) sit under such an
  ``if``, and SQL strings given to ``execute`` say ``IF EXISTS`` / ``IF NOT
  EXISTS`` and never ``UPDATE`` or ``DELETE`` every row.

Each file is read with ``ast`` (never imported) for the per-file rules. The
chain (heads, branch and merge points) is then loaded with Alembic's own
``ScriptDirectory``, which is what ``alembic upgrade`` would see.
"""

from __future__ import annotations

import ast
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory

from nakamura_misaki_db.authoring.idempotency import idempotency_problems
from nakamura_misaki_db.authoring.numbering import REVISION_ID

VERSION_NUM_LENGTH = 32  # alembic_version.version_num is varchar(32)
PACKAGE = "nakamura_misaki_db"
LIVE_MODELS = "nakamura_misaki_db.schema.models"
# The live models, under today's name and the one they had before the package was split up.
LIVE_MODEL_MODULES = (LIVE_MODELS, "nakamura_misaki_db.models")
# The one module a revision may import from this package (see its docstring).
REVISION_API = "nakamura_misaki_db.revision_api"
# The files Alembic itself loads from a versions directory.
_SOURCE_FILE = re.compile(r"^(?!\.#|__init__).*\.py$")
_SLUG = re.compile(r"^\w+$")


@dataclass(frozen=True)
class Finding:
    file: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


@dataclass
class _Script:
    path: Path
    revision: str | None = None
    down_revision: str | tuple[str, ...] | None = None
    has_down_revision: bool = False


def default_versions_dir() -> Path:
    from nakamura_misaki_db.schema.revisions import script_location

    return script_location() / "versions"


def _literal(node: ast.expr) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_LITERAL


_NOT_LITERAL = object()


def _module_assignments(tree: ast.Module) -> dict[str, ast.expr]:
    out: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            out[node.target.id] = node.value
    return out


def _is_placeholder(stmt: ast.stmt) -> bool:
    """``pass``, ``...``, a docstring, or ``raise NotImplementedError``: no downgrade at all."""
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
        return stmt.value.value is Ellipsis or isinstance(stmt.value.value, str)
    if isinstance(stmt, ast.Raise) and stmt.exc is not None:
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


def _downgrade_problem(tree: ast.Module) -> str | None:
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == "downgrade"]
    if not funcs:
        return "has no downgrade() function; every revision needs a real downgrade"
    if all(_is_placeholder(stmt) for stmt in funcs[-1].body):
        return "downgrade() does nothing (only pass, ... or a docstring); every revision needs a real downgrade"
    return None


def _imported_modules(node: ast.AST) -> list[str] | None:
    """The modules an import statement (or an ``import_module("...")`` call) brings in, or None."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        # `from pkg import sub`: the submodules count as imported too.
        return [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
    if isinstance(node, ast.Call) and node.args:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        first = node.args[0]
        if name in {"import_module", "__import__"} and isinstance(first, ast.Constant) and isinstance(first.value,
                                                                                                       str):
            return [first.value]
    return None


def _is_under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _package_imports(tree: ast.Module) -> tuple[list[int], list[tuple[int, str]]]:
    """Lines importing the live models, and (line, module) of every other import of ours but revision_api.

    One finding per statement: a statement that brings in the live models is reported as that.
    """
    models: list[int] = []
    internal: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        modules = _imported_modules(node)
        if not modules:
            continue
        ours = [m for m in modules if _is_under(m, PACKAGE)]
        if any(_is_under(m, live) for m in ours for live in LIVE_MODEL_MODULES):
            models.append(node.lineno)  # type: ignore[attr-defined]
            continue
        if isinstance(node, ast.ImportFrom):
            ours = [node.module] if node.module and _is_under(node.module, PACKAGE) else []
            if node.module == PACKAGE:
                ours = [f"{PACKAGE}.{a.name}" for a in node.names]
        outside = [m for m in ours if not _is_under(m, REVISION_API)]
        if outside:
            internal.append((node.lineno, outside[0]))  # type: ignore[attr-defined]
    return sorted(set(models)), sorted(set(internal))


def _check_file(path: Path, shown: str, findings: list[Finding]) -> _Script:
    script = _Script(path)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        findings.append(Finding(shown, f"cannot be parsed: {exc.msg} (line {exc.lineno})"))
        return script
    except (OSError, UnicodeDecodeError) as exc:
        findings.append(Finding(shown, f"cannot be read: {exc}"))
        return script

    assigned = _module_assignments(tree)
    revision = _literal(assigned["revision"]) if "revision" in assigned else None
    if not isinstance(revision, str) or not revision:
        findings.append(Finding(shown, "declares no revision id (expected revision = \"NNNN\" as a string literal)"))
    else:
        script.revision = revision
        if not REVISION_ID.match(revision):
            findings.append(Finding(shown, f"revision id '{revision}' is not four digits (0001, 0002, ...)"))
        if len(revision) > VERSION_NUM_LENGTH:
            findings.append(Finding(
                shown, f"revision id is {len(revision)} characters; alembic_version.version_num is "
                       f"varchar({VERSION_NUM_LENGTH})"))
        rest = path.name[len(revision) + 1:-3] if path.name.startswith(revision + "_") else ""
        if not _SLUG.match(rest):
            findings.append(Finding(
                shown, f"file name does not match its revision: expected {revision}_<slug>.py"))

    if "down_revision" not in assigned:
        findings.append(Finding(shown, "declares no down_revision"))
    else:
        down = _literal(assigned["down_revision"])
        if isinstance(down, list | tuple) and all(isinstance(d, str) for d in down):
            script.down_revision = tuple(down)
            script.has_down_revision = True
        elif down is None or isinstance(down, str):
            script.down_revision = down
            script.has_down_revision = True
        else:
            findings.append(Finding(shown, "down_revision is not a string literal or None"))

    problem = _downgrade_problem(tree)
    if problem:
        findings.append(Finding(shown, problem))
    model_lines, internal = _package_imports(tree)
    for line in model_lines:
        findings.append(Finding(
            shown, f"imports the live models ({LIVE_MODELS}) at line {line}; "
                   "a migration must spell out its own schema"))
    for line, module in internal:
        findings.append(Finding(
            shown, f"imports {module} at line {line}; a revision imports only {REVISION_API} from this "
                   "package (internal modules move, its names stay)"))
    findings.extend(Finding(shown, problem) for problem in idempotency_problems(tree))
    return script


def _check_sequence(scripts: list[_Script], dir_shown: str, shown: dict[Path, str],
                    findings: list[Finding]) -> None:
    by_id: dict[str, list[_Script]] = {}
    for s in scripts:
        if s.revision is not None:
            by_id.setdefault(s.revision, []).append(s)
    for rev, owners in sorted(by_id.items()):
        for extra in owners[1:]:
            findings.append(Finding(
                shown[extra.path], f"revision '{rev}' is also declared by {owners[0].path.name}"))

    numbers = sorted(int(r) for r in by_id if REVISION_ID.match(r))
    if numbers:
        missing = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
        if missing:
            ids = ", ".join(f"{n:04d}" for n in missing)
            findings.append(Finding(dir_shown, f"revision ids must be consecutive from 0001: missing {ids}"))

    for s in scripts:
        if s.revision is None or not REVISION_ID.match(s.revision) or not s.has_down_revision:
            continue
        number = int(s.revision)
        expected = None if number == 1 else f"{number - 1:04d}"
        if isinstance(s.down_revision, tuple):
            findings.append(Finding(
                shown[s.path], f"is a merge (down_revision {s.down_revision!r}); the chain must be linear"))
        elif s.down_revision != expected and (expected is None or expected in by_id):
            # (when the predecessor is missing, the gap above is the finding)
            want = "None (the first revision revises nothing)" if expected is None else f"'{expected}'"
            findings.append(Finding(
                shown[s.path], f"down_revision is {s.down_revision!r}; expected {want}"))


def _check_chain(versions_dir: Path, dir_shown: str, scripts: list[_Script], shown: dict[Path, str],
                 findings: list[Finding]) -> None:
    """Heads, branch and merge points, as Alembic itself loads the chain."""
    known = {s.revision for s in scripts if s.revision}
    # A missing or duplicated id confuses Alembic's map (it sees "2 heads (0002, 0002)").
    loadable = len(known) == len(scripts) and all(s.has_down_revision for s in scripts)
    for s in scripts:
        downs = s.down_revision if isinstance(s.down_revision, tuple) else (s.down_revision,)
        for d in downs:
            if d is not None and d not in known:
                loadable = False
                findings.append(Finding(
                    shown[s.path], f"down_revision '{d}' is not a revision in this directory"))
    if not loadable:
        return  # Alembic could not load this chain; the findings above already say why.

    script_dir = ScriptDirectory(str(versions_dir), version_locations=[str(versions_dir)])
    saved = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # never leave __pycache__ next to the scripts
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            revisions = list(script_dir.walk_revisions())
            heads = script_dir.get_heads()
    except Exception as exc:  # Alembic's own verdict, whatever it is
        message = " ".join(str(exc).split()) or type(exc).__name__
        findings.append(Finding(dir_shown, f"Alembic cannot load this chain: {message}"))
        return
    finally:
        sys.dont_write_bytecode = saved

    if len(heads) > 1:
        findings.append(Finding(
            dir_shown, f"{len(heads)} heads ({', '.join(sorted(heads))}); the chain must have exactly one"))
    for rev in sorted(revisions, key=lambda r: r.revision):
        if rev.is_branch_point:
            path = Path(rev.path)
            children = ", ".join(sorted(rev.nextrev))
            findings.append(Finding(
                shown.get(path, str(path)), f"is a branch point (revised by {children}); the chain must be linear"))


def lint_versions(versions_dir: Path) -> list[Finding]:
    """Every rule broken by the scripts in ``versions_dir``; empty when all is well."""
    versions_dir = Path(versions_dir)
    dir_shown = str(versions_dir)
    if not versions_dir.is_dir():
        return [Finding(dir_shown, "is not a directory")]
    files = sorted(p for p in versions_dir.iterdir() if p.is_file() and _SOURCE_FILE.match(p.name))
    if not files:
        return [Finding(dir_shown, "holds no migration scripts (expected 0001_<slug>.py, ...)")]

    findings: list[Finding] = []
    shown = {p: str(p) for p in files}
    # ScriptDirectory reports resolved paths; map them back to how the caller named the files.
    shown.update({p.resolve(): str(p) for p in files})
    scripts = [_check_file(p, shown[p], findings) for p in files]
    for s in scripts:
        s.path = s.path.resolve()
    _check_sequence(scripts, dir_shown, shown, findings)
    _check_chain(versions_dir.resolve(), dir_shown, scripts, shown, findings)
    return findings
