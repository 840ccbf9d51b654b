#!/usr/bin/env bash
# The model card's numbers for one model, on voices it never trained on:
#   isolated digits of the held-out FSDD speakers (real) and of the test-split TTS voices;
#   2-hour sets of continuous streams (digit strings, ordinary sentences of test-split voices,
#   noise at 5-30 dB SNR) built from each, and the same with fast digit strings (0-0.1 s of
#   silence added between the digits of a string, as in a PIN said quickly).
# Usage: scripts/measure-model.sh [MODEL] [OUT]   (env: FSDD, SYNTH, STREAMS, SPOTTER)
set -euo pipefail
MODEL=${1:-spotter/assets/digits.onnx}
OUT=${2:-runs/measure}
FSDD=${FSDD:-../shared/data/fsdd/recordings}
SYNTH=${SYNTH:-data/synth}
STREAMS=${STREAMS:-24}
SPOTTER=${SPOTTER:-.venv/bin/spotter}

[[ -f "$SYNTH/test.csv" ]] || { echo "measure-model: no $SYNTH/test.csv (run 'spotter data synth')" >&2; exit 2; }
set -x
"$SPOTTER" eval clips "$FSDD" --speakers theo,yweweler --model "$MODEL" --out "$OUT/clips-fsdd-heldout"
"$SPOTTER" eval clips "$SYNTH/test.csv" --model "$MODEL" --out "$OUT/clips-synth-test"
"$SPOTTER" eval streams "$FSDD" --speakers theo,yweweler --negatives "$SYNTH/other-test" \
  --streams "$STREAMS" --seconds 300 --model "$MODEL" --out "$OUT/streams-fsdd-heldout"
"$SPOTTER" eval streams "$SYNTH/test.csv" --negatives "$SYNTH/other-test" \
  --streams "$STREAMS" --seconds 300 --model "$MODEL" --out "$OUT/streams-synth-test"
"$SPOTTER" eval streams "$FSDD" --speakers theo,yweweler --negatives "$SYNTH/other-test" \
  --streams "$STREAMS" --seconds 300 --string-gap 0 0.1 --model "$MODEL" --out "$OUT/fast-streams-fsdd-heldout"
"$SPOTTER" eval streams "$SYNTH/test.csv" --negatives "$SYNTH/other-test" \
  --streams "$STREAMS" --seconds 300 --string-gap 0 0.1 --model "$MODEL" --out "$OUT/fast-streams-synth-test"
