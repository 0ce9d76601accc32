"""Fresh results: `query` rebuilds a dist/ older than its sources, `serve` says so, and
`build --watch` rebuilds on save until Ctrl+C."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from peacegraph import paths
from peacegraph.build import BuildConfig
from peacegraph.cli import main
from peacegraph.freshness import ensure_built, newer_source
from testdata import PIPELINE

FOLDERS = ("seeds", "ontology", "graph", "shapes")


@pytest.fixture
def shipped_copy(tmp_path, monkeypatch):
    """The default folders and dist/ pointed at a copy of the shipped data."""
    for name in FOLDERS:
        shutil.copytree(paths.data_dir(name), tmp_path / name)
    monkeypatch.setattr(paths, "data_dir", lambda name: tmp_path / name)
    monkeypatch.setattr(paths, "default_dist", lambda: tmp_path / "dist")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _older(path: Path, seconds: float = 60) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)))


ASK_LABEL = 'ASK { pgid:geneva rdfs:label "Genf"@de }'


def test_query_rebuilds_a_stale_dist_and_answers_from_the_new_build(shipped_copy, capsys):
    assert main(["query", ASK_LABEL]) == 0
    assert capsys.readouterr().out.strip() == "false"
    trig = shipped_copy / "dist" / "peacegraph.trig"
    _older(trig)
    built = trig.stat().st_mtime_ns
    places = shipped_copy / "graph" / "places.ttl"
    places.write_text(places.read_text(encoding="utf-8") + '\npgid:geneva rdfs:label "Genf"@de .\n', encoding="utf-8")
    assert main(["query", ASK_LABEL]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "true"
    assert "dist/peacegraph.trig is older than graph/places.ttl; rebuilding it" in captured.err
    assert trig.stat().st_mtime_ns > built
    assert main(["query", ASK_LABEL]) == 0  # fresh now: no rebuild, no word
    assert capsys.readouterr().err == ""


def test_serve_only_warns_about_a_stale_dist(shipped_copy, capsys):
    config = BuildConfig.defaults(quiet=True)
    trig = ensure_built(config, rebuild_stale=False)
    assert "building it first" in capsys.readouterr().err
    assert newer_source(trig, config) is None
    source = shipped_copy / "seeds" / "sources.ttl"
    _older(trig)
    built = trig.stat().st_mtime_ns
    source.touch()
    assert newer_source(trig, config) == source
    ensure_built(config, rebuild_stale=False)
    err = capsys.readouterr().err
    assert err.startswith("warning: dist/peacegraph.trig is older than seeds/sources.ttl")
    assert trig.stat().st_mtime_ns == built


def _save(path: Path, text: str) -> None:
    """Save as editors do, in one step, so the watcher never reads a half-written file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class _Lines:
    def __init__(self, stream):
        self.queue: queue.Queue = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.queue.put(line.rstrip("\n"))

    def until(self, predicate, timeout=60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.queue.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if predicate(line):
                return line
        raise AssertionError(f"timed out; output so far: {self.seen}")


def test_build_watch_rebuilds_on_save_and_stops_on_ctrl_c(tmp_path):
    for name in FOLDERS:
        shutil.copytree(PIPELINE / name, tmp_path / name)
    out = tmp_path / "dist"
    proc = subprocess.Popen([sys.executable, "-m", "peacegraph.cli", "build", "--watch", "--interval", "0.1",
                             "--out", str(out), *[f"--{n}={tmp_path / n}" for n in FOLDERS]],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    try:
        lines = _Lines(proc.stdout)
        lines.until(lambda s: s.startswith("built "))
        lines.until(lambda s: s.startswith("watching"))
        trig = out / "peacegraph.trig"
        assert b"Genf" not in trig.read_bytes()
        core = tmp_path / "graph" / "core.ttl"
        _save(core, core.read_text(encoding="utf-8") + '\npgid:kyiv rdfs:label "Genf"@de .\n')
        assert lines.until(lambda s: s.startswith("changed:")) == "changed: graph/core.ttl"
        lines.until(lambda s: s.startswith("built "))
        assert b"Genf" in trig.read_bytes()
        # a broken save is reported, the last good dist/ stays, and watching goes on
        _save(core, core.read_text(encoding="utf-8").replace('"Jared Kushner" ]', '"Jared Kushnr" ]'))
        lines.until(lambda s: s.startswith("error:") and "'Jared Kushnr' not found" in s)
        lines.until(lambda s: s.startswith("watching"))
        assert b"Genf" in trig.read_bytes()
        proc.send_signal(signal.SIGINT)
        lines.until(lambda s: s == "stopped watching")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_build_watch_refuses_a_bad_interval(capsys):
    assert main(["build", "--watch", "--interval", "0"]) == 2
    assert "--interval must be a positive number" in capsys.readouterr().err
