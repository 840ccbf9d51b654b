#!/usr/bin/env bash
# Install the system packages spotter needs (audio I/O, virtual-mic test route, TTS).
# Idempotent and non-interactive; a no-op when everything is already installed.
set -euo pipefail

PACKAGES=(
  libportaudio2      # PortAudio, used by sounddevice
  libsndfile1        # used by soundfile
  pulseaudio         # sound server for the virtual microphone in tests
  pulseaudio-utils   # pactl, pacat, parec, paplay
  libasound2-plugins # ALSA "pulse" plugin: PortAudio(ALSA) -> PulseAudio
  espeak-ng          # speech synthesis: training voices, eval sentences, test clips
  sox                # audio conversion (score-fsdd.sh), pitch shifts (pitch-sweep.py, train)
  jq                 # JSON Lines in the scripts (scripts/score-fsdd.sh)
  systemd            # systemd-analyze checks the example service unit (tests)
)
# Debian's own python3 makes virtual environments only with python3-venv (ensurepip).
python3 -c "import ensurepip" 2>/dev/null || PACKAGES+=(python3-venv)
# Never install pipewire-alsa: it routes ALSA "default" to PipeWire, and with no
# PipeWire running PortAudio then sees no ALSA devices at all.

# shellcheck source=scripts/apt-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt-common.sh"
missing_packages "${PACKAGES[@]}"
if [[ ${#MISSING[@]} -eq 0 ]]; then
  echo "install-system-deps: all packages already installed" >&2
  exit 0
fi
use_apt install-system-deps

echo "install-system-deps: installing ${MISSING[*]}" >&2
# All of it on stderr: the README's first command pipes the spotter's events that follow.
"${APT[@]}" update -q >&2
"${APT[@]}" install -y -q --no-install-recommends "${PACKAGES[@]}" >&2
