"""Database migration layer of nakamura-misaki.

Modules, one job each:

- ``urls``: accept the URL forms the deploy uses, convert them to psycopg, mask passwords.
- ``embedded``: the pgserver-backed PostgreSQL used when no ``DATABASE_URL`` is set.
- ``locking``: the advisory-lock key and ``lock_timeout`` shared by Alembic and the bridge.
- ``pg_enum``: ``PGEnum``, an alembic-utils entity for PostgreSQL enum types.
- ``baseline_0001``: the frozen definition of revision ``0001`` (never edited).
- ``models``: the live models (head) that the application imports.
- ``catalog``: read a live database, or a definition, into plain comparable data.
- ``drift``: compare two catalogs and list the differences.
- ``baseline``: what revision ``0001`` runs (guard, then create what is missing).
- ``bridge``: the ``baseline-bridge`` command.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
