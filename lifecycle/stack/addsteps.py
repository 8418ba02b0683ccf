"""The steps of an in-house image's layer, each writing into an :class:`Overlay`.

Issue #7. Packages: each ``.deb`` unpacked as dpkg would (filters, symlinked directories),
its ``info/`` files written and the status file merged; maintainer scripts are not run (the
effects that matter are the next steps). Files: copied with their mode and owner. Users:
``/etc/passwd``, ``/etc/group`` (and shadow files) rewritten, home directories made. CA trust:
``/etc/ssl/certs`` updated as update-ca-certificates would (:mod:`lifecycle.stack.cacerts`)
when CA files were added or ca-certificates itself was installed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

from lifecycle.errors import StackBuildError
from lifecycle.stack import accounts, cacerts, debfile, dpkgdb
from lifecycle.stack.additions import FileSpec, UserSpec
from lifecycle.stack.overlay import Overlay

log = logging.getLogger(__name__)

ACCOUNT_FILES = ("etc/passwd", "etc/group", "etc/shadow", "etc/gshadow")
_CFG_NAME = re.compile(r"[0-9A-Za-z_-]+")
"""The names dpkg reads in dpkg.cfg.d (run-parts style)."""
_ACCOUNT_MODES = {"etc/passwd": 0o644, "etc/group": 0o644, "etc/shadow": 0o640,
                  "etc/gshadow": 0o640}


def _keep_meta(ov: Overlay, name: str, mode: int) -> tuple[int, int, int]:
    """(mode, uid, gid) of the file ``name`` has in the tree, else (``mode``, 0, 0)."""
    m = ov.lookup(ov.resolve(name))
    return (m.mode & 0o7777, m.uid, m.gid) if m is not None and m.isreg() else (mode, 0, 0)


def rewrite(ov: Overlay, name: str, data: bytes, mode: int = 0o644) -> None:
    """Write ``name`` anew, keeping the owner and mode the tree has for it."""
    m, uid, gid = _keep_meta(ov, name, mode)
    ov.add_bytes(name, data, m, uid, gid)


def image_filters(ov: Overlay) -> list[dpkgdb.Filter]:
    """The path filters dpkg in the image applies (``/etc/dpkg/dpkg.cfg.d/*``, then
    ``/etc/dpkg/dpkg.cfg``): e.g. the ``--dpkgopt`` values mmdebstrap left there."""
    d = "etc/dpkg/dpkg.cfg.d/"
    names = [n for n in ov.under(d) if _CFG_NAME.fullmatch(n[len(d):])]
    texts = [_text(ov, n) for n in [*sorted(names), "etc/dpkg/dpkg.cfg"]]
    return dpkgdb.config_filters(t for t in texts if t)


def add_packages(ov: Overlay, debs: Sequence[Path],
                 filters: Sequence[dpkgdb.Filter]) -> list[dpkgdb.Installed]:
    """Unpack ``debs`` (in apt's order) and update the dpkg database."""
    done: list[dpkgdb.Installed] = []
    for deb in debs:
        control = debfile.control_files(deb)
        fields = dpkgdb.parse_paragraph(control["control"].decode("utf-8", "replace"))
        paths, conff = ov.add_deb(deb, filters, dpkgdb.conffile_paths(control))
        pkg = dpkgdb.Installed(tuple(fields), conff, paths)
        for name, data in sorted(dpkgdb.info_files(pkg, control).items()):
            mode = 0o755 if name.rsplit(".", 1)[-1] in ("preinst", "postinst", "prerm",
                                                        "postrm", "config") else 0o644
            ov.add_bytes(name, data, mode)
        log.info("added %s %s (%d paths)", pkg.name, pkg.version, len(paths))
        done.append(pkg)
    if done:
        status = (ov.read(dpkgdb.STATUS) or b"").decode("utf-8", "replace")
        rewrite(ov, dpkgdb.STATUS, dpkgdb.merge_status(status, done).encode())
    return done


def add_files(ov: Overlay, files: Sequence[FileSpec]) -> None:
    """Copy ``files`` into the tree."""
    for f in files:
        ov.add_bytes(f.dest, f.src.read_bytes(), f.mode, f.uid, f.gid)
        log.info("added /%s", f.dest)


def _text(ov: Overlay, name: str) -> str | None:
    data = ov.read(name)
    return None if data is None else data.decode("utf-8", "replace")


def add_users(ov: Overlay, users: Sequence[UserSpec]) -> None:
    """Add ``users`` to the account files and make their home directories."""
    if not users:
        return
    before = accounts.AccountFiles(_text(ov, "etc/passwd") or "", _text(ov, "etc/group") or "",
                                   _text(ov, "etc/shadow"), _text(ov, "etc/gshadow"))
    has_bash = any(ov.lookup(ov.resolve(p)) is not None for p in ("bin/bash", "usr/bin/bash"))
    after, homes = accounts.add_users(before, users, "/bin/bash" if has_bash else "/bin/sh")
    for name, old, new in zip(ACCOUNT_FILES, _fields(before), _fields(after), strict=True):
        if new is not None and new != old:
            rewrite(ov, name, new.encode(), _ACCOUNT_MODES[name])
    for home in homes:
        where = ov.place(home.path)
        if not ov.is_dir(where):
            ov.ensure_parents(where)
            ov.add_dir(where, 0o755, home.uid, home.gid)
    log.info("added users %s", ", ".join(u.name for u in users))


def _fields(a: accounts.AccountFiles) -> tuple[str | None, ...]:
    return a.passwd, a.group, a.shadow, a.gshadow


def _existing_link(ov: Overlay, path: str) -> str | None:
    m = ov.lookup(path)
    if m is None:
        return None
    return m.linkname if m.issym() else ""


def _certs_under(ov: Overlay, directory: str) -> list[str]:
    return [n for n in ov.under(directory) if n.endswith(".crt")
            and (m := ov.lookup(ov.resolve(n))) is not None and m.isreg()]


def update_trust(ov: Overlay, added: set[str], ca_installed: bool) -> bool:
    """Trust CA files as update-ca-certificates would, if anything CA-related was added
    (``added``: the paths the earlier steps wrote). True if the tree changed."""
    local = _certs_under(ov, cacerts.LOCAL_DIR)
    touched = ca_installed or cacerts.CONF in added or any(
        n.startswith((cacerts.LOCAL_DIR + "/", cacerts.SHARE_DIR + "/")) for n in added)
    if not touched:
        return False
    for n in added:
        if n.startswith(cacerts.LOCAL_DIR + "/") and not n.endswith(".crt") and \
                (m := ov.lookup(n)) is not None and m.isreg():
            log.warning("/%s: not a .crt file, so update-ca-certificates (and pypack) "
                        "ignore it; name it *.crt to trust it", n)
    base_bundle = ov.read(cacerts.BUNDLE)
    rebuild = ca_installed or base_bundle is None
    if rebuild:
        conf = _text(ov, cacerts.CONF)
        if conf is None and ca_installed:
            conf = cacerts.default_conf(_certs_under(ov, cacerts.SHARE_DIR))
            ov.add_bytes(cacerts.CONF, conf.encode())
        chosen = [f"{cacerts.SHARE_DIR}/{r}" for r in cacerts.conf_list(conf or "")]
        chosen = [p for p in chosen if ov.read(p) is not None] + local
    else:
        chosen = [p for p in local if p in added]
    certs = [(p, _read(ov, p)) for p in chosen]
    if not certs:
        return False
    plan = cacerts.plan(certs, None if rebuild else base_bundle,
                        lambda p: _existing_link(ov, p))
    rewrite(ov, cacerts.BUNDLE, plan.bundle)
    for link in plan.links:
        ov.add_symlink(link.path, link.target)
    log.info("trusted %d CA file(s) in /%s", len(certs), cacerts.BUNDLE)
    return True


def _read(ov: Overlay, name: str) -> bytes:
    data = ov.read(name)
    if data is None:
        raise StackBuildError(f"/{name}: cannot read this CA file from the image")
    return data
