"""The last resort of the command line: an exception nobody expected becomes one line on stderr and
a file holding its traceback, so a user sees what failed and a developer gets the whole story."""

import tempfile
import traceback
from pathlib import Path

INTERNAL_ERROR = 70  # sysexits' EX_SOFTWARE: a fault of junkan's own, not of the input or the campaign


def write_crash_report(exc: BaseException, argv: list[str]) -> Path:
    """The traceback and the command line, in a new file under the temporary directory."""
    handle, name = tempfile.mkstemp(prefix="junkan-crash-", suffix=".log")
    with open(handle, "w") as report:
        report.write(f"command: junkan {' '.join(argv)}\n\n")
        report.write("".join(traceback.format_exception(exc)))
    return Path(name)


def crash_line(exc: BaseException, report: Path) -> str:
    """One line: what went wrong and where the traceback is."""
    what = str(exc).splitlines()[0] if str(exc) else ""
    return (
        f"internal error: {type(exc).__name__}{': ' + what if what else ''} (a fault of junkan's, not of "
        f"your input; traceback in {report}, please report it)"
    )
