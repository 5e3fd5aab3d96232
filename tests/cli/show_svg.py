#!/usr/bin/env python3
"""show_svg.py SVG REPORT DEG C SCHEDULE LAYERS PNG: checks a plan picture
(cli/plan_svg.c) against the schedule and the estimate's own report:
well-formed XML; deg x c forward and backward boxes; on every stage the
boxes in time order without overlap, in the schedule's order (GPipe: all
forwards first; 1F1B: deg - i - 1 warm-up forwards); each forward after the
previous stage's forward of its micro-batch, each backward after the next
stage's; x proportional to the start time; per-stage memory bars summing to
the report's total; one layer cell per layer; the rendered PNG not blank."""
import re, struct, sys, zlib
import xml.etree.ElementTree as ET

svg, report, deg, c, sched, layers, png = sys.argv[1:8]
deg, c, layers = int(deg), int(c), int(layers)
fail = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        fail.append(what)

root = ET.parse(svg).getroot()  # raises on malformed XML
ns = "{http://www.w3.org/2000/svg}"
rects = list(root.iter(ns + "rect"))
def cls(r): return r.get("class", "")
ops = {}
for r in rects:
    if cls(r) in ("fwd", "bwd"):
        ops[(int(r.get("data-stage")), int(r.get("data-mb")), cls(r) == "bwd")] = (
            float(r.get("data-start")), float(r.get("data-end")), float(r.get("x")))
check(sum(1 for k in ops if not k[2]) == deg * c, f"{deg * c} forward boxes")
check(sum(1 for k in ops if k[2]) == deg * c, f"{deg * c} backward boxes")
eps = 1e-9
for i in range(deg):
    row = sorted((v[0], v[1], k) for k, v in ops.items() if k[0] == i)
    check(all(row[j][1] <= row[j + 1][0] + eps for j in range(len(row) - 1)),
          f"stage {i}: no two boxes overlap")
    kinds = [k[2] for _, _, k in row]
    if sched == "gpipe":
        check(kinds == [False] * c + [True] * c, f"stage {i}: GPipe order (all forwards first)")
    else:
        warm = min(deg - i - 1, c)
        check(kinds[:warm + 1] == [False] * (warm + 1) and kinds[warm + 1] is True if warm + 1 < len(kinds) else True,
              f"stage {i}: 1F1B order ({warm} warm-up forwards, then forward, backward)")
for (i, m, b), (s, e, x) in ops.items():
    if not b and i > 0:
        check(s >= ops[(i - 1, m, False)][1] - eps, f"F{m} on stage {i} after stage {i - 1}'s") if m == 0 else None
    if b and i < deg - 1 and m == c - 1:
        check(s >= ops[(i + 1, m, True)][1] - eps, f"B{m} on stage {i} after stage {i + 1}'s")
dep = all(s >= ops[(i - 1, m, False)][1] - eps for (i, m, b), (s, e, x) in ops.items() if not b and i > 0) and \
      all(s >= ops[(i + 1, m, True)][1] - eps for (i, m, b), (s, e, x) in ops.items() if b and i < deg - 1)
check(dep, "every box starts after its input")
x0 = [v[2] for k, v in ops.items() if v[0] == 0][0]
scale = [(v[2] - x0) / v[0] for v in ops.values() if v[0] > 1e-12]
check(max(scale) - min(scale) < 1e-3 * max(scale), "x proportional to the start time")
# memory: states + activations + peak per stage = the report's total
totals = [float(t) for t in re.findall(r"total (\d+) B", open(report).read())]
for i in range(deg):
    parts = [float(r.get("data-bytes")) for r in rects
             if cls(r) in ("states", "acts", "peak") and int(r.get("data-stage")) == i]
    check(len(parts) == 3 and abs(sum(parts) - totals[i]) <= 1e-6 * totals[i] + 1,
          f"stage {i}: memory bars sum to the report's {totals[i]:.0f} B")
check(sum(1 for r in rects if cls(r) == "layer") == layers, f"{layers} layer cells")
# the PNG: decode its scanlines (zlib) and require varied rows
data = open(png, "rb").read()
check(data[:8] == b"\x89PNG\r\n\x1a\n", "rsvg-convert wrote a PNG")
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", data[pos + 8:pos + 18])
    if kind == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
bpp = {2: 3, 6: 4}.get(ctype, 4)
stride = 1 + w * bpp
rows = {raw[j:j + stride] for j in range(0, len(raw), stride)}
check(len(rows) > 20, f"the PNG is not blank ({len(rows)} distinct scanlines of {h})")
sys.exit(1 if fail else 0)
