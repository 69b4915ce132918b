#!/usr/bin/env python3
"""Figures of a drain from a limiter's access log ("<status> <seconds>" per
request, as nginx_env.sh and haproxy_env.sh write them; 429 and 503 are
rejections).

  access_log.py LOG RATE [--min-use U] [--max-throttled T]

Prints accepted and rejected requests, the share of the budget (RATE
requests/s) used from the first to the last accepted request, and the peak
of rejected requests per second over any 10 s. Exits 1 when that peak
exceeds RATE (a retry storm: a rejection costs the server too), when the
budget use is below U or the rejected share above T.
"""
import argparse
import sys


def peak(times, width):
    """The most events in any span of `width` seconds (sliding)."""
    j = most = 0
    for i in range(len(times)):
        while times[i] - times[j] >= width:
            j += 1
        most = max(most, i - j + 1)
    return most


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("log")
    p.add_argument("rate", type=float, help="the budget, requests/s")
    p.add_argument("--min-use", type=float, default=0.0)
    p.add_argument("--max-throttled", type=float, default=1.0)
    p.add_argument("--label", default="drain")
    a = p.parse_args()
    # Only answers to requests: a server's log may also hold a line for the
    # test's readiness probe (a connection without a request).
    rows = [line.split() for line in open(a.log)
            if line[:3] in ("200", "429", "503")]
    ok = sorted(float(t) for s, t in rows if s == "200")
    bad = sorted(float(t) for s, t in rows if s != "200")
    if len(ok) < 2:
        print(f"{a.label}: FAIL: fewer than 2 accepted requests")
        return 1
    span = ok[-1] - ok[0]
    use = (len(ok) - 1) / span / a.rate
    share = len(bad) / len(rows)
    storm = peak(bad, 10) / 10
    print(f"{a.label}: {len(ok)} accepted, {len(bad)} rejected ({share:.2%}); "
          f"budget use {use:.1%} over {span:.0f} s; peak rejected "
          f"{storm:.1f}/s over 10 s (budget {a.rate:g}/s)")
    bad_figures = []
    if storm > a.rate:
        bad_figures.append("retry storm")
    if use < a.min_use:
        bad_figures.append(f"budget use below {a.min_use:.0%}")
    if share > a.max_throttled:
        bad_figures.append(f"rejected share above {a.max_throttled:.1%}")
    if bad_figures:
        print(f"{a.label}: FAIL: " + "; ".join(bad_figures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
