"""Find the migration scripts and build an Alembic ``Config`` without an ini file.

From a wheel the scripts live inside the package (``_alembic``, read-only in
the Nix store); from a source checkout they are the repository's ``alembic/``.
Nothing is ever written next to them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the nakamura_misaki_db package


def script_location() -> Path:
    packaged = PACKAGE_DIR / "_alembic"
    if (packaged / "env.py").is_file():
        return packaged
    source = PACKAGE_DIR.parents[1] / "alembic"
    if (source / "env.py").is_file():
        return source
    raise FileNotFoundError(
        f"migration scripts not found in {packaged} or {source}; reinstall nakamura-misaki-db"
    )


def alembic_config(url: object = None, *, stdout=None) -> Config:
    """A Config equivalent to the repository's alembic.ini, for installed use.

    ``url``: any form ``connect.urls.DatabaseUrl.of`` accepts; ``env.py`` parses it (this module
    sits below ``connect`` and never reads a URL itself).
    """
    from alembic.config import Config

    cfg = Config(stdout=stdout) if stdout is not None else Config()
    location = script_location()
    cfg.set_main_option("script_location", str(location))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.set_main_option("revision_environment", "true")
    cfg.set_main_option("path_separator", "os")
    if url is not None:
        cfg.attributes["database_url"] = url
    return cfg


def head_revision(cfg: Config | None = None) -> str:
    """The newest revision of this release's scripts (or of ``cfg``'s)."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(cfg or alembic_config()).get_heads()
    return heads[0] if len(heads) == 1 else ",".join(heads)


def chain_revisions(cfg: Config | None = None) -> list[str]:
    """This release's revisions (or ``cfg``'s), oldest first (the chain is linear: lint enforces it)."""
    from alembic.script import ScriptDirectory

    return [r.revision for r in reversed(list(ScriptDirectory.from_config(cfg or alembic_config()).walk_revisions()))]


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
