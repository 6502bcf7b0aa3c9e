"""The checks of a run's needs against the catalog: privileges, row level security, event triggers.

Each returns ``Problem``s naming the object and the exact fix; none writes (see ``catalog.preflight``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nakamura_misaki_db.catalog.needs import Needs, Problem
from nakamura_misaki_db.schema.quoting import ident

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

# Events whose triggers run inside the statements of a migration (login triggers do not).
DDL_EVENTS = ("ddl_command_start", "ddl_command_end", "sql_drop", "table_rewrite")


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
