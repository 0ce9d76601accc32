"""peacegraph.build_cache: a build after an edit writes the bytes a full build writes, a build
with nothing changed keeps dist/, and a record that is corrupt or stale is never trusted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from peacegraph import paths, validate
from peacegraph.build import BuildConfig, build
from peacegraph.build_cache import BuildCache, cache_file
from peacegraph.cli import main
from peacegraph.errors import ShapesError, ValidationFailed
from peacegraph.freshness import newer_source, watch
from testdata import PIPELINE

FOLDERS = ("seeds", "ontology", "graph", "shapes")


def files_of(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def shape_checks(monkeypatch) -> list:
    """Each time the shapes' well-formedness check runs, one entry."""
    calls = []
    real = validate.check_shapes

    def counted(shapes):
        calls.append(1)
        return real(shapes)

    monkeypatch.setattr(validate, "check_shapes", counted)
    return calls


def _copy(source_of, tmp_path: Path) -> BuildConfig:
    for name in FOLDERS:
        shutil.copytree(source_of(name), tmp_path / name)
    return BuildConfig(quiet=True, out=tmp_path / "dist", **{n: tmp_path / n for n in FOLDERS})


@pytest.fixture
def shipped(tmp_path) -> BuildConfig:
    return _copy(paths.data_dir, tmp_path)


@pytest.fixture
def small(tmp_path) -> BuildConfig:
    return _copy(lambda name: PIPELINE / name, tmp_path)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_build_after_editing_one_shipped_file_equals_a_full_build(shipped, shape_checks):
    first = build(shipped)
    assert not first.unchanged and len(shape_checks) == 1
    assert cache_file(shipped.out).is_file()
    assert not any(p.name.startswith(".") for p in shipped.out.iterdir())  # never published
    _edit(shipped.graph / "actors.ttl", 'rdfs:label "Steve Witkoff"@en', 'rdfs:label "Steven Witkoff"@en')

    again = build(shipped)
    assert not again.unchanged
    assert len(shape_checks) == 1  # the unchanged shapes were not checked again
    full = build(replace(shipped, out=shipped.out.parent / "full", cache=False))
    assert len(shape_checks) == 2
    incremental = files_of(shipped.out)
    assert sorted(incremental) == sorted(full.files)
    assert incremental == files_of(full.out)
    assert b'"Steven Witkoff"@en' in incremental["peacegraph.trig"]
    assert b'"Steve Witkoff"@en' not in incremental["peacegraph.trig"]
    assert again.counts == full.counts and again.spans == full.spans


def test_nothing_changed_keeps_dist_until_a_file_of_it_is_altered(small, shape_checks):
    first = build(small)
    before = files_of(small.out)
    kept = build(small)
    assert kept.unchanged and "no input changed since the last build" in kept.summary()
    assert (kept.counts, kept.spans, kept.files) == (first.counts, first.spans, first.files)
    assert files_of(small.out) == before and len(shape_checks) == 1
    # a saved but unchanged file is no change, and dist/ is then as new as it
    (small.graph / "core.ttl").touch()
    assert build(small).unchanged
    assert newer_source(small.out / "peacegraph.trig", small) is None
    # a published file that no longer matches what was written is rebuilt, not kept
    (small.out / "stances.csv").write_bytes(b"tampered")
    rebuilt = build(small)
    assert not rebuilt.unchanged and files_of(small.out) == before
    (small.out / "extra.txt").write_text("not ours")
    assert not build(small).unchanged and files_of(small.out) == before


def test_settings_and_output_are_part_of_the_key(small):
    build(small)
    with_bom = build(replace(small, csv_bom=True))
    assert not with_bom.unchanged
    assert (small.out / "stances.csv").read_bytes().startswith("\ufeff".encode())
    assert not build(small).unchanged
    assert not (small.out / "stances.csv").read_bytes().startswith("\ufeff".encode())


@pytest.mark.parametrize("record", [
    b"{not json", b"", b"[]", b'{"format": 99}',
    b'{"format": 1, "shapes": 5, "build": {"key": [], "files": "x", "counts": 3, "spans": "y"}}',
])
def test_a_corrupt_record_is_ignored(small, shape_checks, record):
    build(replace(small, out=small.out.parent / "full", cache=False))
    expected = files_of(small.out.parent / "full")
    calls = len(shape_checks)
    cache_file(small.out).write_bytes(record)
    result = build(small)
    assert not result.unchanged and len(shape_checks) == calls + 1
    assert files_of(small.out) == expected
    assert json.loads(cache_file(small.out).read_bytes())["format"] == 1  # replaced by a good one


