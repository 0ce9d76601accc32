"""The wheel: the data folders, the queries and the server ship inside peacegraph/, and
peacegraph.paths finds them in an installed wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the checkout (so the build leaves nothing in the tree)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".venv", ".git", "dist", "build", "*.egg-info", "__pycache__", ".pytest_cache",
        "bench-results", "tests", "node_modules", "screenshots"))
    out = tmp / "out"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(out)],
                   check=True, capture_output=True, timeout=300)
    wheels = list(out.glob("peacegraph-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_contents(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("seeds", "ontology", "graph", "shapes"):
        shipped = {p.name for p in (ROOT / folder).iterdir() if p.suffix in (".ttl", ".txt")}
        assert shipped, folder
        for name in shipped:
            assert f"peacegraph/_data/{folder}/{name}" in names, (folder, name)
    assert "peacegraph/_data/seeds/000_c087f7d81efda06d.txt" in names
    queries = {p.name for p in (ROOT / "src" / "peacegraph" / "queries").glob("*.rq")}
    assert any(q[:2].isdigit() for q in queries)
    for q in queries:
        assert f"peacegraph/queries/{q}" in names
    assert "peacegraph/server/__init__.py" in names
    # the pages need their templates, static files and stored queries at run time
    for sub, pattern in (("templates", "*.html"), ("static", "*.*"), ("queries", "*.rq")):
        files = [p.name for p in (ROOT / "server" / sub).glob(pattern)]
        assert files, sub
        for name in files:
            assert f"peacegraph/server/{sub}/{name}" in names, (sub, name)
    # the front-end packages `make install` copied from npm, and nothing else of node_modules
    for name in ("yasgui.min.js", "yasgui.min.css", "axe.min.js"):
        assert (ROOT / "server" / "static" / "vendor" / name).is_file(), f"run make install: {name}"
        assert f"peacegraph/server/static/vendor/{name}" in names, name
    assert not any("node_modules" in n or n.endswith(".map") for n in names)
    assert not any(n.startswith(("graph/", "server/", "seeds/", "tests/")) for n in names)
    for module in ("load", "anchor", "build", "export", "query", "diff", "cli", "paths"):
        assert f"peacegraph/{module}.py" in names
    seed = zipfile.ZipFile(wheel).read("peacegraph/_data/seeds/000_c087f7d81efda06d.txt")
    assert seed == (ROOT / "seeds" / "000_c087f7d81efda06d.txt").read_bytes()


def test_paths_resolve_inside_an_installed_wheel(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True, capture_output=True, timeout=120)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    probe = ("import json, peacegraph.paths as p; "
             "print(json.dumps({'root': str(p.checkout_root()), 'pkg': str(p.package_dir()), "
             "'data': {n: str(p.data_dir(n)) for n in p.DATA_FOLDERS}, 'queries': str(p.queries_dir())}))")
    proc = subprocess.run([str(py), "-c", probe], cwd=tmp_path, check=True, capture_output=True,
                          text=True, timeout=60)
    import json
    info = json.loads(proc.stdout)
    assert info["root"] == "None"
    pkg = Path(info["pkg"])
    assert str(pkg).startswith(str(venv))
    for name, folder in info["data"].items():
        assert Path(folder) == pkg / "_data" / name
        assert any(Path(folder).iterdir())
    assert (Path(info["data"]["seeds"]) / "000_c087f7d81efda06d.txt").is_file()
    assert list(Path(info["queries"]).glob("01-*.rq"))


def test_serve_from_the_wheel_outside_a_checkout_builds_the_shipped_graph_first(wheel, tmp_path):
    import site
    import urllib.request

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    # the dependencies from this environment; peacegraph itself from the wheel (an editable
    # install is found through a .pth file, which PYTHONPATH entries do not read)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(site.getsitepackages())}
    work = tmp_path / "elsewhere"
    work.mkdir()
    proc = subprocess.Popen([str(venv / "bin" / "peacegraph"), "serve", "--port", "0", "--workers", "1"],
                            cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if "SPARQL endpoint at" in line:
                break
        assert any("dist/peacegraph.trig is missing; building it first" in s for s in lines), lines
        url = line.rsplit(" ", 1)[-1].strip()
        with urllib.request.urlopen(url + "?query=ASK%7B%3Fs%20a%20%3Chttps%3A%2F%2Fw3id.org%2Fpeacegraph%2Fontology%23Provision%3E%7D",
                                    timeout=30) as resp:
            assert b"true" in resp.read()
        assert (work / "dist" / "peacegraph.trig").is_file()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
