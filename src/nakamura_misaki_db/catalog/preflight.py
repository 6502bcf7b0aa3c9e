"""Preflight: everything a run needs from the server and the role, checked before anything is written.

A run (the bridge's ``apply``, a deploy's ``upgrade``) first says what it is about
to do as ``Needs``: computed from its own steps (``bridge.needs``) or revisions
(``deploy.needs``), never a fixed list. ``check`` then reads, without writing:

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

from nakamura_misaki_db.catalog.sessions import Session, other_sessions
from nakamura_misaki_db.connect.errors import Refused
from nakamura_misaki_db.schema.quoting import ident

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

# Events whose triggers run inside the statements of a migration (login triggers do not).
DDL_EVENTS = ("ddl_command_start", "ddl_command_end", "sql_drop", "table_rewrite")


@dataclass
class Needs:
    """What a run will do, in the terms privileges, policies, triggers and locks are checked in.

    Tables and types are ``schema.name``. Built by the run from its own steps or revisions.
    """

    create_schemas: set[str] = field(default_factory=set)  # CREATE SCHEMA [IF NOT EXISTS]: CREATE on the database
    create_in: set[str] = field(default_factory=set)  # schemas it creates tables, types, indexes in
    own_tables: set[str] = field(default_factory=set)  # tables it alters, indexes, drops indexes of
    own_types: set[str] = field(default_factory=set)  # enum types it alters
    own_database: bool = False  # ALTER DATABASE ... SET
    privileges: dict[str, set[str]] = field(default_factory=dict)  # table -> SELECT, INSERT, DELETE, ...
    references: set[str] = field(default_factory=set)  # tables its new foreign keys point at
    extensions: set[str] = field(default_factory=set)  # extensions it creates
    reads: set[str] = field(default_factory=set)  # tables whose rows it reads (row level security)
    commands: set[str] = field(default_factory=set)  # command tags it runs ("ALTER TABLE", ...)
    locks: dict[str, str] = field(default_factory=dict)  # table -> the strongest lock it takes there
    snapshots: bool = False  # builds an index CONCURRENTLY: waits for every older snapshot

    def grant(self, table: str, *privileges: str) -> None:
        self.privileges.setdefault(table, set()).update(privileges)

    def lock(self, table: str, mode: str) -> None:
        from nakamura_misaki_db.catalog.sessions import stronger

        self.locks[table] = stronger(self.locks.get(table), mode)

    def merge(self, other: Needs) -> None:
        for name in ("create_schemas", "create_in", "own_tables", "own_types", "references", "extensions",
                     "reads", "commands"):
            getattr(self, name).update(getattr(other, name))
        self.own_database = self.own_database or other.own_database
        self.snapshots = self.snapshots or other.snapshots
        for table, privileges in other.privileges.items():
            self.grant(table, *privileges)
        for table, mode in other.locks.items():
            self.lock(table, mode)

    @property
    def tables(self) -> set[str]:
        """Every table the run touches in any way."""
        return self.own_tables | set(self.privileges) | self.references | self.reads | set(self.locks)


@dataclass(frozen=True)
class Problem:
    object: str
    problem: str
    fix: str

    def render(self) -> str:
        return f"  - {self.object}: {self.problem}\n    fix: {self.fix}"


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


# -- what the role may do ------------------------------------------------------------------

_RELATIONS_SQL = """
SELECT n.nspname || '.' || c.relname, pg_get_userbyid(c.relowner), pg_has_role(c.relowner, 'USAGE'),
       has_table_privilege(c.oid, 'SELECT'), has_table_privilege(c.oid, 'INSERT'),
       has_table_privilege(c.oid, 'UPDATE'), has_table_privilege(c.oid, 'DELETE'),
       has_table_privilege(c.oid, 'REFERENCES'),
       c.relrowsecurity, c.relforcerowsecurity, row_security_active(c.oid)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname || '.' || c.relname = ANY(:names) AND c.relkind IN ('r', 'p', 'v', 'm')