@pytest.mark.parametrize("field, value", [
    ("order", [1, "peacegraph.trig"]), ("order", "peacegraph.trig"), ("files", {"../etc": "x"}),
    ("counts", {"a": 1}), ("counts", [["a", "1"]]), ("spans", "15"), ("files", []),
])
def test_a_malformed_record_with_the_right_key_is_ignored(small, field, value):
    build(small)
    before = files_of(small.out)
    record = json.loads(cache_file(small.out).read_bytes())
    record["build"][field] = value
    cache_file(small.out).write_text(json.dumps(record), encoding="utf-8")
    result = build(small)
    assert not result.unchanged and files_of(small.out) == before
    assert build(small).unchanged  # the record was replaced by a good one


def test_a_stale_record_is_not_trusted(small, shape_checks):
    build(small)
    record = json.loads(cache_file(small.out).read_bytes())
    # a record whose keys name other inputs: the shapes are checked and everything is rebuilt
    record["shapes"] = record["build"]["key"] = "0" * 64
    cache_file(small.out).write_text(json.dumps(record), encoding="utf-8")
    assert not build(small).unchanged and len(shape_checks) == 2
    # shapes edited after the record was written are checked again, and refused when broken
    shapes = sorted(small.shapes.glob("*.ttl"))[0]
    text = shapes.read_text(encoding="utf-8")
    assert "sh:minCount 1" in text
    shapes.write_text(text.replace("sh:minCount 1", 'sh:minCount "one"', 1), encoding="utf-8")
    with pytest.raises(ShapesError, match="minCount"):
        build(small)


def test_a_failed_build_leaves_dist_and_record_as_they_were(small):
    build(small)
    before, record = files_of(small.out), cache_file(small.out).read_bytes()
    core = small.graph / "core.ttl"
    good = core.read_text(encoding="utf-8")
    _edit(core, 'pg:provisionOf pgid:us-plan ;\n    pg:evidence [ pg:quote "election timetable" ] .',
          "pg:provisionOf pgid:us-plan .")
    with pytest.raises(ValidationFailed):
        build(small)
    assert files_of(small.out) == before and cache_file(small.out).read_bytes() == record
    core.write_text(good, encoding="utf-8")
    assert build(small).unchanged


def test_no_cache_option_does_every_stage(small, shape_checks, capsys):
    args = ["build", "--out", str(small.out), *[f"--{n}={getattr(small, n)}" for n in FOLDERS]]
    assert main(args) == 0 and main(args) == 0
    assert "no input changed" in capsys.readouterr().out.splitlines()[-1]
    assert main([*args, "--no-cache"]) == 0
    assert "no input changed" not in capsys.readouterr().out
    assert len(shape_checks) == 2


def test_watch_keeps_dist_when_a_file_is_saved_unchanged(small):
    core = small.graph / "core.ttl"
    lines = []

    def report(line):
        lines.append(line)
        if line.startswith("watching") and len(lines) < 4:
            stat = core.stat()
            os.utime(core, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))

    assert watch(small, interval=0.01, report=report, max_builds=2) == 0
    built = [line for line in lines if line.startswith("built ")]
    assert len(built) == 2 and "no input changed" not in built[0]
    assert built[1].endswith(" s") and "no input changed since the last build" in built[1]
    assert "changed: " in lines[2]


def test_other_code_trusts_nothing_of_the_record(small, shape_checks, monkeypatch):
    import peacegraph.build

    build(small)
    assert build(small).unchanged and len(shape_checks) == 1
    monkeypatch.setattr(peacegraph.build, "code_fingerprint", lambda: "another version")
    assert not build(small).unchanged and len(shape_checks) == 2


def test_builds_into_one_folder_take_turns_writing_and_recording(small):
    """While one build writes dist/ and records it, another waits for its turn."""
    build(small)
    probe = ("import fcntl, os, sys\n"
             "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
             "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n    print('free')\n"
             "except BlockingIOError:\n    print('taken')\n")
    with BuildCache(small.out).turn() as held:
        assert held
        inside = subprocess.run([sys.executable, "-c", probe, str(small.out.parent)],
                                capture_output=True, text=True, check=True).stdout.strip()
    after = subprocess.run([sys.executable, "-c", probe, str(small.out.parent)],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert (inside, after) == ("taken", "free")


def test_a_record_left_half_written_by_a_killed_build_is_removed_once_old(small):
    build(small)
    record = cache_file(small.out)
    old = record.with_name(record.name + ".k1ll3d")
    recent = record.with_name(record.name + ".wr1t1ng")
    old.write_text("{", encoding="utf-8")
    recent.write_text("{", encoding="utf-8")
    an_hour_ago = old.stat().st_mtime - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    with (small.graph / "core.ttl").open("a", encoding="utf-8") as f:
        f.write("\n# edited\n")
    assert not build(small).unchanged
    assert not old.exists() and recent.exists() and record.exists()
