"""The web entry point settles its process for steady latency (see ``config.wsgi``)."""

import gc

from consortium import streams


def test_the_web_process_freezes_start_up_and_keeps_few_decoded_events():
    from config import wsgi

    before = streams.DECODED_EVENTS_CACHED
    try:
        assert wsgi.settle()  # as on import (the module may have been imported before this test)
        assert callable(wsgi.application)
        assert gc.get_freeze_count() > 10_000  # Django, DRF and the app: no longer walked
        assert streams.DECODED_EVENTS_CACHED == wsgi.WEB_DECODED_EVENTS_CACHED
    finally:
        gc.unfreeze()
        streams.cache_decoded_events(before)


def test_with_gc_freeze_off_the_web_process_is_left_as_it_is(settings):
    from config import wsgi

    gc.unfreeze()  # importing the module above settled this process
    before = streams.DECODED_EVENTS_CACHED
    settings.SPEED_OFF = ["gc-freeze"]
    assert not wsgi.settle()
    assert gc.get_freeze_count() == 0
    assert before == streams.DECODED_EVENTS_CACHED
