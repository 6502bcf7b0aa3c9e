"""``check-app``'s targets: every mapping an application has, imported the way it imports itself.

On the application-style checkout ``tests/app_fixtures/assistant`` (README there): a regular package
``src`` importing itself as ``src.``, namespace directories inside it, three declarative Bases, one
table mapped twice, a module with a missing dependency, one that reads its settings from the
environment, an Alembic directory inside the package. The expected mappings, errors and differences
are written here from those files. In this process (no database needed); ``imported_from`` undoes
the application's imports after each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nakamura_misaki_db.appcheck.check import resolve_ignores
from nakamura_misaki_db.appcheck.discover import discover
from nakamura_misaki_db.appcheck.duplicates import duplicates
from nakamura_misaki_db.appcheck.importing import import_root, module_name
from nakamura_misaki_db.connect.errors import BadInput

from .app_release import TOKEN_ENV, imported_from, release

# Also run at the lowest supported versions (.ci/run, .ci/lowest.txt: the application's pins).
pytestmark = pytest.mark.lowest

MAPPINGS = [
    "src.ctx.tasks.repo.TaskModel (tasks)",
    "src.infra.db.models.ProjectRecord (projects)",
    "src.infra.db.models.ProjectTaskRecord (project_tasks)",
    "src.infra.db.models.SkillRecord (business_skills)",
    "src.infra.db.models.TaskDependencyRecord (task_dependencies)",
    "src.infra.db.models.TaskRecord (tasks)",
    "src.infra.db.models.TeamMetricRecord (team_metrics)",
    "src.infra.users.repo.SlackUserModel (slack_users)",
]
MISSING_DEPENDENCY = ("src.adapters.notes_repo", "ModuleNotFoundError: No module named 'src.domain'")
SETTINGS = ("src.infra.db.session", "RuntimeError: ASSISTANT_SLACK_TOKEN environment variable is required")


@pytest.fixture
def checkout(tmp_path: Path) -> Iterator[Path]:
    root = release(tmp_path / "assistant", fixed=False)
    with imported_from(root):
        yield root


def names(found) -> list[str]:
    return [str(m) for m in found.models.mappings]


# -- the import root -------------------------------------------------------------------------------


def test_the_import_root_of_a_file_in_a_namespace_directory_is_the_folder_above_src(tmp_path: Path) -> None:
    root = release(tmp_path / "assistant", fixed=False)
    for relative, dotted in (("src/infra/db/models.py", "src.infra.db.models"),  # src/infra/db has no __init__
                             ("src/infra/users/repo.py", "src.infra.users.repo"),
                             ("src/ctx/tasks/repo.py", "src.ctx.tasks.repo"),  # relative imports only
                             ("src/smoke.py", "src.smoke")):
        path = root / relative
        assert import_root(path) == root, relative
        assert module_name(path, import_root(path)) == dotted
    assert import_root(root / "src") == root
    assert module_name(root / "src", root) == "src"


def test_the_import_root_of_other_layouts(tmp_path: Path) -> None:
    # A src/ layout whose src is not a package: the package is below it.
    (tmp_path / "proj" / "src" / "shop" / "db").mkdir(parents=True)
    (tmp_path / "proj" / "pyproject.toml").write_text("")
    (tmp_path / "proj" / "src" / "shop" / "__init__.py").write_text("")
    models = tmp_path / "proj" / "src" / "shop" / "db" / "models.py"
    models.write_text("import sqlalchemy\n")
    assert import_root(models) == tmp_path / "proj" / "src"
    assert module_name(models, import_root(models)) == "shop.db.models"
    # A lone module: its own folder. Never above the project: a package around the checkout is not its.
    (tmp_path / "outer" / "app").mkdir(parents=True)
    (tmp_path / "outer" / "__init__.py").write_text("")
    (tmp_path / "outer" / "app" / "setup.py").write_text("")
    lone = tmp_path / "outer" / "app" / "models.py"
    lone.write_text("from outer import x\n")
    assert import_root(lone) == tmp_path / "outer" / "app"


# -- a package directory ------------------------------------------------------------------------------


def test_the_package_directory_yields_every_mapping_of_every_base_with_its_module(checkout: Path) -> None:
    found = discover(["src"])
    assert names(found) == MAPPINGS
    # Every class by the name its module gives it, and the attribute where it differs from the column.
    metric = next(m for m in found.models.mappings if m.name == "TeamMetricRecord")
    assert metric.attribute("metadata") == "metric_metadata"
    assert {m.kind for m in found.models.mappings} == {"class"}
    # Neither SQLAlchemy's own pg_catalog MetaData nor this package's models (both imported here) count.
    assert not any(m.module.startswith(("sqlalchemy", "nakamura_misaki_db")) for m in found.models.mappings)
    assert [(e.module, e.error) for e in found.import_errors] == [MISSING_DEPENDENCY, SETTINGS]
    assert [(s.path, s.reason) for s in found.skipped] == [
        ("src/migrations", "an Alembic script directory (its env.py runs migrations)")]
    assert found.unchecked == ()
    # Only modules that use SQLAlchemy are imported: not the settings themselves, nor the start-up script.
    assert "src.settings" not in found.imported and "src.smoke" not in found.imported


def test_with_the_application_s_settings_every_module_imports(checkout: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in TOKEN_ENV.items():
        monkeypatch.setenv(name, value)
    found = discover(["./src/"])
    assert names(found) == MAPPINGS
    assert [(e.module, e.error) for e in found.import_errors] == [MISSING_DEPENDENCY]


def test_a_dotted_package_is_the_same_as_its_directory(checkout: Path) -> None:
    assert names(discover(["src"])) == MAPPINGS
    assert names(discover(["src.ctx"])) == ["src.ctx.tasks.repo.TaskModel (tasks)"]


# -- one module, MODULE:ATTR ------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["src/ctx/tasks/repo.py", "src.ctx.tasks.repo"])
def test_a_module_yields_its_own_mappings_and_names_the_others(checkout: Path, target: str) -> None:
    found = discover([target])
    assert names(found) == ["src.ctx.tasks.repo.TaskModel (tasks)"]
    assert found.unchecked == ("src.infra.db.models", "src.infra.users.repo")


@pytest.mark.parametrize("target", ["src/infra/db/models.py:Base", "src.infra.db.models:Base"])
def test_module_attr_is_only_that_base_and_names_the_modules_it_leaves_out(checkout: Path, target: str) -> None:
    found = discover([target])
    assert names(found) == [m for m in MAPPINGS if m.startswith("src.infra.db.models.")]
    assert found.unchecked == ("src.ctx.tasks.repo", "src.infra.users.repo")


def test_several_targets_together(checkout: Path) -> None:
    found = discover(["src/infra/db/models.py:Base", "src/ctx/tasks/repo.py", "src.infra.users.repo:Base"])
    assert names(found) == MAPPINGS
    assert found.unchecked == ()


@pytest.mark.parametrize(("target", "message"), [
    ("src/adapters/notes_repo.py", "cannot import src/adapters/notes_repo.py: No module named 'src.domain'"),
    ("src.infra.db.session", "cannot import src.infra.db.session: RuntimeError: ASSISTANT_SLACK_TOKEN environment "
                             "variable is required"),
    ("src/no_such_dir", "cannot import src/no_such_dir: no such file or directory"),
    ("src/shared", "no mapped class or table found in src/shared"),
    ("src/infra/db/models.py:Nope", "src/infra/db/models.py has no attribute 'Nope' (MetaData / Base objects there: "
                                    "Base)"),
])
def test_the_module_given_must_import_and_hold_a_mapping(checkout: Path, target: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        discover([target])
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_package_whose_own_init_fails_is_not_checked(checkout: Path) -> None:
    (checkout / "src" / "__init__.py").write_text("raise SystemExit('configure me first')\n")
    with pytest.raises(BadInput, match=r"^cannot import src: SystemExit: configure me first$"):
        discover(["src"])


# -- Core tables, inheritance ------------------------------------------------------------------------------


def test_core_tables_and_single_table_inheritance(tmp_path: Path) -> None:
    app = tmp_path / "inventory"
    (app / "shop").mkdir(parents=True)
    (app / "pyproject.toml").write_text("")
    (app / "shop" / "__init__.py").write_text("")
    (app / "shop" / "tables.py").write_text(
        "import sqlalchemy as sa\n"
        "from sqlalchemy.dialects.postgresql import pg_catalog  # SQLAlchemy's own MetaData: not the app's\n"
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n"
        "metadata = sa.MetaData()\n"
        "audit = sa.Table('audit_log', metadata, sa.Column('id', sa.Integer, primary_key=True))\n\n\n"
        "class Base(DeclarativeBase):\n    pass\n\n\n"
        "class User(Base):\n    __tablename__ = 'users'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n    kind: Mapped[str]\n"
        "    __mapper_args__ = {'polymorphic_on': 'kind', 'polymorphic_identity': 'user'}\n\n\n"
        "class Admin(User):\n    __mapper_args__ = {'polymorphic_identity': 'admin'}\n")
    with imported_from(app):
        found = discover(["shop"])
        assert [(str(m), m.kind) for m in found.models.mappings] == [
            ("shop.tables.User (users)", "class"), ("shop.tables.audit (audit_log)", "table")]
        assert duplicates(found.models.mappings) == []  # Admin shares User's table: not a second mapping


# -- two classes, one table ------------------------------------------------------------------------------


def test_two_classes_on_one_table_are_named_with_every_difference(checkout: Path) -> None:
    [dup] = duplicates(discover(["src"]).models.mappings)
    assert dup.table == "tasks"
    assert [m.qualified for m in dup.mappings] == ["src.ctx.tasks.repo.TaskModel", "src.infra.db.models.TaskRecord"]
    assert list(dup.differences) == [
        "assignee_user_id: VARCHAR(50) (TaskModel) vs VARCHAR(100) (TaskRecord)",
        "completed_at: DateTime(timezone=True) (TaskModel) vs DateTime(timezone=False) (TaskRecord)",
        "created_at: DateTime(timezone=True) (TaskModel) vs DateTime(timezone=False) (TaskRecord)",
        "creator_user_id: VARCHAR(50) (TaskModel) vs VARCHAR(100) (TaskRecord)",
        "description: VARCHAR (TaskModel) vs TEXT (TaskRecord)",
        "due_at: DateTime(timezone=True) (TaskModel) vs DateTime(timezone=False) (TaskRecord)",
        "estimated_hours: mapped only by TaskModel",
        "priority nullable: False (TaskModel) vs True (TaskRecord)",
        "progress_percent nullable: False (TaskModel) vs True (TaskRecord)",
        "status: two spellings of one enum: persists 'pending', 'in_progress', 'completed', 'cancelled' (TaskModel)"
        " vs persists 'PENDING', 'IN_PROGRESS', 'COMPLETED' (TaskRecord)",
        "title: VARCHAR(500) (TaskModel) vs VARCHAR(200) (TaskRecord)",
        "updated_at: DateTime(timezone=True) (TaskModel) vs DateTime(timezone=False) (TaskRecord)",
    ]
    assert str(dup).startswith("warning: tasks is mapped by 2 classes, src.ctx.tasks.repo.TaskModel and "
                               "src.infra.db.models.TaskRecord: assignee_user_id: ")


# -- --ignore ----------------------------------------------------------------------------------------------


def test_an_ignore_names_exactly_one_mapping_and_says_why(checkout: Path) -> None:
    models = discover(["src"]).models
    for name in ("src.infra.db.models.TaskRecord", "models.TaskRecord", "TaskRecord"):
        kept, ignored = resolve_ignores(models, {name: "no repository uses it"})
        assert [(i.mapping.qualified, i.reason) for i in ignored] == [
            ("src.infra.db.models.TaskRecord", "no repository uses it")]
        assert len(kept.mappings) == len(MAPPINGS) - 1
    with pytest.raises(BadInput, match=r"^--ignore TaskTable matches no mapping; the mappings are: "
                                       r"src\.ctx\.tasks\.repo\.TaskModel, "):
        resolve_ignores(models, {"TaskTable": "typo"})
    with pytest.raises(BadInput, match=r"^--ignore repo\.TaskModel\b"):
        resolve_ignores(models, {"repo.TaskModel": ""})
    with pytest.raises(BadInput, match=r"give the reason"):
        resolve_ignores(models, {"TaskModel": "  "})


def test_an_ignore_matching_two_mappings_is_refused(tmp_path: Path) -> None:
    root = release(tmp_path / "assistant", fixed=False)
    # A second class of the same name in another module.
    (root / "src" / "infra" / "users" / "legacy.py").write_text(
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\n"
        "class Base(DeclarativeBase):\n    pass\n\n\nclass SlackUserModel(Base):\n"
        "    __tablename__ = 'legacy_users'\n    user_id: Mapped[str] = mapped_column(primary_key=True)\n")
    with imported_from(root):
        found = discover(["src"])
        assert found.import_errors[0].module == "src.adapters.notes_repo"  # legacy.py imported fine
        models = found.models
        with pytest.raises(BadInput, match=r"^--ignore SlackUserModel matches 2 mappings \(src\.infra\.users\."
                                           r"legacy\.SlackUserModel, src\.infra\.users\.repo\.SlackUserModel\); give "
                                           r"the module too$"):
            resolve_ignores(models, {"SlackUserModel": "old"})


def test_two_bases_in_one_module_keep_their_findings_apart(tmp_path: Path) -> None:
    from nakamura_misaki_db.appcheck.check import run_check

    app = tmp_path / "twice"
    (app / "shop").mkdir(parents=True)
    (app / "pyproject.toml").write_text("")
    (app / "shop" / "__init__.py").write_text("")
    (app / "shop" / "models.py").write_text(
        "import sqlalchemy as sa\nfrom sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\n"
        "class A(DeclarativeBase):\n    pass\n\n\nclass B(DeclarativeBase):\n    pass\n\n\n"
        "class Narrow(A):\n    __tablename__ = 'slack_users'\n"
        "    user_id: Mapped[str] = mapped_column(sa.String(50), primary_key=True)\n"
        "    name: Mapped[str] = mapped_column(sa.String(999))\n\n\n"
        "class Wide(B):\n    __tablename__ = 'slack_users'\n"
        "    user_id: Mapped[str] = mapped_column(sa.String(50), primary_key=True)\n"
        "    email: Mapped[str] = mapped_column(sa.String(999))\n")
    with imported_from(app):
        report = run_check(["shop"], head=True)
    narrow, wide = report.mappings
    # Each class's own too-long column, under its own name; the NOT NULL columns neither maps, for both.
    assert [(f.where, f.kind) for f in report.of(narrow) if f.kind == "too-long"] == [
        ("Narrow.name (slack_users.name)", "too-long")]
    assert [(f.where, f.kind) for f in report.of(wide) if f.kind == "too-long"] == [
        ("Wide.email (slack_users.email)", "too-long")]
    assert sum(len(report.of(m)) for m in report.mappings) == len(report.findings)
