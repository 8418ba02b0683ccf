"""HTTP transport to registries: scheme choice, TLS, proxies, retries, no secret in logs.

OCI distribution-spec v1.1 speaks HTTPS. pypack verifies TLS by default and uses plain HTTP only
for loopback hosts (127.0.0.0/8, ``localhost``, ``::1``) and registries the user names insecure.
The ``Authorization`` header is applied by a requests auth object whose ``repr`` hides it, so
requests never adds ``~/.netrc`` credentials of its own and redirects to other hosts drop it.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
import requests.auth

from lifecycle.errors import RegistryError
from lifecycle.oci.reference import api_host
from lifecycle.oci.registry.retry import RetryPolicy, unknown_host, with_retries

log = logging.getLogger(__name__)



class Stream(Protocol):
    """A readable, closable body (file objects and ``BodySlice`` fit)."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes."""
        ...

    def close(self) -> None:
        """Release the stream."""
        ...


Body = bytes | Stream
"""A request body: bytes, or a stream that the transport closes after the try."""

_NO_PROXY: Any = {"http": None, "https": None, "all": None}
"""Passing None per scheme makes requests ignore proxy variables (loopback never goes out)."""


def split_host(hostport: str) -> str:
    """The host part of ``host[:port]`` (IPv6 brackets removed)."""
    if hostport.startswith("["):
        return hostport[1:].partition("]")[0]
    if hostport.count(":") == 1:
        return hostport.partition(":")[0]
    return hostport


def is_loopback(hostport: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1``, with or without a port."""
    host = split_host(hostport).lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HeaderAuth(requests.auth.AuthBase):
    """Sets ``Authorization`` (or nothing); its ``repr`` never shows the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str | None) -> None:
        self._value = value

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if self._value:
            r.headers["Authorization"] = self._value
        return r

    def __repr__(self) -> str:
        return "HeaderAuth(<redacted>)" if self._value else "HeaderAuth(None)"


@dataclass(slots=True)
class Transport:
    """Sends requests to registries with the scheme, TLS and retry rules above."""

    session: requests.Session = field(default_factory=requests.Session)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    insecure_registries: frozenset[str] = frozenset()
    timeout: tuple[float, float] = (30.0, 300.0)

    def plain_http_ok(self, hostport: str) -> bool:
        """True if ``hostport`` may be spoken to (and sent credentials) over plain HTTP."""
        return is_loopback(hostport) or hostport in self.insecure_registries \
            or split_host(hostport) in self.insecure_registries

    def base_url(self, registry: str) -> str:
        """``http(s)://<api host>`` for ``registry``."""
        host = api_host(registry)
        scheme = "http" if self.plain_http_ok(registry) or self.plain_http_ok(host) else "https"
        return f"{scheme}://{host}"

    def send(self, method: str, url: str, *, what: str, auth: str | None = None,
             headers: Mapping[str, str] | None = None, body: Callable[[], Body] | None = None,
             params: Any = None, stream: bool = False) -> requests.Response:
        """Send with retries; ``body`` re-opens the payload for each try.

        Connection and TLS failures become RegistryError naming ``what``.
        """
        host = urlsplit(url).netloc
        proxies = _NO_PROXY if is_loopback(host) else None

        def once() -> requests.Response:
            data = body() if body is not None else None
            try:
                log.debug("%s %s", method, url.split("?", 1)[0])
                return self.session.request(
                    method, url, headers=dict(headers or {}), data=data, params=params,
                    stream=stream, timeout=self.timeout, auth=HeaderAuth(auth),
                    proxies=proxies, allow_redirects=True)
            finally:
                if data is not None and not isinstance(data, bytes):
                    data.close()

        try:
            return with_retries(self.retry, once, what)
        except requests.exceptions.SSLError as e:
            raise RegistryError(
                f"{what}: TLS verification failed for {host}: {_reason(e)}; if you trust the "
                "network, name the registry as insecure") from e
        except (requests.ConnectionError, requests.Timeout) as e:
            if unknown_host(e):
                raise RegistryError(f"{what}: cannot reach {host}: no such host (DNS), or no "
                                    "network") from e
            raise RegistryError(f"{what}: cannot reach {host}: {_reason(e)}") from e
        except requests.RequestException as e:
            raise RegistryError(f"{what}: request to {host} failed: {_reason(e)}") from e


def _reason(e: Exception) -> str:
    text = str(e)
    return text if len(text) < 300 else text[:297] + "..."
