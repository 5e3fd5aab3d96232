#!/bin/sh
# plan_schedules.sh - `uniap plan --schedule` takes a comma list, "both"
# (1f1b,gpipe) and "all" (every schedule of the table, interleaved 1F1B
# with 2, 3 and 4 virtual stages among them): the plan names its schedule
# and "virtual_stages"; an interleaved plan has c a multiple of deg and at
# least v layers per stage, reads back (estimate --plan) to its TPI, and
# plan --from reruns it to the same schedule; "all" searches more pairs
# than "both" and finds a TPI no worse than 1f1b's; bad lists, a plan file
# whose virtual_stages contradicts its schedule, and runtimes that do not
# interleave are refused naming the option and why; --runtime megatron
# --schedule interleaved2 finds a plan of equal stages, a multiple of 2
# blocks each, written as --num-layers-per-virtual-pipeline-stage and read
# back (estimate --megatron-args) to its TPI; --runtime torchtitan
# --schedule interleaved2 writes Interleaved1F1B over 2 deg model parts of
# equal blocks in model order, read back (estimate --torchtitan-toml) to
# its TPI. zb-h1 (zero bubble) is searched by "all", named in the plan,
# read back, no worse than 1f1b on the same plan, refused with c < deg and
# by the runtimes but "any".
# Usage: plan_schedules.sh UNIAP WORKDIR
set -u
UNIAP=$1 W=$2
rm -rf "$W" && mkdir -p "$W" || exit 1
fail=0
check() { d=$1; shift; if "$@"; then echo "ok   $d"; else echo "FAIL $d"; fail=1; fi; }
m="--model llama-7b --cluster h100-80g-4x8"
P="$m --global-batch 32 --min-pp 2"
"$UNIAP" plan $P --schedule interleaved2 --out "$W/v2.json" >"$W/v2.txt" 2>"$W/v2.err"
check "plan --schedule interleaved2 exits 0" test $? -eq 0
check "... the text names the virtual stages" grep -q "schedule interleaved2 (2 virtual stages per device)" "$W/v2.txt"
python3 - "$W/v2.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
assert p["schedule"] == "interleaved2" and p["virtual_stages"] == 2, (p["schedule"], p["virtual_stages"])
assert p["deg"] >= 2 and p["micro_batches"] % p["deg"] == 0, (p["deg"], p["micro_batches"])
held = [0] * p["deg"]
for l in p["layers"]:
    held[l["stage"]] += 1
assert min(held) >= 2, held
PY
check "... v 2, c a multiple of deg, >= 2 layers per stage" test $? -eq 0
"$UNIAP" estimate $m --plan "$W/v2.json" >"$W/v2.est" 2>&1
check "estimate --plan reads it back" test $? -eq 0
want=$(python3 -c "import json,sys; print('%.6g' % json.load(open(sys.argv[1]))['tpi'])" "$W/v2.json")
check "... to its TPI $want s" grep -q "^TPI $want s" "$W/v2.est"
"$UNIAP" plan --from "$W/v2.json" --out "$W/v2b.json" >"$W/v2b.txt" 2>&1
check "plan --from reruns it" test $? -eq 0
check "... same schedule, virtual_stages and TPI" python3 -c "
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert all(a[k] == b[k] for k in ('schedule', 'virtual_stages', 'tpi', 'deg', 'micro_batches'))
" "$W/v2.json" "$W/v2b.json"
"$UNIAP" plan $P --schedule all --out "$W/all.json" >"$W/all.txt" 2>"$W/all.err"
check "plan --schedule all exits 0" test $? -eq 0
"$UNIAP" plan $P --schedule both --out "$W/both.json" >"$W/both.txt" 2>"$W/both.err"
"$UNIAP" plan $P --schedule 1f1b,gpipe --out "$W/list.json" >"$W/list.txt" 2>"$W/list.err"
check "all: more pairs than both, a TPI no worse; 1f1b,gpipe is both" python3 -c "
import json, sys
a, b, l = (json.load(open(f)) for f in sys.argv[1:])
assert a['pairs']['total'] > b['pairs']['total'], (a['pairs'], b['pairs'])
assert a['tpi'] <= b['tpi'] * (1 + 1e-12), (a['tpi'], b['tpi'])
assert l['tpi'] == b['tpi'] and l['pairs'] == b['pairs'], (l['pairs'], b['pairs'])
v = a['virtual_stages']
assert v == (int(a['schedule'][11:]) if a['schedule'].startswith('interleaved') else 1), a['schedule']
" "$W/all.json" "$W/both.json" "$W/list.json"
for bad in zigzag "1f1b,,gpipe" "1f1b,"; do
    "$UNIAP" plan $P --schedule "$bad" --out "$W/bad.json" >/dev/null 2>"$W/bad.err"
    rc=$?
    check "--schedule '$bad' refused (exit 2) naming the names" sh -c \
        "test $rc -eq 2 && grep -q -- '--schedule $bad: expected a comma list of gpipe, 1f1b, interleaved2' '$W/bad.err'"
