"""Spec file models: group, plan, order, system, analyzed, run (platform.md file formats)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from lifecycle.buildpack.targets import Distro
from lifecycle.errors import FileFormatError
from lifecycle.platform.files import analyzed, group, order, plan, run, system
from lifecycle.platform.files.group import Group, GroupEntry
from lifecycle.platform.files.plan import Plan, PlanEntry, Provider, Require


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_group_round_trip(tmp_path: Path) -> None:
    g = Group((GroupEntry("a/b", "1.0.0", "0.12", "https://x"), GroupEntry("c", "2", "0.7")),
              (GroupEntry("ext", "1", "0.12", extension=True),))
    group.dump(tmp_path / "group.toml", g)
    data = tomllib.loads((tmp_path / "group.toml").read_text())
    assert data["group"][0] == {"id": "a/b", "version": "1.0.0", "api": "0.12",
                                "homepage": "https://x"}
    assert group.load(tmp_path / "group.toml") == g


def test_group_requires_api(tmp_path: Path) -> None:
    p = write(tmp_path, "group.toml", '[[group]]\nid = "a"\nversion = "1"\n')
    with pytest.raises(FileFormatError, match=r"group.toml: group\[0\].*'api'"):
        group.load(p)


def test_group_rejects_unknown_key(tmp_path: Path) -> None:
    p = write(tmp_path, "group.toml", '[[group]]\nid="a"\nversion="1"\napi="0.12"\nfoo=1\n')
    with pytest.raises(FileFormatError, match="foo"):
        group.load(p)


def test_plan_round_trip(tmp_path: Path) -> None:
    p = Plan((PlanEntry((Provider("a", "1"), Provider("x", "1", True)),
                        (Require("n", {"version": "1"}), Require("n"))),))
    plan.dump(tmp_path / "plan.toml", p)
    assert plan.load(tmp_path / "plan.toml") == p
    assert p.find("a") == (Require("n", {"version": "1"}), Require("n"))
    assert p.find("x") == () and len(p.find("x", extension=True)) == 2


def test_plan_entry_needs_providers(tmp_path: Path) -> None:
    pth = write(tmp_path, "plan.toml", '[[entries]]\nproviders = []\n'
                '[[entries.requires]]\nname = "n"\n')
    with pytest.raises(FileFormatError, match=r"entries\[0\].providers"):
        plan.load(pth)


def test_plan_entry_with_two_names_rejected(tmp_path: Path) -> None:
    pth = write(tmp_path, "plan.toml", '[[entries]]\n[[entries.providers]]\nid="a"\n'
                'version="1"\n[[entries.requires]]\nname="n"\n[[entries.requires]]\nname="m"\n')
    with pytest.raises(FileFormatError, match="share one name"):
        plan.load(pth)


def test_empty_plan(tmp_path: Path) -> None:
    plan.dump(tmp_path / "p.toml", Plan())
    assert plan.load(tmp_path / "p.toml") == Plan()


def test_order_parse(tmp_path: Path) -> None:
    p = write(tmp_path, "order.toml", '[[order]]\n[[order.group]]\nid="a"\nversion="1"\n'
              'optional=true\n[[order-extensions]]\n[[order-extensions.group]]\nid="e"\n'
              'version="2"\n')
    o = order.load(p)
    assert o.order[0].group[0] == order.OrderEntry("a", "1", True)
    assert o.order_extensions[0].group[0].extension
    order.dump(tmp_path / "o2.toml", o)
    assert order.load(tmp_path / "o2.toml") == o


def test_order_requires_version(tmp_path: Path) -> None:
    p = write(tmp_path, "order.toml", '[[order]]\n[[order.group]]\nid="a"\n')
    with pytest.raises(FileFormatError, match=r"order.toml: order\[0\].group\[0\].*version"):
        order.load(p)


def test_system_parse_and_missing(tmp_path: Path) -> None:
    p = write(tmp_path, "system.toml", '[[system.pre.buildpacks]]\nid="p"\nversion="1"\n'
              '[[system.post.buildpacks]]\nid="q"\nversion="2"\noptional=true\n')
    s = system.load(p)
    assert [e.id for e in s.pre] == ["p"] and s.post[0].optional
    assert system.load(tmp_path / "nope.toml") == system.System()
    system.dump(tmp_path / "s2.toml", s)
    assert system.load(tmp_path / "s2.toml") == s


def test_analyzed_reads_variant_and_arch_variant(tmp_path: Path) -> None:
    for key in ("variant", "arch-variant"):
        p = write(tmp_path, f"{key}.toml", '[image]\nreference="r@sha256:1"\n[run-image]\n'
                  f'reference="ri"\nimage="img"\n[run-image.target]\nos="linux"\narch="arm"\n'
                  f'{key}="v7"\n[run-image.target.distro]\nname="ubuntu"\nversion="22.04"\n')
        a = analyzed.load(p)
        t = a.run_image_target
        assert (t.os, t.arch, t.arch_variant, t.distro) == ("linux", "arm", "v7",
                                                            Distro("ubuntu", "22.04"))
        assert a.previous_image == "r@sha256:1"


def test_analyzed_writes_arch_variant(tmp_path: Path) -> None:
    a = analyzed.Analyzed(run_image=analyzed.RunImage(
        "ri", "img", target=analyzed.TargetMetadata("linux", "arm", "v7")),
        metadata={"app": [{"sha": "x"}]})
    analyzed.dump(tmp_path / "a.toml", a)
    data = tomllib.loads((tmp_path / "a.toml").read_text())
    assert data["run-image"]["target"] == {"os": "linux", "arch": "arm", "arch-variant": "v7"}
    assert analyzed.load(tmp_path / "a.toml") == a


def test_analyzed_missing_ok(tmp_path: Path) -> None:
    assert analyzed.load(tmp_path / "none.toml", missing_ok=True) == analyzed.Analyzed()
    with pytest.raises(FileFormatError):
        analyzed.load(tmp_path / "none.toml")


def test_run_toml(tmp_path: Path) -> None:
    p = write(tmp_path, "run.toml", '[[images]]\nimage="a/run"\nmirrors=["m/run"]\n')
    r = run.load(p)
    assert r.images[0].names() == ("a/run", "m/run") and r.find("m/run") == r.images[0]
    bad = write(tmp_path, "bad.toml", '[[images]]\nmirrors=["m/run"]\n')
    with pytest.raises(FileFormatError, match="image"):
        run.load(bad)
    run.dump(tmp_path / "r2.toml", r)
    assert run.load(tmp_path / "r2.toml") == r