"""

_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "REFERENCES")


@dataclass(frozen=True)
class _Relation:
    name: str
    owner: str
    owned: bool  # the role is the owner, or a member of the owning role
    granted: frozenset[str]
    rls: bool
    forced: bool
    hidden: bool  # row_security_active(): some policy applies to this role


def _relations(conn: Connection, names: Iterable[str]) -> dict[str, _Relation]:
    import sqlalchemy as sa

    out: dict[str, _Relation] = {}
    for r in conn.execute(sa.text(_RELATIONS_SQL), {"names": sorted(set(names))}):
        granted = frozenset(p for p, ok in zip(_PRIVILEGES, r[3:8], strict=True) if ok)
        out[str(r[0])] = _Relation(str(r[0]), str(r[1]), bool(r[2]), granted, bool(r[8]), bool(r[9]), bool(r[10]))
    return out


def _quoted(name: str) -> str:
    schema, _, table = name.partition(".")
    return ident(schema, table)


def privilege_problems(conn: Connection, needs: Needs) -> list[Problem]:
    import sqlalchemy as sa

    role, db, superuser, create_db = conn.execute(sa.text(
        "SELECT current_user, current_database(), (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),"
        " has_database_privilege(current_database(), 'CREATE')")).one()
    if superuser:
        return []
    who, out = ident(str(role)), []
    schemas = {str(r[0]): (bool(r[1]), bool(r[2])) for r in conn.execute(sa.text(
        "SELECT nspname, has_schema_privilege(oid, 'USAGE'), has_schema_privilege(oid, 'CREATE') FROM pg_namespace"
        " WHERE nspname = ANY(:s)"), {"s": sorted(needs.create_in | needs.create_schemas)})}
    if needs.create_schemas and not create_db:
        # (CREATE SCHEMA IF NOT EXISTS asks for the privilege even when the schema is there.)
        wanted = ", ".join(sorted(needs.create_schemas))
        out.append(Problem(f"database {db}", f"this run creates schema {wanted} (if missing), and role {role} may "
                           "not create schemas in this database",
                           f"GRANT CREATE ON DATABASE {ident(str(db))} TO {who};"))
    for schema in sorted(needs.create_in):
        usage, create = schemas.get(schema, (True, True))  # a schema the run creates is its own
        if not (usage and create):
            out.append(Problem(f"schema {schema}", f"this run creates objects in it, and role {role} lacks "
                               f"{'USAGE and CREATE' if not usage else 'CREATE'} on it",
                               f"GRANT USAGE, CREATE ON SCHEMA {ident(schema)} TO {who};"))
    relations = _relations(conn, needs.own_tables | set(needs.privileges) | needs.references)
    for name in sorted(needs.own_tables):
        rel = relations.get(name)
        if rel is not None and not rel.owned:
            out.append(Problem(f"table {name}", f"this run alters it (ALTER TABLE, indexes), which only its owner "
                               f"may do; it is owned by {rel.owner}, not by {role}",
                               f"ALTER TABLE {_quoted(name)} OWNER TO {who}; (run by {ident(rel.owner)} or a "
                               f"superuser), or run this as role {rel.owner}"))
    for name, wanted in sorted(needs.privileges.items()):
        rel = relations.get(name)
        lacking = sorted(set(wanted) - rel.granted) if rel is not None and not rel.owned else []
        if lacking:
            out.append(Problem(f"table {name}", f"this run needs {', '.join(lacking)} on it, which role {role} "
                               "has not been granted", f"GRANT {', '.join(lacking)} ON {_quoted(name)} TO {who};"))
    for name in sorted(needs.references):
        rel = relations.get(name)
        if rel is not None and not rel.owned and "REFERENCES" not in rel.granted:
            out.append(Problem(f"table {name}", f"this run adds a foreign key that points at it, and role {role} "
                               "lacks REFERENCES on it", f"GRANT REFERENCES ON {_quoted(name)} TO {who};"))
    out += _type_problems(conn, needs.own_types, str(role), who)
    if needs.own_database:
        owner, owned = conn.execute(sa.text(
            "SELECT pg_get_userbyid(datdba), pg_has_role(datdba, 'USAGE') FROM pg_database"
            " WHERE datname = current_database()")).one()
        if not owned:
            out.append(Problem(f"database {db}", f"this run sets its TimeZone (ALTER DATABASE), which only its "
                               f"owner {owner} may do", f"ALTER DATABASE {ident(str(db))} OWNER TO {who}; (run by "
                               f"{ident(str(owner))} or a superuser), or run this as role {owner}"))
    for extension in sorted(needs.extensions):
        trusted = conn.execute(sa.text(
            "SELECT bool_or(trusted) FROM pg_available_extension_versions WHERE name = :n"), {"n": extension}).scalar()
        if not (trusted and create_db):
            out.append(Problem(f"extension {extension}", f"this run must create it, and role {role} may not "
                               "(it is not a trusted extension, or the role lacks CREATE on the database)",
                               f"a superuser runs, once: CREATE EXTENSION IF NOT EXISTS {ident(extension)};"))
    return out


def _type_problems(conn: Connection, types: set[str], role: str, who: str) -> list[Problem]:
    import sqlalchemy as sa

    out = []
    for name, owner, owned in conn.execute(sa.text(
            "SELECT n.nspname || '.' || t.typname, pg_get_userbyid(t.typowner), pg_has_role(t.typowner, 'USAGE')"
            " FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
            " WHERE n.nspname || '.' || t.typname = ANY(:names) ORDER BY 1"), {"names": sorted(types)}):
        if not owned:
            out.append(Problem(f"type {name}", f"this run alters it (its labels), which only its owner may do; it "
                               f"is owned by {owner}, not by {role}", f"ALTER TYPE {_quoted(str(name))} OWNER TO "
                               f"{who}; (run by {ident(str(owner))} or a superuser), or run this as role {owner}"))
    return out


# -- row level security ---------------------------------------------------------------------

def hidden_row_problems(conn: Connection, tables: Iterable[str]) -> list[Problem]:
    """Tables whose rows a policy would hide from this role (``row_security_active``), each with its fix.

    The fix depends on who is asking: the owner of a table that FORCEs row level security
    is subject to it too (so "run as the owner" is no fix for the owner).
    """
    import sqlalchemy as sa

    role = str(conn.execute(sa.text("SELECT current_user")).scalar())
    out = []
    for rel in sorted(_relations(conn, tables).values(), key=lambda r: r.name):
        if not rel.hidden:
            continue
        who = ident(role)
        if rel.owned and rel.forced:
            fix = (f"for the run, ALTER TABLE {_quoted(rel.name)} NO FORCE ROW LEVEL SECURITY; (and FORCE ROW LEVEL "
                   f"SECURITY again afterwards), or use a role with BYPASSRLS (a superuser: ALTER ROLE {who} "
                   "BYPASSRLS;)")
            why = f"its policies apply to its owner too (FORCE ROW LEVEL SECURITY), and {role} owns it"
        elif rel.forced:
            fix = (f"use a role with BYPASSRLS (a superuser: ALTER ROLE {who} BYPASSRLS;); its owner {rel.owner} "
                   "is subject to the policies too (FORCE ROW LEVEL SECURITY)")
            why = f"its policies apply to every role but superusers and BYPASSRLS roles, {role} included"
        else:
            fix = (f"run this as its owner {rel.owner} or a role with BYPASSRLS (a superuser: ALTER ROLE {who} "
                   "BYPASSRLS;)")
            why = f"its policies apply to {role}, which is not its owner"
        out.append(Problem(f"table {rel.name}", f"row level security can hide rows of it from this role ({why}): "
                           "rows that cannot be read cannot be counted, checked or converted", fix))
    return out


# -- event triggers ------------------------------------------------------------------------

def event_trigger_problems(conn: Connection, commands: set[str], allowed: set[str]
                           ) -> tuple[list[Problem], list[str]]:
    """Enabled event triggers that fire on one of ``commands``: problems, and those allowed by name."""
    import sqlalchemy as sa

    if not commands:
        return [], []
    problems, passed = [], []
    for name, event, tags, function, owner in conn.execute(sa.text(
            "SELECT evtname, evtevent, evttags, evtfoid::regproc::text, pg_get_userbyid(evtowner)"
            " FROM pg_event_trigger WHERE evtenabled IN ('O', 'A') AND evtevent = ANY(:events) ORDER BY 1"),
            {"events": list(DDL_EVENTS)}):
        fires_on = sorted(commands if tags is None else commands & set(tags))
        if not fires_on:
            continue
        if name in allowed:
            passed.append(str(name))
            continue
        problems.append(Problem(
            f"event trigger {name}",
            f"fires on {event}{'' if tags is None else ' of ' + ', '.join(tags)}, and this run executes "
            f"{', '.join(fires_on)}: {function} (owner {owner}) runs inside those statements, and what it does (fail "
            "them, or change more than the run plans) cannot be known beforehand",
            f"disable it for the run: ALTER EVENT TRIGGER {ident(str(name))} DISABLE; (as {owner} or a superuser), "
            f"then ALTER EVENT TRIGGER {ident(str(name))} ENABLE; afterwards. Or, if it only records what happens, "
            f"rerun with --allow-event-trigger {name}"))
    return problems, passed


__all__ = ["DDL_EVENTS", "Needs", "Preflight", "PreflightRefused", "Problem", "check", "early_problems",
           "hidden_row_problems"]
