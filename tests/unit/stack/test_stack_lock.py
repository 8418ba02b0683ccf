"""stack.lock: dpkg status parsing, round trip, schema errors, pins."""

from __future__ import annotations

from pathlib import Path

import pytest
from stack_fixtures import write_stack

from lifecycle.errors import FileFormatError
from lifecycle.stack import definition
from lifecycle.stack import lock as stacklock

STATUS = """\
Package: zlib1g
Status: install ok installed
Priority: required
Architecture: amd64
Version: 1:1.2.13.dfsg-1
Description: compression library
 a continuation line: with a colon

Package: removed-one
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: bash
Essential: yes
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b7

Package: libc6
Status: install ok installed
Architecture: i386
Version: 2.36-9

Package: tzdata
Status: install ok installed
Architecture: all
Version: 2025b-0+deb12u1
"""


def test_parse_dpkg_status() -> None:
    got = stacklock.parse_dpkg_status(STATUS, "amd64")
    assert got == {"bash": "5.2.15-2+b7", "libc6:i386": "2.36-9",
                   "tzdata": "2025b-0+deb12u1", "zlib1g": "1:1.2.13.dfsg-1"}
    assert list(got) == sorted(got)


def test_round_trip_and_pins(tmp_path: Path) -> None:
    pkgs = stacklock.parse_dpkg_status(STATUS, "amd64")
    lk = stacklock.Lock({"run": stacklock.ImageLock("essential", ("python3",), pkgs)})
    path = tmp_path / "stack.lock"
    stacklock.dump(path, lk)
    assert path.read_text().startswith("# Written by `pypack stack build`")
    again = stacklock.load(path)
    assert again == lk
    assert again is not None
    assert again.images["run"].pins()[0] == "bash=5.2.15-2+b7"
    assert "zlib1g=1:1.2.13.dfsg-1" in again.images["run"].pins()
    assert stacklock.load(tmp_path / "missing.lock") is None


def test_entry_applies_only_while_the_definition_matches(tmp_path: Path) -> None:
    d = definition.load(write_stack(tmp_path))
    entry = stacklock.ImageLock("essential", ("python3",), {"python3": "3.11.2-1+b1"})
    lk = stacklock.Lock({"run": entry, "build": entry})
    assert lk.get(d.run) == entry
    assert lk.get(d.build) is None  # variant apt, other packages: stale


@pytest.mark.parametrize(("text", "where"), [
    ('version = 2\n[images]\n', "version"),
    ('version = 1\n[images.other]\nvariant = "a"\ninclude = []\npackages = []\n', "images"),
    ('version = 1\n[images.run]\nvariant = "a"\ninclude = []\npackages = ["no version"]\n',
     "images.run.packages[0]"),
    ('version = 1\n[images.run]\nvariant = "a"\ninclude = []\npackages = ["a=1", "a=2"]\n',
     "images.run.packages"),
])
def test_errors_name_file_and_key(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "stack.lock"
    path.write_text(text)
    with pytest.raises(FileFormatError) as info:
        stacklock.load(path)
    assert str(path) in str(info.value)
    assert where in str(info.value)
