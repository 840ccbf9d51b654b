"""The example systemd unit (scripts/systemd/spotter.service) is one systemd accepts, and its
ExecStart is the installed `spotter listen`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO

UNIT = REPO / "scripts" / "systemd" / "spotter.service"


def verify_as_user_unit(home: Path) -> subprocess.CompletedProcess:
    """`systemd-analyze verify --user` for a user whose home is ``home``."""
    assert shutil.which("systemd-analyze"), (
        "systemd-analyze missing: scripts/install-system-deps.sh"
    )
    runtime = home / "run"
    runtime.mkdir(mode=0o700)
    return subprocess.run(
        ["systemd-analyze", "verify", "--user", str(UNIT)],
        env={**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_systemd_accepts_the_example_user_unit(tmp_path):
    bin_dir = tmp_path / ".local" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "spotter").symlink_to(Path(sys.executable).parent / "spotter")
    result = verify_as_user_unit(tmp_path)
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stderr
    exec_start = next(
        line for line in UNIT.read_text().splitlines() if line.startswith("ExecStart=")
    )
    assert exec_start.split("=", 1)[1].split()[:2] == ["%h/.local/bin/spotter", "listen"]


def test_systemd_rejects_it_when_spotter_is_not_installed(tmp_path):
    result = verify_as_user_unit(tmp_path)
    assert result.returncode != 0 and "not executable" in result.stderr
