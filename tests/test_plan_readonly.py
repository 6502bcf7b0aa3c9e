"""`baseline-bridge plan` writes nothing, and what it prints or saves is fit to review and apply.

"Nothing" is checked with ``fingerprint`` (a pg_dump of every schema plus an
order-independent checksum of every row), taken before and after planning
through the API (in a transaction that is committed, so a stray write would
stick) and through the CLI's entry point (text, --json, --sql, --out, and a refused plan; the
DATABASE_URL case and the top-level --help start the real command).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from nakamura_misaki_db.bridge.plan import Plan, make_plan
from nakamura_misaki_db.bridge.status import database_status
from nakamura_misaki_db.connect.urls import with_password

from .helpers import bridge_cli, build, fingerprint, run

CLI = [sys.executable, "-m", "nakamura_misaki_db.bridge.cli"]
ROWS = 50
TOKYO = "Asia/Tokyo"
MARKER_PASSWORD = "Bridge-Marker-Pw-7q3z"  # local trust auth ignores it; it must never be printed
SUBCOMMANDS = ("status", "plan", "apply", "demo", "lint")


def api_plan(url: URL, legacy_timezone: str | None = TOKYO) -> Plan:
    """Plan inside a transaction that is then COMMITTED: any write would persist."""
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.begin() as conn:
            return make_plan(conn, legacy_timezone=legacy_timezone)
    finally:
        eng.dispose()


@pytest.mark.parametrize(("state", "options", "long_user_ids"), [
    ("S1", {}, False),
    ("S1", {}, True),  # refused: the probes that name too-long rows run too
    ("S4", {"version": "001"}, False),
], ids=["S1", "S1-long-ids", "S4-001"])
def test_plan_changes_nothing(db_url: URL, tmp_path: Path, state: str, options: dict, long_user_ids: bool) -> None:
    build(db_url, state, rows=ROWS, long_user_ids=long_user_ids, **options)
    before = fingerprint(db_url)

    api_plan(db_url, TOKYO)
    api_plan(db_url, None)  # the no-zone refusal path
    eng = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    try:
        with eng.begin() as conn:
            database_status(conn)
    finally:
        eng.dispose()
    results = [
        bridge_cli(db_url, "plan", "--legacy-timezone", TOKYO, "--sql", "--out", str(tmp_path / "plan.json")),
        bridge_cli(db_url, "plan", "--json"),
    ]

    assert fingerprint(db_url) == before
    assert [r.returncode for r in results] == [3 if long_user_ids else 0, 3], [r.stderr for r in results]
    assert (tmp_path / "plan.json").exists()


def test_out_file_is_a_complete_plan_without_secrets(db_url: URL, tmp_path: Path) -> None:
    build(db_url, "S1", rows=ROWS)
    secret_url = db_url.set(password=MARKER_PASSWORD)
    out = tmp_path / "bridge-plan.json"

    # The URL (with its password) comes from DATABASE_URL here, from --database-url below.
    result = run([*CLI, "plan", "--legacy-timezone", TOKYO, "--out", str(out)], secret_url)
    assert result.returncode == 0, result.stderr
    assert f"plan saved to {out}" in result.stdout
    raw = out.read_text(encoding="utf-8")
    data = json.loads(raw)

    assert re.fullmatch(r"[0-9a-f]{64}", data["fingerprint"])
    assert data["legacy_timezone"] == TOKYO
    assert data["status"] == "ready"
    assert data["steps"], "the S1 plan has steps"
    for s in data["steps"]:
        assert {"action", "sql", "reason", "safety", "locks"} <= set(s), s
        assert isinstance(s["sql"], list) and s["sql"] and all(isinstance(x, str) and x for x in s["sql"])
        assert isinstance(s["locks"], list) and s["locks"]
        assert s["reason"] and s["safety"]
    assert data["target_revision"] == "0001" and all(s["action"] != "stamp" for s in data["steps"])
    for text in (raw, result.stdout, result.stderr):
        assert MARKER_PASSWORD not in text
    assert "***" in data["source"]["database"]

    # Same catalog, same fingerprint and steps as the API's plan; the file loads back as a Plan.
    api = api_plan(db_url, TOKYO)
    assert data["fingerprint"] == api.fingerprint
    loaded = Plan.from_dict(data)
    assert [(s.action, s.object, s.safety) for s in loaded.steps] == [
        (s.action, s.object, s.safety) for s in api.steps]

    # --json together with --out: stdout is the very plan that was saved.
    both = bridge_cli(None, "plan", "--database-url", with_password(secret_url), "--legacy-timezone", TOKYO,
                      "--json", "--out", str(out))
    assert both.returncode == 0, both.stderr
    assert json.loads(both.stdout) == json.loads(out.read_text(encoding="utf-8"))
    for text in (both.stdout, both.stderr, out.read_text(encoding="utf-8")):
        assert MARKER_PASSWORD not in text
    status = bridge_cli(secret_url, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert MARKER_PASSWORD not in status.stdout + status.stderr
    assert json.loads(status.stdout)["kind"] == "legacy"


def test_json_output_matches_the_api_plan(db_url: URL) -> None:
    build(db_url, "S4", rows=ROWS, version="b0bbf866ebc2")

    result = bridge_cli(db_url, "plan", "--json", "--legacy-timezone", TOKYO)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    api = api_plan(db_url, TOKYO)

    assert data["status"] == api.status == "ready"
    assert data["fingerprint"] == api.fingerprint
    assert data["legacy_timezone"] == TOKYO
    assert data["source"]["legacy_ids"] == ["b0bbf866ebc2"]
    assert [(s["action"], s["object"], s["safety"], s["locks"]) for s in data["steps"]] == [
        (s.action, s.object, s.safety, s.locks) for s in api.steps]
    # The plan id is fresh per run; everything else in a step's SQL is the same.
    assert [[sql.replace(data["plan_id"], "<id>") for sql in s["sql"]] for s in data["steps"]] == [
        [sql.replace(api.plan_id, "<id>") for sql in s.sql] for s in api.steps]


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_help_shows_an_example_and_the_exit_codes(command: str) -> None:
    shown = bridge_cli(None, command, "--help")
    text = shown.stdout

    assert shown.returncode == 0, shown.stderr
    assert re.search(r"^examples?:\s*$", text, re.MULTILINE), text
    assert re.search(rf"^\s+baseline-bridge {command}\b", text, re.MULTILINE), text
    assert "exit codes:" in text
    for code, meaning in (("0", "done"), ("1", "error"), ("2", "bad usage"), ("3", "refused")):
        assert re.search(rf"^\s+{code}\s+.*{meaning}", text, re.MULTILINE), (code, text)


def test_top_level_help_lists_examples_and_exit_codes() -> None:
    result = run([*CLI, "--help"], None)

    assert result.returncode == 0
    assert "examples:" in result.stdout and "exit codes:" in result.stdout
    for command in SUBCOMMANDS:
        assert command in result.stdout


def test_cli_exit_codes(db_url: URL, pg_server_url: URL, tmp_path: Path) -> None:
    build(db_url, "S1", rows=None)

    ok = bridge_cli(db_url, "plan")
    assert ok.returncode == 0, ok.stderr  # empty tables: no zone needed, nothing refused

    missing = pg_server_url.set(database="no_such_database_for_bridge", password=MARKER_PASSWORD)
    error = bridge_cli(missing, "plan", "--json")
    assert error.returncode == 1, (error.stdout, error.stderr)
    assert "no_such_database_for_bridge" in error.stderr
    assert json.loads(error.stdout)["exit_code"] == 1
    assert MARKER_PASSWORD not in error.stdout + error.stderr
    assert "Traceback" not in error.stderr

    bad = bridge_cli(db_url, "plan", "--no-such-option")
    assert bad.returncode == 2, (bad.stdout, bad.stderr)
    for argv in ([], ["plan", "--database-url", f"mysql://u:{MARKER_PASSWORD}@h/db"],
                 ["plan", "--database-url", with_password(db_url), "--out", str(tmp_path / "no-such-dir" / "p.json")]):
        refused = bridge_cli(None, *argv)
        assert refused.returncode == 2, (argv, refused.stdout, refused.stderr)
        assert "Traceback" not in refused.stderr
        assert MARKER_PASSWORD not in refused.stdout + refused.stderr
