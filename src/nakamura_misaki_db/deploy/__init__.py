"""Running the chain: what every deploy does.

- ``init_db``: ``nakamura-init-db``, the systemd oneshot;
- ``alembic_env``: what ``alembic/env.py`` runs (lock, state check, online and ``--sql`` runs);
- ``baseline``: the guarded revision ``0001`` (refuse drift, create what is missing);
- ``guarded``: the guarded later revisions (create absent, adopt identical, refuse different);
- ``offline``: ``--sql`` rendering; ``recover_version``: a lost ``alembic_version`` row.
"""
