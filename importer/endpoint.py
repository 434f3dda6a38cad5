"""The API's base URL, in one place: checked, normalised for the ledger, redacted for messages.

:func:`parse_endpoint` (or :func:`endpoint_from_env`, which reads ``REALEFLOW_API_URL``) turns
the text a person gave into an :class:`Endpoint`, or a one-line :class:`UsageError`:

- it must be ``http://`` or ``https://`` with a host, and parse (``http://[::1`` does not);
- it may not hold a user name or password (``http://KEY@host``): the key would end up in
  messages, logs and the ledger. The key goes in ``REALEFLOW_API_KEY`` only;
- ``http://`` to anything but this computer would send the key in clear: refused unless
  ``--insecure`` or ``REALEFLOW_ALLOW_INSECURE=1`` says so. This computer (loopback) is
  127.0.0.0/8, ::1 and ``localhost``.

``Endpoint.scope`` is what the ledger keeps records under. Spellings of one API give one scope
(scheme and host lower case, an international host in its ``xn--`` form, a trailing dot or slash
dropped, the scheme's default port left out, leading zeros of a port ignored, every loopback alias
as 127.0.0.1, old numeric forms of an IPv4 address such as ``127.1`` as the address), so that
``http://localhost:8765`` never re-creates the rows made through ``http://127.0.0.1:8765``.
:func:`scope_of` gives the same for a ledger's old scopes, leniently (it never refuses).

:func:`redact_url` takes the user info out of every URL in a text, for messages and the ledger.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

import idna

from importer import config
from importer.config import ALLOW_INSECURE_ENV, API_URL_ENV, DEFAULT_BASE_URL
from importer.errors import UsageError

__all__ = [
    "ALLOW_INSECURE_ENV",
    "API_URL_ENV",
    "DEFAULT_BASE_URL",
    "Endpoint",
    "endpoint_from_env",
    "parse_endpoint",
    "redact_url",
    "scope_of",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOOPBACK_SCOPE_HOST = "127.0.0.1"
_TRUE = {"1", "true", "yes", "on"}
#: ``scheme://user[:password]@`` in any text: the part to cut is the user info, up to the last "@"
#: before the path (a password may hold an "@", as URL parsers read it).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s?#]*@")
#: What URL parsers drop from anywhere in a URL (WHATWG): a message shows the URL as it is read.
_DROPPED = str.maketrans("", "", "\t\r\n")
#: Hosts made of digits, dots and hex: the forms inet_aton reads as an IPv4 address (127.1, 0x7f.1).
_NUMERIC_HOST = re.compile(r"(?i)^[0-9a-fx.]+$")


@dataclass(frozen=True)
class Endpoint:
    """A checked API base URL."""

    url: str  # requests go here: scheme://host[:port][/path], no user info, no trailing slash
    scope: str  # the ledger's name for this API (see the module doc)
    loopback: bool  # the host is this computer

    def __str__(self) -> str:
        return self.url


@dataclass(frozen=True)
class _Parts:
    scheme: str
    host: str  # lower case, no brackets, no trailing dot
    port: int | None  # None: the scheme's default
    path: str  # no trailing slash
    userinfo: bool


def redact_url(text: str) -> str:
    """``text`` with the user info (``user:password@``) cut out of every URL in it."""
    return _USERINFO.sub(r"\1", text) if "@" in text else text


def _split(raw: str) -> _Parts:
    """The parts of a URL; ValueError (with a message that never quotes the user info) if it has none."""
    text = raw.strip()
    try:
        parts: SplitResult = urlsplit(text)
        port = parts.port  # ValueError: out of range or not a number
    except ValueError as exc:
        raise ValueError(str(exc).replace(text, redact_url(text))) from None
    host = (parts.hostname or "").rstrip(".")
    if port is not None and port == _DEFAULT_PORTS.get(parts.scheme.lower()):
        port = None
    userinfo = "@" in parts.netloc
    return _Parts(parts.scheme.lower(), host, port, parts.path.rstrip("/"), userinfo)


def _loopback_address(host: str) -> str | None:
    """The address of ``host`` if it is this computer (127.0.0.0/8, ::1, localhost), else None."""
    if host == "localhost":  # not a name under it: the resolver asks DNS for those (only /etc/hosts has localhost)
        return _LOOPBACK_SCOPE_HOST
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        ip = None
        if _NUMERIC_HOST.match(host):
            try:  # the resolver reads 127.1 or 2130706433 as 127.0.0.1, so the ledger must too
                ip = ipaddress.IPv4Address(socket.inet_aton(host))
            except OSError:
                ip = None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return _LOOPBACK_SCOPE_HOST if ip is not None and ip.is_loopback else None


def _netloc(host: str, port: int | None) -> str:
    bracketed = f"[{host}]" if ":" in host else host
    return bracketed if port is None else f"{bracketed}:{port}"


def _ascii_host(host: str) -> str:
    """An international host name as it goes on the wire (``xn--...``, as httpx encodes it)."""
    if host.isascii():
        return host
    try:
        return idna.encode(host.lower()).decode("ascii")
    except idna.IDNAError:
        return host  # httpx refuses it when the request is made


def _scope(p: _Parts) -> str:
    # The path is lower-cased as the ledger always did (scopes stored before stay comparable).
    host = _loopback_address(p.host) or _ascii_host(p.host)
    return f"{p.scheme}://{_netloc(host, p.port)}{p.path.lower()}"


def scope_of(base_url: str) -> str:
    """The ledger scope of a base URL (see the module doc); lenient: never refuses, never keeps user info."""
    try:
        parts = _split(base_url)
    except ValueError:
        parts = None
    if parts is None or not parts.host:
        return redact_url(base_url.strip().rstrip("/").lower())
    return _scope(parts)


def insecure_allowed() -> bool:
    """Whether ``REALEFLOW_ALLOW_INSECURE`` allows ``http://`` to another computer."""
    return config.insecure_allowed()


