"""Reaching a database: URL forms, connections, the embedded server, locking, errors.

- ``errors``: errors a user sees, each with its exit code;
- ``urls``: every URL form the deploy uses, spoken as psycopg 3, passwords never shown;
- ``connection``: connections with the pinned session (search_path, timeouts), readable errors;
- ``embedded``: the pgserver PostgreSQL used when no URL is given;
- ``resolve``: the one resolver (an option, else ``DATABASE_URL``, else embedded): the only
  module that knows both ``urls`` and ``embedded``;
- ``locking``: the migration advisory lock and ``lock_timeout``.
"""
