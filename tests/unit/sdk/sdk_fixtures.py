"""A fake buildpack environment for SDK tests (uniquely named helper module)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BUILDPACK_TOML = """api = "0.12"
[buildpack]
id = "test/sdk"
version = "1.2.3"
name = "SDK test"
[metadata]
answer = 42
"""


@dataclass
class Dirs:
    """Directories and the ``CNB_*`` environment one detect/build gets."""

    root: Path

    def __post_init__(self) -> None:
        for d in (self.app, self.platform / "env", self.layers, self.buildpack):
            d.mkdir(parents=True, exist_ok=True)
        (self.buildpack / "buildpack.toml").write_text(BUILDPACK_TOML)

    @property
    def app(self) -> Path:
        return self.root / "app"

    @property
    def platform(self) -> Path:
        return self.root / "platform"

    @property
    def layers(self) -> Path:
        return self.root / "layers" / "test_sdk"

    @property
    def buildpack(self) -> Path:
        return self.root / "bp"

    @property
    def build_plan(self) -> Path:
        return self.root / "out" / "plan.toml"

    @property
    def bp_plan(self) -> Path:
        return self.root / "bp-plan.toml"

    def detect_env(self) -> dict[str, str]:
        return {"CNB_BUILDPACK_DIR": str(self.buildpack), "CNB_PLATFORM_DIR": str(self.platform),
                "CNB_BUILD_PLAN_PATH": str(self.build_plan), "CNB_TARGET_OS": "linux",
                "CNB_TARGET_ARCH": "amd64", "CNB_TARGET_DISTRO_NAME": "debian",
                "CNB_TARGET_DISTRO_VERSION": "12", "CNB_EXEC_ENV": "test", "BP_FLAG": "yes"}

    def build_env(self, plan: str = "") -> dict[str, str]:
        self.bp_plan.write_text(plan)
        return {"CNB_BUILDPACK_DIR": str(self.buildpack), "CNB_PLATFORM_DIR": str(self.platform),
                "CNB_LAYERS_DIR": str(self.layers), "CNB_BP_PLAN_PATH": str(self.bp_plan),
                "CNB_TARGET_OS": "linux", "CNB_TARGET_ARCH": "arm64"}

    def argv(self, program: str) -> list[str]:
        return [str(self.buildpack / "bin" / program)]
