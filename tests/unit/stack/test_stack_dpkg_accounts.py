"""Pure parts of adding packages and users: dpkg status paragraphs and filters, apt's
simulation output and configuration, account files."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.errors import StackBuildError
from lifecycle.stack import accounts, apt_host, dpkgdb
from lifecycle.stack.additions import UserSpec
from lifecycle.stack.lock import parse_dpkg_status
from lifecycle.stack.sources import AptSource

CONTROL = """\
Package: libjq1
Source: jq
Version: 1.6-2.1
Architecture: amd64
Maintainer: Someone <s@example.org>
Installed-Size: 359
Depends: libc6 (>= 2.14), libonig5 (>= 6.1.3)
Section: libs
Priority: optional
Multi-Arch: same
Homepage: https://github.com/stedolan/jq
Description: lightweight and flexible command-line JSON processor - shared library
 jq is like sed for JSON data.
 .
 This package contains the shared library.
"""


def test_status_paragraph_in_dpkg_order() -> None:
    pkg = dpkgdb.Installed(tuple(dpkgdb.parse_paragraph(CONTROL)),
                           (("/etc/jq.conf", "0" * 32),), ("/.", "/usr"))
    text = pkg.status_paragraph()
    keys = [ln.split(":")[0] for ln in text.splitlines() if not ln.startswith(" ")]
    assert keys == ["Package", "Status", "Priority", "Section", "Installed-Size", "Maintainer",
                    "Architecture", "Multi-Arch", "Source", "Version", "Depends", "Conffiles",
                    "Description", "Homepage"]
    assert "Status: install ok installed\n" in text
    assert "Conffiles:\n /etc/jq.conf " + "0" * 32 in text
    assert " .\n This package contains the shared library.\n" in text
    assert pkg.info_name == "libjq1:amd64"  # Multi-Arch: same
    assert pkg.list_text() == "/.\n/usr\n"
    files = dpkgdb.info_files(pkg, {"control": b"x", "md5sums": b"m", "shlibs": b"s"})
    assert sorted(files) == ["var/lib/dpkg/info/libjq1:amd64.list",
                             "var/lib/dpkg/info/libjq1:amd64.md5sums",
                             "var/lib/dpkg/info/libjq1:amd64.shlibs"]


def test_merge_status_replaces_and_sorts() -> None:
    base = ("Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\n"
            "Version: 1\n\nPackage: libjq1\nStatus: install ok installed\n"
            "Architecture: amd64\nVersion: 0.9\n\n")
    pkg = dpkgdb.Installed(tuple(dpkgdb.parse_paragraph(CONTROL)))
    merged = dpkgdb.merge_status(base, [pkg])
    assert merged.endswith("\n\n") and merged.count("Package:") == 2
    assert merged.index("libjq1") < merged.index("zlib1g")
    assert parse_dpkg_status(merged, "amd64") == {"libjq1": "1.6-2.1", "zlib1g": "1"}


def test_path_filters_last_match_wins() -> None:
    filters = dpkgdb.config_filters(["# mmdebstrap\npath-exclude=/usr/share/doc/*\n",
                                     "path-include /usr/share/doc/*/copyright\n"
                                     "force-unsafe-io\n"])
    assert filters == [(False, "/usr/share/doc/*"), (True, "/usr/share/doc/*/copyright")]
    assert dpkgdb.excluded("/usr/share/doc/jq/README", filters)
    assert not dpkgdb.excluded("/usr/share/doc/jq/copyright", filters)
    assert not dpkgdb.excluded("/usr/bin/jq", filters)
    later = [*filters, *dpkgdb.definition_filters(["/usr/share/doc/*/copyright"], [])]
    assert dpkgdb.excluded("/usr/share/doc/jq/copyright", later)
    assert dpkgdb.conffile_paths({"conffiles": b"/etc/a\nremove-on-upgrade /etc/b\n"}) == \
        ["/etc/a"]


def test_apt_simulation_and_config(tmp_path: Path) -> None:
    out = ("NOTE: This is only a simulation!\n"
           "Inst libonig5 (6.9.8-1 Debian:12.10/stable [amd64])\n"
           "Inst libc6 [2.36-9] (2.36-9+deb12u4 Debian:12.10/stable, Debian-Security:12/"
           "stable-security [amd64])\n"
           "Inst tzdata (2024a-0+deb12u1 Debian:12.10/stable [all])\n"
           "Inst foo:i386 (1:2.0 local [i386])\n"
           "Conf libonig5 (6.9.8-1 Debian:12.10/stable [amd64])\n")
    pkgs = apt_host.parse_simulation(out)
    assert [(p.name, p.version, p.arch, p.replaces) for p in pkgs] == [
        ("libonig5", "6.9.8-1", "amd64", None), ("libc6", "2.36-9+deb12u4", "amd64", "2.36-9"),
        ("tzdata", "2024a-0+deb12u1", "all", None), ("foo", "1:2.0", "i386", None)]
    assert pkgs[3].deb_name == "foo_1%3a2.0_i386.deb" and pkgs[0].pin() == "libonig5=6.9.8-1"
    conf = apt_host.config_text(tmp_path / "w", tmp_path / "lists", tmp_path / "debs", "arm64")
    assert f'Dir::State::status "{tmp_path}/w/status";' in conf
    assert f'Dir::Cache::archives "{tmp_path}/debs/";' in conf
    for want in ('APT::Architecture "arm64";', 'APT::Install-Recommends "false";',
                 'pkgCacheGen::Essential "none";', 'Debug::NoLocking "true";'):
        assert want in conf
    src = [AptSource("http://m.example/debian", "bookworm", ("main",))]
    assert apt_host.lists_key(src, "amd64") != apt_host.lists_key(src, "arm64")


PASSWD = "root:x:0:0:root:/root:/bin/bash\ncnb:x:1000:1000:CNB user:/home/cnb:/bin/bash\n"
GROUP = "root:x:0:\ncnb:x:1000:\nstaff:x:50:\n"


def test_add_users() -> None:
    files = accounts.AccountFiles(PASSWD, GROUP, "root:*:1:0:99999:7:::\n", "root:*::\n")
    new, homes = accounts.add_users(files, [
        UserSpec("svc", 1500, 1500), UserSpec("ops", 1600, 1000, home="/srv/ops"),
        UserSpec("web", 1700, 1700, group="www", shell="/usr/sbin/nologin"),
        UserSpec("cnb", 1000, 1000)], "/bin/bash")
    assert new.passwd.endswith("svc:x:1500:1500::/home/svc:/bin/bash\n"
                               "ops:x:1600:1000::/srv/ops:/bin/bash\n"
                               "web:x:1700:1700::/home/web:/usr/sbin/nologin\n")
    assert new.group.endswith("staff:x:50:\nsvc:x:1500:\nwww:x:1700:\n")  # ops joins cnb
    assert new.shadow is not None and new.shadow.endswith("svc:*::0:99999:7:::\n"
                                                          "ops:*::0:99999:7:::\n"
                                                          "web:*::0:99999:7:::\n")
    assert new.gshadow is not None and new.gshadow.endswith("svc:!::\nwww:!::\n")
    assert homes == [accounts.Home("home/svc", 1500, 1500), accounts.Home("srv/ops", 1600, 1000),
                     accounts.Home("home/web", 1700, 1700)]


@pytest.mark.parametrize(("user", "match"), [
    (UserSpec("cnb", 1001, 1001), "clashes with existing account cnb"),
    (UserSpec("other", 1000, 1000), "clashes with existing account cnb"),
    (UserSpec("svc", 1500, 50, group="svc"), "gid 50 belongs to group staff"),
    (UserSpec("svc", 1500, 51, group="staff"), "group staff has gid 50"),
    (UserSpec("staff", 1500, 1500), "a group staff exists"),
])
def test_add_users_refuses_clashes(user: UserSpec, match: str) -> None:
    with pytest.raises(StackBuildError, match=match):
        accounts.add_users(accounts.AccountFiles(PASSWD, GROUP), [user])
