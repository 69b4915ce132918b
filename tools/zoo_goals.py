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

--gaps prints, instead of the table, how far each goal of #15 is: per
group and goal, the draws past the goal's bound and the most the goal's
percentile allows past it (nearest rank: a p-quantile is at most b while
no more than n - ceil(p n) values exceed b, and at least b while fewer
than ceil(p n) fall below it), and the storms by seed and draw. #15's
goal rows are the headers, Retry-After only and 2x off groups; declared
right is held to the same targets beside them.

--against OLD (once per file of the tree before, any order) compares the
strategy's runs draw by draw, matched by (seed, draw, replica), over
every draw (tenants and all kinds included), without tenants, with them
and in all: the 429s (the sum of `throttled`), goodput's geometric mean
change (exp of the mean of ln(new / old goodput), draws where both are
above 0) and the draws whose goodput moved by more than 2% up or down.

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


def rank(n, p):
    """Nearest rank (bench zoo's own rule): the p-quantile of n values is
    the rank(n, p)-th smallest, at least the first."""
    return min(max(math.ceil(p * n), 1), n)


def quantile(values, p):
    if not values:
        return None
    return sorted(values)[rank(len(values), p) - 1]


def fmt(x, spec, suffix=""):
    return "-" if x is None else format(x, spec) + suffix


def pct(x):
    return fmt(None if x is None else 100 * x, ".3f", "%")


def fail(message):
    print(f"zoo_goals.py: {message}", file=sys.stderr)
    sys.exit(2)


def read(path, take):
    """take(doc) of a zoo JSON file; exit 2 where it is none or lacks what
    take reads."""
    try:
        with open(path, encoding="utf-8") as f:
            return take(json.load(f))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        fail(f"{path}: not a bench zoo JSON ({type(e).__name__}: {e})")


def load(paths, strategy):
    def counted(doc):
        kept = [dict(r, seed=doc.get("seed")) for r in doc["runs"]
                if r["strategy"] == strategy and r.get("replica", 0) == 0
                and r["tenant_share"] == 0 and r["limiter"] not in APART]
        for r in kept:
            missing = [k for k in FIELDS if k not in r]
            if missing:
                raise KeyError(", ".join(missing))
        return kept
    return [r for path in paths for r in read(path, counted)]


def use(rs):
    return [r["budget_use"] for r in rs if r["budget_use"] is not None]


def share(rs):
    return [r["throttle_rate"] for r in rs]


def t90(rs):
    return [r["time_to_90pct_s"] for r in rs
            if r["time_to_90pct_s"] is not None and (r["window_s"] or 0) <= 10]


def stormed(r):
    return r["storm_ratio"] > 1


def row(name, rs):
    u, s, t = use(rs), share(rs), t90(rs)
    free = sum(1 for r in rs if r["throttled"] == 0)
    storms = sum(1 for r in rs if stormed(r))
    return "| {} ({}) | {} / {} | {} | {} / {} | {} / {} | {} |".format(
        name, len(rs), fmt(quantile(u, 0.5), ".3f"),
        fmt(quantile(u, 0.1), ".3f"),
        fmt(100 * free / len(rs) if rs else None, ".1f", "%"),
        pct(quantile(s, 0.5)), pct(quantile(s, 0.9)),
        fmt(quantile(t, 0.5), "g"), fmt(quantile(t, 0.9), "g"), storms)


# (goal, the runs' values it bounds, bound, quantile, "max" or "min");
# "max": the quantile at most the bound, "min": at least it.
LEARNING = [("budget use median >= 0.95", use, 0.95, 0.5, "min"),
            ("budget use p10 >= 0.85", use, 0.85, 0.1, "min"),
            ("429 share median <= 0.3%", share, 0.003, 0.5, "max"),
            ("429 share p90 <= 1%", share, 0.01, 0.9, "max"),
            ("s to 90% median <= 5", t90, 5, 0.5, "max"),
            ("s to 90% p90 <= 20", t90, 20, 0.9, "max")]
TARGETS = {
    "headers advertised": [
        ("no 429 on >= 99% of draws", lambda rs: [r["throttled"] for r in rs],
         0, 0.99, "max"),
        ("budget use median >= 0.98", use, 0.98, 0.5, "min")],
}


