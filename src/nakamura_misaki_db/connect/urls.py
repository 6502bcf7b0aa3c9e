"""Database URLs: accept every form the deploy uses, speak psycopg 3, never show a password.

Parsing is libpq's own (``psycopg.conninfo.conninfo_to_dict``), so what we
accept is exactly what the driver will connect to, and no SQLAlchemy is
imported: the no-op deploy path stays at "python + psycopg + one SELECT".

Accepted: ``postgresql://``, ``postgres://``, ``postgresql+psycopg://``,
``postgresql+psycopg2://``, the application's ``postgresql+asyncpg://``, and
libpq keyword strings (``host=... dbname=... password=...``). A password may
sit in the userinfo, in ``?password=`` or in a ``password=`` keyword: it is
never printed (``DatabaseUrl.masked``) and scrubbed from any text we show
(``redact``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlencode

from nakamura_misaki_db.connect.errors import BadInput

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

ACCEPTED_SCHEMES = frozenset(
    {"postgresql", "postgres", "postgresql+psycopg", "postgresql+asyncpg", "postgresql+psycopg2"}
)
MIGRATION_DRIVER = "postgresql+psycopg"
EXAMPLE = "postgresql://USER:PASSWORD@HOST:5432/DBNAME"
ENV_VAR = "DATABASE_URL"

_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://")
# asyncpg / SQLAlchemy query parameters that libpq does not know.
_DROPPED_PARAMS = frozenset({"prepared_statement_cache_size", "statement_cache_size", "command_timeout"})


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed connection target: libpq keywords (password included; never print them raw)."""

    params: dict[str, str] = field(default_factory=dict)

    # -- parsing -------------------------------------------------------------------------------

    @classmethod
    def parse(cls, raw: str, *, source: str = ENV_VAR) -> DatabaseUrl:
        """Parse ``raw`` or raise ``BadInput``; no message ever echoes ``raw`` (it may hold a password)."""
        text = (raw or "").strip()
        if not text:
            raise BadInput(f"{source} is empty; expected a URL like {EXAMPLE}")
        m = _SCHEME.match(text)
        if m:
            scheme = m["scheme"].lower()
            if scheme not in ACCEPTED_SCHEMES:
                raise BadInput(f"{source} uses '{scheme.split('+')[0]}', but only PostgreSQL is supported; "
                               f"expected a URL like {EXAMPLE}")
            text = "postgresql://" + text[m.end():]
            _refuse_unencoded_at(text, source)
            text = _libpq_query(text, source)
        elif "=" not in text:
            raise BadInput(f"{source} is not a valid database URL; expected a URL like {EXAMPLE}")
        params = _conninfo(text, source)
        # One port per host, each may be empty (libpq's multi-host form reads "h1,h2" as port ",").
        if not re.fullmatch(r"\d*(,\d*)*", params.get("port", "")):
            raise BadInput(f"{source} is not a valid database URL (its port is not a number); "
                           f"expected a URL like {EXAMPLE}")
        # An unencoded '@' in the password leaves one in the host; a user name may hold a
        # percent-encoded one (user@server on some hosted services), which is not a mistake.
        if "@" in params.get("host", ""):
            raise BadInput(f"{source} has an '@' inside the user or password: percent-encode it as %40 "
                           f"(expected a URL like {EXAMPLE})")
        return cls(params)

    @classmethod
    def of(cls, value: DatabaseUrl | URL | str) -> DatabaseUrl:
        """Accept ours, a SQLAlchemy ``URL`` (tests, tools) or a string."""
        if isinstance(value, DatabaseUrl):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        # SQLAlchemy renders a space in a query value as '+', which libpq reads literally
        # (`options=-c+statement_timeout=1`): encode the query ourselves, as libpq decodes it.
        # It also leaves a space in the user, password or database unencoded (it quotes with safe=" +"),
        # which libpq's URI parser refuses; '+' is literal to both.
        base = value.set(query={}).render_as_string(hide_password=False).replace(" ", "%20")
        query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, values in value.query.items()
                         for v in (values if isinstance(values, tuple) else (values,)))
        return cls.parse(base + (f"?{query}" if query else ""), source="URL")

    # -- views ---------------------------------------------------------------------------------

    @property
    def password(self) -> str | None:
        return self.params.get("password") or None

    @property
    def database(self) -> str | None:
        return self.params.get("dbname")

    @property
    def host(self) -> str | None:
        return self.params.get("host")

    @property
    def username(self) -> str | None:
        return self.params.get("user")

    @property
    def port(self) -> int | None:
        port = self.params.get("port")
        return int(port) if port and port.isdigit() else None

    def with_database(self, name: str) -> DatabaseUrl:
        return DatabaseUrl({**self.params, "dbname": name})

    def conninfo(self, **extra: str) -> str:
        """The libpq connection string, password included. Never print this."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo("", **{**self.params, **extra})

    def masked(self) -> str:
        """How the URL may be shown: ``postgresql+psycopg://user:***@host:port/db?...``."""
        p = dict(self.params)
        password = p.pop("password", None)
        user = p.pop("user", None)
        host = p.pop("host", None)
        port = p.pop("port", None)
        db = p.pop("dbname", None)
        userinfo = ""
        if user is not None:
            userinfo = quote(user, safe="") + (":***" if password else "") + "@"
        elif password:
            userinfo = ":***@"
        netloc = ""
        if host and not host.startswith("/") and "," not in host:
            netloc = f"[{host}]" if ":" in host else host
            if port:
                netloc += f":{port}"
        elif host:  # a socket directory or several hosts: shown as libpq reads them, in the query
            p = {"host": host, **({"port": port} if port and port.strip(",") else {}), **p}
        elif port:
            netloc = f":{port}"
        path = "/" + quote(db, safe="") if db else "/"
        query = ("?" + urlencode(p)) if p else ""
        return f"{MIGRATION_DRIVER}://{userinfo}{netloc}{path}{query}"

    def sqlalchemy_url(self) -> URL:
        """The same target as a SQLAlchemy URL (psycopg driver)."""
        from sqlalchemy.engine import URL

        p = dict(self.params)
        host = p.pop("host", None)
        query = {k: v for k, v in p.items() if k not in ("user", "password", "port", "dbname")}
        if host and (host.startswith("/") or "," in host):
            query["host"] = host
            host = None
            if p.get("port", "").strip(","):  # one port per host: only libpq's own form holds them
                query["port"] = p["port"]
        return URL.create(MIGRATION_DRIVER, username=p.get("user"), password=p.get("password"),
                          host=host, port=self.port, database=p.get("dbname"), query=query)

    def __repr__(self) -> str:  # never leak through a repr in a traceback or a log
        return f"DatabaseUrl({self.masked()!r})"

    __str__ = masked


