"""A virtual microphone for tests on machines without sound hardware.

Route: a private PulseAudio daemon with a null sink ``vmic``; its monitor source
``vmic.monitor`` is the default source, so an app recording through PortAudio's
ALSA ``pulse``/``default`` device (``libasound2-plugins``) hears whatever is
played into the sink with :meth:`VirtualMic.play`.

PortAudio enumerates devices only when it initialises, so run the app under test
as a *subprocess* with ``env=mic.env`` after the mic is up::

    with VirtualMic() as mic:
        app = subprocess.Popen([sys.executable, "-m", "app"], env=mic.env)
        mic.play("digits.wav")

Pitfalls handled here:

* An idle null-sink monitor delivers no data at all, so a silent keep-alive
  stream (``pacat /dev/zero``) plays into the sink for the mic's lifetime.
* For about 2 s after the daemon starts, new capture streams get their first
  data late; startup waits until the monitor really delivers audio.

Pitfall left to the caller: the first ~4 ms of every newly started playback are
lost, so test WAVs should begin with >= 50 ms of silence.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

_TOOLS = ("pulseaudio", "pactl", "pacat", "parec", "paplay")
_STOP_TIMEOUT_S = 5.0
_CMD_TIMEOUT_S = 5.0


class VirtualMic:
    """Private PulseAudio server whose null-sink monitor acts as the default mic.

    Use as a context manager; the server, its helper processes and its temporary
    runtime directory exist only inside the ``with`` block.
    """

    def __init__(
        self,
        rate: int = 16000,
        *,
        channels: int = 1,
        sink_name: str = "vmic",
        startup_timeout: float = 10.0,
    ) -> None:
        """Configure the mic (nothing starts until ``__enter__``).

        Args:
            rate: sample rate of the null sink and its monitor, in Hz.
            channels: channels of the sink and its monitor (a stereo WAV played into a
                stereo mic keeps left and right apart).
            sink_name: name of the null sink; the mic is ``<sink_name>.monitor``.
            startup_timeout: seconds allowed for the server to answer and for
                its monitor to deliver audio.
        """
        self.rate = rate
        self.channels = channels
        self.sink = sink_name
        self.source = f"{sink_name}.monitor"
        self.startup_timeout = startup_timeout
        self.env: dict[str, str] = {}
        self._base: Path | None = None
        self._server: subprocess.Popen[bytes] | None = None
        self._keepalive: subprocess.Popen[bytes] | None = None
        self._players: list[subprocess.Popen[bytes]] = []

    # ----------------------------------------------------------------- lifecycle

    def __enter__(self) -> VirtualMic:
        """Start the server, keep-alive stream and wait until audio flows."""
        missing = [tool for tool in _TOOLS if shutil.which(tool) is None]
        if missing:
            raise RuntimeError(
                f"VirtualMic needs {', '.join(missing)} on PATH; run scripts/install-system-deps.sh"
            )
        self._base = Path(tempfile.mkdtemp(prefix="vmic."))
        runtime, home = self._base / "run", self._base / "home"
        runtime.mkdir(mode=0o700)
        home.mkdir(mode=0o700)
        self.env = dict(
            os.environ,
            XDG_RUNTIME_DIR=str(runtime),
            HOME=str(home),
            PULSE_SERVER=f"unix:{runtime}/pulse/native",
        )
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop everything this mic started and remove its temporary directory."""
        self.close()

    def close(self) -> None:
        """Stop players, keep-alive and server (by PID); remove the temp dir."""
        for proc in self._players:
            _stop(proc)
        self._players.clear()
        self._stop_server()
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)
            self._base = None

    @property
    def server_pid(self) -> int | None:
        """PID of the running PulseAudio server, or None if it is not running."""
        if self._server is None or self._server.poll() is not None:
            return None
        return self._server.pid

    def kill_server(self) -> None:
        """Kill the server abruptly (SIGKILL), as if the device disappeared.

        The keep-alive stream is stopped too. Clients see the connection drop.
        """
        if self._server is not None and self._server.poll() is None:
            self._server.send_signal(signal.SIGKILL)
        self._stop_server()

    def restart_server(self) -> None:
        """Start the server again on the same socket path, sink and default source.

        Kills the current server first if it is still running. Blocks until the
        monitor delivers audio again, like ``__enter__``.
        """
        if self._base is None:
            raise RuntimeError("VirtualMic is not active (use it as a context manager)")
        self.kill_server()
        self._start()

    # -------------------------------------------------------------------- audio

    def play(self, path: str | os.PathLike[str], timeout: float = 60.0) -> None:
        """Play a sound file into the mic and wait until it has finished."""
        self._require_server()
        subprocess.run(
            self._paplay_cmd(path),
            env=self.env,
            check=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            capture_output=True,
        )

    def play_async(self, path: str | os.PathLike[str]) -> subprocess.Popen[bytes]:
        """Start playing a sound file into the mic; return the ``paplay`` process.

        The process is stopped on exit if it is still running.
        """
        self._require_server()
        proc = subprocess.Popen(
            self._paplay_cmd(path),
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._players.append(proc)
        return proc

    # ------------------------------------------------------------------ helpers

    def _paplay_cmd(self, path: str | os.PathLike[str]) -> list[str]:
        return ["paplay", f"--device={self.sink}", os.fspath(path)]

    def _require_server(self) -> None:
        if self.server_pid is None:
            raise RuntimeError("VirtualMic server is not running")

    def _start(self) -> None:
        """Start server, wait for it, set defaults, start keep-alive, wait for data."""
        assert self._base is not None
        deadline = time.monotonic() + self.startup_timeout
        log_path = self._base / "pulseaudio.log"
        with log_path.open("ab") as log:
            self._server = subprocess.Popen(
                [
                    "pulseaudio",
                    "-n",  # no default.pa: no udev/ALSA/D-Bus modules
                    "--daemonize=no",
                    "--exit-idle-time=-1",
                    "--disallow-exit",
                    "--load=module-native-protocol-unix auth-anonymous=1",
                    f"--load=module-null-sink sink_name={self.sink} rate={self.rate} "
                    f"channels={self.channels}",
                ],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        self._wait_for_server(deadline, log_path)
        for args in (("set-default-sink", self.sink), ("set-default-source", self.source)):
            result = subprocess.run(
                ["pactl", *args],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=_CMD_TIMEOUT_S,
            )
            if result.returncode != 0:
                log = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(
                    f"pactl {' '.join(args)} failed: {result.stderr.strip()}\n"
                    f"pulseaudio log:\n{log}"
                )
        # Keep-alive: an idle null sink's monitor produces no data at all.
        self._keepalive = subprocess.Popen(
            [*self._pcm_args("pacat", "--playback", f"--device={self.sink}"), "/dev/zero"],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait_for_audio(deadline)

    def _pcm_args(self, *head: str) -> list[str]:
        return [
            *head,
            "--format=s16le",
            f"--rate={self.rate}",
            "--channels=1",
            "--latency-msec=20",
        ]

    def _wait_for_server(self, deadline: float, log_path: Path) -> None:
        """Poll ``pactl info`` until the server answers."""
        assert self._server is not None
        while True:
            if self._server.poll() is not None:
                log = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(
                    f"pulseaudio exited with status {self._server.returncode}:\n{log}"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"pulseaudio did not answer within {self.startup_timeout} s")
            try:
                info = subprocess.run(
                    ["pactl", "info"],
                    env=self.env,
                    capture_output=True,
                    timeout=min(remaining, 2.0),
                )
                if info.returncode == 0:
                    return
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.05)

    def _wait_for_audio(self, deadline: float) -> None:
        """Wait until the monitor source delivers 100 ms of audio to a recorder.

        Equivalent to ``parec ... | head -c N``, with a deadline and PID cleanup.
        """
        wanted = self.rate // 10 * 2  # 100 ms of s16 mono
        parec = subprocess.Popen(
            self._pcm_args("parec", f"--device={self.source}", "--raw"),
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert parec.stdout is not None
        got = 0
        try:
            fd = parec.stdout.fileno()
            while got < wanted:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError(
                        f"virtual mic delivered no audio within {self.startup_timeout} s "
                        f"({got} of {wanted} bytes)"
                    )
                ready, _, _ = select.select([fd], [], [], remaining)
                if ready:
                    chunk = os.read(fd, wanted - got)
                    if not chunk:
                        raise RuntimeError(
                            f"parec exited (status {parec.wait(_CMD_TIMEOUT_S)}) "
                            "before the virtual mic delivered audio"
                        )
                    got += len(chunk)
        finally:
            _stop(parec)
            parec.stdout.close()

    def _stop_server(self) -> None:
        """Stop keep-alive and server (if any) by PID and reap them."""
        if self._keepalive is not None:
            _stop(self._keepalive)
            self._keepalive = None
        if self._server is not None:
            _stop(self._server)
            self._server = None


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a process by PID, kill it after a timeout, and reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=_STOP_TIMEOUT_S)
