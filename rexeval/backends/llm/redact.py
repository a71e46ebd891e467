"""Keep credentials out of everything rexeval writes or prints.

An endpoint may carry credentials in its URL (``http://user:pass@host/v1?api-key=...``) and a server may
echo the key in an error message. :func:`redact_url` keeps scheme, host, port and path and drops user info
and the query string; :class:`Redactor` also replaces the configured key and every credential found in the
configured URLs inside free text (error messages, failure records). :class:`Secret` holds the key itself:
its ``str``/``repr`` are ``***``, so a key that ends up in an options dict or a log line shows as that.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

MASK = "***"
#: URLs inside free text (up to whitespace, a quote or a closing bracket).
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>)\]]+")
#: Shorter strings are not masked inside text (they would blank out ordinary words and numbers).
_MIN_SECRET = 4
#: Credentials a server may echo from the request: an ``Authorization`` header's value, a ``Bearer`` /
#: ``Basic`` token (one with a digit, ``=``, ``-`` or ``_``: ordinary words are left alone), an api-key field.
_HEADER = re.compile(r"(?i)\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)(?:(?:bearer|basic|token|digest)\s+)?[^\s\"',;}]+")
_TOKEN = re.compile(r"(?i)\b(bearer|basic|token)(\s+)(?=[A-Za-z0-9._~+/=-]*[0-9=_-])[A-Za-z0-9._~+/=-]{8,}")
_KEY_FIELD = re.compile(r"(?i)\b((?:x-)?api[-_]?key[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;}]+")


@dataclass(frozen=True)
class Secret:
    """An API key: ``reveal()`` gives the value to the HTTP client; everything else sees ``***``."""

    value: str

    def reveal(self) -> str:
        return self.value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    def __bool__(self) -> bool:
        return bool(self.value)


def reveal(value: str | Secret | None) -> str | None:
    return value.reveal() if isinstance(value, Secret) else value


def redact_url(url: str | None) -> str | None:
    """``scheme://host:port/path`` of ``url``: user info becomes ``***@``, a query string ``?***``."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # not parseable as a URL: say nothing about it
        return MASK
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{port}" if port else "")
    if parts.username is not None or parts.password is not None:
        netloc = f"{MASK}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, MASK if parts.query else "", ""))


def url_secrets(url: str | None) -> list[str]:
    """The credential strings inside a URL: user name, password and every query value."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
        found = [parts.username or "", parts.password or ""]
    except ValueError:
        return [url]
    found += [v for _, v in parse_qsl(parts.query, keep_blank_values=False)]
    if parts.username is not None or parts.password is not None:
        # HTTP clients send user info as Basic auth: the header a server may echo holds its base64
        for user, pw in ((parts.username or "", parts.password or ""),
                         (unquote(parts.username or ""), unquote(parts.password or ""))):
            found.append(base64.b64encode(f"{user}:{pw}".encode()).decode("ascii"))
    return [s for s in dict.fromkeys(found) if s]


def _redact_match(match: re.Match[str]) -> str:
    url = match.group(0)
    core = url.rstrip(".,;:!?")  # sentence punctuation after a URL is not part of it
    return (redact_url(core) or "") + url[len(core):]


class Redactor:
    """Masks URLs' credentials and a fixed set of secret strings in any text."""

    def __init__(self, secrets: Iterable[str | Secret | None] = (), urls: Iterable[str | None] = ()) -> None:
        values = {reveal(s) for s in secrets} | {s for u in urls for s in url_secrets(u)}
        # longest first, so a key containing another secret is masked whole
        self.secrets = sorted((s for s in values if s and len(s) >= _MIN_SECRET), key=len, reverse=True)

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        text = _URL.sub(_redact_match, text)
        for s in self.secrets:
            text = text.replace(s, MASK)
        return scrub(text)


def scrub(text: str) -> str:
    """Mask credentials that need no configuration to recognise: URL user info and query strings, an
    echoed ``Authorization`` header, ``Bearer``/``Basic`` tokens and api-key fields (every error line the
    CLI prints goes through this)."""
    text = _URL.sub(_redact_match, text)
    text = _HEADER.sub(lambda m: m.group(1) + MASK, text)
    text = _TOKEN.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
    return _KEY_FIELD.sub(lambda m: m.group(1) + MASK, text)
