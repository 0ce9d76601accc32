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

    def validate(data_read):
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
    with ValidationAside(lambda data_read: _Report(True)) as validation:
        assert validation.report().conforms is True
        pending = write_export(anchored_dataset, tmp_path / "ahead", stop=validation.stop)
    assert not validation.stop.is_set()
    export_module.export(anchored_dataset, tmp_path / "direct")
    assert tuple(pending.commit()) == export_module.FILES
    assert _files(tmp_path / "ahead") == _files(tmp_path / "direct")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ahead", "direct"]


def test_what_validation_raises_reaches_the_build_and_stops_the_export():
    def validate(data_read):
        raise ExportError("engine failed")

    with ValidationAside(validate) as validation:
        with pytest.raises(ExportError, match="engine failed"):
            validation.report()
        assert validation.stop.is_set()
        # whoever waits for the data to be read is not left waiting by a failure
        assert validation.data_read.is_set()


def test_the_engine_has_read_the_data_before_validation_ends(anchored_dataset, pipeline_config,
                                                             monkeypatch):
    """validate_graph sets data_read once the engine has walked the statements, before the
    engine validates in native code: the build reasons from then on."""
    from peacegraph import validate as validate_module

    data_read = threading.Event()
    seen = {}
    real_run = validate_module._run_turbo
    real_walk = validate_module._UnionView.triples

    def run_turbo(graph, shapes):
        seen["before the engine"] = data_read.is_set()
        return real_run(graph, shapes)

    def triples(self, pattern):
        yield from real_walk(self, pattern)
        seen.setdefault("after the first walk", data_read.is_set())

    monkeypatch.setattr(validate_module, "_run_turbo", run_turbo)
    monkeypatch.setattr(validate_module._UnionView, "triples", triples)
    shapes = validate_module.load_shapes(pipeline_config.shapes)
    report = validate_module.validate_graph(anchored_dataset, shapes, data_read=data_read)
    assert report.conforms
    assert seen == {"before the engine": False, "after the first walk": True}


def test_the_build_reasons_only_once_the_engine_has_read_the_data(pipeline_config, monkeypatch):
    from peacegraph import build as build_module
    from peacegraph import validate as validate_module

    order = []
    real_infer = build_module.add_inferences
    real_init = validate_module._UnionView.__init__

    def add_inferences(assembly, progress):
        order.append("reasoning starts")
        return real_infer(assembly, progress)

    def init(self, dataset, on_read=None):
        def read():
            order.append("data read")
            on_read()
        real_init(self, dataset, on_read=None if on_read is None else read)

    monkeypatch.setattr(build_module, "add_inferences", add_inferences)
    monkeypatch.setattr(validate_module._UnionView, "__init__", init)
    build(replace(pipeline_config, cache=False))
    assert order == ["data read", "reasoning starts"]


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


def test_what_validation_reads_is_let_go_of_once_it_ends_even_after_the_block_is_left():
    release, cleaned = threading.Event(), []

    def validate(data_read):
        data_read.set()
        release.wait(5)
        return _Report(True)

    with pytest.raises(ExportError):
        with ValidationAside(validate) as validation:
            raise ExportError("disk full")
    validation.then(lambda: cleaned.append(threading.current_thread().name))
    assert cleaned == []            # validation still reads the data
    release.set()
    validation._thread.join(5)
    assert cleaned == ["peacegraph-validate"]
    # once it has ended, at once and in the caller's thread
    validation.then(lambda: cleaned.append(threading.current_thread().name))
    assert cleaned == ["peacegraph-validate", threading.current_thread().name]


def test_a_build_whose_export_fails_lets_the_data_go_when_validation_ends(pipeline_config, monkeypatch):
    from peacegraph import build as build_module
    from peacegraph.setstore import SetStore

    release, closed = threading.Event(), []
    real_validate = build_module.validate_assembly

    def slow_validation(*args, data_read=None, **kwargs):
        data_read.set()
        release.wait(10)
        return real_validate(*args, **kwargs)

    real_close = SetStore.close

    def close(store, *args, **kwargs):
        closed.append(len(store._graphs))    # the graphs it let go of
        return real_close(store, *args, **kwargs)

    def full_disk(path, chunks, *check):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(build_module, "validate_assembly", slow_validation)
    monkeypatch.setattr(SetStore, "close", close)
    monkeypatch.setattr(export_module, "write_file", full_disk)
    before = set(threading.enumerate())
    with pytest.raises(ExportError, match="No space left on device"):
        build(replace(pipeline_config, cache=False))
    validating = [t for t in threading.enumerate() if t not in before and t.name == "peacegraph-validate"]
    # the curated, ontology and sources graphs are let go of as they are stored; not the dataset
    assert len(validating) == 1 and max(closed) < 4
    so_far = len(closed)
    release.set()
    validating[0].join(10)
    # the dataset's store, with its four named graphs, once validation has read it to the end
    assert len(closed) == so_far + 1 and closed[-1] >= 4


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
