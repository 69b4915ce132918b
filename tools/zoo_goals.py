#!/usr/bin/env python3
"""Issue #15's goals table from `batching bench zoo --json` files.

Pools the runs of one strategy over every file given (one per seed) and
prints, per group of draws, what docs/benchmarks.md's "Where the goals
stand" reports: budget use median / p10, the share of draws without a
429, the 429 share median / p90, seconds to 90% of the budget median /
p90 and the draws with a retry storm.

Which draws count (docs/benchmarks.md): those without other tenants
(a goal is about the budget the client has), replica 0 only (a draw
run with --replicas counts once), and neither a concurrency limit nor a
queueing server (`unlimited`), which a request rate cannot hold. Seconds
to 90% count where reached and the limiter's window is 10 s or less.
Groups: headers advertised; no headers and no declared rate (Retry-After
only); no headers, declared 2x too high or too low; no headers, declared
right. Percentiles are nearest-rank, as `bench zoo` prints them
(sim/zoo.cpp, distribution_of): the ceil(p n)-th smallest of the n
values (at least the first).

--split-budget X adds each group's 429 shares split at a budget of X
requests/s (below it a 10-minute run holds few requests, and each 429
weighs more in the share).

Exit status: 0, or 2 on a bad argument or a file that is not a zoo JSON.
"""

import argparse
import json
import math
import sys

GROUPS = [
    ("headers advertised", lambda r: r["headers"] != "none"),
    ("Retry-After only, no declared rate",
     lambda r: r["headers"] == "none" and r["knowledge"] == "none"),
    ("declared rate 2x off",
     lambda r: r["headers"] == "none" and r["knowledge"] in ("high", "low")),
    ("declared right",
     lambda r: r["headers"] == "none" and r["knowledge"] == "right"),
]
APART = ("concurrency", "unlimited")
FIELDS = ("headers", "knowledge", "budget_use", "throttle_rate",
          "time_to_90pct_s", "window_s", "throttled", "storm_ratio",
          "budget_requests_per_s")


def quantile(values, p):
    """Nearest rank: the ceil(p n)-th smallest (bench zoo's own rule)."""
    if not values:
        return None
    v = sorted(values)
    return v[min(max(math.ceil(p * len(v)), 1), len(v)) - 1]


def fmt(x, spec, suffix=""):
    return "-" if x is None else format(x, spec) + suffix


def pct(x):
    return fmt(None if x is None else 100 * x, ".3f", "%")


def fail(message):
    print(f"zoo_goals.py: {message}", file=sys.stderr)
    sys.exit(2)


def load(paths, strategy):
    runs = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
            kept = [r for r in doc["runs"]
                    if r["strategy"] == strategy and r.get("replica", 0) == 0
                    and r["tenant_share"] == 0 and r["limiter"] not in APART]
            for r in kept:
                missing = [k for k in FIELDS if k not in r]
                if missing:
                    raise KeyError(", ".join(missing))
            runs += kept
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            fail(f"{path}: not a bench zoo JSON ({type(e).__name__}: {e})")
    return runs


def row(name, rs):
    use = [r["budget_use"] for r in rs if r["budget_use"] is not None]
    share = [r["throttle_rate"] for r in rs]
    t90 = [r["time_to_90pct_s"] for r in rs
           if r["time_to_90pct_s"] is not None and (r["window_s"] or 0) <= 10]
    free = sum(1 for r in rs if r["throttled"] == 0)
    storms = sum(1 for r in rs if r["storm_ratio"] > 1)
    return "| {} ({}) | {} / {} | {} | {} / {} | {} / {} | {} |".format(
        name, len(rs), fmt(quantile(use, 0.5), ".3f"),
        fmt(quantile(use, 0.1), ".3f"),
        fmt(100 * free / len(rs) if rs else None, ".1f", "%"),
        pct(quantile(share, 0.5)), pct(quantile(share, 0.9)),
        fmt(quantile(t90, 0.5), "g"), fmt(quantile(t90, 0.9), "g"), storms)


def main():
    ap = argparse.ArgumentParser(
        description="Issue #15's goals table from `batching bench zoo "
        "--json` files (one per seed), pooled. See docs/benchmarks.md.")
    ap.add_argument("files", nargs="+", metavar="FILE",
                    help="a `batching bench zoo --json` file")
    ap.add_argument("--strategy", default="adaptive",
                    help="whose runs (default adaptive)")
    ap.add_argument("--split-budget", type=float, metavar="X",
                    help="also split each group's 429 shares at a budget "
                    "of X requests/s")
    args = ap.parse_args()
    if args.split_budget is not None and args.split_budget <= 0:
        ap.error("--split-budget must be above 0")
    runs = load(args.files, args.strategy)
    if not runs:
        fail(f"no run of '{args.strategy}' counts (draws without tenants, "
             "concurrency limits and queueing servers apart)")
    print("| group (draws) | budget use median / p10 | no 429 | 429 share "
          "median / p90 | s to 90% median / p90 | storms |")
    print("|---|---|---|---|---|---|")
    for name, member in GROUPS:
        print(row(name, [r for r in runs if member(r)]))
    if args.split_budget is None:
        return 0
    x = args.split_budget
    print()
    print(f"| group | budget < {x:g}/s: draws, 429 median / p90 | "
          f"budget >= {x:g}/s: draws, 429 median / p90 |")
    print("|---|---|---|")
    for name, member in GROUPS:
        rs = [r for r in runs if member(r)]
        cells = []
        for side in (lambda b: b < x, lambda b: b >= x):
            v = [r["throttle_rate"] for r in rs
                 if side(r["budget_requests_per_s"])]
            cells.append(f"{len(v)}: {pct(quantile(v, 0.5))} / "
                         f"{pct(quantile(v, 0.9))}")
        print(f"| {name} | {cells[0]} | {cells[1]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
