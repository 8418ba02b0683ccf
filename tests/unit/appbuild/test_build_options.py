"""``pypack build`` option handling that needs no build: --cache specs, the previous image,
the cache choice with --clear-cache, and --sandbox none's environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.appbuild import BuildOptions, _cache, _previous
from lifecycle.cache import VolumeCache
from lifecycle.cli.build import cache_option
from lifecycle.client import Context
from lifecycle.errors import UsageError
from lifecycle.sandbox import HostRunner


@pytest.mark.parametrize("spec,want", [
    (None, (None, None)),
    ("type=build;format=image;name=reg.example/cache:1", ("reg.example/cache:1", None)),
    ("format=volume", (None, None)),
    ("type=build;format=volume;name=shared", (None, "/home/store/cache/volumes/shared")),
    ("format=bind;source=/srv/cache", (None, "/srv/cache")),
    (" format=bind ; source=/srv/c ", (None, "/srv/c")),
])
def test_cache_specs(spec: str | None, want: tuple[str | None, str | None]) -> None:
    assert cache_option(spec, Path("/home/store/cache")) == want


@pytest.mark.parametrize("spec,message", [
    ("format=image", "needs name="),
    ("format=bind", "needs source="),
    ("format=volume;name=../x", "not a volume name"),
    ("type=launch;format=volume", "only type=build"),
    ("format=tarball", "unknown format"),
    ("format=image;nmae=x", "is not type=, format=, name= or source="),
])
def test_bad_cache_specs(spec: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        cache_option(spec, Path("/home/store/cache"))


def test_previous_image() -> None:
    assert _previous(BuildOptions("app")) == "store:app"
    assert _previous(BuildOptions("reg.example/app", publish=True)) == "reg.example/app"
    assert _previous(BuildOptions("app", output="oci:/out:app")) == "oci:/out:app"
    assert _previous(BuildOptions("app", output="docker-archive:/a.tar")) == "store:app"


def test_clear_cache_empties_the_chosen_volume(tmp_path: Path) -> None:
    ctx = Context(store_root=str(tmp_path / "home"))
    work, bound = tmp_path / "work", tmp_path / "bound"
    for d in (work / "cache", bound):
        d.mkdir(parents=True)
        (d / "old").write_text("x")
    cache = _cache(BuildOptions("app", cache_dir=str(bound)), ctx, work)
    assert isinstance(cache, VolumeCache) and (bound / "old").exists()
    _cache(BuildOptions("app", cache_dir=str(bound), clear_cache=True), ctx, work)
    assert not (bound / "old").exists() and (work / "cache" / "old").exists()
    _cache(BuildOptions("app", clear_cache=True), ctx, work)
    assert not (work / "cache" / "old").exists()


def test_host_runner_gets_what_a_sandbox_gets(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("pem")
    host = {"HTTPS_PROXY": "http://proxy:3128", "no_proxy": "localhost",
            "SSL_CERT_FILE": str(bundle), "HOME": "/root"}
    env = HostRunner(host, host_ca=True).env_for(
        {"PATH": "/bin", "CNB_REGISTRY_AUTH": "{}", "DOCKER_CONFIG": "/d"})
    assert env["HTTPS_PROXY"] == "http://proxy:3128" and env["no_proxy"] == "localhost"
    assert env["SSL_CERT_FILE"] == env["PIP_CERT"] == str(bundle)
    assert "CNB_REGISTRY_AUTH" not in env and "DOCKER_CONFIG" not in env
    assert "HOME" not in env  # the command's own environment decides HOME
    assert HostRunner().env_for({"A": "1"}) == {"A": "1"}  # platforms' direct use: unchanged
