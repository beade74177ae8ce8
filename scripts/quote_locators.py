"""Turn every fact's `quote:` (the report's sentence) into `at: N` (which occurrence of the figure it is).

One-off migration, kept reproducible: `python scripts/quote_locators.py ../shared/sources [--write]`. For each fact
it finds the quote's parts in order in the cited report's joined text (as the old quote check did), takes the
occurrence of the figure inside the part holding it, and prints any fact whose derived dated context names other
dates than its quote did. With --write it replaces each `quote:` line of knowledge/data by `at: N`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.loader import quote_years  # noqa: E402
from knowledge.model import Source  # noqa: E402
from knowledge.reports import Report, read_report  # noqa: E402

DATA = ROOT / "knowledge" / "data"


def locate(report: Report, figure: str, quote: str) -> int | None:
    """Return the 1-based occurrence of figure inside quote's first in-order match in the report, or None."""
    parts = [p for p in quote.split("…") if p]
    holder = next((i for i, p in enumerate(parts) if figure in p), None)
    if holder is None:
        return None
    at, found = 0, []
    for part in parts:
        i = report.text.find(part, at)
        if i < 0:
            return None
        found.append(i)
        at = i + len(part)
    return report.count(figure, found[holder] + parts[holder].index(figure))


def main(argv: list[str]) -> int:
    folder, write = Path(argv[0]), "--write" in argv
    raw_sources = yaml.safe_load((DATA / "sources.yaml").read_text(encoding="utf-8"))["sources"]
    sources = {
        s["id"]: Source(s["id"], s["file"], s["title"], s["publisher"], str(s["date"]), s["label"]) for s in raw_sources
    }
    reports = {sid: read_report(folder, s) for sid, s in sources.items()}
    failed = 0
    for path in [DATA / "fallback.yaml", *sorted((DATA / "topics").glob("*.yaml"))]:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        facts = data.get("facts") or [f for e in data.get("entries", []) for f in e["facts"]]
        ats = []
        for f in facts:
            source, figure, quote = sources[f["source"]], str(f["figure"]), str(f["quote"])
            at = locate(reports[source.id], figure, quote)
            if at is None:
                print(f"{path.name}: {figure!r}: quote not found in {source.id}")
                failed += 1
                continue
            context = reports[source.id].dated_context(figure, at) or ""
            old, new = quote_years(quote, source), quote_years(context, source)
            if old != new:
                print(f"{path.name}: {figure!r} at {at}: quote dates {sorted(old)}, passage dates {sorted(new)}")
            ats.append(at)
        if write and not failed:
            lines = path.read_text(encoding="utf-8").split("\n")
            it = iter(ats)
            out = [
                line[: line.index("quote:")] + f"at: {next(it)}" if line.lstrip().startswith("quote:") else line
                for line in lines
            ]
            path.write_text("\n".join(out), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