def _refuse_unencoded_at(uri: str, source: str) -> None:
    authority = uri[len("postgresql://"):].split("/", 1)[0].split("?", 1)[0]
    if authority.count("@") > 1:
        raise BadInput(f"{source} has an '@' inside the user or password: percent-encode it as %40 "
                       f"(expected a URL like {EXAMPLE})")


def _libpq_query(uri: str, source: str) -> str:
    """Rewrite the query parameters asyncpg/SQLAlchemy use into what libpq accepts."""
    if "?" not in uri:
        return uri
    base, query = uri.split("?", 1)
    pairs = [part.partition("=")[::2] for part in query.split("&") if part]
    names = [name for name, _ in pairs]
    hosts = [unquote(value) for name, value in pairs if name == "host"]
    multihost = _multihost(hosts)
    out: list[str] = []
    for name, value in pairs:
        if name in _DROPPED_PARAMS or (name == "host" and multihost):
            continue
        if name == "ssl":  # asyncpg spells TLS as ?ssl=...; libpq calls it sslmode
            if "sslmode" in names:
                continue
            name = "sslmode"
        out.append(f"{name}={value}")
    if multihost:
        out += _libpq_hosts(hosts, "port" in names, source)
    return base + ("?" + "&".join(out) if out else "")


# SQLAlchemy's one-host form of its multihost syntax: ?host=HOST:PORT (a name, no socket path).
_HOST_PORT = re.compile(r"[A-Za-z0-9.\-]*:\d*")


