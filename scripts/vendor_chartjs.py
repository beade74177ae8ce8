"""Copy Chart.js's UMD build from node_modules into the admin console's package data (bot/admin/static/vendor/).

The version is pinned by package.json and package-lock.json at the repository's root, so the copy is
reproducible:
    npm ci --ignore-scripts && python scripts/vendor_chartjs.py
The copied file is committed: `pip install` needs no Node. `--check` exits 1 when the committed copy differs
from node_modules (after `npm ci`).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"
TARGET = ROOT / "bot" / "admin" / "static" / "vendor" / "chart.umd.min.js"


def main(argv: list[str]) -> int:
    """Copy (or, with --check, compare) the vendored Chart.js; return the exit status."""
    if not SOURCE.is_file():
        print(f"error: {SOURCE.relative_to(ROOT)} is missing; run `npm ci --ignore-scripts` first", file=sys.stderr)
        return 2
    version = json.loads((SOURCE.parent.parent / "package.json").read_text(encoding="utf-8"))["version"]
    wanted = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"]["chart.js"]
    if version != wanted:
        print(f"error: node_modules has chart.js {version}, package.json pins {wanted}", file=sys.stderr)
        return 2
    if "--check" in argv:
        same = TARGET.is_file() and TARGET.read_bytes() == SOURCE.read_bytes()
        print(f"chart.js {version}: {'up to date' if same else 'differs from node_modules'}")
        return 0 if same else 1
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SOURCE, TARGET)
    print(f"chart.js {version} → {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
