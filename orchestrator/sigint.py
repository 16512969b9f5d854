"""Ctrl-C (SIGINT) stops a campaign however its process was started. A shell starts a background
job with SIGINT ignored, and Python keeps it ignored; but bluesky's RunEngine catches SIGINT during
each plan regardless, so a press (or `kill -INT`) stopped a campaign when it landed in a plan and
was lost when it landed between plans."""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def sigint_honoured() -> Iterator[None]:
    """While the block runs, an ignored SIGINT raises KeyboardInterrupt, as in a foreground process;
    a handler someone installed is left alone."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
