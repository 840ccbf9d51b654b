#!/usr/bin/env bash
# Score `spotter detect` on FSDD clips the way a user would: every clip padded with 0.5 s of
# silence at both ends, all clips in one `spotter detect` call, the highest-score event of a
# clip taken as its prediction (no event counts as wrong). Prints one JSON object.
#
#   scripts/score-fsdd.sh [spotter detect options, e.g. --model runs/x/model.onnx]
#
# Environment: FSDD (default ../shared/data/fsdd); SPEAKERS (default "theo yweweler", the
# speakers the shipped model never heard); TAKES, a glob over take numbers (default "*"; "[0-4]"
# is FSDD's official test split); SPOTTER (default .venv/bin/spotter, else spotter on PATH).
# Needs sox and jq (scripts/install-system-deps.sh).
set -euo pipefail
fsdd=${FSDD:-../shared/data/fsdd}
speakers=${SPEAKERS:-theo yweweler}
takes=${TAKES:-*}
spotter=${SPOTTER:-$( [ -x .venv/bin/spotter ] && echo .venv/bin/spotter || echo spotter )}
[ -d "$fsdd/recordings" ] && fsdd=$fsdd/recordings

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for speaker in $speakers; do
  for clip in "$fsdd"/?_"$speaker"_$takes.wav; do
    [ -e "$clip" ] || { echo "score-fsdd: no clips of $speaker in $fsdd" >&2; exit 2; }
    sox "$clip" "$work/$(basename "$clip")" pad 0.5 0.5
  done
done
ls "$work"/*.wav > "$work/clips.txt"
"$spotter" detect "$@" "$work"/*.wav > "$work/events.jsonl"

jq -n --arg speakers "$speakers" --arg takes "$takes" --slurpfile events "$work/events.jsonl" --rawfile list "$work/clips.txt" '
  ($events | group_by(.source) | map({key: .[0].source, value: .}) | from_entries) as $by_clip
  | [ $list | split("\n")[] | select(length > 0) | . as $clip | ($by_clip[$clip] // []) as $found
      | { clip: ($clip | split("/") | last),
          truth: ($clip | split("/") | last | .[0:1] | tonumber),
          events: ($found | length),
          predicted: (if ($found | length) > 0 then ($found | max_by(.score) | .digit) else null end),
          latency: (if ($found | length) > 0 then ($found | max_by(.score) | .time - .end) else null end) } ]
  | (map(select(.latency != null) | .latency) | sort) as $latencies
  | { speakers: $speakers, takes: $takes,
      clips: length,
      accuracy: ((map(select(.predicted == .truth)) | length) / length),
      exactly_one_event: ((map(select(.events == 1)) | length) / length),
      no_event: ((map(select(.events == 0)) | length) / length),
      several_events: ((map(select(.events > 1)) | length) / length),
      latency_s: { median: ($latencies[($latencies | length) / 2 | floor] * 1000 | round / 1000),
                   p90: ($latencies[($latencies | length) * 0.9 | floor] * 1000 | round / 1000) },
      wrong: [ .[] | select(.predicted != .truth) | "\(.clip)→\(.predicted)" ] }'
