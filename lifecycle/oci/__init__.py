"""OCI image values and where they live: registry, OCI image layout, docker-archive, local store.

Spec: OCI image-spec v1.1 (manifest, index, config, layer, image-layout) and distribution-spec v1.1.
"""
