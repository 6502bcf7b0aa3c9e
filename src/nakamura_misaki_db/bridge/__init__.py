"""baseline-bridge: reconcile a legacy database with revision 0001, once, without losing data.

A pipeline of plain stages, each a module:

- ``catalog.inspect.inspect_database`` (inspect): the live catalog as data;
- ``catalog.state``: what state the database is in;
- ``diff.diff`` (diff): differences from the frozen 0001 definition (``schema.target``);
- ``catalog.facts.gather``: the data facts the decisions need;
- ``plan`` + ``planners/*``: ordered steps with SQL, reason, safety class and locks, or refusals;
- ``apply``: run the steps;
- ``verify``: prove no difference is left, inside the same transaction;
- ``run``: the orchestrator that holds them together under one lock and one transaction.
"""
