"""Env-file rules (buildpack.md "Environment Variable Modification Rules"): table tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.buildpack import env as e
from lifecycle.buildpack.env import LayerEnv

L1 = "/layers/bp_a/a"
L2 = "/layers/bp_a/b"


@pytest.mark.parametrize(("files", "before", "want"), [
    # no suffix: override (Buildpack API >= 0.5)
    ({"V": "new"}, {"V": "old"}, {"V": "new"}),
    ({"V.override": "new"}, {"V": "old"}, {"V": "new"}),
    # default only when unset or empty
    ({"V.default": "d"}, {}, {"V": "d"}),
    ({"V.default": "d"}, {"V": ""}, {"V": "d"}),
    ({"V.default": "d"}, {"V": "set"}, {"V": "set"}),
    # append / prepend without a delim: no separator (Go lifecycle)
    ({"V.append": "x"}, {"V": "old"}, {"V": "oldx"}),
    ({"V.prepend": "x"}, {"V": "old"}, {"V": "xold"}),
    ({"V.append": "x"}, {}, {"V": "x"}),
    ({"V.prepend": "x"}, {}, {"V": "x"}),
    # .delim applies to the same directory
    ({"V.append": "x", "V.delim": ":"}, {"V": "old"}, {"V": "old:x"}),
    ({"V.prepend": "x", "V.delim": " "}, {"V": "old"}, {"V": "x old"}),
    ({"V.append": "x", "V.delim": "::"}, {}, {"V": "x"}),
    # contents verbatim: no trimming, no shell evaluation
    ({"V": " $HOME\n"}, {}, {"V": " $HOME\n"}),
    # unknown suffixes and a lone delim are no operations
    ({"V.bogus": "x", "W.delim": ":"}, {"V": "old"}, {"V": "old"}),
    # the name is up to the first period
    ({"V.append.x": "y"}, {"V": "old"}, {"V": "old"}),
])
def test_suffix_rules(files: dict[str, str], before: dict[str, str],
                      want: dict[str, str]) -> None:
    assert e.apply_ops(before, e.parse_env_dir(files, "override")) == want


def test_operator_env_no_suffix_means_default() -> None:
    assert e.with_operator_env({"V": "bp"}, {"V": "op"}) == {"V": "bp"}
    assert e.with_operator_env({}, {"V": "op"}) == {"V": "op"}
    assert e.with_operator_env({"V": "bp"}, {"V.override": "op"}) == {"V": "op"}


def _layer(path: str, env: dict[str, str] | None = None, build: dict[str, str] | None = None,
           roots: frozenset[str] = frozenset()) -> LayerEnv:
    return LayerEnv(path, roots, (env or {}, build or {}))


# precedence across layers of one buildpack (alphabetical) and across buildpacks (group order)
@pytest.mark.parametrize(("bps", "want"), [
    # override: later layer wins, later buildpack wins
    ([[_layer(L1, {"V": "a"}), _layer(L2, {"V": "b"})]], "b"),
    ([[_layer(L1, {"V": "a"})], [_layer(L2, {"V": "b"})]], "b"),
    # env.build overrides env/ within a layer
    ([[_layer(L1, {"V": "env"}, {"V": "build"})]], "build"),
    # default: the earliest wins (earlier layer, earlier buildpack, env/ over env.build/)
    ([[_layer(L1, {"V.default": "a"}), _layer(L2, {"V.default": "b"})]], "a"),
    ([[_layer(L1, {"V.default": "a"})], [_layer(L2, {"V.default": "b"})]], "a"),
    ([[_layer(L1, {"V.default": "env"}, {"V.default": "build"})]], "env"),
    # append: earlier first; env/ before env.build/
    ([[_layer(L1, {"V.append": "a", "V.delim": ":"}),
       _layer(L2, {"V.append": "b", "V.delim": ":"})]], "a:b"),
    ([[_layer(L1, {"V.append": "a", "V.delim": ":"})],
      [_layer(L2, {"V.append": "b", "V.delim": ":"})]], "a:b"),
    ([[_layer(L1, {"V.append": "e", "V.delim": ","}, {"V.append": "b", "V.delim": ","})]],
     "e,b"),
    # prepend: mirror image (later buildpack / later layer / env.build first)
    ([[_layer(L1, {"V.prepend": "a", "V.delim": ":"}),
       _layer(L2, {"V.prepend": "b", "V.delim": ":"})]], "b:a"),
    ([[_layer(L1, {"V.prepend": "a", "V.delim": ":"})],
      [_layer(L2, {"V.prepend": "b", "V.delim": ":"})]], "b:a"),
    ([[_layer(L1, {"V.prepend": "e", "V.delim": ","}, {"V.prepend": "b", "V.delim": ","})]],
     "b,e"),
    # a delim of one layer does not apply to another layer's file
    ([[_layer(L1, {"V.append": "a", "V.delim": ":"}), _layer(L2, {"V.append": "b"})]], "ab"),
])
def test_precedence(bps: list[list[LayerEnv]], want: str) -> None:
    env: dict[str, str] = {}
    for layers in bps:
        env = e.apply_layers(env, layers)
    assert env["V"] == want


def test_root_dirs_build_and_launch() -> None:
    layer = LayerEnv(L1, frozenset({"bin", "lib", "include", "pkgconfig"}))
    got = e.apply_layer({"PATH": "/usr/bin"}, layer)
    assert got == {"PATH": f"{L1}/bin:/usr/bin", "LD_LIBRARY_PATH": f"{L1}/lib",
                   "LIBRARY_PATH": f"{L1}/lib", "CPATH": f"{L1}/include",
                   "PKG_CONFIG_PATH": f"{L1}/pkgconfig"}
    launch = e.apply_layer({}, layer, e.LAUNCH_ROOT_DIRS)
    assert launch == {"PATH": f"{L1}/bin", "LD_LIBRARY_PATH": f"{L1}/lib"}


def test_later_buildpack_paths_come_first() -> None:
    env = e.apply_layers({"PATH": "/usr/bin"}, [LayerEnv(L1, frozenset({"bin"}))])
    env = e.apply_layers(env, [LayerEnv("/layers/bp_b/x", frozenset({"bin"}))])
    assert env["PATH"] == f"/layers/bp_b/x/bin:{L1}/bin:/usr/bin"


def test_root_dirs_before_env_files_of_same_layer() -> None:
    layer = LayerEnv(L1, frozenset({"bin"}), ({"PATH.override": "/only"},))
    assert e.apply_layer({"PATH": "/usr/bin"}, layer)["PATH"] == "/only"


def test_read_layer_env_build_excludes_env_launch(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    for sub in ("bin", "env", "env.build", "env.launch", "env.launch/web"):
        (layer / sub).mkdir(parents=True)
    (layer / "env" / "A").write_text("env")
    (layer / "env.build" / "B").write_text("build")
    (layer / "env.launch" / "C").write_text("launch")
    got = e.read_layer_env(layer)
    assert got.root_dirs == frozenset({"bin"})
    assert got.env_dirs == ({"A": "env"}, {"B": "build"})
    env = e.apply_layer({}, got)
    assert "C" not in env and env["A"] == "env" and env["B"] == "build"


def test_read_env_dir_missing_and_subdirs(tmp_path: Path) -> None:
    assert e.read_env_dir(tmp_path / "nope") == {}
    (tmp_path / "sub").mkdir()
    (tmp_path / "X").write_bytes(b"v\n")
    assert e.read_env_dir(tmp_path) == {"X": "v\n"}
