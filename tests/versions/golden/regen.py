"""Rewrite the golden diff outputs from the current behaviour. Review the change by hand."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import CASES, HERE, run


def main() -> None:
    for name in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            done = run(name, Path(tmp))
        if done.returncode != 0:
            raise SystemExit(f"{name}: exit {done.returncode}\n{done.stderr}")
        (HERE / name).write_text(done.stdout, encoding="utf-8")
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
