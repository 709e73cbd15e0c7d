"""Pausing the garbage collector around work that makes many objects at once.

Unpickling or pickling a large state creates (or walks) many small objects; each
allocation burst would trigger collections that walk all of them again, for nothing, as
none of them is garbage yet. Reference counting still frees what is dropped meanwhile.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with automatic garbage collection off (restored as it was)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
