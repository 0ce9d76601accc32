"""`paused_gc()`: run a bulk step with Python's cyclic garbage collector paused.

The build creates millions of small objects that never form reference cycles (rdflib terms,
triples as tuples). Each allocation burst triggers collections that walk every live object
again, which grows with the size of the graph already in memory: at 100k triples the
reasoning step spends about a third of its time in them. Reference counting still frees
everything as usual; only the search for cycles waits until the step is over.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def paused_gc():
    """Pause the cyclic collector for the body (restoring its previous state afterwards)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


__all__ = ["paused_gc"]
