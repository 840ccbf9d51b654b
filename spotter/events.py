"""The event contract: one JSON object per detected digit (see docs in README)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass(frozen=True)
class Event:
    """A detected digit. Times are seconds of stream audio from the start of the stream.

    ``start``/``end``: estimated span of the spoken word; ``time``: stream time at which the
    detector decided (``time - end`` is the latency); ``source``: file path, "mic" or "stdin".
    """

    digit: int
    word: str
    score: float
    start: float
    end: float
    time: float
    source: str
    type: str = "digit"

    def to_dict(self) -> dict:
        data = asdict(self)
        return {"type": data.pop("type"), **data}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def to_text(self) -> str:
        return (
            f"{self.time:8.2f}s  {self.digit} ({self.word})  score {self.score:.2f}  "
            f"word {self.start:.2f}-{self.end:.2f}s  {self.source}"
        )
