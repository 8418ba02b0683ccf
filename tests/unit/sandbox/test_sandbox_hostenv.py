"""What a sandboxed program's environment keeps, gains and loses (lifecycle.sandbox.hostenv)."""

from __future__ import annotations

from pathlib import Path

from lifecycle.sandbox.hostenv import CA_INSIDE, CA_VARS, host_ca_bundle, sandbox_env


def test_credentials_are_stripped() -> None:
    env = {"CNB_REGISTRY_AUTH": '{"r": "Basic x"}', "DOCKER_CONFIG": "/root/.docker",
           "REGISTRY_AUTH_FILE": "/run/auth.json", "DOCKER_AUTH_CONFIG": "{}", "KEEP": "1"}
    assert sandbox_env(env, {}, ca_path=None) == {"KEEP": "1"}


def test_host_proxies_fill_in_only_what_the_command_lacks() -> None:
    host = {"HTTPS_PROXY": "http://host:1", "https_proxy": "http://host:1",
            "NO_PROXY": "localhost", "HTTP_PROXY": "", "OTHER": "x"}
    got = sandbox_env({"HTTPS_PROXY": "http://mine:2"}, host, ca_path=None)
    assert got == {"HTTPS_PROXY": "http://mine:2", "https_proxy": "http://host:1",
                   "NO_PROXY": "localhost"}


def test_ca_variables_point_inside_when_bound() -> None:
    got = sandbox_env({"SSL_CERT_FILE": "/host/path.pem"}, {}, ca_path=CA_INSIDE)
    assert got == dict.fromkeys(CA_VARS, CA_INSIDE)
    assert sandbox_env({"SSL_CERT_FILE": "/x"}, {}, ca_path=None) == {"SSL_CERT_FILE": "/x"}


def test_host_ca_bundle_prefers_ssl_cert_file(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert host_ca_bundle({"SSL_CERT_FILE": str(bundle)}) == str(bundle.resolve())
    missing = host_ca_bundle({"SSL_CERT_FILE": str(tmp_path / "none")})
    assert missing is None or missing != str(tmp_path / "none")
