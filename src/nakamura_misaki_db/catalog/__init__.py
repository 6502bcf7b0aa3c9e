"""Reading a live database into data.

- ``inspect``: the catalog of a schema (``schema.shapes.Catalog``), catalog queries only;
- ``version_table``: ``alembic_version``, read without Alembic or SQLAlchemy models;
- ``facts``: the data facts decisions need (duplicates, lengths, label use, orphans);
- ``dependents`` (+ ``dependents_sql``, ``mentions``): everything that depends on what the bridge touches;
- ``state``: the one answer to "what state is this database in?" (every command and ``env.py``).
"""
