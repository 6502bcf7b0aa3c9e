"""Database migration layer of nakamura-misaki.

Sub-packages, in the order they may import each other (README.md "Architecture"):
``schema`` (what the database should be), ``connect`` (reaching it), ``diff`` (comparing two
catalogs), ``catalog`` (reading a live database), ``legacy`` (the legacy states, for demos and
tests), ``authoring`` (writing the next migration), ``deploy`` (running the chain), ``appcheck``
(the application's models against a schema), ``bridge`` (``baseline-bridge``), ``devtools``
(``nakamura-db``). ``revision_api`` is the one module a revision file imports.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
