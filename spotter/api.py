"""The library API: ``Spotter.load()`` then ``feed()`` audio of any size and rate, get events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from spotter.detector import Detection, Detector, DetectorConfig
from spotter.engine import Engine
from spotter.errors import SpotterError
from spotter.events import WORDS, Event
from spotter.resample import Resampler, to_mono_float

END_OF_STREAM_S = 0.5  # silence appended by flush(), so a word at the very end is still heard


SHIPPED_MODELS = {"float": "digits.onnx", "int8": "digits-int8.onnx"}


def model_path(model: Path | str | None = None) -> Path:
    """A model file, or the name of a shipped model ("float", "int8"); None: the float one."""
    assets = Path(__file__).parent / "assets"  # not importlib.resources: it costs 13 ms
    if model is None:
        return assets / SHIPPED_MODELS["float"]
    if not Path(model).exists() and str(model) in SHIPPED_MODELS:
        return assets / SHIPPED_MODELS[str(model)]
    return Path(model)


class Spotter:
    """Streaming digit spotter for one audio stream.

    >>> spotter = Spotter.load()
    >>> for event in spotter.feed(samples, rate=16000): print(event.digit, event.score)
    """

    def __init__(self, engine: Engine, detector: DetectorConfig, source: str = "library") -> None:
        self.engine = engine
        self.info = engine.info
        self.source = source
        self.detector = Detector(len(self.info.labels), self.info.digit_classes, detector)
        self.resampler: Resampler | None = None
        self.clock_s = 0.0  # stream time where the current segment began (skip() moves it)
        self.samples_in = 0  # samples fed to the current segment, at the input rate

    @classmethod
    def load(
        cls,
        path: Path | str | None = None,
        *,
        threshold: float | None = None,
        threads: int = 1,
        source: str = "library",
    ) -> Spotter:
        """Load a model file or shipped model ("float", the default, or "int8");
        ``threshold`` overrides the model's default."""
        path = model_path(path)
        if not path.is_file():
            raise SpotterError(f"model file not found: {path}")
        engine = Engine(path, threads=threads)
        settings = DetectorConfig.stored(engine.info.detector, str(path))
        if threshold is not None:
            if not 0.0 < threshold < 1.0:
                raise SpotterError(f"threshold must be between 0 and 1, got {threshold}")
            settings = settings.at_threshold(threshold)
        return cls(engine, settings, source)

    @property
    def sample_rate(self) -> int:
        return self.info.sample_rate

    @property
    def stream_seconds(self) -> float:
        """Stream time reached by the audio fed so far, gaps included."""
        rate = self.resampler.rate if self.resampler else self.sample_rate
        return self.clock_s + self.samples_in / rate

    def feed(self, samples: np.ndarray, rate: int | None = None) -> list[Event]:
        """Audio (n,) or (n, channels), float in [-1, 1] or int16, at ``rate`` Hz → new events."""
        rate = rate or self.sample_rate
        if self.resampler is None or self.resampler.rate != rate:
            if self.resampler is not None and self.engine.frames_done:
                raise SpotterError("the sample rate changed mid-stream; call reset() first")
            self.resampler = Resampler(rate, self.sample_rate)
        mono = to_mono_float(samples)
        self.samples_in += len(mono)
        return self.feed_model_rate(self.resampler(mono))

    def skip(self, seconds: float) -> list[Event]:
        """A gap in the stream: ``seconds`` of audio were lost (a consumer that fell behind, a
        device that went away). Decides what is pending, forgets the context and moves the
        clock on, so that later events keep true stream times."""
        position = self.stream_seconds + seconds
        events = self.flush()
        self.reset()
        self.clock_s = position
        return events

    def stream_file(self, path: Path | str, pad_s: float = 0.0) -> Iterator[Event]:
        """A new stream from an audio file (``pad_s`` of silence before and after it), read
        block by block as if live; events as they are decided. Raises SpotterError for a file
        that cannot be read, leaving what was already decided pending in ``flush()``."""
        from spotter.sources import read_file  # soundfile: only when files are read

        self.reset()
        self.source = str(path)
        rate = None
        for index, (block, rate) in enumerate(read_file(Path(path))):
            if index == 0:
                yield from self.feed(np.zeros(int(pad_s * rate), np.float32), rate)
            yield from self.feed(block, rate)
        if rate is not None:
            yield from self.feed(np.zeros(int(pad_s * rate), np.float32), rate)
        yield from self.flush()

    def flush(self) -> list[Event]:
        """End of stream: pass the resampler's tail and a short silence, decide what is pending."""
        tail = self.resampler(np.zeros(0, np.float32), last=True) if self.resampler else np.zeros(0)
        silence = np.zeros(int(END_OF_STREAM_S * self.sample_rate), np.float32)
        events = self.feed_model_rate(np.concatenate([tail.astype(np.float32), silence]))
        return events + [self.to_event(d) for d in self.detector.flush()]

    def reset(self) -> None:
        """Start a new stream: model state, detector and clock back to zero."""
        self.engine.reset()
        self.detector.reset()
        self.resampler = None
        self.clock_s, self.samples_in = 0.0, 0

    def feed_model_rate(self, samples: np.ndarray) -> list[Event]:
        posteriors, energy = self.engine.process(samples)
        if not len(energy):
            return []
        return [self.to_event(d) for d in self.detector.process(posteriors, energy)]

    def to_event(self, detection: Detection) -> Event:
        hop_s = self.info.hop_length / self.sample_rate
        window_s = 0.025
        label = self.info.labels[detection.label]
        return Event(
            digit=WORDS.index(label) if label in WORDS else detection.label,
            word=label,
            score=round(detection.score, 4),
            start=round(self.clock_s + max(detection.start_frame * hop_s + hop_s - window_s, 0), 3),
            end=round(self.clock_s + (detection.end_frame + 1) * hop_s, 3),
            time=round(self.clock_s + (detection.decision_frame + 1) * hop_s, 3),
            source=self.source,
        )