done
sed 's/"virtual_stages":[^,]*,/"virtual_stages": 3,/' "$W/v2.json" >"$W/v3bad.json"
"$UNIAP" estimate $m --plan "$W/v3bad.json" >/dev/null 2>"$W/v3bad.err"
rc=$?
check "a plan file with virtual_stages 3 for interleaved2 refused" sh -c \
    "test $rc -eq 2 && grep -q 'virtual_stages: expected 2 (schedule \"interleaved2\"), got 3' '$W/v3bad.err'"
"$UNIAP" estimate $m --global-batch 24 --pp 4 --dp 1 --tp 8 --micro-batches 6 \
    --schedule interleaved2 >/dev/null 2>"$W/c6.err"
rc=$?
check "estimate: interleaved2 with 6 micro-batches on 4 stages refused" sh -c \
    "test $rc -ne 0 && grep -q 'interleaving needs a multiple of the stages' '$W/c6.err'"
# estimate --vpp V is the schedule interleavedV (1: 1f1b)
U="$m --global-batch 32 --pp 4 --dp 1 --tp 8 --micro-batches 8"
"$UNIAP" estimate $U --vpp 2 --format json 2>/dev/null >"$W/vpp2.json"
"$UNIAP" estimate $U --schedule interleaved2 --format json 2>/dev/null >"$W/il2.json"
"$UNIAP" estimate $U --vpp 1 --format json 2>/dev/null >"$W/vpp1.json"
"$UNIAP" estimate $U --format json 2>/dev/null >"$W/f1b.json"
check "estimate --vpp 2 is --schedule interleaved2, --vpp 1 is 1f1b" python3 -c "
import json, sys
a, b, c, d = (json.load(open(f)) for f in sys.argv[1:])
assert a['schedule'] == b['schedule'] == 'interleaved2' and a['tpi'] == b['tpi'], (a['tpi'], b['tpi'])
assert c['schedule'] == d['schedule'] == '1f1b' and c['tpi'] == d['tpi'] != a['tpi']
" "$W/vpp2.json" "$W/il2.json" "$W/vpp1.json" "$W/f1b.json"
"$UNIAP" estimate $U --vpp 5 >/dev/null 2>"$W/vpp5.err"
rc=$?
check "--vpp 5 refused (exit 2) naming the schedules" sh -c \
    "test $rc -eq 2 && grep -q -- '--vpp 5: no interleaved schedule has 5 model chunks per stage' '$W/vpp5.err'"
"$UNIAP" estimate $U --vpp 3 --schedule interleaved2 >/dev/null 2>"$W/vpp3.err"
rc=$?
check "--vpp 3 with --schedule interleaved2 refused (exit 2)" sh -c \
    "test $rc -eq 2 && grep -q -- '--vpp 3 is schedule interleaved3, but --schedule says interleaved2' '$W/vpp3.err'"
