"""The one exception type the runtime raises for bad input (the CLI prints it as one line), and
how a program ends when the reader of its output goes away."""

import os
import sys
from collections.abc import Callable


class SpotterError(Exception):
    """A problem the user can fix: bad file, bad model, bad device, bad arguments."""


def first_line(exc: BaseException) -> str:
    """An exception from a library as one line of an error message: its first line, or its
    type when it has no text."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def drop_stdout() -> None:
    """Point stdout at /dev/null once its reader is gone (``... | head``), so that the final
    flush does not fail again at exit."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def run_script(main: Callable[[], None]) -> None:
    """Run a script's ``main``; when the reader of its output closes the pipe (``script | head``),
    end quietly with status 0, as the ``spotter`` CLI does, instead of a BrokenPipeError
    traceback."""
    try:
        main()
        sys.stdout.flush()
    except BrokenPipeError:
        drop_stdout()
