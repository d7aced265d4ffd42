"""Rewrite validate_expected.json from the current behaviour. Review the diff by hand."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import EXPECTED, load_cases, run_case


def main() -> None:
    expected = {}
    for case in load_cases():
        with tempfile.TemporaryDirectory() as tmp:
            expected[case["name"]] = run_case(case, Path(tmp))
    lines = ",\n".join(f"  {json.dumps(name)}: {json.dumps(found)}" for name, found in expected.items())
    EXPECTED.write_text("{\n" + lines + "\n}\n", encoding="utf-8")
    print(f"wrote {len(expected)} cases to {EXPECTED}")


if __name__ == "__main__":
    main()
