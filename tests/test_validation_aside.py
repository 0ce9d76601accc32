"""peacegraph.validation_aside: the build validates while it reasons and exports; the export is
put in place only when the data conforms, and stopped or failed it leaves nothing behind."""

from __future__ import annotations

import errno
import gc
import os
import threading
from dataclasses import replace

import pytest

from peacegraph import export as export_module
from peacegraph.build import build
from peacegraph.errors import ExportError
from peacegraph.export import Cancelled, write_export
from peacegraph.gcpause import paused_gc
from peacegraph.validation_aside import ValidationAside


def _files(folder) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_stopped_export_raises_cancelled_and_leaves_nothing(anchored_dataset, tmp_path):
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        write_export(anchored_dataset, tmp_path / "dist", stop=stop)
    assert list(tmp_path.iterdir()) == []


class _Report:
    def __init__(self, conforms: bool):
        self.conforms = conforms


def test_a_report_that_does_not_conform_stops_the_export(anchored_dataset, tmp_path):
    release = threading.Event()

    def validate():
        release.wait(5)
        return _Report(False)

    with ValidationAside(validate) as validation:
        assert not validation.stop.is_set()
        release.set()
        with pytest.raises(Cancelled):
            # the export outlasts the validation only because the test waits for it first
            validation.stop.wait(5)
            write_export(anchored_dataset, tmp_path / "dist", stop=validation.stop)
        assert validation.report().conforms is False
    assert list(tmp_path.iterdir()) == []


def test_a_conforming_report_lets_the_export_finish(anchored_dataset, tmp_path):
    with ValidationAside(lambda: _Report(True)) as validation:
        assert validation.report().conforms is True
        pending = write_export(anchored_dataset, tmp_path / "ahead", stop=validation.stop)
    assert not validation.stop.is_set()
    export_module.export(anchored_dataset, tmp_path / "direct")
    assert tuple(pending.commit()) == export_module.FILES
    assert _files(tmp_path / "ahead") == _files(tmp_path / "direct")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ahead", "direct"]


def test_what_validation_raises_reaches_the_build_and_stops_the_export():
    def validate():
        raise ExportError("engine failed")

    with ValidationAside(validate) as validation:
        with pytest.raises(ExportError, match="engine failed"):
            validation.report()
        assert validation.stop.is_set()


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
