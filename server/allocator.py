"""The memory allocator of the query engine's processes.

Oxigraph allocates and frees many small objects while it evaluates a query; under glibc's
malloc the same queries take about 20% longer than under jemalloc (measured on the 1M-triple
benchmark corpus: the stored research queries in-process, 221 ms against 181 ms for the slowest).
The zygote, and with it every worker it forks, is therefore started with jemalloc preloaded when
the system has it (Debian's libjemalloc2; `make allocator` installs it). Without it the engine
runs on the system's allocator, only slower. PEACEGRAPH_ALLOCATOR=system keeps the system's.
"""

from __future__ import annotations

import ctypes.util
import os

SETTING = "PEACEGRAPH_ALLOCATOR"


def jemalloc_library() -> str | None:
    """The file name the dynamic loader knows jemalloc by, or None if it is not installed."""
    return ctypes.util.find_library("jemalloc")


def engine_environment(environ: dict | None = None) -> tuple[dict, str]:
    """The environment to start the engine's processes with, and the allocator it selects
    ("jemalloc" or "system")."""
    env = dict(os.environ if environ is None else environ)
    if env.get(SETTING, "").strip().lower() == "system":
        return env, "system"
    library = jemalloc_library()
    if library is None:
        return env, "system"
    preload = env.get("LD_PRELOAD", "").split()
    if not any("jemalloc" in entry for entry in preload):
        env["LD_PRELOAD"] = " ".join([library, *preload])
    return env, "jemalloc"
