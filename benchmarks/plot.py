"""Growth-curve plots (PNG) from a benchmark run's JSON: each result with a curve, one figure.

    python -m benchmarks.plot [RESULTS_JSON] [OUT_DIR]   (defaults: benchmarks/results/latest.json, benchmarks/img)

Files are named by the edition the run measured (``growth-ingest-apache.png``...), and the JSON is
kept beside them as ``growth-<edition>.json``, so the two editions' curves live side by side.
x: rows stored (log scale); y: the figure at that size ÷ the figure at the first size, each round
a dot and the median a line; the goal is drawn as a dashed line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: files only

import matplotlib.pyplot as plt

HERE = Path(__file__).resolve().parent
NAMES = {"ingest as the table grows": "growth-ingest", "rollup upkeep as the table grows": "growth-upkeep",
         "bars as history grows": "growth-bars"}


def plot(results: list[dict[str, Any]], out: Path, edition: str) -> list[Path]:
    """Write one PNG per growth result into ``out``, named for ``edition``; the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for result in results:
        curve = result.get("extra", {}).get("curve")
        if not curve or result["name"] not in NAMES:
            continue
        base = curve[0]["median"]
        xs = [max(point["rows"], 1) for point in curve]
        fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
        for x, point in zip(xs, curve, strict=True):
            ax.scatter([x] * len(point["values"]), [v / base for v in point["values"]], color="#7aa6c2", s=12)
        ax.plot(xs, [point["median"] / base for point in curve], color="#1f5f8b", marker="o", label="median")
        goal = result.get("goal", "")
        if goal[:2] == ">=":
            ax.axhline(float(goal[2:]), color="#b03a2e", linestyle="--", label=f"goal {goal}")
        for x, point in zip(xs, curve, strict=True):
            ax.annotate(point["stage"], (x, point["median"] / base), textcoords="offset points", xytext=(0, 8),
                        ha="center", fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel("price rows stored (an empty table drawn at 1)")
        ax.set_ylabel(f"÷ {curve[0]['stage']}")
        ax.set_ylim(bottom=0)
        ax.set_title(f"{result['name']} ({result['ours']['unit']}, {edition} edition)", fontsize=10)
        ax.legend(fontsize=8, loc="lower left")
        fig.tight_layout()
        target = out / f"{NAMES[result['name']]}-{edition}.png"
        fig.savefig(target)
        plt.close(fig)
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else HERE / "results" / "latest.json"
    out = Path(argv[1]) if len(argv) > 1 else HERE / "img"
    run = json.loads(source.read_text())
    edition = run["machine"]["edition"]
    written = plot(run["results"], out, edition)
    for path in written:
        print(f"wrote {path}")
    kept = out / f"growth-{edition}.json"
    if written and kept.resolve() != source.resolve():  # a run without growth curves keeps the old JSON
        kept.write_text(source.read_text())
        print(f"wrote {kept}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
