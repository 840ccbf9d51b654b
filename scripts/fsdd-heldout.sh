#!/usr/bin/env bash
# Score `spotter detect` on FSDD clips of speakers the model never trained on, the way a user
# would: every clip padded with 0.5 s of silence at both ends, all clips in one `spotter detect`
# call, the highest-score event of a clip taken as its prediction (no event counts as wrong).
#
#   scripts/fsdd-heldout.sh [spotter detect options, e.g. --model runs/x/model.onnx]
#
# Environment: FSDD (default ../shared/data/fsdd), SPEAKERS (default "theo yweweler"),
# SPOTTER (default: .venv/bin/spotter, else spotter on PATH). Needs sox and jq.
set -euo pipefail
fsdd=${FSDD:-../shared/data/fsdd}
speakers=${SPEAKERS:-theo yweweler}
spotter=${SPOTTER:-$( [ -x .venv/bin/spotter ] && echo .venv/bin/spotter || echo spotter )}
[ -d "$fsdd/recordings" ] && fsdd=$fsdd/recordings

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for speaker in $speakers; do
  for clip in "$fsdd"/?_"$speaker"_*.wav; do
    [ -e "$clip" ] || { echo "fsdd-heldout: no clips of $speaker in $fsdd" >&2; exit 2; }
    sox "$clip" "$work/$(basename "$clip")" pad 0.5 0.5
  done
done
ls "$work"/*.wav > "$work/clips.txt"
"$spotter" detect "$@" "$work"/*.wav > "$work/events.jsonl"

jq -n --slurpfile events "$work/events.jsonl" --rawfile list "$work/clips.txt" '
  ($events | group_by(.source) | map({key: .[0].source, value: .}) | from_entries) as $by_clip
  | [ $list | split("\n")[] | select(length > 0) | . as $clip | ($by_clip[$clip] // []) as $found
      | { clip: ($clip | split("/") | last),
          truth: ($clip | split("/") | last | .[0:1] | tonumber),
          events: ($found | length),
          predicted: (if ($found | length) > 0 then ($found | max_by(.score) | .digit) else null end) } ]
  | { speakers: ($ENV.SPEAKERS // "theo yweweler"),
      clips: length,
      accuracy: ((map(select(.predicted == .truth)) | length) / length),
      exactly_one_event: ((map(select(.events == 1)) | length) / length),
      no_event: ((map(select(.events == 0)) | length) / length),
      several_events: ((map(select(.events > 1)) | length) / length),
      wrong: [ .[] | select(.predicted != .truth) | "\(.clip)→\(.predicted)" ] }'
