/*
 * check_netns.c - the verdict of the network-namespace reference test:
 * reads the profile measured across two emulated nodes joined by a link
 * shaped to RATE bytes/s and checks that point-to-point between the nodes
 * and the all-reduce of a 2-rank group spanning them reach a bus bandwidth
 * within 10 % of RATE, while inside a node both are at least 3x RATE.
 * Prints the figures. Exit 0 pass, 1 fail.
 * usage: check_netns FILE RATE_BYTES_PER_S
 */
#include <stdlib.h>

#include "check.h"
#include "uniap_io.h"

int main(int argc, char **argv)
{
    uniap_profile p;
    if (argc != 3) {
        fprintf(stderr, "usage: check_netns FILE RATE_BYTES_PER_S\n");
        return 2;
    }
    double rate = atof(argv[2]);
    int rc = uniap_profile_read(argv[1], &p);
    CHECK_EQ(rc, 0);
    if (rc < 0) {
        fprintf(stderr, "%s\n", uniap_errmsg());
        return check_report();
    }
    int seen[2][2] = {{0, 0}, {0, 0}}; /* [p2p or all-reduce][spans] */
    for (int i = 0; i < p.n_colls; i++) {
        const uniap_coll_prof *c = &p.colls[i];
        int kind = c->op == UNIAP_COLL_P2P ? 0 : c->op == UNIAP_COLL_ALLREDUCE ? 1 : -1;
        if (kind < 0 || c->group_size != 2)
            continue;
        fprintf(stderr, "%-10s n=2 %-14s %lld bytes: busbw %.1f MB/s (shaped %.1f MB/s)\n",
                uniap_coll_name(c->op), c->spans_nodes ? "between nodes" : "inside a node",
                (long long)c->bytes, c->busbw / 1e6, rate / 1e6);
        if (c->spans_nodes)
            CHECK_NEAR(c->busbw, rate, 0.10, 0);
        else
            CHECK(c->busbw >= 3 * rate);
        seen[kind][c->spans_nodes]++;
    }
    for (int k = 0; k < 2; k++)
        for (int s = 0; s < 2; s++)
            CHECK(seen[k][s] >= 1);
    uniap_profile_free(&p);
    return check_report();
}
