"""The app source a platform hands to the lifecycle: ``project.toml`` and the app directory.

``pypack build`` reads the project descriptor (:mod:`descriptor`), copies the app directory
honouring include/exclude or ``.gitignore`` (:mod:`ignore`, :mod:`prepare`), writes inline
buildpacks (:mod:`inline`) and derives ``project-metadata.toml`` from the descriptor or the
app's git checkout (:mod:`gitinfo`, :func:`prepare.project_metadata`).
"""
