#!/usr/bin/env python3
"""compare_plans.py - do two uniap plan files choose the same plan?

Usage: compare_plans.py A.json B.json

Compares what the search decides and predicts: pipeline degree,
micro-batch count and size, schedule, status, gap, TPI and throughput, and
per layer its stage and strategy, and per stage its layers, times and
memory. Ignores what legitimately differs between runs of the same search
(search time, how the pairs were split or pruned, file names). Exit 0 when
equal, 1 with each difference printed otherwise, 2 on unreadable input.
"""
import json
import math
import sys

TOP_FIELDS = ["format", "version", "model", "global_batch", "deg", "micro_batches",
              "micro_batch", "schedule", "status", "gap", "tpi", "throughput"]
REL_TOL = 1e-9  # numbers are printed from the same doubles; allow rounding only


def same_value(a, b):
    if isinstance(a, float) or isinstance(b, float):
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            return False
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-15)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return a == b


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    plans = []
    for path in sys.argv[1:]:
        try:
            with open(path) as f:
                plans.append(json.load(f))
        except (OSError, ValueError) as e:
            print(f"compare_plans: {path}: {e}", file=sys.stderr)
            return 2
    a, b = plans
    diffs = []
    for k in TOP_FIELDS:
        if k not in a and k not in b:
            continue
        if not same_value(a.get(k), b.get(k)):
            diffs.append(f"{k}: {a.get(k)!r} != {b.get(k)!r}")
    for list_name in ("layers", "stages"):
        la, lb = a.get(list_name), b.get(list_name)
        if list_name == "layers" and (not isinstance(la, list) or not la):
            diffs.append(f"{sys.argv[1]}: no per-layer plan ('layers')")
            continue
        if la is None and lb is None:
            continue
        if not isinstance(la, list) or not isinstance(lb, list) or len(la) != len(lb):
            diffs.append(f"{list_name}: lengths differ")
            continue
        for i, (x, y) in enumerate(zip(la, lb)):
            if not same_value(x, y):
                diffs.append(f"{list_name}[{i}]: {json.dumps(x)} != {json.dumps(y)}")
    for d in diffs:
        print("compare_plans: " + d, file=sys.stderr)
    if not diffs:
        print(f"compare_plans: same plan (deg {a.get('deg')}, {a.get('micro_batches')} micro-batches, "
              f"TPI {a.get('tpi')}, {len(a['layers'])} layers)")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
