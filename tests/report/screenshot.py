"""Take the documentation's screenshots of a dry-run report with headless Chromium.

    rulebot dry-run data/sample/sample.snapshots.parquet --report logs/dry-run-report.html
    python -m tests.report.screenshot logs/dry-run-report.html docs/img/dry-run-report.png --height 1900
    python -m tests.report.screenshot logs/dry-run-report.html docs/img/dry-run-report-prices.png \\
        --from price-charts --height 1000
    python -m tests.report.screenshot logs/dry-run-report.html docs/img/dry-run-report-trades.png \\
        --from trades --height 760

The page is laid out at ``--width`` CSS pixels (1100 by default: the width the report is
designed to fit without sideways scrolling); the price chart with the most trades is zoomed to
one day (the view a trader starts from); ``--height`` pixels are captured from the top of the
page or of the element whose id is ``--from``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from tests.report.cdp import CHROMIUM, Browser

ZOOM_BUSIEST = """(() => {
  const figures = Array.from(document.querySelectorAll("figure[data-chart^='price-'][data-marks]"));
  figures.sort((a, b) => Number(b.dataset.marks) - Number(a.dataset.marks));
  if (figures.length) figures[0].querySelector("button[data-zoom='day']").click();
})()"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=1900)
    parser.add_argument("--from", dest="start", default="", help="id of the element to start at (default: the top)")
    args = parser.parse_args(argv)
    if CHROMIUM is None:
        print("screenshot: Chromium is not installed", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as profile, Browser(Path(profile), args.width, args.height) as browser:
        browser.open(args.report.resolve().as_uri())
        browser.evaluate(ZOOM_BUSIEST)
        top = 0.0
        if args.start:
            top = browser.evaluate(
                f"(e => e ? e.getBoundingClientRect().top + scrollY : null)(document.getElementById({json.dumps(args.start)}))"
            )
            if top is None:
                print(f"screenshot: no element with id {args.start!r} in {args.report}", file=sys.stderr)
                return 1
        browser.screenshot(args.png, args.width, args.height, top)
        if browser.console:
            print("screenshot: the page reported: " + "; ".join(browser.console), file=sys.stderr)
            return 1
    print(f"screenshot: {args.png} ({args.width} × {args.height} px)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