"$UNIAP" plan $P --runtime deepspeed --schedule interleaved2 --out "$W/ds.json" >/dev/null 2>"$W/ds.err"
rc=$?
check "--runtime deepspeed --schedule interleaved2 refused (exit 2) saying why" sh -c \
    "test $rc -eq 2 && grep -q 'deepspeed does not run that schedule (--runtime megatron, --runtime torchtitan, or --runtime any)' '$W/ds.err'"
"$UNIAP" plan $P --runtime megatron --schedule interleaved2 --out "$W/mg.json" \
    --megatron-args "$W/mg.txt" >/dev/null 2>"$W/mg.err"
check "--runtime megatron --schedule interleaved2 exits 0" test $? -eq 0
check "... equal stages of a multiple of 2 blocks (llama-7b: 32 blocks)" python3 -c "
import json, sys
p = json.load(open(sys.argv[1]))
assert p['schedule'] == 'interleaved2' and p['virtual_stages'] == 2, p['schedule']
blocks = [0] * p['deg']
for l in p['layers'][1:-1]:
    blocks[l['stage']] += 1
assert len(set(blocks)) == 1 and blocks[0] % 2 == 0, blocks
assert p['layers'][0]['stage'] == 0 and p['layers'][-1]['stage'] == p['deg'] - 1
" "$W/mg.json"
n=$(python3 -c "import json,sys; p=json.load(open(sys.argv[1])); print(32 // p['deg'] // 2)" "$W/mg.json")
check "... written as --num-layers-per-virtual-pipeline-stage $n" \
    grep -qE -- "--num-layers-per-virtual-pipeline-stage $n( |$)" "$W/mg.txt"
"$UNIAP" estimate $m --megatron-args "$W/mg.txt" --out "$W/mg_back.json" >/dev/null 2>"$W/mg_back.err"
check "... read back to the plan's TPI and schedule" python3 -c "
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert b['schedule'] == 'interleaved2', b['schedule']
assert abs(a['tpi'] - b['tpi']) <= 1e-12 * a['tpi'], (a['tpi'], b['tpi'])
" "$W/mg.json" "$W/mg_back.json"
# torchtitan's Interleaved1F1B: pp v model parts, read back to the plan
"$UNIAP" plan $P --attention flash --dropout off --runtime torchtitan --schedule interleaved2 --out "$W/tt.json" \
    --torchtitan-toml "$W/tt.toml" >/dev/null 2>"$W/tt.err"
