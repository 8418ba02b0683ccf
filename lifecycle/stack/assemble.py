"""Stack images: one layer from the root filesystem plus the config platform.md asks for.

Platform API 0.15 platform.md "Build Image", "Run Image", "Target Data" and the deprecated
"``io.buildpacks.stack.*`` Labels": ``User`` (uid:gid of the CNB user), ``Env`` with ``PATH``,
``CNB_USER_ID``, ``CNB_GROUP_ID`` (and ``CNB_STACK_ID`` on the build image), ``os``/``architecture``
(and ``variant``), labels ``io.buildpacks.base.{distro.name,distro.version,maintainer,homepage,
released,description,metadata,id}``, ``io.buildpacks.stack.id`` and, on the run image,
``io.buildpacks.rebasable``. Everything derives from the definition, the package list and the
timestamp, so the same inputs give the same config bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from lifecycle.oci import mutate
from lifecycle.oci.config import History
from lifecycle.oci.image import ImageValue, empty_image
from lifecycle.oci.layer import BlobLayer
from lifecycle.oci.platform import Platform
from lifecycle.oci.tarball import EPOCH_1980
from lifecycle.platform import labels as L
from lifecycle.stack.definition import DEFAULT_PATH, ImageSpec, StackDefinition

KEY_LABEL = "io.pypack.stack.key"
"""The cache key (:func:`lifecycle.stack.plan.stack_key`) the image was built from."""
NAME_LABEL = "io.pypack.stack.name"

_PLATFORMS = {"amd64": ("amd64", None), "arm64": ("arm64", None), "armhf": ("arm", "v7"),
              "armel": ("arm", "v5"), "i386": ("386", None), "ppc64el": ("ppc64le", None),
              "s390x": ("s390x", None), "riscv64": ("riscv64", None),
              "mips64el": ("mips64le", None)}


def platform_for(arch: str) -> Platform:
    """The OCI platform of Debian architecture ``arch``."""
    oci_arch, variant = _PLATFORMS.get(arch, (arch, None))
    return Platform("linux", oci_arch, variant)


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """What goes into one stack image's config besides the layer."""

    user: str
    env: Mapping[str, str]
    labels: Mapping[str, str]
    created: int
    history: str


def image_config(defn: StackDefinition, spec: ImageSpec, packages: Mapping[str, str], *,
                 key: str, epoch: int) -> ImageConfig:
    """The config of ``spec``'s image (pure)."""
    u = spec.user
    env = {"PATH": DEFAULT_PATH, "LANG": "C.UTF-8", "CNB_USER_ID": str(u.uid),
           "CNB_GROUP_ID": str(u.gid)}
    if spec.role == "build":
        env["CNB_STACK_ID"] = defn.id
    env.update(spec.env)
    labels = {
        L.BASE_DISTRO_NAME: defn.distro.name,
        L.BASE_DISTRO_VERSION: defn.distro.version,
        L.STACK_ID: defn.id,
        L.BASE_METADATA: json.dumps({"stack": defn.name, "distro": {"codename":
                                     defn.distro.codename}, "packages": dict(packages)},
                                    sort_keys=True, separators=(",", ":")),
        KEY_LABEL: key,
        NAME_LABEL: defn.name,
    }
    optional = {L.BASE_MAINTAINER: defn.maintainer, L.BASE_HOMEPAGE: defn.homepage,
                L.BASE_DESCRIPTION: spec.description or defn.description}
    labels.update({k: v for k, v in optional.items() if v})
    if epoch != EPOCH_1980:
        labels[L.BASE_RELEASED] = mutate.rfc3339(epoch)
    if spec.role == "run":
        labels[L.BASE_ID] = defn.id
        labels[L.REBASABLE] = "true"
    history = (f"pypack stack build {defn.name}: mmdebstrap --variant={spec.variant} "
               f"{defn.distro.codename} ({len(packages)} packages)")
    return ImageConfig(f"{u.uid}:{u.gid}", env, labels, epoch, history)


def assemble(layer: BlobLayer, platform: Platform, cfg: ImageConfig) -> ImageValue:
    """The image: ``layer`` on an empty base for ``platform`` with ``cfg`` applied."""
    created = mutate.rfc3339(cfg.created)
    img = mutate.append_layers(empty_image(platform), [layer],
                               history=[History(created=created, created_by=cfg.history)])
    img = mutate.with_env(img, cfg.env, merge=False)
    img = mutate.with_user(img, cfg.user)
    img = mutate.with_labels(img, cfg.labels, merge=False)
    return mutate.with_created(img, cfg.created)

