"""The one exception type the runtime raises for bad input; the CLI prints it as one line."""


class SpotterError(Exception):
    """A problem the user can fix: bad file, bad model, bad device, bad arguments."""
