"""A build into the local store never talks to a registry, so the CLI must not pay for importing
``requests`` (and urllib3, ssl, ...) on start-up: the registry modules load on first use."""

from __future__ import annotations

import subprocess
import sys


def test_build_imports_do_not_load_requests() -> None:
    code = ("import lifecycle.cli.build, lifecycle.appbuild, sys; "
            "print('requests' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "False"


def test_image_cache_still_importable_from_package() -> None:
    from lifecycle.cache import ImageCache
    from lifecycle.cache.image import ImageCache as Direct

    assert ImageCache is Direct