def parse_endpoint(raw: str, *, insecure: bool = False, source: str = API_URL_ENV) -> Endpoint:
    """Check a base URL (see the module doc); ``source`` names where it came from in messages.

    ``insecure``: allow ``http://`` to a host other than this computer (also allowed by
    ``REALEFLOW_ALLOW_INSECURE=1``).
    """
    shown = redact_url(raw.strip().translate(_DROPPED))[:200]
    try:
        p = _split(raw)
    except ValueError as exc:
        raise UsageError(
            f"{source} {shown!r} is not a usable URL ({exc}); write it like {DEFAULT_BASE_URL}"
        ) from None
    if p.scheme not in _DEFAULT_PORTS:
        raise UsageError(f"{source} {shown!r} must start with https:// (or http:// for this computer)")
    if not p.host:
        raise UsageError(f"{source} {shown!r} has no host name; write it like {DEFAULT_BASE_URL}")
    if p.userinfo:
        raise UsageError(
            f"{source} {shown!r} holds a user name or password before '@': take it out; "
            "the API key goes in REALEFLOW_API_KEY, never in the URL"
        )
    loopback = _loopback_address(p.host) is not None
    if p.scheme == "http" and not loopback and not (insecure or insecure_allowed()):
        raise UsageError(
            f"{source} {shown!r} is http:// to another computer: the API key would cross the network "
            f"unencrypted; use https://, or if you really mean it add --insecure (or set {ALLOW_INSECURE_ENV}=1)"
        )
    url = f"{p.scheme}://{_netloc(p.host, p.port)}{p.path}"
    return Endpoint(url, _scope(p), loopback)


def endpoint_from_env(url: str | Endpoint | None = None, *, insecure: bool = False) -> Endpoint:
    """``url`` if given, else ``REALEFLOW_API_URL``, else the real API; checked by :func:`parse_endpoint`."""
    if isinstance(url, Endpoint):
        return url
    if url:
        return parse_endpoint(str(url), insecure=insecure, source="the API URL")
    return parse_endpoint(config.api_url(), insecure=insecure)
