"""CA trust without update-ca-certificates: OpenSSL's subject hash (checked against openssl
and the host's own hash links), link names, and the bundle/link plan."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from inhouse_fixtures import EXAMPLE_CA, make_ca, openssl_hash

from lifecycle.errors import FileFormatError
from lifecycle.stack import cacerts
from lifecycle.stack.cacerts import Link


@pytest.mark.parametrize("subject", [
    "/CN=Plain Test CA",
    "/O=  Mixed   CASE\tCorp  /OU=Ünïcödé Ünit/CN=x",
    "/C=DE/ST=Berlin/O=Multi+OU=Valued RDN/CN=Test",
    "/DC=com/DC=example/emailAddress=CA@Example.COM/CN=ca",
])
def test_subject_hash_matches_openssl(tmp_path: Path, subject: str) -> None:
    cert = make_ca(tmp_path, subject)
    ders = cacerts.pem_certificates(cert.read_bytes(), str(cert))
    assert len(ders) == 1
    assert cacerts.subject_hash(ders[0]) == openssl_hash(cert)


def test_example_ca_hash() -> None:
    der = cacerts.pem_certificates(EXAMPLE_CA.read_bytes(), "x")[0]
    assert cacerts.subject_hash(der) == "db3e027a"


def test_subject_hash_matches_the_hosts_hash_links() -> None:
    """Every ``HASH.N`` link openssl rehash made in the host's /etc/ssl/certs."""
    certs = Path("/etc/ssl/certs")
    links = [p for p in certs.glob("????????.[0-9]") if p.is_symlink()] if certs.is_dir() else []
    if len(links) < 10:
        pytest.skip("no hashed CA directory on this host")
    for link in links:
        ders = cacerts.pem_certificates((certs / os.readlink(link)).read_bytes(), str(link))
        if len(ders) == 1:
            assert cacerts.subject_hash(ders[0]) == link.name[:8], link


def test_pem_parsing_errors() -> None:
    assert cacerts.pem_certificates(b"not a certificate", "x") == []
    bad = b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"
    with pytest.raises(FileFormatError, match="bad base64"):
        cacerts.pem_certificates(bad, "/x.crt")
    with pytest.raises(ValueError):
        cacerts.subject_hash(b"\x30\x03\x02\x01\x01")


def test_names_and_conf() -> None:
    assert cacerts.pem_link_name("usr/share/ca-certificates/mozilla/A (B), C.crt") == \
        "etc/ssl/certs/A_=B=__C.pem"
    conf = "# comment\nmozilla/A.crt\n!mozilla/B.crt\n\nmozilla/C.crt\n"
    assert cacerts.conf_list(conf) == ["mozilla/A.crt", "mozilla/C.crt"]
    text = cacerts.default_conf(["usr/share/ca-certificates/mozilla/Z.crt",
                                 "usr/share/ca-certificates/mozilla/A.crt"])
    assert text.startswith("# This file lists")
    assert cacerts.conf_list(text) == ["mozilla/A.crt", "mozilla/Z.crt"]


def test_plan_appends_to_an_existing_bundle(tmp_path: Path) -> None:
    other = make_ca(tmp_path, "/CN=Other", "other").read_bytes()
    mine = EXAMPLE_CA.read_bytes().rstrip(b"\n")  # update-ca-certificates adds the newline
    existing = {"etc/ssl/certs/db3e027a.0": "someone-else.pem"}
    p = cacerts.plan([("usr/local/share/ca-certificates/corp.crt", mine)], other,
                     existing.get)
    assert p.bundle == other + mine + b"\n"
    assert p.links == (
        Link("etc/ssl/certs/corp.pem", "/usr/local/share/ca-certificates/corp.crt"),
        Link("etc/ssl/certs/db3e027a.1", "corp.pem"))
    # already trusted (same certificate in the bundle): nothing to do
    again = cacerts.plan([("usr/local/share/ca-certificates/corp.crt", mine)], p.bundle,
                         {**existing, "etc/ssl/certs/corp.pem":
                          "/usr/local/share/ca-certificates/corp.crt"}.get)
    assert again.bundle == p.bundle and again.links == ()


def test_plan_rebuilds_without_a_bundle_and_refuses_non_pem(tmp_path: Path) -> None:
    a = make_ca(tmp_path, "/CN=A", "a").read_bytes()
    both = a + EXAMPLE_CA.read_bytes()
    p = cacerts.plan([("usr/share/ca-certificates/x/a.crt", a),
                      ("usr/local/share/ca-certificates/two.crt", both)], None, lambda _p: None)
    assert p.bundle == a + both
    a_hash = openssl_hash(tmp_path / "a.pem")
    assert [ln.path for ln in p.links][:2] == ["etc/ssl/certs/a.pem",
                                               f"etc/ssl/certs/{a_hash}.0"]
    assert p.links[-1] == Link("etc/ssl/certs/two.pem", "/usr/local/share/ca-certificates/two.crt")
    # a file with two certificates gets no hash link (openssl rehash skips it)
    assert len(p.links) == 3
    with pytest.raises(FileFormatError, match="no PEM certificate"):
        cacerts.plan([("usr/local/share/ca-certificates/bad.crt", b"junk")], None,
                     lambda _p: None)
