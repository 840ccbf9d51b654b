"""Best validation recall at several false-alarm rates, read from `spotter calibrate` reports.

A calibration report (``MODEL.calibration.json``, written by ``spotter calibrate`` and at the end
of ``spotter train``) holds every detector setting it tried on the validation streams. For each
rate, this prints the best recall among the settings at or below that many false alarms per hour
that also keep the validation number words quiet (at most ``--max-quiet`` of them fire; by
default the bound the report was calibrated with). One Markdown table row per report.

    .venv/bin/python scripts/frontier.py runs/default/model.calibration.json [...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spotter.calibrate import meeting_target  # noqa: E402
from spotter.errors import run_script  # noqa: E402

RATES = (1.0, 5.0, 10.0, 20.0)


def frontier(report: dict, rates: tuple[float, ...], max_quiet: float | None) -> list[float | None]:
    """Best recall at ≤ each rate among settings with at most ``max_quiet`` (a share) of the
    number words firing (None: the report's own bound); None where no setting qualifies."""
    quiet = report["quiet"]
    share = quiet["max_share_fired"] if max_quiet is None else max_quiet
    best = []
    for rate in rates:
        meeting = meeting_target(report["grid"], rate, share * quiet["recordings"])
        best.append(max(row["recall"] for row in meeting) if meeting else None)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path, help="calibration reports (JSON)")
    parser.add_argument(
        "--max-quiet",
        type=float,
        help="share of number words allowed to fire (default: each report's own bound)",
    )
    args = parser.parse_args()
    rows = []
    for path in args.reports:
        try:
            best = frontier(json.loads(path.read_text()), RATES, args.max_quiet)
        except OSError as exc:
            parser.exit(2, f"frontier: error: cannot read {path}: {exc.strerror}\n")
        except (ValueError, KeyError, TypeError) as exc:
            parser.exit(2, f"frontier: error: {path} is not a calibration report ({exc!r})\n")
        cells = ["none" if recall is None else f"{100 * recall:.2f} %" for recall in best]
        rows.append(f"| {path} | " + " | ".join(cells) + " |")
    print("| report | " + " | ".join(f"≤ {rate:g}" for rate in RATES) + " |")
    print("| --- |" + " ---: |" * len(RATES))
    print("\n".join(rows))


if __name__ == "__main__":
    run_script(main)
