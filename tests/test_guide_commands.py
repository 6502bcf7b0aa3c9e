"""README.md and MIGRATION_GUIDE.md, word for word: every shell block runs, every migration example works.

Shell blocks (```sh, ```bash, ```shell, ```console) run exactly as written, with
``bash -e -o pipefail``, grouped by the document section (``## ...``) they are
in: the blocks of one section run in order, in one fresh copy of the repository
and against one fresh database (``DATABASE_URL`` set, libpq form, PostgreSQL 16's
client programs on ``PATH`` after the virtualenv's). An HTML comment on the
line(s) right before a block's opening fence says how to treat it:

- ``<!-- not-run: REASON -->``  the block cannot run in a test (the suite itself,
  minutes of benchmark, a restore into production); the reason is required;
- ``<!-- slow: REASON -->``  it runs, in a test marked ``slow``;
- ``<!-- legacy-database: REASON -->``  its section starts from a legacy database
  with rows instead of an empty one: the state the reason names first (``S7, ...``),
  else the incident database, S1.

Python blocks of the guide that define ``upgrade`` and ``downgrade`` are written
into a temporary versions directory as the next revision, must pass
``nakamura-db lint``'s checks, and go through the re-apply cycle of
``tests/test_reapply.py`` over seeded rows. Other Python blocks must be marked.
Every fenced block names its language, so no shell block can hide untagged.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from nakamura_misaki_db.authoring.lint import lint_versions

from .helpers import REPO, build_legacy, copy_repository, head_revision, libpq_url, next_revision_number, pg_bin
from .reapply_checks import check_cycle

DOCUMENTS = ("README.md", "MIGRATION_GUIDE.md")
SHELL = frozenset({"sh", "bash", "shell", "console"})
MARKERS = frozenset({"not-run", "slow", "legacy-database"})
BIN = Path(sys.executable).parent

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<info>[^`]*)$")
_MARKER = re.compile(r"^\s*<!--\s*(?P<kind>[\w-]+)\s*(?::\s*(?P<reason>.*?))?\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    document: str
    line: int  # of the opening fence, 1-based
    language: str
    text: str
    section: str
    marker: str | None = None
    reason: str = ""

    @property
    def where(self) -> str:
        return f"{self.document}:{self.line}"


def parse(document: str) -> list[Block]:
    lines = (REPO / document).read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    section = "(top)"
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        opening = _FENCE.match(line)
        if not opening:
            i += 1
            continue
        indent = opening["indent"]
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
        body = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip() for ln in lines[i + 1:end]]
        marker = reason = None
        back = i - 1
        while back >= 0 and not lines[back].strip():
            back -= 1
        found = _MARKER.match(lines[back]) if back >= 0 else None
        if found:
            marker, reason = found["kind"], (found["reason"] or "")
        blocks.append(Block(document, i + 1, opening["info"].strip(), "\n".join(body) + "\n", section,
                            marker, reason or ""))
        i = end + 1
    return blocks


BLOCKS = [block for document in DOCUMENTS for block in parse(document)]
SHELL_BLOCKS = [b for b in BLOCKS if b.language in SHELL]
PYTHON_BLOCKS = [b for b in BLOCKS if b.language == "python"]


@dataclass(frozen=True)
class Session:
    document: str
    section: str
    blocks: tuple[Block, ...]

    @property
    def slow(self) -> bool:
        return any(b.marker == "slow" for b in self.blocks)

    @property
    def legacy(self) -> str | None:
        """The legacy state the section starts from (the marker's reason may name one: ``S7, ...``)."""
        for b in self.blocks:
            if b.marker == "legacy-database":
                named = re.match(r"(S\d)\b", b.reason)
                return named[1] if named else "S1"
        return None

    @property
    def name(self) -> str:
        slug = re.sub(r"\W+", "-", self.section.lower()).strip("-")
        return f"{self.document.removesuffix('.md').lower()}-{slug}"


def sessions() -> list[Session]:
    grouped: dict[tuple[str, str], list[Block]] = {}
    for block in SHELL_BLOCKS:
        if block.marker != "not-run":
            grouped.setdefault((block.document, block.section), []).append(block)
    return [Session(doc, section, tuple(blocks)) for (doc, section), blocks in grouped.items()]


SESSIONS = sessions()


def is_revision_example(block: Block) -> bool:
    return bool(re.search(r"^def upgrade\(", block.text, re.M) and re.search(r"^def downgrade\(", block.text, re.M))


EXAMPLES = [b for b in PYTHON_BLOCKS if b.document == "MIGRATION_GUIDE.md" and b.marker != "not-run"]


# -- every block is accounted for ---------------------------------------------------------


def test_every_fenced_block_names_its_language() -> None:
    unnamed = [b.where for b in BLOCKS if not b.language]
    assert unnamed == []


def test_markers_are_known_and_say_why() -> None:
    for block in BLOCKS:
        if block.marker is not None:
            assert block.marker in MARKERS, f"{block.where}: unknown marker {block.marker!r}"
            assert block.reason.strip(), f"{block.where}: marker {block.marker!r} gives no reason"


def test_every_shell_block_is_run_or_marked() -> None:
    run = {b for s in SESSIONS for b in s.blocks}
    marked = {b for b in SHELL_BLOCKS if b.marker == "not-run"}
    assert run | marked == set(SHELL_BLOCKS) and not run & marked
    # The test is only worth something if most of the documentation really runs.
    # Marked: the suite itself (twice), the two benchmarks, a rehearsal restore and a production restore,
    # the one-time switch on the production server (run step by step by tests/test_nixos_unit.py), and
    # check-app run from the application's checkout (three times: tests/test_runbook.py and
    # tests/test_check_app_probe.py run those lines in an application-style checkout).
    assert len(run) >= 12 and len(marked) <= 10, (len(run), sorted(b.where for b in marked))
    assert {s.document for s in SESSIONS} == set(DOCUMENTS)


def test_every_python_block_is_a_revision_or_marked() -> None:
    for block in PYTHON_BLOCKS:
        assert block.marker == "not-run" or (block.document == "MIGRATION_GUIDE.md" and is_revision_example(block)), \
            f"{block.where}: a Python block that is not a whole revision (upgrade and downgrade) must be marked"
    assert len(EXAMPLES) >= 10


# -- shell blocks ---------------------------------------------------------------------------------


def _env(url: URL, embedded: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTHONPATH")}
    pg_dir = Path(pg_bin("psql")).parent
    path = [str(BIN), *([str(pg_dir)] if pg_dir.is_absolute() else []), env.get("PATH", "/usr/bin:/bin")]
    env.update({"DATABASE_URL": libpq_url(url), "PATH": os.pathsep.join(path),
                "NAKAMURA_DB_EMBEDDED_DIR": str(embedded)})
    return env


def run_session(session: Session, tmp_path: Path, make_db: Callable[[], URL]) -> None:
    copy = copy_repository(tmp_path / "repo", sources=True)
    for document in DOCUMENTS:  # pip install -e needs the README (pyproject's readme)
        shutil.copy(REPO / document, copy / document)
    url = make_db()
    if session.legacy:
        build_legacy(url, session.legacy, rows=120)
    embedded = tmp_path / "embedded"
    env = _env(url, embedded)
    try:
        for block in session.blocks:
            result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block.text], cwd=copy, env=env,
                                    capture_output=True, text=True, timeout=900 if session.slow else 300,
                                    check=False)
            assert result.returncode == 0, (f"{block.where} failed (exit {result.returncode}):\n{block.text}\n"
                                            f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}")
            if "dev-db start" in block.text:
                # `eval "$(...)"` hides a failed start from `set -e`: check that the server came up.
                assert (embedded / "PG_VERSION").is_file(), f"{block.where}: the development database never started"
    finally:
        subprocess.run([str(BIN / "nakamura-db"), "dev-db", "stop"], env=env, capture_output=True, check=False,
                       timeout=120)


