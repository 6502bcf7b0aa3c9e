"""What the database should be (the bottom of the package: imports nothing of ours).

- ``shapes``: a schema as plain, comparable data (``Catalog``, ``Table``, ``Column``, ...);
- ``from_definition``: a SQLAlchemy definition read into that shape;
- ``frozen/``: one frozen definition per revision (``r0001_baseline``, ``r0003_*`` ...), never edited;
- ``target``: the ``0001`` definition as a catalog, and its objects by name;
- ``models``: the live models (head), which ``alembic check`` compares with the migrations;
- ``pg_enum/``: ``PGEnum``, the alembic-utils entity for enum types;
- ``ddl``: SQL text rendered from definitions; ``quoting``: the one way names and values are quoted;
- ``revisions``: where this release's migration scripts are, and their chain;
- ``legacy_chain``: the revision ids and tables of the two retired chains.
"""
