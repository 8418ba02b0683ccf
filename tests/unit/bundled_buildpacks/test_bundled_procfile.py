"""pypack/procfile on the procfile-app example: processes in metadata.toml and the app serving
its index.html when started by our launcher (through bash, so ``${PORT:-8080}`` expands)."""

from __future__ import annotations

from pathlib import Path

from bundled_rig import Workspace, http_get, launched


def test_procfile_app(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.prepare("procfile-app")
    (ws.app / "Procfile").write_text((ws.app / "Procfile").read_text()
                                     + "worker: echo working\n")
    out = ws.build()
    assert "Process web (default): python3 -m http.server" in out
    md = ws.metadata()
    assert md["buildpack-default-process-type"] == "web"
    procs = {p["type"]: p["command"] for p in md["processes"]}
    assert procs == {"web": ["bash", "-c",
                             "python3 -m http.server ${PORT:-8080} --directory public"],
                     "worker": ["bash", "-c", "echo working"]}
    assert not [p for p in (ws.layers / "pypack_procfile").iterdir()
                if p.name != "launch.toml"]
    with launched(ws) as port:
        assert "Hello from pypack procfile-app!" in http_get(port)