def gap(values, bound, p, side):
    """(past the bound, the most the p-quantile allows past it)."""
    k = rank(len(values), p)
    if side == "max":
        return sum(1 for v in values if v > bound), len(values) - k
    return sum(1 for v in values if v < bound), k - 1


def gaps(runs):
    print("| group | goal | draws | past it | allowed | met |")
    print("|---|---|---|---|---|---|")
    for name, member in GROUPS:
        rs = [r for r in runs if member(r)]
        for goal, values, bound, p, side in TARGETS.get(name, LEARNING):
            v = values(rs)
            if not v:
                print(f"| {name} | {goal} | 0 | - | - | - |")
                continue
            past, allowed = gap(v, bound, p, side)
            met = "yes" if past <= allowed else "no"
            print(f"| {name} | {goal} | {len(v)} | {past} | {allowed} | "
                  f"{met} |")
    storms = [r for r in runs if stormed(r)]
    print()
    print(f"storms (goal: none): {len(storms)}" + "".join(
        f" {r['seed']}:{r.get('draw', '?')}({r['storm_ratio']:.2f})"
        for r in sorted(storms, key=storm_order)))


def storm_order(r):
    """By seed, then draw, numbers in numeric order."""
    def num(x):
        return (0, x, "") if isinstance(x, (int, float)) else (1, 0, str(x))
    return num(r["seed"]), num(r.get("draw"))


def paired(old_paths, new_paths, strategy):
    """(old, new) runs of `strategy` with the same (seed, draw, replica)."""
    def keyed(doc):
        return {(doc["seed"], r["draw"], r.get("replica", 0)):
                (r["tenant_share"], r["throttled"], r["goodput"])
                for r in doc["runs"] if r["strategy"] == strategy}

    def by_key(paths):
        out = {}
        for path in paths:
            out.update(read(path, keyed))
        return out
    old, new = by_key(old_paths), by_key(new_paths)
    return [(old[k], new[k]) for k in sorted(old.keys() & new.keys())]


def compare(pairs):
    sides = [("without tenants", lambda t: t == 0),
             ("with tenants", lambda t: t > 0), ("all", lambda t: True)]
    cells = {"429s": [], "goodput geometric mean": [],
             "draws up / down by more than 2%": []}
    for _, member in sides:
        ps = [(o, n) for o, n in pairs if member(o[0])]
        cells["429s"].append("{:,} → {:,}".format(sum(o[1] for o, _ in ps),
                                                   sum(n[1] for _, n in ps)))
        logs = [math.log(n[2] / o[2]) for o, n in ps if o[2] > 0 and n[2] > 0]
        cells["goodput geometric mean"].append(
            fmt(100 * (math.exp(sum(logs) / len(logs)) - 1) if logs else None,
                "+.2f", "%"))
        ratios = [n[2] / o[2] for o, n in ps if o[2] > 0]
        cells["draws up / down by more than 2%"].append("{} / {}".format(
            sum(1 for x in ratios if x > 1.02),
            sum(1 for x in ratios if x < 0.98)))
    print(f"| {len(pairs)} draws | " + " | ".join(n for n, _ in sides) + " |")
    print("|---|---|---|---|")
    for name, values in cells.items():
        print(f"| {name} | " + " | ".join(values) + " |")


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
    ap.add_argument("--gaps", action="store_true",
                    help="per group and goal, the draws past its bound and "
                    "the most its percentile allows; the storms by seed "
                    "and draw")
    ap.add_argument("--against", action="append", metavar="OLD",
                    help="a file of the tree before (repeat per seed): "
                    "compare draw by draw instead")
    args = ap.parse_args()
    if args.against:
        pairs = paired(args.against, args.files, args.strategy)
        if not pairs:
            fail(f"no draw of '{args.strategy}' is in both sets of files")
        compare(pairs)
        return 0
    if args.split_budget is not None and args.split_budget <= 0:
        ap.error("--split-budget must be above 0")
    runs = load(args.files, args.strategy)
    if not runs:
        fail(f"no run of '{args.strategy}' counts (draws without tenants, "
             "concurrency limits and queueing servers apart)")
    if args.gaps:
        gaps(runs)
        return 0
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
