"""spotter: a real-time streaming spoken-digit keyword spotter.

capture → ring buffer → resample → engine (ONNX: log-mel + causal CNN) → detector → events.
"""

from spotter.api import Spotter
from spotter.errors import SpotterError
from spotter.events import Event

__all__ = ["Event", "Spotter", "SpotterError"]
__version__ = "0.1.0"
