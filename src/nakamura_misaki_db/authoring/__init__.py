"""Writing the next migration: numbering, autogenerate, and the checks a revision must pass.

- ``numbering``: the next four-digit revision id;
- ``autogen`` / ``autogen_checks``: autogenerate's hooks (idempotent ops, CHECK constraints compared);
- ``lint``: the rules every script passes (``nakamura-db lint``); ``idempotency``: can it run twice?
"""
