"""The query engine's processes run on jemalloc when the system has it (server.allocator)."""

from __future__ import annotations

from peacegraph.server import allocator
from peacegraph.server.allocator import engine_environment


def test_jemalloc_is_preloaded_before_what_was_preloaded(monkeypatch):
    monkeypatch.setattr(allocator, "jemalloc_library", lambda: "libjemalloc.so.2")
    env, chosen = engine_environment({"LD_PRELOAD": "libother.so", "PATH": "/bin"})
    assert chosen == "jemalloc"
    assert env == {"LD_PRELOAD": "libjemalloc.so.2 libother.so", "PATH": "/bin"}
    env, chosen = engine_environment({"LD_PRELOAD": "/opt/libjemalloc.so.2"})
    assert (chosen, env["LD_PRELOAD"]) == ("jemalloc", "/opt/libjemalloc.so.2")


def test_the_system_allocator_without_jemalloc_or_when_asked(monkeypatch):
    monkeypatch.setattr(allocator, "jemalloc_library", lambda: None)
    assert engine_environment({"PATH": "/bin"}) == ({"PATH": "/bin"}, "system")
    monkeypatch.setattr(allocator, "jemalloc_library", lambda: "libjemalloc.so.2")
    assert engine_environment({"PEACEGRAPH_ALLOCATOR": "System"}) == ({"PEACEGRAPH_ALLOCATOR": "System"}, "system")


def test_workers_run_on_the_allocator_the_pool_reports(small_backend):
    stats = small_backend.stats()
    expected = "jemalloc" if allocator.jemalloc_library() else "system"
    assert stats["allocator"] == expected
    assert stats["pids"]
    for pid in stats["pids"]:
        with open(f"/proc/{pid}/maps", encoding="utf-8") as fh:
            mapped = fh.read()
        assert ("libjemalloc" in mapped) == (expected == "jemalloc"), pid


def test_make_test_installs_jemalloc():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text(encoding="utf-8")
    test_line = next(line for line in makefile.splitlines() if line.startswith("test:"))
    assert "allocator" in test_line.split()
    assert "libjemalloc2" in makefile
