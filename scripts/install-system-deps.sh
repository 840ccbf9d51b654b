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
  sox                # audio conversion
  jq                 # JSON Lines in the scripts (scripts/score-fsdd.sh)
)
# Debian's own python3 makes virtual environments only with python3-venv (ensurepip).
python3 -c "import ensurepip" 2>/dev/null || PACKAGES+=(python3-venv)
# Never install pipewire-alsa: it routes ALSA "default" to PipeWire, and with no
# PipeWire running PortAudio then sees no ALSA devices at all.

# Fast path: nothing to do if every package is already installed.
missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$pkg")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-system-deps: all packages already installed"
  exit 0
fi

# Use sudo only when not root and sudo is available.
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-system-deps: not root and sudo not found; cannot install: ${missing[*]}" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)

echo "install-system-deps: installing ${missing[*]}"
"${APT[@]}" update -q
"${APT[@]}" install -y -q --no-install-recommends "${PACKAGES[@]}"
