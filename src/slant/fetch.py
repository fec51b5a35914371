"""Fetching an article from an http(s) URL, safely by construction.

* only ``http`` and ``https``; no credentials in the URL;
* the host name is resolved here, every address it resolves to is checked, and
  the connection goes to a checked address (no second lookup an attacker could
  answer differently); loopback, private, link-local, multicast, reserved,
  unspecified and other non-global ranges are refused, IPv4 and IPv6, including
  IPv4-mapped and 6to4/Teredo forms;
* redirects are followed by hand (at most 5), each new URL checked again;
* a size cap (5 MB by default), a time cap, and an HTML or plain-text
  content type.

Every refusal is a FetchError with a one-line message naming the URL.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urljoin, urlsplit

from .errors import InputError

__all__ = ["FetchError", "Fetched", "fetch", "check_address", "MAX_BYTES", "AllowOnly", "FetchAhead"]

MAX_BYTES = 5 * 1024 * 1024
TIMEOUT = 15.0
MAX_REDIRECTS = 5
# Word, OpenDocument and RTF texts and PDF documents: a press release or a report is often published as one
# (formats.office, formats.rtf and formats.pdf read them); a picture of text (a screenshot shared by its link) is
# read by OCR (formats.ocr).
# documents that are read as documents (inputs.read_document), by their content type: the kind each is
DOCUMENT_TYPES = {"application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
                  "application/vnd.oasis.opendocument.text": "odt", "application/rtf": "rtf", "text/rtf": "rtf",
                  "application/pdf": "pdf", "image/png": "image", "image/jpeg": "image", "image/webp": "image",
                  "image/gif": "image", "image/tiff": "image", "image/bmp": "image"}
# a download whose type the server does not say: read by what its bytes are (inputs.document_from_bytes)
DOWNLOAD_TYPES = ("application/octet-stream", "binary/octet-stream", "application/download",
                  "application/force-download", "application/x-download")
TYPES = ("text/html", "application/xhtml+xml", "text/plain") + tuple(DOCUMENT_TYPES) + DOWNLOAD_TYPES
ACCEPT = "text/html, text/plain;q=0.8, " + ", ".join(f"{t};q=0.5" for t in DOCUMENT_TYPES)
USER_AGENT = "slant (+https://github.com/slant-developers/slant) article fetcher"


class FetchError(InputError):
    """A URL that slant will not or could not fetch."""


@dataclass
class Fetched:
    url: str            # the final URL, after redirects
    content_type: str   # e.g. "text/html"
    charset: str | None
    body: bytes


def check_address(ip: str) -> None:
    """Raise ValueError unless ``ip`` is a global unicast address.

    >>> check_address("93.184.216.34")
    >>> check_address("::ffff:127.0.0.1")
    Traceback (most recent call last):
    ValueError: 127.0.0.1 is a loopback address
    """
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address):
        for inner in (addr.ipv4_mapped, addr.sixtofour, (addr.teredo or (None, None))[1]):
            if inner is not None:
                check_address(str(inner))
    for kind in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(addr, f"is_{kind}"):
            raise ValueError(f"{addr} is a {kind.replace('_', '-')} address")
    if not addr.is_global:
        raise ValueError(f"{addr} is not a public address")


def _refusal(host: str, address: str, reason: str) -> str:
    """Why ``host`` is refused, given the ``reason`` its resolved ``address`` is (check_address).

    >>> _refusal("127.0.0.1", "127.0.0.1", "127.0.0.1 is a loopback address")
    '127.0.0.1 is a loopback address'
    >>> _refusal("news.example", "10.1.2.3", "10.1.2.3 is a private address")
    'news.example resolves to 10.1.2.3, which is a private address'
    >>> _refusal("mapped.example", "::ffff:10.0.0.1", "10.0.0.1 is a private address")
    'mapped.example resolves to ::ffff:10.0.0.1 (10.0.0.1 is a private address)'
    """
    if host == address:
        return reason
    if reason.startswith(f"{address} is "):
        return f"{host} resolves to {address}, which{reason[len(address):]}"
    return f"{host} resolves to {address} ({reason})"


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as ex:
        raise OSError(f"cannot resolve {host} ({ex})") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address checked beforehand, whatever the Host header says."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


class AllowOnly:
    """An ``allow`` for ``fetch`` that lets through these ``(address, port)`` pairs and nothing else the rules
    refuse (a test's own server on 127.0.0.1, an archive on an intranet); it pickles, so ``slant batch``'s worker
    processes can take it (``run_batch(..., fetch_options={"allow": AllowOnly(("127.0.0.1", 8080))})``)."""

    def __init__(self, *pairs: tuple[str, int]):
        self.pairs = frozenset(pairs)

    def __call__(self, address: str, port: int) -> bool:
        return (address, port) in self.pairs


class FetchAhead:
    """Reads of the ``items`` that name a page (``address(item)``), run side by side in threads ahead of whoever
    takes them (``result(item)``, in any order): a page takes a second or more to come, reading and analysing one a
    twentieth of that. ``FETCHES`` at once, at most ``PER_SITE`` of them from one site, so a list of one outlet's
    links is not a flood. Close it (or use it as a context manager) to cancel what was not taken."""

    FETCHES = 8
    PER_SITE = 2

    def __init__(self, items: list, address: Callable[[object], str], read: Callable[[object], object]):
        self._sites: dict[str, threading.BoundedSemaphore] = {}
        self._pool = ThreadPoolExecutor(self.FETCHES) if items else None
        self._futures: dict[int, Future] = {id(item): self._pool.submit(self._read, item, address, read)
                                            for item in items}

    def _read(self, item, address, read):
        try:
            site = (urlsplit(address(item)).hostname or "").lower()
        except ValueError:   # read() says what is wrong with the address
            site = ""
        with self._sites.setdefault(site, threading.BoundedSemaphore(self.PER_SITE)):
            return read(item)

    def __contains__(self, item) -> bool:
        return id(item) in self._futures

    def result(self, item):
        """What ``read(item)`` returned; raises what it raised."""
        return self._futures.pop(id(item)).result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def fetch(url: str, max_bytes: int = MAX_BYTES, timeout: float = TIMEOUT,
          allow: Callable[[str, int], bool] | None = None) -> Fetched:
    """GET ``url`` under the rules above.  ``allow(address, port)`` may let through an address
    the rules refuse (tests use it for their own 127.0.0.1 server); it is asked for every hop."""
    if not url.strip():
        raise FetchError("url is empty")
    deadline = time.monotonic() + timeout
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        try:
            parts = urlsplit(current)
        except ValueError as ex:   # e.g. "Invalid IPv6 URL" for http://[::1
            where = "" if current == url else f" (redirected to {current})"
            raise FetchError(f"{url}: not a valid URL{where} ({ex})") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchError(f"{url}: only http and https URLs are fetched, not {scheme or 'a bare path'}")
        if parts.username or parts.password:
            raise FetchError(f"{url}: URLs with credentials are refused")
        host = parts.hostname
        if not host:
            raise FetchError(f"{url}: no host in the URL")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise FetchError(f"{url}: bad port") from None
        try:
            addresses = _resolve(host, port)
        except OSError as ex:
            raise FetchError(f"{url}: {ex}") from None
        for address in addresses:
            if allow is not None and allow(address, port):
                continue
            try:
                check_address(address)
            except ValueError as ex:
                where = "" if current == url else f" (redirected to {current})"
                why = _refusal(host, address, str(ex))
                raise FetchError(f"{url}: refused{where}: {why}") from None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError(f"{url}: timed out after {timeout:g} s")
        cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        conn = cls(host, port, addresses[0], remaining)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept": ACCEPT})
            response = conn.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("Location")
                if not location:
                    raise FetchError(f"{url}: redirect without a Location")
                current = urljoin(current, location)
                continue
            if response.status != 200:
                raise FetchError(f"{url}: HTTP {response.status} {response.reason}")
            content_type = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
            if content_type not in TYPES:
                raise FetchError(f"{url}: content type {content_type or 'missing'}; expected HTML, plain text, a "
                                 "Word, OpenDocument or RTF text, a PDF document or an image")
            length = response.getheader("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise FetchError(f"{url}: {int(length)} bytes is over the {max_bytes}-byte limit")
            body = bytearray()
            while chunk := response.read(65536):
                body += chunk
                if len(body) > max_bytes:
                    raise FetchError(f"{url}: over the {max_bytes}-byte limit")
                if time.monotonic() > deadline:
                    raise FetchError(f"{url}: timed out after {timeout:g} s")
            return Fetched(current, content_type, response.msg.get_content_charset(), bytes(body))
        except (OSError, http.client.HTTPException) as ex:
            if isinstance(ex, TimeoutError) or "timed out" in str(ex):
                raise FetchError(f"{url}: timed out after {timeout:g} s") from None
            raise FetchError(f"{url}: {ex.__class__.__name__}: {ex}") from None
        finally:
            conn.close()
    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")
