"""Round trips and parsing of descriptor, platform, manifest, index and config values."""

from __future__ import annotations

import json

import pytest

from lifecycle.errors import ImageError, UsageError
from lifecycle.oci import mediatypes as mt
from lifecycle.oci.config import ConfigFile, History, RunConfig
from lifecycle.oci.descriptor import Descriptor
from lifecycle.oci.digest import Digest
from lifecycle.oci.manifest import Index, Manifest
from lifecycle.oci.platform import Platform

D1 = Digest.of(b"one")
D2 = Digest.of(b"two")


def test_descriptor_round_trip() -> None:
    d = Descriptor(mt.OCI_MANIFEST, D1, 3, {"a": "b"}, Platform("linux", "arm64", "v8"),
                   ("https://x",), "art")
    assert Descriptor.from_dict(d.to_dict()) == d


def test_manifest_round_trip_is_byte_stable() -> None:
    m = Manifest(Descriptor(mt.OCI_CONFIG, D1, 3),
                 (Descriptor(mt.OCI_LAYER_GZIP, D2, 10),), annotations={"k": "v"})
    raw = m.to_json()
    assert Manifest.from_json(raw) == m
    assert Manifest.from_json(raw).to_json() == raw
    assert json.loads(raw)["schemaVersion"] == 2


def test_docker_manifest_parses() -> None:
    raw = json.dumps({"schemaVersion": 2, "mediaType": mt.DOCKER_MANIFEST,
                      "config": {"mediaType": mt.DOCKER_CONFIG, "digest": str(D1), "size": 3},
                      "layers": [{"mediaType": mt.DOCKER_LAYER_GZIP, "digest": str(D2),
                                  "size": 1}]}).encode()
    m = Manifest.from_json(raw)
    assert m.media_type == mt.DOCKER_MANIFEST and m.layers[0].digest == D2


@pytest.mark.parametrize("raw", [b"[]", b"{", b'{"schemaVersion":1}',
                                 b'{"schemaVersion":2,"config":{"digest":"sha256:x"}}'])
def test_bad_manifest_rejected(raw: bytes) -> None:
    with pytest.raises(ImageError):
        Manifest.from_json(raw)


def test_index_select_by_platform() -> None:
    amd = Descriptor(mt.OCI_MANIFEST, D1, 1, platform=Platform("linux", "amd64"))
    arm = Descriptor(mt.OCI_MANIFEST, D2, 1, platform=Platform("linux", "arm64"))
    armv7 = Descriptor(mt.OCI_MANIFEST, D2, 2, platform=Platform("linux", "arm", "v7"))
    idx = Index((amd, arm, armv7))
    assert Index.from_json(idx.to_json()) == idx
    assert idx.select(Platform.parse("linux/arm64/v8")) == arm
    assert idx.select(Platform.parse("linux/amd64")) == amd
    assert idx.select(Platform.parse("linux/arm/v7")) == armv7
    with pytest.raises(ImageError, match="linux/s390x"):
        idx.select(Platform("linux", "s390x"))


def test_platform_parse() -> None:
    assert str(Platform.parse("linux/arm/v7")) == "linux/arm/v7"
    with pytest.raises(UsageError):
        Platform.parse("linux")


def test_config_round_trip_keeps_unknown_fields() -> None:
    raw = json.dumps({
        "architecture": "amd64", "os": "linux", "os.features": ["x"], "docker_version": "24",
        "config": {"Env": ["A=1"], "Cmd": ["sh"], "Labels": {"l": "v"}, "Healthcheck": {"T": 1},
                   "ExposedPorts": {"80/tcp": {}}},
        "rootfs": {"type": "layers", "diff_ids": [str(D1)]},
        "history": [{"created_by": "x", "empty_layer": True}]}).encode()
    c = ConfigFile.from_json(raw)
    assert c.extra["docker_version"] == "24" and c.extra["os.features"] == ["x"]
    assert c.config.extra == {"Healthcheck": {"T": 1}}
    assert c.config.exposed_ports == ("80/tcp",)
    assert c.history == (History(created_by="x", empty_layer=True),)
    again = ConfigFile.from_json(c.to_json())
    assert again == c
    assert json.loads(c.to_json()) == json.loads(raw)


def test_config_empty_cmd_is_kept() -> None:
    c = ConfigFile("amd64", "linux", config=RunConfig(cmd=(), entrypoint=("/cnb/launcher",)))
    assert json.loads(c.to_json())["config"]["Cmd"] == []
    assert ConfigFile.from_json(c.to_json()).config.cmd == ()
