"""WSGI entry point for gunicorn (``config.wsgi:application``).

A web process is then settled for steady latency (speed mechanism ``gc-freeze``). Each
full garbage collection walks every tracked object while holding the interpreter, so it
stalls all of the process's threads at once, and a web process holds about 100,000
objects from start-up (Django, DRF, the app) plus whatever its caches keep. So the
objects of start-up are frozen (``gc.freeze``: the collector no longer walks them;
reference counting still frees them), after one collection so that no garbage is frozen,
and the decoded-event cache is kept small here (``consortium.streams``): a web process
folds each new event into a few copies of a state within moments, and needs no more.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

application = get_wsgi_application()

WEB_DECODED_EVENTS_CACHED = 2_000


def settle() -> bool:
    """Settle this process for serving; False (nothing done) with ``gc-freeze`` off."""
    from consortium import streams
    from ledger import speed

    if not speed.enabled("gc-freeze"):
        return False
    streams.cache_decoded_events(WEB_DECODED_EVENTS_CACHED)
    gc.collect()
    gc.freeze()
    return True


settle()
