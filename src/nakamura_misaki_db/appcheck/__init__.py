"""``check-app``: would the application's own models work on this schema?

- ``loader``: import the application's models the way it imports itself;
- ``findings``: what is reported; ``types``: both sides' types; ``compare``: the rules (pure);
- ``check``: check against a database or this release's head; ``cli``: the command.

For the application's own test suite::

    from nakamura_misaki_db.appcheck.check import assert_compatible, check_app
"""
