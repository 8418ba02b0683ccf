"""Bounded exponential backoff for registry requests, honouring ``Retry-After``.

OCI distribution-spec v1.1 lets registries answer 429 ``TOOMANYREQUESTS`` and 5xx; RFC 9110 §10.2.3
defines ``Retry-After`` (seconds or an HTTP date). Connection errors and timeouts are retried too,
except a host name DNS says does not exist.
The sleep function is injectable so tests never wait.
"""

from __future__ import annotations

import email.utils
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import requests

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
"""HTTP statuses worth another try."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry: ``attempts`` tries, delays ``base * 2**n`` up to ``cap``."""

    attempts: int = 5
    base: float = 0.5
    cap: float = 8.0
    max_retry_after: float = 60.0
    """The longest ``Retry-After`` honoured; longer waits are cut to this."""
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (0-based)."""
        backoff = min(self.cap, self.base * 2.0 ** attempt)
        if retry_after is not None:
            return min(max(backoff, retry_after), self.max_retry_after)
        return backoff


NO_RETRY = RetryPolicy(attempts=1)
"""A policy that tries once."""


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value (delta-seconds or HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def unknown_host(e: BaseException) -> bool:
    """True when ``e`` (or an exception it wraps) says the host name does not exist (DNS
    ``EAI_NONAME``): another try cannot help. A temporary DNS failure (``EAI_AGAIN``) is not."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [e]
    while todo:
        cur = todo.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, socket.gaierror):
            return cur.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None))
        todo += [cur.__cause__, cur.__context__, getattr(cur, "reason", None),
                 *(a for a in cur.args if isinstance(a, BaseException))]
    return False


def with_retries(policy: RetryPolicy, send: Callable[[], requests.Response],
                 what: str) -> requests.Response:
    """Call ``send`` until it gives a non-retryable response or tries run out.

    ``send`` must rebuild the request each time (re-open any body stream). The last response is
    returned even if its status is retryable; the last connection error is re-raised.
    """
    attempts = max(1, policy.attempts)
    for attempt in range(attempts):
        last = attempt == attempts - 1
        try:
            resp = send()
        except (requests.ConnectionError, requests.Timeout) as e:
            if last or unknown_host(e):
                raise
            wait = policy.delay(attempt)
            log.info("%s: %s, retrying in %.1fs", what, type(e).__name__, wait)
        else:
            if resp.status_code not in RETRY_STATUSES or last:
                return resp
            wait = policy.delay(attempt, parse_retry_after(resp.headers.get("Retry-After")))
            log.info("%s: HTTP %d, retrying in %.1fs", what, resp.status_code, wait)
            resp.close()
        policy.sleep(wait)
    raise AssertionError("unreachable: attempts must be >= 1")
