"""Backoff: bounded delays, Retry-After, retry on 429/5xx/connection errors, injected sleep."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
import requests

from lifecycle.oci.registry.retry import RetryPolicy, parse_retry_after, with_retries


def response(status: int, headers: dict[str, str] | None = None) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp.raw = io.BytesIO(b"")
    resp.headers.update(headers or {})
    return resp


def test_delays_are_exponential_and_capped() -> None:
    policy = RetryPolicy(base=0.5, cap=4.0)
    assert [policy.delay(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert policy.delay(0, retry_after=3.0) == 3.0
    assert policy.delay(3, retry_after=1.0) == 4.0
    assert policy.delay(0, retry_after=3600.0) == policy.max_retry_after


def test_parse_retry_after() -> None:
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Mon, 01 Jan 2024 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Mon, 01 Jan 2024 11:00:00 GMT", now) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None


def test_retries_then_succeeds_honouring_retry_after() -> None:
    sleeps: list[float] = []
    answers = [response(503), response(429, {"Retry-After": "2"}), response(200)]
    policy = RetryPolicy(base=0.1, sleep=sleeps.append)
    resp = with_retries(policy, lambda: answers.pop(0), "GET x")
    assert resp.status_code == 200
    assert sleeps == [0.1, 2.0]


def test_gives_up_after_attempts_and_returns_last_response() -> None:
    sleeps: list[float] = []
    calls = []

    def send() -> requests.Response:
        calls.append(1)
        return response(500)

    resp = with_retries(RetryPolicy(attempts=4, base=1, cap=2, sleep=sleeps.append), send, "x")
    assert resp.status_code == 500 and len(calls) == 4 and sleeps == [1, 2, 2]


def test_connection_errors_are_retried_then_raised() -> None:
    sleeps: list[float] = []
    outcomes: list[object] = [requests.ConnectionError("refused"), response(200)]

    def send() -> requests.Response:
        item = outcomes.pop(0)
        if isinstance(item, Exception):
            raise item
        assert isinstance(item, requests.Response)
        return item

    assert with_retries(RetryPolicy(sleep=sleeps.append), send, "x").status_code == 200
    assert len(sleeps) == 1

    def always() -> requests.Response:
        raise requests.Timeout("slow")

    with pytest.raises(requests.Timeout):
        with_retries(RetryPolicy(attempts=2, sleep=sleeps.append), always, "x")


@pytest.mark.parametrize("status", [200, 201, 400, 401, 404])
def test_non_retryable_statuses_return_at_once(status: int) -> None:
    sleeps: list[float] = []
    resp = with_retries(RetryPolicy(sleep=sleeps.append), lambda: response(status), "x")
    assert resp.status_code == status and sleeps == []


def test_an_unknown_host_is_not_retried() -> None:
    import socket

    sleeps: list[float] = []
    calls: list[int] = []

    def send() -> requests.Response:
        calls.append(1)
        try:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        except socket.gaierror as e:
            raise requests.ConnectionError(e) from e

    with pytest.raises(requests.ConnectionError):
        with_retries(RetryPolicy(attempts=3, sleep=sleeps.append), send, "x")
    assert (len(calls), sleeps) == (1, [])


def test_a_temporary_dns_failure_is_retried() -> None:
    import socket

    sleeps: list[float] = []

    def send() -> requests.Response:
        raise requests.ConnectionError(socket.gaierror(socket.EAI_AGAIN, "try again"))

    with pytest.raises(requests.ConnectionError):
        with_retries(RetryPolicy(attempts=3, sleep=sleeps.append), send, "x")
    assert len(sleeps) == 2
