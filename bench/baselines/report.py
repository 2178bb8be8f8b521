#!/usr/bin/python3
"""Prints a human-readable table of a baselines JSON-lines file.

Usage: /usr/bin/python3 report.py RESULTS.jsonl
"""
import json
import sys

HIDE = {"suite", "name", "value", "unit", "path", "flops", "bytes_counted", "reps", "iterations",
        "executable"}


def fmt(v):
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        if abs(v) >= 0.01:
            return f"{v:.3f}"
        return f"{v:.3g}"
    if isinstance(v, int) and abs(v) >= 1 << 20 and v % (1 << 20) == 0:
        return f"{v >> 20}Mi"
    return str(v)


def main():
    path = sys.argv[1]
    rows, meta = [], []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if rec.get("name") == "metadata":
                meta.append(rec)
                continue
            params = ", ".join(f"{k}={fmt(v)}" for k, v in rec.items() if k not in HIDE)
            rows.append((rec.get("suite", "?"), rec.get("name", "?"), fmt(rec.get("value")),
                         rec.get("unit", ""), params))
    for m in meta:
        print(f"# {m['suite']} metadata: " +
              ", ".join(f"{k}={v}" for k, v in m.items() if k not in ("suite", "name", "value", "unit")))
    if not rows:
        print("(no measurements)")
        return
    widths = [max(len(r[i]) for r in rows + [("suite", "name", "value", "unit", "")]) for i in range(4)]
    header = ("suite", "name", "value", "unit", "params")
    print("  ".join(h.ljust(widths[i]) if i < 4 else h for i, h in enumerate(header)))
    print("  ".join("-" * w for w in widths) + "  " + "-" * 6)
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:<{widths[3]}}  {r[4]}")


if __name__ == "__main__":
    main()
