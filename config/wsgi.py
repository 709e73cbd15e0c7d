"""WSGI entry point for gunicorn (``config.wsgi:application``).

A web process is then settled for steady latency. Each full garbage collection walks
every tracked object while holding the interpreter, so it stalls all of the process's
threads at once: with Django, DRF and the app loaded (about 100,000 objects) and a large
cache of decoded events, bench/api.py saw 100-120 ms pauses, the worst of its write p99 at
100 requests/s. So the objects of start-up are frozen (``gc.freeze``: the collector no
longer walks them; reference counting still frees them), after one collection so that no
garbage is frozen, and the decoded-event cache is kept small here
(``consortium.streams.cache_decoded_events``), which brought the pauses to 15-60 ms.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

application = get_wsgi_application()

# A web process folds each new event into a few copies of a state within moments.
WEB_DECODED_EVENTS_CACHED = 2_000


def _settle() -> None:
    from consortium import streams

    streams.cache_decoded_events(WEB_DECODED_EVENTS_CACHED)
    gc.collect()
    gc.freeze()


_settle()
