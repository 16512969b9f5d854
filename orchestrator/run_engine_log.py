"""The RunEngine's own log goes to the store, not the terminal: a plan that failed is already a
`Faulted` event with a typed message, and bluesky logs every failed run with its whole traceback."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RUN_ENGINE_LOG = "bluesky.log"


@contextmanager
def run_engine_log_in(store: Path) -> Iterator[Path]:
    """While the block runs, bluesky's log records (INFO and up) are appended to the store's
    bluesky.log instead of reaching stderr."""
    path = Path(store) / RUN_ENGINE_LOG
    logger = logging.getLogger("bluesky")
    handler = logging.FileHandler(path, delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    was = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield path
    finally:
        logger.removeHandler(handler)
        logger.propagate = was
        handler.close()
