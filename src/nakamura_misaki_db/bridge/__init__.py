"""baseline-bridge: reconcile a legacy database with revision 0001, once, without losing data.

A pipeline of plain stages, each a module:

- ``catalog.inspect_database`` (inspect): the live catalog as data;
- ``drift.diff`` (diff): differences from the frozen 0001 definition;
- ``plan``: ordered steps with SQL, reason, safety class and locks, or a refusal;
- ``apply``: run the steps in one locked transaction;
- ``verify``: prove no difference is left, inside that same transaction.
"""
