"""Mirror resolution: --mirror, the stack's mirror, or the host's apt sources (both formats)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.errors import FileFormatError, UsageError
from lifecycle.stack import sources
from lifecycle.stack.sources import AptSource

SUITES = ("bookworm", "bookworm-updates", "bookworm-security")

DEB822 = """\
Types: deb deb-src
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security/
Suites: bookworm-security
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 -----END PGP PUBLIC KEY BLOCK-----

Enabled: no
Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
"""


def test_one_line_format() -> None:
    text = ("# comment\n\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian/ bookworm "
            "main non-free\ndeb-src http://m.example/debian bookworm main\n"
            "deb http://m.example/debian bookworm-updates main # trailing\n")
    assert sources.parse_one_line(text) == [
        AptSource("http://m.example/debian", "bookworm", ("main", "non-free")),
        AptSource("http://m.example/debian", "bookworm-updates", ("main",))]
    with pytest.raises(FileFormatError, match="x.list:1"):
        sources.parse_one_line("rpm http://x bookworm\n", "x.list")


def test_deb822_format() -> None:
    got = sources.parse_deb822(DEB822)
    assert got == [
        AptSource("http://mirror.example/debian", "bookworm", ("main", "contrib")),
        AptSource("http://mirror.example/debian", "bookworm-updates", ("main", "contrib")),
        AptSource("http://mirror.example/debian-security", "bookworm-security", ("main",))]


def test_host_sources_reads_list_and_sources_files(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text("deb http://a.example/debian bookworm main\n")
    (tmp_path / "sources.list.d" / "debian.sources").write_text(DEB822)
    (tmp_path / "sources.list.d" / "x.list.disabled").write_text("garbage\n")
    got = sources.host_sources(tmp_path)
    assert got[0] == AptSource("http://a.example/debian", "bookworm", ("main",))
    assert len(got) == 4
    chosen = sources.resolve((), (), SUITES, ("main",), "bookworm", host=got)
    assert [s.line() for s in chosen] == [
        "deb http://a.example/debian bookworm main",
        "deb http://mirror.example/debian bookworm main",
        "deb http://mirror.example/debian bookworm-updates main",
        "deb http://mirror.example/debian-security bookworm-security main"]


def test_mirror_url_covers_every_suite_and_security_beside_it() -> None:
    got = sources.resolve(("http://m.example/debian/",), ("http://ignored.example/debian",),
                          SUITES, ("main",), "bookworm", host=[])
    assert [s.line() for s in got] == [
        "deb http://m.example/debian bookworm main",
        "deb http://m.example/debian bookworm-updates main",
        "deb http://m.example/debian-security bookworm-security main"]


def test_stack_mirror_used_without_flag_and_odd_urls_skip_security(
        caplog: pytest.LogCaptureFixture) -> None:
    got = sources.resolve((), ("http://cache.example:3142/deb",), SUITES, ("main",), "bookworm",
                          host=[])
    assert [s.suite for s in got] == ["bookworm", "bookworm-updates"]
    assert "security" in caplog.text


def test_mirror_lines_and_errors() -> None:
    got = sources.resolve(("deb http://x.example/debian bookworm main",), (), SUITES, ("main",),
                          "bookworm", host=[])
    assert got == [AptSource("http://x.example/debian", "bookworm", ("main",))]
    with pytest.raises(UsageError, match="--mirror"):
        sources.resolve((), (), SUITES, ("main",), "bookworm",
                        host=[AptSource("http://x", "trixie", ("main",))])
    with pytest.raises(UsageError, match="want a URL"):
        sources.resolve(("mirror.example",), (), SUITES, ("main",), "bookworm", host=[])
    with pytest.raises(UsageError):  # components do not match
        sources.resolve((), (), SUITES, ("main",), "bookworm",
                        host=[AptSource("http://x", "bookworm", ("contrib",))])
