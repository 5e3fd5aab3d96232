/*
 * fuzz_profile_seed.c - writes a small valid profile dataset (two ranks,
 * two layer rows, two collective rows) with the public writer, as a seed
 * for fuzz_profile_read. Usage: fuzz_profile_seed OUT.h5
 */
#include <stdio.h>
#include <string.h>

#include "uniap_io.h"

int main(int argc, char **argv)
{
    uniap_profile p;
    uniap_layer_prof l;
    uniap_coll_prof c;
    uniap_rank_info r;
    int rc = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT.h5\n", argv[0]);
        return 2;
    }
    memset(&p, 0, sizeof(p));
    uniap_profile_init(&p);
    snprintf(p.provenance, sizeof(p.provenance), "measured");
    p.world_size = 2;
    p.complete = 1;
    for (int i = 0; i < 2 && rc == 0; i++) {
        memset(&r, 0, sizeof(r));
        r.rank = i;
        snprintf(r.host, sizeof(r.host), "node%d", i);
        r.node = i;
        snprintf(r.device, sizeof(r.device), "cpu");
        r.device_memory = (int64_t)1 << 30;
        snprintf(r.backend, sizeof(r.backend), "cpu");
        rc = uniap_profile_add_rank(&p, &r);
    }
    for (int tp = 1; tp <= 2 && rc == 0; tp++) {
        memset(&l, 0, sizeof(l));
        snprintf(l.layer_type, sizeof(l.layer_type),
                 "decoder.h64.a4.kv4.f256.s32.gelu.layernorm.nopos");
        l.tp = tp;
        l.micro_batch = 1;
        l.rank = -1;
        l.fwd = (uniap_stat){1e-3 / tp, 0.9e-3 / tp, 1.1e-3 / tp, 5};
        l.bwd = (uniap_stat){2e-3 / tp, 1.9e-3 / tp, 2.1e-3 / tp, 5};
        l.act_bytes = 1 << 20;
        l.param_bytes = 1 << 18;
        rc = uniap_profile_add_layer(&p, &l);
    }
    for (int i = 0; i < 2 && rc == 0; i++) {
        memset(&c, 0, sizeof(c));
        c.op = i ? UNIAP_COLL_P2P : UNIAP_COLL_ALLREDUCE;
        c.group_size = 2;
        c.src = i ? 0 : -1;
        c.dst = i ? 1 : -1;
        c.bytes = 1 << 20;
        c.time = (uniap_stat){1e-4, 0.9e-4, 1.2e-4, 5};
        c.algbw = (double)c.bytes / c.time.median;
        c.busbw = c.algbw * uniap_busbw_factor(c.op, 2);
        rc = uniap_profile_add_coll(&p, &c);
    }
    if (rc == 0)
        rc = uniap_profile_write(argv[1], &p);
    if (rc != 0)
        fprintf(stderr, "fuzz_profile_seed: %s\n", uniap_errmsg());
    uniap_profile_free(&p);
    return rc == 0 ? 0 : 1;
}
