#!/usr/bin/env python3
"""torch_layers.py - the PyTorch reference for uniap's CUDA layer timings.

Times the forward and the backward of the same layers `uniap profile`
measures (embedding, decoder, head of a model spec as `uniap model --json`
prints it), at the same tensor-parallel shard shapes (heads, ffn and vocab
divided by tp; hidden and sequence whole) and micro-batch sizes, in bf16,
attention through scaled_dot_product_attention (causal: flash attention),
with CUDA events: median of --iters timed passes after --warmup.

    torch_layers.py measure --spec llama-7b.json [--spec gpt3-175b.json]
                            --tp 1,2,4,8 --mb 1,2,4,8 --out torch.csv
    torch_layers.py compare --uniap layers.csv [--uniap ...] --torch torch.csv
                            --out ratio.md
    torch_layers.py shapes  --spec llama-7b.json --tp 1,2,4,8 --mb 1,2,4,8

`shapes` (and `measure --dry-run`) need no torch: they print the shard
shapes measure would run. `compare` joins uniap's layer table (`uniap
archive export P.h5 --csv DIR`: DIR/layers.csv, rank 0) with torch.csv on
(layer kind, tp, micro-batch) and writes uniap / PyTorch per direction.
Only the standard library is needed for shapes and compare.
"""
import argparse
import csv
import json
import math
import statistics
import sys
import time


