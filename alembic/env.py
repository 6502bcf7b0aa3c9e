"""Alembic environment for nakamura-misaki.

Everything lives in ``nakamura_misaki_db.deploy.alembic_env`` (where it is tested): where the
database is, the migration lock, the state check that refuses a database needing the bridge,
offline ``--sql`` rendering, and the runs that need no database at all.
"""

from nakamura_misaki_db.deploy.alembic_env import run

run()
