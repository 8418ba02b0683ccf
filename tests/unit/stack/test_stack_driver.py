"""The mmdebstrap driver's edges: progress lines, the environment it passes, the cache tidy."""

from __future__ import annotations

import logging
from pathlib import Path

from lifecycle.stack import build, mmdebstrap


def test_progress_lines() -> None:
    get = ("Get:12 http://mirror.example/debian bookworm/main amd64 libc6 amd64 "
           "2.36-9+deb12u14 [2758 kB]")
    assert mmdebstrap.classify(get) == (logging.INFO, "download libc6 2.36-9+deb12u14 (2758 kB)")
    assert mmdebstrap.classify("I: installing essential packages...") == (
        logging.INFO, "installing essential packages...")
    assert mmdebstrap.classify("I: running --customize-hook in shell: sh -c x")[0] == \
        logging.DEBUG
    assert mmdebstrap.classify("E: Version '1' for 'x' was not found") == (
        logging.ERROR, "Version '1' for 'x' was not found")
    assert mmdebstrap.classify("W: something") == (logging.WARNING, "something")
    idx = "Get:1 http://mirror.example/debian bookworm InRelease [151 kB]"
    assert mmdebstrap.classify(idx)[0] == logging.DEBUG
    assert mmdebstrap.classify("Setting up bash ...")[0] == logging.DEBUG


def test_environment_is_cleaned() -> None:
    env = mmdebstrap.clean_env({"PATH": "/root/.pyenv/shims:/usr/bin", "HOME": "/root",
                                "PYTHONDONTWRITEBYTECODE": "0", "http_proxy": "http://p:3128",
                                "HTTPS_PROXY": "http://p:3128", "APT_CONFIG": "/x",
                                "LD_PRELOAD": "/x.so"})
    assert env == {"PATH": mmdebstrap.SYSTEM_PATH, "HOME": "/root",
                   "http_proxy": "http://p:3128", "HTTPS_PROXY": "http://p:3128"}


def test_cache_keeps_only_debs(tmp_path: Path) -> None:
    cache = tmp_path / "apt"
    (cache / "partial").mkdir(parents=True)
    (cache / "lock").write_text("")
    (cache / "a_1_amd64.deb").write_text("deb")
    build.tidy_cache(cache)
    assert sorted(p.name for p in cache.iterdir()) == ["a_1_amd64.deb"]
