"""Database migration layer of nakamura-misaki.

Modules, one job each (README.md "Architecture" draws how they connect):

- ``urls``: accept the URL forms the deploy uses, mask passwords, the one URL resolver.
- ``db``: connections with the pinned session (search_path, timeouts), readable errors.
- ``quoting``: the one way names and values are quoted into SQL (psycopg.sql).
- ``embedded``: the pgserver-backed PostgreSQL used when no ``DATABASE_URL`` is set.
- ``locking``: the advisory-lock key and ``lock_timeout`` shared by Alembic and the bridge.
- ``pg_enum``: ``PGEnum``, an alembic-utils entity for PostgreSQL enum types.
- ``baseline_0001``: the frozen definition of revision ``0001`` (never edited).
- ``target``: that definition as a catalog, and its objects by name.
- ``models``: the live models (head) that the application imports.
- ``catalog``: inspect: read a live database, or a definition, into plain comparable data.
- ``diff``: compare two catalogs and list the differences, per object kind.
- ``facts``: the data facts decisions need (duplicates, lengths, label use, orphans).
- ``dbstate``: the one classifier of a database's state.
- ``ddl``: every SQL statement we write, rendered in one place.
- ``baseline``: what revision ``0001`` runs (guard, then create what is missing).
- ``bridge``: the ``baseline-bridge`` command, a pipeline of stages.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
