"""`paused_gc()`: run a bulk step with Python's cyclic garbage collector paused.

The build creates millions of small objects that never form reference cycles (rdflib terms,
triples as tuples). Each allocation burst triggers collections that walk every live object
again, which grows with the size of the graph already in memory: at 100k triples the
reasoning step spends about a third of its time in them. Reference counting still frees
everything as usual; only the search for cycles waits: what the step allocated joins the oldest
generation when it ends, so cycles among it are found by the next full collection rather than
by a walk over all of it at the first young one.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager

# Pauses nest and overlap across threads (the build validates while it exports): the collector
# resumes when the last one ends, and only if it was running when the first began.
_lock = threading.Lock()
_state = {"pauses": 0, "was_enabled": False}


@contextmanager
def paused_gc():
    """Pause the cyclic collector for the body (restoring its previous state once no other
    pause is under way)."""
    with _lock:
        if _state["pauses"] == 0:
            _state["was_enabled"] = gc.isenabled()
            gc.disable()
        _state["pauses"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["pauses"] -= 1
            if _state["pauses"] == 0 and _state["was_enabled"]:
                # Everything allocated during the pause sits in the youngest generation, so
                # the first collection after it would walk every object again (0.9 s after
                # anchoring at 1M triples): they are moved into the oldest one instead, whose
                # full collections still find any cycle among them.
                gc.freeze()
                gc.unfreeze()
                gc.enable()


__all__ = ["paused_gc"]
