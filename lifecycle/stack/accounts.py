"""Accounts added to an image: new ``/etc/passwd``, ``/etc/group``, shadow files, home dirs.

Issue #7 ``[[users]]`` (and the CNB user of an in-house stack). Pure: the caller passes the
current file contents and gets the new ones. What ``useradd`` would write, minus anything
time-dependent (the shadow entry has no last-change date, as the mmdebstrap user hook writes
it). A user that already exists with the same uid is left alone; a name or uid held by another
account is an error. The primary group is ``group`` if given, else an existing group with
``gid``, else a new group named after the user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lifecycle.errors import StackBuildError
from lifecycle.stack.additions import UserSpec


@dataclass(frozen=True, slots=True)
class AccountFiles:
    """The account databases of a tree (None: the file does not exist)."""

    passwd: str
    group: str
    shadow: str | None = None
    gshadow: str | None = None


@dataclass(frozen=True, slots=True)
class Home:
    """A home directory to create (tree path, no leading ``/``) and its owner."""

    path: str
    uid: int
    gid: int


def _table(text: str) -> list[list[str]]:
    return [ln.split(":") for ln in text.splitlines() if ln and not ln.startswith("#")]


def _append(text: str, line: str) -> str:
    return text + ("" if not text or text.endswith("\n") else "\n") + line + "\n"


def _group_for(user: UserSpec, groups: list[list[str]]) -> tuple[str, bool]:
    """(group name, True if it must be created)."""
    by_name = {g[0]: g for g in groups if len(g) >= 3}
    by_gid = {g[2]: g for g in groups if len(g) >= 3}
    if user.group is not None:
        g = by_name.get(user.group)
        if g is not None:
            if g[2] != str(user.gid):
                raise StackBuildError(f"user {user.name}: group {user.group} has gid {g[2]}, "
                                      f"not {user.gid}")
            return user.group, False
        if str(user.gid) in by_gid:
            raise StackBuildError(f"user {user.name}: gid {user.gid} belongs to group "
                                  f"{by_gid[str(user.gid)][0]}, not {user.group}")
        return user.group, True
    if str(user.gid) in by_gid:
        return by_gid[str(user.gid)][0], False
    if user.name in by_name:
        raise StackBuildError(f"user {user.name}: a group {user.name} exists with gid "
                              f"{by_name[user.name][2]}; set gid or group")
    return user.name, True


def add_users(files: AccountFiles, users: Sequence[UserSpec],
              default_shell: str = "/bin/sh") -> tuple[AccountFiles, list[Home]]:
    """``files`` with ``users`` added, and the home directories to create."""
    cur = files
    homes: list[Home] = []
    for u in users:
        accounts = _table(cur.passwd)
        same = [a for a in accounts if a[0] == u.name or (len(a) > 2 and a[2] == str(u.uid))]
        if any(a[0] == u.name and a[2] == str(u.uid) for a in same if len(a) > 2):
            continue
        if same:
            a = same[0]
            raise StackBuildError(f"user {u.name} (uid {u.uid}): clashes with existing "
                                  f"account {a[0]} (uid {a[2] if len(a) > 2 else '?'})")
        group, new_group = _group_for(u, _table(cur.group))
        shell = u.shell or default_shell
        passwd = _append(cur.passwd, f"{u.name}:x:{u.uid}:{u.gid}::{u.home_dir}:{shell}")
        grp = _append(cur.group, f"{group}:x:{u.gid}:") if new_group else cur.group
        shadow = None if cur.shadow is None else _append(cur.shadow,
                                                         f"{u.name}:*::0:99999:7:::")
        gshadow = cur.gshadow
        if gshadow is not None and new_group:
            gshadow = _append(gshadow, f"{group}:!::")
        cur = AccountFiles(passwd, grp, shadow, gshadow)
        homes.append(Home(u.home_dir.strip("/"), u.uid, u.gid))
    return cur, homes


def user_ids(passwd: str, name_or_uid: str) -> tuple[int, int] | None:
    """(uid, gid) of an account by name or uid, None if absent."""
    for a in _table(passwd):
        if len(a) > 3 and name_or_uid in (a[0], a[2]):
            try:
                return int(a[2]), int(a[3])
            except ValueError:
                return None
    return None