@pytest.mark.parametrize(
    "session",
    [pytest.param(s, id=s.name, marks=[pytest.mark.slow] if s.slow else []) for s in SESSIONS],
)
def test_shell_blocks_run_as_written(session: Session, tmp_path: Path, make_db: Callable[[], URL]) -> None:
    run_session(session, tmp_path, make_db)


def test_a_failing_command_in_a_block_fails_the_session(tmp_path: Path, make_db: Callable[[], URL]) -> None:
    # The runner itself: `-x` after the subcommand (what the guide used to say) must fail the block.
    bad = Block("MIGRATION_GUIDE.md", 1, "sh", "alembic upgrade head -x lock_timeout=30s\n", "test")
    with pytest.raises(AssertionError, match="unrecognized arguments: -x"):
        run_session(Session("MIGRATION_GUIDE.md", "test", (bad,)), tmp_path, make_db)


# -- Python examples ------------------------------------------------------------------------------

HEADER = '''"""{where}, run as a revision."""

import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = "{prev}"


'''


def example_revision(block: Block, tmp_path: Path) -> tuple[Path, str, str]:
    location = tmp_path / "alembic"
    shutil.copytree(REPO / "alembic", location, ignore=shutil.ignore_patterns("__pycache__"))
    prev, rev = head_revision(), next_revision_number()
    path = location / "versions" / f"{rev}_guide_example.py"
    path.write_text(HEADER.format(where=block.where, rev=rev, prev=prev) + block.text, encoding="utf-8")
    return location, prev, rev


@pytest.mark.parametrize("example", [pytest.param(b, id=f"line-{b.line}") for b in EXAMPLES])
def test_guide_examples_are_working_idempotent_revisions(example: Block, tmp_path: Path, db_url: URL) -> None:
    location, prev, rev = example_revision(example, tmp_path)
    assert lint_versions(location / "versions") == []
    check_cycle(db_url, prev, rev, location)


def test_the_old_downgrade_example_breaks_the_round_trip(tmp_path: Path, db_url: URL) -> None:
    # What section 1.2 used to recommend: refuse unless asked, even with nothing to lose.
    old = Block("MIGRATION_GUIDE.md", 0, "python", (
        "from nakamura_misaki_db.revision_api import Refused\n\n\n"
        "def upgrade(**kw):\n    op.execute(\"ALTER TABLE tasks ADD COLUMN IF NOT EXISTS colour text\")\n\n\n"
        "def downgrade(**kw):\n    if not kw.get(\"allow_data_loss\"):\n"
        "        raise Refused(\"downgrading drops tasks.colour; rerun with -x allow_data_loss=true\")\n"
        "    op.execute(\"ALTER TABLE tasks DROP COLUMN IF EXISTS colour\")\n"), "test")
    location, prev, rev = example_revision(old, tmp_path)
    with pytest.raises(Exception, match=r"downgrading drops tasks\.colour"):
        check_cycle(db_url, prev, rev, location)
