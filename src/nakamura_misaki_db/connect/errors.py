"""Errors that reach the user, each with the exit code the CLIs document."""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3


class MigrationError(Exception):
    """An error whose message is fit to show a user as it is (no traceback)."""

    exit_code = EXIT_ERROR


class BadInput(MigrationError):
    """The user gave something we cannot use (URL, option, file)."""

    exit_code = EXIT_USAGE


class ConnectionFailed(MigrationError):
    """The server could not be reached or refused the login."""

    exit_code = EXIT_ERROR


class Refused(MigrationError):
    """Going on would be unsafe; nothing was changed."""

    exit_code = EXIT_REFUSED


class LegacyVersionError(Refused):
    """``alembic_version`` holds an id of the retired legacy chain."""


class DriftError(Refused):
    """The database has objects that differ from the frozen ``0001`` definition."""

    def __init__(self, message: str, differences: list | None = None) -> None:
        super().__init__(message)
        self.differences = differences or []


class LockTimeout(MigrationError):
    """A lock could not be taken within ``lock_timeout``."""

    exit_code = EXIT_ERROR


# The SQLSTATE a refusal raised by SQL carries (revision_api.refuse_when's guards, PGEnum's
# rebuild): class "NM" is ours, no PostgreSQL code uses it. Online it reaches us as a database
# error; `refusal_from` turns it back into a Refused, so every entry point exits 3 with "refused:".
REFUSAL_SQLSTATE = "NM001"


def refusal_from(exc: BaseException) -> Refused | None:
    """The ``Refused`` a database error stands for (SQLSTATE ``NM001``), else None."""
    orig = getattr(exc, "orig", None) or exc
    if getattr(orig, "sqlstate", None) != REFUSAL_SQLSTATE:
        return None
    diag = getattr(orig, "diag", None)
    message = getattr(diag, "message_primary", None) or str(orig).strip().splitlines()[0]
    return Refused(message.removeprefix("refused: "))
