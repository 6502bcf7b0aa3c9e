"""kill -9 at random moments of a phased ``baseline-bridge apply``, and what each kill leaves.

    .venv/bin/python tests/kill_runs.py --runs 200        # the README's reliability figure
    .venv/bin/python tests/kill_runs.py --runs 20 --seed 7

Each run: a fresh copy of the incident database (state S1, duplicates included, so the plan has
both phases), ``apply`` started as the operator starts it, SIGKILL after a random delay drawn
across an apply (from about when it has connected to just past its end, measured first), then the
outcome, one of:

- ``old``: the database is exactly as before (schema dump, per-table counts and row checksums);
- ``new``: the apply had finished: schema and every ``public`` table exactly as a complete apply
  leaves them, one audit row, nothing left over;
- ``named``: in between (phase 1 committed, phase 2 not): ``status`` names what is left, and a
  rerun finishes it, after which the database is ``new``;
- ``mixed``: anything else; there must be none.

``tests/test_kill_random.py`` runs a few of these in the suite; this command runs many. The
server: ``TEST_DATABASE_URL`` (a role that may create databases) if set, else an embedded one.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

if __package__ in (None, ""):  # run as a script: make `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers import (
    REPO,
    admin_engine,
    build_legacy,
    fingerprint,
    row_checksums,
    run,
    scalar,
    schema_dump,
    with_password,
)

BRIDGE = str(Path(sys.executable).parent / "baseline-bridge")
ZONE = "Asia/Tokyo"
LOCKS_SQL = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 1851878241 "
             "AND objid = 1835627361")


def _env(url: URL) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATABASE_URL"] = with_password(url)
    return env


def _bridge(url: URL, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """A run that is not killed: started warm, as the helpers start our commands (the killed one is exec'd)."""
    return run([BRIDGE, *args], url, timeout=timeout)


@dataclass
class Reference:
    template: str  # a database to copy, as built
    old: tuple  # its fingerprint
    new_dump: str  # what a complete apply leaves: the schema dump ...
    new_public: dict[str, tuple[int, str]]  # ... and every public table (run ids and times live in the archive)
    new_archived: int  # rows in the archive
    seconds: float  # how long an apply takes here, start-up included


class Lab:
    def __init__(self, server: URL) -> None:
        self.server = server
        self.admin = admin_engine(server)
        self.made: list[str] = []

    def copy(self, template: str | None = None) -> URL:
        name = f"k_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.made.append(name)
        return self.server.set(database=name)

    def drop(self, url: URL) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        self.made.remove(str(url.database))

    def close(self) -> None:
        for name in list(self.made):
            self.drop(self.server.set(database=name))
        self.admin.dispose()

    def reference(self, rows: int) -> Reference:
        template = self.copy()
        build_legacy(template, "S1", rows=rows, duplicate_ratio=0.2)
        old = fingerprint(template)
        done = self.copy(str(template.database))
        started = time.monotonic()
        result = _bridge(done, "apply", "--legacy-timezone", ZONE, "--quiet")
        seconds = time.monotonic() - started
        assert result.returncode == 0, result.stderr
        public = {k: v for k, v in row_checksums(done).items() if k.startswith("public.")}
        archived = int(scalar(done, "SELECT count(*) FROM legacy_archive.conversations_duplicates"))
        reference = Reference(str(template.database), old, schema_dump(done), public, archived, seconds)
        self.drop(done)
        return reference


def is_new(url: URL, ref: Reference) -> bool:
    if schema_dump(url) != ref.new_dump:
        return False
    public = {k: v for k, v in row_checksums(url).items() if k.startswith("public.")}
    return (public == ref.new_public
            and scalar(url, "SELECT count(*) FROM legacy_archive.bridge_runs") == 1
            and scalar(url, "SELECT count(*) FROM legacy_archive.conversations_duplicates") == ref.new_archived
            and "left over:" not in _bridge(url, "status").stdout)


def _wait_for_the_lock_to_go(url: URL) -> None:
    deadline = time.monotonic() + 30
    while scalar(url, LOCKS_SQL) and time.monotonic() < deadline:  # the server notices the dead client
        time.sleep(0.05)


def one_kill(lab: Lab, ref: Reference, delay: float) -> str:
    url = lab.copy(ref.template)
    try:
        proc = subprocess.Popen([BRIDGE, "apply", "--legacy-timezone", ZONE, "--quiet"], env=_env(url), cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        _wait_for_the_lock_to_go(url)
        if fingerprint(url) == ref.old:
            return "old"
        if is_new(url, ref):
            return "new"
        status = _bridge(url, "status")
        if "left over: bridge run " not in status.stdout:
            return "mixed"
        rerun = _bridge(url, "apply", "--legacy-timezone", ZONE, "--quiet")
        return "named" if rerun.returncode == 0 and is_new(url, ref) else "mixed"
    finally:
        lab.drop(url)


def run_kills(server: URL, runs: int, seed: int, rows: int = 200) -> tuple[Counter[str], Reference]:
    lab = Lab(server)
    try:
        ref = lab.reference(rows)
        rng = random.Random(seed)
        outcomes: Counter[str] = Counter()
        for _ in range(runs):
            # Across the apply itself: from about when it has connected (a third of the time is Python
            # starting) to just past its end.
            outcomes[one_kill(lab, ref, rng.uniform(0.35 * ref.seconds, 1.05 * ref.seconds))] += 1
        return outcomes, ref
    finally:
        lab.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--rows", type=int, default=200)
    args = parser.parse_args(argv)
    external = os.environ.get("TEST_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        if external:
            from nakamura_misaki_db.connect.urls import parse_database_url

            server = parse_database_url(external, source="TEST_DATABASE_URL")
        else:
            import pgserver

            embedded = pgserver.get_server(Path(tmp) / "pg", cleanup_mode="stop")
            server = sa.engine.make_url(embedded.get_uri().replace("postgresql://", "postgresql+psycopg://", 1))
        started = time.monotonic()
        outcomes, ref = run_kills(server, args.runs, args.seed, args.rows)
    total = sum(outcomes.values())
    print(f"{total} kills (seed {args.seed}, S1 with {args.rows} rows, an apply takes {ref.seconds:.2f} s here, "
          f"{time.monotonic() - started:.0f} s in all): " + ", ".join(
              f"{outcomes[k]} {k}" for k in ("old", "new", "named", "mixed")))
    return 1 if outcomes["mixed"] else 0


if __name__ == "__main__":
    sys.exit(main())