def int_list(s):
    try:
        v = [int(x) for x in s.split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError("expected a comma list of integers, got %r" % s)
    if not v or any(x < 1 for x in v):
        raise argparse.ArgumentTypeError("expected positive integers, got %r" % s)
    return v


def load_spec(path):
    with open(path) as f:
        spec = json.load(f)
    for key in ("name", "seq_len", "layers"):
        if key not in spec:
            sys.exit("%s: expected a uniap model spec (uniap model --json), no %r" % (path, key))
    return spec


def shards(spec, tps, mbs):
    """Every (model, kind, tp, mb, shape) measure runs; a layer that tp does
    not split evenly (heads, ffn, vocab) is left out, as uniap leaves it."""
    out = []
    s = spec["seq_len"]
    for layer in spec["layers"]:
        kind = layer["type"]
        if kind not in ("embedding", "decoder", "head"):
            print("torch_layers: %s: layer type %s not modelled here, skipped" % (spec["name"], kind),
                  file=sys.stderr)
            continue
        h = layer["hidden"]
        for tp in tps:
            sh = {"seq": s, "hidden": h}
            if kind == "decoder":
                heads = layer["heads"]
                kv = layer.get("kv_heads", heads)
                ffn = layer.get("ffn") or 4 * h
                if heads % tp or kv % tp or ffn % tp:
                    continue
                sh.update(heads=heads // tp, kv_heads=kv // tp, head_dim=h // heads, ffn=ffn // tp,
                          activation=layer.get("activation", "gelu"),
                          norm=layer.get("norm", "layernorm"),
                          rotary=layer.get("position") == "rotary", bias=bool(layer.get("bias")))
            else:
                vocab = layer["vocab"]
                # ceil(vocab / tp) rows per shard, as prof_layer_shard
                sh.update(vocab=int(math.ceil(vocab / tp)), norm=layer.get("norm"),
                          learned=layer.get("position") == "learned")
            for mb in mbs:
                out.append({"model": spec["name"], "kind": kind, "tp": tp, "mb": mb, "shape": sh})
    return out


def shape_str(r):
    sh = r["shape"]
    if r["kind"] == "decoder":
        return "s %d h %d heads %d/%d d %d ffn %d %s %s%s" % (
            sh["seq"], sh["hidden"], sh["heads"], sh["kv_heads"], sh["head_dim"], sh["ffn"],
            sh["activation"], sh["norm"], " rotary" if sh["rotary"] else "")
    return "s %d h %d vocab shard %d" % (sh["seq"], sh["hidden"], sh["vocab"])


# ---- the layers in PyTorch (imported only by measure) --------------------

def build_layer(torch, r, dev):
    F = torch.nn.functional
    sh, kind, mb = r["shape"], r["kind"], r["mb"]
    s, h = sh["seq"], sh["hidden"]
    bf = torch.bfloat16

    def p(*size):
        return torch.nn.Parameter(torch.randn(*size, device=dev, dtype=bf) * 0.02)

    def norm(x, w, b, kind_):
        if kind_ == "rmsnorm":
            return F.rms_norm(x, (h,), w)
        return F.layer_norm(x, (h,), w, b)

    if kind == "embedding":
        table = p(sh["vocab"], h)
        pos = p(s, h) if sh["learned"] else None
        ids = torch.randint(0, sh["vocab"], (mb, s), device=dev)
        params = [table] + ([pos] if pos is not None else [])

        def fwd():
            y = F.embedding(ids, table)
            return y + pos if pos is not None else y
        return fwd, params, None, (mb, s, h)

    x = torch.randn(mb, s, h, device=dev, dtype=bf, requires_grad=True)
    if kind == "head":
        w_n, b_n = p(h), (p(h) if sh["norm"] == "layernorm" else None)
        w = p(sh["vocab"], h)
        labels = torch.randint(0, sh["vocab"], (mb * s,), device=dev)

        def fwd():
            y = F.linear(norm(x, w_n, b_n, sh["norm"]), w)
            return F.cross_entropy(y.view(-1, sh["vocab"]).float(), labels)
        return fwd, [w_n, w] + ([b_n] if b_n is not None else []), x, ()

    nh, nkv, d, ffn = sh["heads"], sh["kv_heads"], sh["head_dim"], sh["ffn"]
    bias = sh["bias"]
    ln = sh["norm"]
    w_n1, w_n2 = p(h), p(h)
    b_n1, b_n2 = (p(h), p(h)) if ln == "layernorm" else (None, None)
    w_qkv = p((nh + 2 * nkv) * d, h)
    w_o = p(h, nh * d)
    swiglu = sh["activation"] == "swiglu"
    w_up = p((2 if swiglu else 1) * ffn, h)
    w_dn = p(h, ffn)
    b_qkv, b_o, b_up, b_dn = ((p((nh + 2 * nkv) * d), p(h), p(w_up.shape[0]), p(h)) if bias
                              else (None,) * 4)
    params = [t for t in (w_n1, w_n2, b_n1, b_n2, w_qkv, w_o, w_up, w_dn, b_qkv, b_o, b_up, b_dn)
              if t is not None]
    if sh["rotary"]:
        inv = 1.0 / (10000 ** (torch.arange(0, d, 2, device=dev, dtype=torch.float32) / d))
        ang = torch.outer(torch.arange(s, device=dev, dtype=torch.float32), inv)
        cos, sin = ang.cos().to(bf)[None, None], ang.sin().to(bf)[None, None]

    def rope(t):
        t1, t2 = t[..., : d // 2], t[..., d // 2:]
        return torch.cat((t1 * cos - t2 * sin, t1 * sin + t2 * cos), dim=-1)

    def fwd():
        a = norm(x, w_n1, b_n1, ln)
        qkv = F.linear(a, w_qkv, b_qkv).view(mb, s, nh + 2 * nkv, d).transpose(1, 2)
        q, k, v = qkv.split([nh, nkv, nkv], dim=1)
        if sh["rotary"]:
            q, k = rope(q), rope(k)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=(nkv != nh))
        y = x + F.linear(o.transpose(1, 2).reshape(mb, s, nh * d), w_o, b_o)
        m = F.linear(norm(y, w_n2, b_n2, ln), w_up, b_up)
        if swiglu:
            g, u = m.chunk(2, dim=-1)
            m = F.silu(g) * u
        else:
            m = F.gelu(m, approximate="tanh")
        return y + F.linear(m, w_dn, b_dn)
    return fwd, params, x, (mb, s, h)


def time_layer(torch, r, warmup, iters, dev):
    fwd, params, x, out_shape = build_layer(torch, r, dev)
    dy = (torch.randn(*out_shape, device=dev, dtype=torch.bfloat16) if out_shape
          else None)
    ev = [torch.cuda.Event(enable_timing=True) for _ in range(4)]
    tf, tb = [], []
    for i in range(warmup + iters):
        for t in params + ([x] if x is not None else []):
            t.grad = None
        ev[0].record()
        y = fwd()
        ev[1].record()
        ev[2].record()
        if dy is not None:
            y.backward(dy)
        else:
            y.backward()
        ev[3].record()
        torch.cuda.synchronize()
        if i >= warmup:
            tf.append(ev[0].elapsed_time(ev[1]) / 1e3)
            tb.append(ev[2].elapsed_time(ev[3]) / 1e3)
    return statistics.median(tf), statistics.median(tb)


def measure(a, rows):
    try:
        import torch
    except ImportError:
        torch = None
    if a.dry_run or torch is None or not torch.cuda.is_available():
        why = "--dry-run" if a.dry_run else ("no torch" if torch is None else "no CUDA device")
        print("torch_layers: %s: %d layer shapes listed, none timed" % (why, len(rows)))
        for r in rows:
            print("  would time %-10s %-9s tp %d mb %d: %s" % (r["model"], r["kind"], r["tp"], r["mb"],
                                                               shape_str(r)))
        return 0 if a.dry_run else 3
    torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = True
    dev = torch.device("cuda")
    print("torch_layers: torch %s on %s" % (torch.__version__, torch.cuda.get_device_name(0)))
    t_end = time.monotonic() + a.time_limit if a.time_limit else None
    n = 0
    with open(a.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["model", "kind", "tp", "micro_batch", "fwd_median", "bwd_median", "shape"])
        for r in rows:
            if t_end and time.monotonic() > t_end:
                print("torch_layers: --time-limit reached: %d of %d shapes timed" % (n, len(rows)))
                break
            try:
                tf, tb = time_layer(torch, r, a.warmup, a.iters, dev)
            except torch.cuda.OutOfMemoryError:
                print("torch_layers: %s %s tp %d mb %d: out of memory, skipped" %
                      (r["model"], r["kind"], r["tp"], r["mb"]))
                torch.cuda.empty_cache()
                continue
            w.writerow([r["model"], r["kind"], r["tp"], r["mb"], "%.9g" % tf, "%.9g" % tb,
                        shape_str(r)])
            f.flush()
            n += 1
            print("  %-10s %-9s tp %d mb %d: fwd %.3f ms bwd %.3f ms" %
                  (r["model"], r["kind"], r["tp"], r["mb"], tf * 1e3, tb * 1e3))
            torch.cuda.empty_cache()
    return 0


def read_uniap(path, model):
    """uniap's layers.csv, rank 0: {(model, kind, tp, mb): (fwd, bwd)}."""
    out = {}
    try:
        f = open(path, newline="")
    except OSError as e:
        print("torch_layers: %s: %s, its rows left out" % (model, e), file=sys.stderr)
        return out
    with f:
        for r in csv.DictReader(f):
            if r.get("rank", "0") != "0":
                continue
            kind = r["layer_type"].split(".")[0]
            out[(model, kind, int(r["tp"]), int(r["micro_batch"]))] = (
                float(r["fwd_median"]), float(r["bwd_median"]))
    return out


def compare(a):
    uni = {}
    for spec in a.uniap:
        model, _, path = spec.partition("=")
        if not path:
            sys.exit("--uniap expects MODEL=layers.csv, got %r" % spec)
        uni.update(read_uniap(path, model))
    lines = ["| model | layer | tp | mb | uniap fwd ms | torch fwd ms | fwd ratio "
             "| uniap bwd ms | torch bwd ms | bwd ratio |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    worst = []
    with open(a.torch, newline="") as f:
        for r in csv.DictReader(f):
            key = (r["model"], r["kind"], int(r["tp"]), int(r["micro_batch"]))
            if key not in uni:
                continue
            uf, ub = uni[key]
            tf, tb = float(r["fwd_median"]), float(r["bwd_median"])
            rf, rb = uf / tf if tf > 0 else float("nan"), ub / tb if tb > 0 else float("nan")
            if key[1] == "decoder":
                worst.append((max(rf, rb), key))
            lines.append("| %s | %s | %d | %d | %.4g | %.4g | %.2f | %.4g | %.4g | %.2f |" %
                         (key[0], key[1], key[2], key[3], uf * 1e3, tf * 1e3, rf, ub * 1e3,
                          tb * 1e3, rb))
    text = "\n".join(lines) + "\n"
    if worst:
        worst.sort(reverse=True)
        text += ("\nGEMM-dominated (decoder) rows: %d; worst ratio %.2f (%s tp %d mb %d); "
                 "target <= 1.2: %d over.\n" % (len(worst), worst[0][0], worst[0][1][0],
                                                 worst[0][1][2], worst[0][1][3],
                                                 sum(1 for w_, _ in worst if w_ > 1.2)))
    with open(a.out, "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0 if len(lines) > 2 else 3


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("measure", "shapes"):
        s = sub.add_parser(name)
        s.add_argument("--spec", action="append", required=True,
                       help="model spec JSON (uniap model --json M); repeatable")
        s.add_argument("--tp", type=int_list, default=[1, 2, 4, 8])
        s.add_argument("--mb", type=int_list, default=[1, 2, 4, 8])
        if name == "measure":
            s.add_argument("--out", required=True, help="CSV of medians (seconds)")
            s.add_argument("--warmup", type=int, default=3)
            s.add_argument("--iters", type=int, default=10)
            s.add_argument("--time-limit", type=float, default=0, help="seconds; 0: none")
            s.add_argument("--dry-run", action="store_true", help="list the shapes, time nothing")
    c = sub.add_parser("compare")
    c.add_argument("--uniap", action="append", required=True, metavar="MODEL=layers.csv")
    c.add_argument("--torch", required=True)
    c.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    if a.cmd == "compare":
        return compare(a)
    rows = [r for path in a.spec for r in shards(load_spec(path), a.tp, a.mb)]
    if a.cmd == "shapes":
        a.dry_run = True
    return measure(a, rows)


if __name__ == "__main__":
    sys.exit(main())
