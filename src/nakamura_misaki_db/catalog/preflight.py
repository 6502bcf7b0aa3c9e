"""Preflight: everything a run needs from the server and the role, checked before anything is written.

A run (the bridge's ``apply``, a deploy's ``upgrade``) first says what it is about
to do as ``Needs`` (``catalog.needs``): computed from its own steps (``bridge.needs``)
or revisions (``deploy.needs``), never a fixed list. ``check`` then reads, without
writing (the checks of privileges, policies and triggers are ``catalog.privileges``):

- the server is not a hot standby and the session is not read-only;
- the role may do every one of those things: CREATE on the database and the
  schemas it creates objects in, ownership of every table and type it alters,
  the grants on the tables whose rows it reads, moves or records;
- no row level security policy hides rows of a table it reads from the role (every
  session runs with ``row_security = off``, so such a read would fail anyway:
  here it is named first, with the fix that fits the role);
- no enabled event trigger fires on the commands it runs (unless named as allowed);
- who else is connected, and who holds a lock or a snapshot it would wait for
  (``catalog.sessions``).

Each problem names the object and the exact fix (the GRANT, the ALTER, the role
to use). ``Preflight.refuse()`` turns them into one ``Refused`` (exit 3), and
nothing was changed: the checks only read the catalog.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nakamura_misaki_db.catalog.needs import Needs, Problem
from nakamura_misaki_db.catalog.privileges import (
    DDL_EVENTS,
    event_trigger_problems,
    hidden_row_problems,
    privilege_problems,
)
from nakamura_misaki_db.catalog.sessions import Session, other_sessions
from nakamura_misaki_db.connect.errors import Refused
from nakamura_misaki_db.schema.quoting import ident

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

class PreflightRefused(Refused):
    """A preflight check failed: nothing was written (exit 3)."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass
class Preflight:
    problems: list[Problem] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)  # every other client of this database
    allowed_triggers: list[str] = field(default_factory=list)  # event triggers that fire, allowed by name

    @property
    def waits(self) -> list[Session]:
        """The sessions holding a lock or a snapshot the run would wait for."""
        return [s for s in self.sessions if s.holds]

    def notes(self) -> list[str]:
        out = [f"event trigger {name} fires on this run's commands (allowed by --allow-event-trigger)"
               for name in self.allowed_triggers]
        if self.sessions:
            out.append(f"{len(self.sessions)} other session(s) connected to this database:")
            out += [f"  {s.describe()}" for s in self.sessions]
        return out

    def refuse(self, what: str) -> None:
        """Raise one ``PreflightRefused`` listing every problem (nothing was written); no-op if none."""
        if self.problems:
            lines = [f"refused: {what}: {len(self.problems)} problem(s) found before anything was written; "
                     "nothing was changed:"]
            raise PreflightRefused("\n".join([*lines, *(p.render() for p in self.problems)]), self.problems)


def check(conn: Connection, needs: Needs, *, refuse_clients: bool, allowed_triggers: Iterable[str] = (),
          clients_flag: str = "--allow-connected-clients") -> Preflight:
    """Every check, in one read-only pass. ``refuse_clients``: another connected client is a problem."""
    result = Preflight()
    result.problems += server_problems(conn)
    if result.problems:  # a standby or a read-only session: nothing else matters until that is fixed
        return result
    result.problems += privilege_problems(conn, needs)
    result.problems += hidden_row_problems(conn, sorted(needs.tables))
    triggers, allowed = event_trigger_problems(conn, needs.commands, set(allowed_triggers))
    result.problems += triggers
    result.allowed_triggers = allowed
    result.sessions = other_sessions(conn, needs.locks, snapshots=needs.snapshots, settle=refuse_clients)
    if refuse_clients and result.sessions:
        result.problems.append(clients_problem(result.sessions, clients_flag))
    return result


def clients_problem(sessions: list[Session], flag: str) -> Problem:
    listing = "".join(f"\n      {s.describe()}" for s in sessions)
    return Problem(
        f"{len(sessions)} other session(s) connected to this database",
        "the bridge changes what the running release reads and writes (enum labels, column types), so the guide "
        f"says to stop the application first (MIGRATION_GUIDE.md 5.3):{listing}",
        "stop the application (systemctl stop nakamura-misaki) and close other sessions, or end one with "
        f"SELECT pg_terminate_backend(<pid>); or, if they must stay connected, rerun with {flag} (every wait is "
        "then bounded by --lock-timeout, and what the run did is put back if one runs out)")


# -- the server and the session --------------------------------------------------------------

_READ_ONLY_FIX = {
    "user": "ALTER ROLE {role} SET default_transaction_read_only = off;",
    "database": "ALTER DATABASE {db} SET default_transaction_read_only = off;",
    "database user": "ALTER ROLE {role} IN DATABASE {db} SET default_transaction_read_only = off;",
    "configuration file": "the server's configuration sets default_transaction_read_only = on (postgresql.conf or "
                          "ALTER SYSTEM): use a server or role meant for writing, or ALTER ROLE {role} SET "
                          "default_transaction_read_only = off;",
}


def server_problems(conn: Connection) -> list[Problem]:
    import sqlalchemy as sa

    row = conn.execute(sa.text(
        "SELECT pg_is_in_recovery(), current_setting('transaction_read_only') = 'on',"
        " (SELECT source FROM pg_settings WHERE name = 'default_transaction_read_only'),"
        " current_setting('default_transaction_read_only') = 'on', current_user, current_database()")).one()
    in_recovery, read_only, source, default_on, role, db = row
    if in_recovery:
        return [Problem("the server", "is a hot standby (pg_is_in_recovery() is true): nothing can be written there",
                        "point DATABASE_URL (or --database-url) at the primary server, where pg_is_in_recovery() "
                        "is false")]
    if not read_only:
        return []
    fix = (_READ_ONLY_FIX.get(str(source), "the connection asks for it (options=-c default_transaction_read_only=on "
                              "in the URL, or PGOPTIONS): remove that")
           if default_on else "this transaction was started READ ONLY: run the command on its own connection")
    return [Problem(f"the session of role {role}",
                    f"is read-only (default_transaction_read_only = on, set by: {source})",
                    fix.format(role=ident(str(role)), db=ident(str(db))))]


def unreadable_problems(conn: Connection, schema: str = "public") -> list[Problem]:
    """Tables of ``schema`` this role may not read: every run reads them all (the catalog probes, the row
    counts), so these come first, before anything else is read."""
    import sqlalchemy as sa

    role = str(conn.execute(sa.text("SELECT current_user")).scalar())
    names = [str(r[0]) for r in conn.execute(sa.text(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = to_regnamespace(:s) AND c.relkind IN ('r', 'p')"
        " AND NOT has_table_privilege(c.oid, 'SELECT') ORDER BY 1"), {"s": schema})]
    if not names:
        return []
    listed = ", ".join(f"{schema}.{n}" for n in names)
    return [Problem(f"table(s) {listed}", f"role {role} may not read them, and every run reads every table of "
                    f"{schema} (their catalog, whether they have rows, their row counts)",
                    f"GRANT SELECT ON {', '.join(ident(schema, n) for n in names)} TO {ident(role)}; or run this as "
                    "their owner")]


def early_problems(conn: Connection, *, writes: bool) -> list[Problem]:
    """What must hold before a run can even plan: a writable session (when it writes), readable tables."""
    problems = server_problems(conn) if writes else []
    return problems or unreadable_problems(conn)



__all__ = ["DDL_EVENTS", "Needs", "Preflight", "PreflightRefused", "Problem", "check", "early_problems",
           "hidden_row_problems"]
