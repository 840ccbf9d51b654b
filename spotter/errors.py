"""The one exception type the runtime raises for bad input; the CLI prints it as one line."""


class SpotterError(Exception):
    """A problem the user can fix: bad file, bad model, bad device, bad arguments."""


def first_line(exc: BaseException) -> str:
    """An exception from a library as one line of an error message: its first line, or its
    type when it has no text."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
