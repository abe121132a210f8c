"""Where the database is: a SQLite file path, or a ``postgresql://`` URL.

A URL may name its secrets as ``${NAME}`` references, resolved from the environment
only when connecting (each value percent-encoded, so any character is safe), e.g.
``postgresql://netwatch:${NETWATCH_DB_PASSWORD}@127.0.0.1:5432/netwatch``; or leave
them to libpq's own files (``PGPASSFILE``, ``PGSERVICEFILE`` with ``?service=NAME``).
``PgUrl`` prints itself with every password masked (``str``, ``repr``, f-strings), so
a message that names the database never shows one, whether written as a reference or
(against the advice in docs/operations.md) literally.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, unquote

SCHEMES = ("postgresql://", "postgres://")  # libpq's two spellings
MASK = "***"
_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SCHEME = re.compile(r"^postgres(?:ql)?://", re.I)
# a password parameter's value runs to the next parameter (``&name=``) or the end
_QUERY_PASSWORD = re.compile(r"([?&]password=)(.*?)(?=&[A-Za-z_]+=|$)", re.I | re.S)


class TargetError(ValueError):
    """A database URL that cannot be used as given (the message masks its passwords)."""


def is_url(text: str) -> bool:
    """Whether ``text`` names a PostgreSQL database rather than a SQLite file."""
    return text.lower().startswith(SCHEMES)


def _user_password(url: str) -> tuple[int, int] | None:
    """Where the password of ``user:password@`` is: up to the last ``@``, so that one
    written without percent-encoding (``/``, ``@``, ``?`` in it) is still found whole."""
    scheme = _SCHEME.match(url)
    if scheme is None:
        return None
    at = url.rfind("@")
    colon = url.find(":", scheme.end(), at)
    return (colon + 1, at) if at != -1 and colon != -1 else None


def mask(url: str) -> str:
    """The URL with the password of its user part and any ``password=`` parameter masked."""
    url = _QUERY_PASSWORD.sub(rf"\1{MASK}", url)  # first: its value may hold an ``@``
    span = _user_password(url)
    return url if span is None else url[:span[0]] + MASK + url[span[1]:]


class PgUrl:
    """A PostgreSQL database URL as given (``${NAME}`` references unresolved)."""

    __slots__ = ("_raw",)

    def __init__(self, raw: str) -> None:
        if not is_url(raw):
            raise TargetError(f"{mask(raw)!r}: not a postgresql:// URL")
        self._raw = raw

    @property
    def references(self) -> tuple[str, ...]:
        """The environment variables the URL names, in order."""
        return tuple(_REF.findall(self._raw))

    def conninfo(self, env: Mapping[str, str] | None = None) -> str:
        """The URL with its references resolved, for libpq only: never print it."""
        env = os.environ if env is None else env
        unset = [name for name in self.references if name not in env]
        if unset:
            raise TargetError(f"{self}: {', '.join('${' + n + '}' for n in unset)} "
                              "not set in the environment")
        return _REF.sub(lambda m: quote(env[m.group(1)], safe=""), self._raw)

    def secrets(self, env: Mapping[str, str] | None = None) -> tuple[str, ...]:
        """Every password the resolved URL carries, as written and percent-decoded: what
        an error message must never show."""
        try:
            resolved = self.conninfo(env)
        except TargetError:
            return ()
        found = [m.group(2) for m in _QUERY_PASSWORD.finditer(resolved)]
        rest = _QUERY_PASSWORD.sub(rf"\1{MASK}", resolved)  # the user part is left as it was
        span = _user_password(rest)
        found += [rest[span[0]:span[1]]] if span is not None else []
        out = {s for f in found for s in (f, unquote(f)) if s}
        return tuple(sorted(out, key=len, reverse=True))

    def scrub(self, text: str) -> str:
        """``text`` with every secret of this URL replaced by the mask."""
        for secret in self.secrets():
            text = text.replace(secret, MASK)
        return text

    def __str__(self) -> str:
        return mask(self._raw)

    def __repr__(self) -> str:
        return f"PgUrl({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PgUrl) and other._raw == self._raw

    def __hash__(self) -> int:
        return hash(self._raw)


Target = Path | PgUrl


def parse_target(value: str | Path | PgUrl) -> Target:
    """A ``postgresql://`` URL as a ``PgUrl``, anything else as a SQLite file path."""
    if isinstance(value, PgUrl | Path):
        return value
    return PgUrl(value) if is_url(value) else Path(value)
