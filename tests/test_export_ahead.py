"""peacegraph.export_ahead: the export written while the build validates is put in place only
when the data conforms; stopped or failed, it leaves nothing behind."""

from __future__ import annotations

import errno
import gc
import os
import threading
from dataclasses import replace

import pytest

from peacegraph import export as export_module
from peacegraph.build import BuildConfig, assemble, build
from peacegraph.errors import ExportError
from peacegraph.export import Cancelled, write_export
from peacegraph.export_ahead import ExportAhead
from peacegraph.gcpause import paused_gc
from testdata import PIPELINE


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    config = BuildConfig(seeds=PIPELINE / "seeds", ontology=PIPELINE / "ontology",
                         graph=PIPELINE / "graph", shapes=PIPELINE / "shapes",
                         out=tmp_path_factory.mktemp("x") / "dist", quiet=True)
    return assemble(config, reason=False).dataset


def _files(folder) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_stopped_export_raises_cancelled_and_leaves_nothing(dataset, tmp_path):
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        write_export(dataset, tmp_path / "dist", stop=stop)
    assert list(tmp_path.iterdir()) == []


def test_leaving_the_block_stops_an_unfinished_export(dataset, tmp_path):
    started = threading.Event()

    def write(stop):
        started.set()
        return write_export(dataset, tmp_path / "dist", stop=stop)

    with pytest.raises(RuntimeError, match="validation failed"):
        with ExportAhead(write):
            started.wait(5)
            raise RuntimeError("validation failed")
    assert list(tmp_path.iterdir()) == []
    assert not any(t.name == "peacegraph-export" for t in threading.enumerate())


def test_leaving_the_block_discards_a_finished_export(dataset, tmp_path):
    done = threading.Event()

    def write(stop):
        pending = write_export(dataset, tmp_path / "dist", stop=stop)
        done.set()
        return pending

    with ExportAhead(write):
        assert done.wait(30)
        assert [p.name.startswith(".dist.tmp-") for p in tmp_path.iterdir()] == [True]
    assert list(tmp_path.iterdir()) == []


def test_a_taken_export_commits_the_same_files_as_export(dataset, tmp_path):
    export_module.export(dataset, tmp_path / "direct")
    with ExportAhead(lambda stop: write_export(dataset, tmp_path / "ahead", stop=stop)) as ahead:
        pending = ahead.pending()
    assert tuple(pending.commit()) == export_module.FILES
    assert _files(tmp_path / "ahead") == _files(tmp_path / "direct")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ahead", "direct"]


def test_an_export_failing_beside_validation_fails_the_build_and_keeps_dist(pipeline_config, monkeypatch):
    build(pipeline_config)
    out = pipeline_config.out
    before = _files(out)
    real = export_module.write_file

    def full_disk(path, chunks, *check):
        if path.name == "peacegraph.jsonld":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, chunks, *check)

    monkeypatch.setattr(export_module, "write_file", full_disk)
    with pytest.raises(ExportError, match="No space left on device"):
        build(replace(pipeline_config, cache=False))
    assert _files(out) == before
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".dist.")] == []


def test_overlapping_pauses_resume_the_collector_after_the_last_one():
    assert gc.isenabled()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def second():
        first_in.wait(5)
        with paused_gc():
            second_in.set()
            first_out.wait(5)
            seen["during"] = gc.isenabled()

    thread = threading.Thread(target=second)
    thread.start()
    with paused_gc():
        first_in.set()
        second_in.wait(5)
    first_out.set()
    thread.join(5)
    assert seen == {"during": False}
    assert gc.isenabled()
