"""The process's long-lived state (modules, settings, the engine) kept out of the cyclic GC's way.

The engine is about 100,000 tracked objects that live as long as the process; every full collection walks them
all (35 ms on this machine, a pause in the middle of a request). Built with the GC off and then frozen
(`gc.freeze`), they are never scanned again, and start-up skips the collections their creation would trigger.
A reload unfreezes, collects (the old engine's cycles go), and freezes what is alive then.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """Build what lives as long as the process inside this block: without the cyclic GC, then frozen."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def refreeze() -> None:
    """After the long-lived state was replaced (a reload): free what it left behind, then freeze what is alive.
    Does nothing in a process that never froze its state (tests, embedders)."""
    if gc.get_freeze_count() == 0:
        return
    gc.unfreeze()
    gc.collect()
    gc.freeze()