check "--runtime torchtitan --schedule interleaved2 exits 0" test $? -eq 0
check "... Interleaved1F1B over 2 deg parts of equal blocks" python3 -c "
import json, sys, re
p = json.load(open(sys.argv[1])); t = open(sys.argv[2]).read()
assert p['schedule'] == 'interleaved2', p['schedule']
assert 'pipeline_parallel_schedule = \"Interleaved1F1B\"' in t
lst = t[t.index('module_fqns_per_model_part'):]
lst = lst[:lst.index('\n]')]
parts = [re.findall(r'layers\.(\d+)', q) for q in lst.split('\n    [')[1:]]
assert len(parts) == 2 * p['deg'], (len(parts), p['deg'])
n = [len(q) for q in parts]
assert len(set(n)) == 1 and n[0] * len(parts) == 32, n
assert [int(x) for q in parts for x in q] == list(range(32))
" "$W/tt.json" "$W/tt.toml"
"$UNIAP" estimate $m --attention flash --dropout off --from-torchtitan "$W/tt.toml" --out "$W/tt_back.json" >/dev/null 2>"$W/tt_back.err"
check "... read back to the plan's TPI and schedule" python3 -c "
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert b['schedule'] == 'interleaved2', b['schedule']
assert abs(a['tpi'] - b['tpi']) <= 1e-12 * a['tpi'], (a['tpi'], b['tpi'])
" "$W/tt.json" "$W/tt_back.json"
# ZB-H1 (zero bubble): searched, named, read back; on the same plan its TPI
# is 1F1B's less 2 (sum w - max w) >= 0 (sched_zbh1.c), so the zb-h1 optimum
# is at most the 1f1b plan's TPI under zb-h1, itself at most its 1f1b TPI
"$UNIAP" plan $P --schedule zb-h1 --out "$W/zb.json" >"$W/zb.txt" 2>"$W/zb.err"
check "plan --schedule zb-h1 exits 0" test $? -eq 0
check "... the text and the plan name it; c >= deg; no virtual stages" sh -c "
grep -q 'schedule zb-h1' '$W/zb.txt' && python3 -c \"
import json, sys
p = json.load(open(sys.argv[1]))
assert p['schedule'] == 'zb-h1' and p['virtual_stages'] == 1, p['schedule']
assert p['micro_batches'] >= p['deg'] >= 2, (p['deg'], p['micro_batches'])
\" '$W/zb.json'"
"$UNIAP" estimate $m --plan "$W/zb.json" >"$W/zb.est" 2>&1
want=$(python3 -c "import json,sys; print('%.6g' % json.load(open(sys.argv[1]))['tpi'])" "$W/zb.json")
check "estimate --plan reads it back to its TPI $want s" grep -q "^TPI $want s" "$W/zb.est"
"$UNIAP" plan $P --schedule 1f1b --out "$W/f1.json" >/dev/null 2>&1
"$UNIAP" estimate $m --plan "$W/f1.json" --schedule zb-h1 --out "$W/f1zb.json" >/dev/null 2>"$W/f1zb.err"
check "estimate --schedule zb-h1 of the 1f1b plan exits 0" test $? -eq 0
check "... zb-h1 optimum <= 1f1b plan under zb-h1 < its 1f1b TPI" python3 -c "
import json, sys
z, f, fz = (json.load(open(a)) for a in sys.argv[1:])
assert fz['schedule'] == 'zb-h1', fz['schedule']
assert z['tpi'] <= fz['tpi'] * (1 + 1e-12) and fz['tpi'] < f['tpi'], (z['tpi'], fz['tpi'], f['tpi'])
" "$W/zb.json" "$W/f1.json" "$W/f1zb.json"
"$UNIAP" estimate $m --global-batch 32 --pp 4 --dp 1 --tp 8 --micro-batches 2 \
    --schedule zb-h1 >/dev/null 2>"$W/zbc2.err"
rc=$?
check "estimate: zb-h1 with 2 micro-batches on 4 stages refused" sh -c \
    "test $rc -ne 0 && grep -q 'zb-h1 needs at least as many micro-batches as stages' '$W/zbc2.err'"
check "--schedule all searches zb-h1 (all.json's pairs: more than without it)" sh -c \
    "'$UNIAP' plan $P --schedule gpipe,1f1b,interleaved2,interleaved3,interleaved4 --out '$W/nozb.json' >/dev/null 2>&1 && python3 -c \"
import json, sys
a, n = (json.load(open(f)) for f in sys.argv[1:])
assert a['pairs']['total'] > n['pairs']['total'], (a['pairs'], n['pairs'])
\" '$W/all.json' '$W/nozb.json'"
for rt in megatron deepspeed galvatron; do
    "$UNIAP" plan $P --runtime $rt --schedule zb-h1 --out "$W/zb_$rt.json" >/dev/null 2>"$W/zb_$rt.err"
    rc=$?
    check "--runtime $rt --schedule zb-h1 refused (exit 2) saying why" sh -c \
        "test $rc -eq 2 && grep -q 'splits the backward into input and weight gradients, which this runtime runs as one; or --runtime any' '$W/zb_$rt.err'"
done
[ $fail -eq 0 ] || tail -n 5 "$W"/*.err
exit $fail
