"""How many generated bad-input cases tests/test_bad_inputs.py holds, by what is bad and
where it is given (its test functions), as the issue's closing note reports them.

    python bench/bad_input_counts.py

Collects the tests only (nothing runs); run the module itself for the results.
"""

from __future__ import annotations

import collections
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    listed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            str(ROOT / "tests" / "test_bad_inputs.py"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    ids = [line for line in listed.stdout.splitlines() if "::" in line]
    if not ids:
        print(listed.stdout[-2000:], listed.stderr[-2000:], file=sys.stderr)
        return 1
    by_test = collections.Counter(line.split("::")[1].split("[")[0] for line in ids)
    width = max(len(name) for name in by_test)
    for name, count in sorted(by_test.items(), key=lambda item: -item[1]):
        print(f"{name.removeprefix('test_'):<{width}}  {count:4d}")
    print(f"{'total':<{width}}  {sum(by_test.values()):4d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
