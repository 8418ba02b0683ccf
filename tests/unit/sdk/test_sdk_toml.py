"""lifecycle.sdk.toml: the tiny TOML writer reads back with tomllib as the same value."""

from __future__ import annotations

import math
import tomllib
from typing import Any

import pytest

from lifecycle.sdk import SdkError
from lifecycle.sdk import toml as sdk_toml

TRICKY = ['plain', 'with "quotes"', "back\\slash", "tab\there", "new\nline", "cr\rlf",
          "nul\x00byte", "bell\x07", "del\x7f", "unicode é ☃ 🐍", "", "'single'",
          '"""triple"""', "trailing space ", "#not a comment", "[not] a table", "${PORT}"]

DOCS: list[dict[str, Any]] = [
    {},
    {"a": 1, "b": True, "c": False, "d": -7, "e": 1.5, "f": "x"},
    {"processes": [{"type": "web", "command": ["python", "app.py"], "args": [],
                    "default": True, "working-dir": "/workspace"},
                   {"type": "worker", "command": ["bash", "-c", "run $X && done"],
                    "default": False, "exec-env": ["production", "test"]}],
     "labels": [{"key": "org.example.a", "value": "1"}],
     "slices": [{"paths": ["static/*", "/workspace/a"]}]},
    {"provides": [{"name": "python"}],
     "requires": [{"name": "python", "metadata": {"version": "3.11", "build": True,
                                                  "nested": {"deep": [1, 2, 3]}}}],
     "or": [{"provides": [{"name": "x"}]}, {"requires": [{"name": "y"}]}]},
    {"types": {"launch": True, "build": False, "cache": True},
     "metadata": {"key": "abc", "list": ["a", "b"], "table": {"x": 1, "y": {"z": "w"}},
                  "mixed": [1, "two", {"three": 3}], "empty-list": [], "empty-table": {},
                  "array-of-tables": [{"a": 1}, {"a": 2, "sub": {"b": [{"c": 1}]}}]}},
    {"weird keys": {"a.b": 1, "": 2, "ünï": 3, "quote\"d": 4, "1": 5}},
    {"entries": [{"name": n, "metadata": {"v": n}} for n in TRICKY]},
]


@pytest.mark.parametrize("doc", DOCS)
def test_round_trip(doc: dict[str, Any]) -> None:
    assert tomllib.loads(sdk_toml.dumps(doc)) == doc


@pytest.mark.parametrize("text", TRICKY)
def test_strings_round_trip(text: str) -> None:
    assert tomllib.loads(sdk_toml.dumps({"s": text, text: "as key"})) == \
        {"s": text, text: "as key"}


def test_every_code_point_below_256_round_trips() -> None:
    text = "".join(chr(i) for i in range(256))
    assert tomllib.loads(sdk_toml.dumps({"s": text}))["s"] == text


def test_tuples_are_arrays_and_special_floats() -> None:
    out = tomllib.loads(sdk_toml.dumps({"t": ("a", "b"), "inf": math.inf, "ninf": -math.inf,
                                        "nan": math.nan}))
    assert out["t"] == ["a", "b"] and out["inf"] == math.inf and out["ninf"] == -math.inf
    assert math.isnan(out["nan"])


def test_layout_is_readable() -> None:
    text = sdk_toml.dumps({"types": {"launch": True}, "metadata": {"k": "v"}})
    assert text == '[types]\nlaunch = true\n\n[metadata]\nk = "v"\n'
    text = sdk_toml.dumps({"processes": [{"type": "web", "command": ["a"]}]})
    assert text == '[[processes]]\ntype = "web"\ncommand = ["a"]\n'
    assert sdk_toml.dumps({}) == ""


@pytest.mark.parametrize("bad", [{"a": None}, {"a": [None]}, {"a": object()}, {1: "x"},
                                 {"a": {"b": {2: 1}}}])
def test_unwritable_values_are_refused(bad: dict[Any, Any]) -> None:
    with pytest.raises(SdkError):
        sdk_toml.dumps(bad)


def test_write_and_read(tmp_path: Any) -> None:
    path = tmp_path / "sub" / "x.toml"
    sdk_toml.write(path, {"a": {"b": "c"}})
    assert sdk_toml.read(path) == {"a": {"b": "c"}}
    assert sdk_toml.read(tmp_path / "missing.toml") == {}
    with pytest.raises(SdkError, match="missing.toml"):
        sdk_toml.read(tmp_path / "missing.toml", missing_ok=False)
    (tmp_path / "bad.toml").write_text("a = [")
    with pytest.raises(SdkError, match="bad.toml: invalid TOML"):
        sdk_toml.read(tmp_path / "bad.toml")