def _multihost(hosts: list[str]) -> bool:
    """SQLAlchemy's ``?host=h1:p1&host=h2:p2`` (or one ``?host=h:p``): libpq would keep only the last
    host, or read ``h:p`` as a host name; it spells the same target ``host=h1,h2&port=p1,p2``."""
    return len(hosts) > 1 or (len(hosts) == 1 and _HOST_PORT.fullmatch(hosts[0]) is not None)


def _libpq_hosts(hosts: list[str], has_port: bool, source: str) -> list[str]:
    split = [host.partition(":")[::2] for host in hosts]
    ports = [port for _, port in split]
    if has_port and any(ports):
        # SQLAlchemy refuses this mix too: which port would go with which host is a guess.
        raise BadInput(f"{source} mixes the two multihost forms: use host=h1:p1&host=h2:p2 or "
                       f"host=h1,h2&port=p1,p2 (expected a URL like {EXAMPLE})")
    out = ["host=" + ",".join(quote(host, safe="/") for host, _ in split)]
    return out + (["port=" + ",".join(ports)] if any(ports) else [])


def _conninfo(text: str, source: str) -> dict[str, str]:
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        parsed = conninfo_to_dict(text)
    except ProgrammingError as exc:
        # libpq names the bad parameter; keep only that part, values may be secrets.
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        named = re.search(r'(parameter|option):? "([A-Za-z_]+)"', detail)
        why = f" ({named[1]} {named[2]!r} is not valid here)" if named else ""
        raise BadInput(f"{source} is not a valid database URL{why}; expected a URL like {EXAMPLE}") from None
    return {k: str(v) for k, v in parsed.items() if v is not None}


def candidate_urls(*raw: str | None) -> list[DatabaseUrl]:
    """Every URL among ``raw`` and ``DATABASE_URL`` that parses: the passwords to scrub from output."""
    out: list[DatabaseUrl] = []
    for text in (*raw, os.environ.get(ENV_VAR)):
        if not text:
            continue
        try:
            out.append(DatabaseUrl.parse(text))
        except BadInput:
            continue
    return out


# -- compatibility helpers (SQLAlchemy URL in, SQLAlchemy URL out) ------------------------------

def parse_database_url(raw: str, *, source: str = ENV_VAR) -> URL:
    """``raw`` as a SQLAlchemy URL on the psycopg driver (for engines, tests and tools)."""
    return DatabaseUrl.parse(raw, source=source).sqlalchemy_url()


def url_from_env(var: str = ENV_VAR) -> DatabaseUrl | None:
    raw = os.environ.get(var)
    if raw is None or not raw.strip():
        return None
    return DatabaseUrl.parse(raw, source=var)


def masked(url: DatabaseUrl | URL | str) -> str:
    """The URL as it may be shown: password replaced by ``***``."""
    try:
        return DatabaseUrl.of(url).masked()
    except BadInput:
        return "<unparseable URL>"


def with_password(url: DatabaseUrl | URL) -> str:
    """The URL as a string a child process can use. Never print this."""
    if isinstance(url, DatabaseUrl):
        return url.sqlalchemy_url().render_as_string(hide_password=False)
    return url.render_as_string(hide_password=False)


def redact(text: str, *urls: DatabaseUrl | URL | str | None) -> str:
    """Remove every password of ``urls`` from ``text`` (driver messages can echo DSNs)."""
    secrets: list[str] = []
    for url in urls:
        if url is None:
            continue
        try:
            password = DatabaseUrl.of(url).password
        except BadInput:
            continue
        if password:
            secrets.append(password)
    return redact_secrets(text, secrets)


def redact_secrets(text: str, secrets: Iterable[str]) -> str:
    from urllib.parse import quote_plus

    for secret in sorted(set(secrets), key=len, reverse=True):
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, "***")
    return text
