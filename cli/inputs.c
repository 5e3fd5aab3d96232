/*
 * inputs.c - the one input loader of the commands (see inputs.h): model,
 * cluster and profile by the same resolution rules everywhere, the
 * incomplete-profile warning, and the checks that MPI ranks agree on their
 * arguments and inputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inputs.h"

int uniap_inputs_micro_batches(int64_t B, int *mbs, int max)
{
    int n = 0, nbig = 0, big[64];
    if (B < 1 || max < 1)
        return 0;
    if (max > 64)
        max = 64;
    /* small divisors ascending; their co-divisors come out descending */
    for (int64_t x = 1; x * x <= B && n < max; x++) {
        if (B % x != 0)
            continue;
        mbs[n++] = (int)x;
        if (x * x != B && nbig < 64)
            big[nbig++] = (int)(B / x);
    }
    for (int i = nbig - 1; i >= 0 && n < max; i--)
        mbs[n++] = big[i];
    return n;
}

static int load_cluster(const uniap_inputs_req *req, uniap_inputs *in)
{
    if (req->cluster)
        return uniap_cluster_resolve(req->cluster, &in->cluster);
    if (!req->profile)
        return uniap_err(UNIAP_EINVAL, "give --cluster (a preset or a cluster spec file) or "
                                       "--profile (whose stored cluster is used)");
    if (!in->profile.cluster_json || !in->profile.cluster_json[0])
        return uniap_err(UNIAP_EINVAL, "--profile %s stores no cluster_spec: give --cluster",
                         req->profile);
    return uniap_cluster_parse(in->profile.cluster_json, req->profile, &in->cluster);
}

static int load_analytic(const uniap_inputs_req *req, uniap_inputs *in)
{
    int mbs[64], n;
    if (req->global_batch < 1)
        return uniap_err(UNIAP_EINVAL, "--global-batch is required for the analytic profile "
                                       "(no --profile given)");
    n = uniap_inputs_micro_batches(req->global_batch, mbs, 64);
    in->analytic = 1;
    if (req->verbose)
        fprintf(stderr,
                "uniap %s: no --profile given: using the analytic device model from the "
                "cluster spec's datasheet figures\n",
                req->cmd);
    return uniap_profile_analytic(&in->model, &in->cluster, mbs, n, &in->profile);
}

int uniap_inputs_load(const uniap_inputs_req *req, uniap_inputs *in)
{
    int rc;
    memset(in, 0, sizeof(*in));
    if ((rc = uniap_model_resolve(req->model, &in->model)) < 0)
        goto fail;
    if (req->profile) {
        if ((rc = uniap_profile_read(req->profile, &in->profile)) < 0)
            goto fail;
        in->profile_path = req->profile;
        if ((rc = uniap_file_crc32(req->profile, in->profile_checksum)) < 0)
            goto fail;
        if (!in->profile.complete && req->verbose)
            fprintf(stderr,
                    "uniap %s: warning: %s is incomplete (interrupted profile): run uniap "
                    "profile --resume %s to finish it\n",
                    req->cmd, req->profile, req->profile);
    }
    if ((rc = load_cluster(req, in)) < 0)
        goto fail;
    const char *cw = uniap_cluster_warnings();
    if (req->verbose && cw[0])
        fprintf(stderr, "uniap %s: warning: %s%s", req->cmd, cw,
                cw[strlen(cw) - 1] == '\n' ? "" : "\n");
    if (!req->profile && (rc = load_analytic(req, in)) < 0)
        goto fail;
    return UNIAP_OK;
fail:
    uniap_inputs_free(in);
    return rc;
}

void uniap_inputs_free(uniap_inputs *in)
{
    uniap_profile_free(&in->profile);
    uniap_model_free(&in->model);
    memset(in, 0, sizeof(*in));
}

int uniap_inputs_same_args(MPI_Comm comm, const char *cmd, int argc, char **argv)
{
    char what[64];
    char *joined = uniap_join_args("uniap", argc, argv);
    int rc = joined ? 0 : uniap_err(UNIAP_ENOMEM, "out of memory joining the arguments");
    if ((rc = uniap_mpi_agree(comm, rc)) < 0) {
        free(joined);
        return rc;
    }
    snprintf(what, sizeof what, "command line (uniap %s ...)", cmd);
    rc = uniap_mpi_same(comm, joined, strlen(joined), what);
    free(joined);
    return rc;
}

int uniap_inputs_same(MPI_Comm comm, const uniap_inputs *in)
{
    char *mj = NULL, *cj = NULL;
    int rc = uniap_model_to_json(&in->model, &mj);
    if (rc == 0)
        rc = uniap_cluster_to_json(&in->cluster, &cj);
    if ((rc = uniap_mpi_agree(comm, rc)) < 0)
        goto free_json;
    if ((rc = uniap_mpi_same(comm, mj, strlen(mj), "model spec (--model)")) < 0 ||
        (rc = uniap_mpi_same(comm, cj, strlen(cj), "cluster spec (--cluster)")) < 0 ||
        (rc = uniap_mpi_same(comm, in->profile_checksum, strlen(in->profile_checksum),
                             "profile file (--profile, by checksum)")) < 0)
        goto free_json;
free_json:
    free(mj);
    free(cj);
    return rc;
}

void uniap_inputs_print_warnings(const char *cmd, const uniap_costmodel *cm, int verbose)
{
    const char *w = uniap_costmodel_warnings(cm);
    if (!verbose || !w[0])
        return;
    fflush(stdout);
    fprintf(stderr, "uniap %s: cost model warnings:\n%s%s", cmd, w,
            w[strlen(w) - 1] == '\n' ? "" : "\n");
}

void uniap_inputs_restrict_opts(uniap_restrict_args *r, uniap_opt *opts, int *n)
{
    memset(r, 0, sizeof(*r));
    r->reserve_gib = -1;
    r->overlap = -1;
    uniap_opt t[UNIAP_RESTRICT_OPTS] = {
        {.name = "max-tp",
         .kind = UNIAP_OPTK_INT,
         .dest = &r->max_tp,
         .min = 1,
         .max = 1 << 20,
         .def = "no limit",
         .help = "largest tensor-parallel degree considered"},
        {.name = "max-pp",
         .kind = UNIAP_OPTK_INT,
         .dest = &r->max_pp,
         .min = 1,
         .max = 1 << 20,
         .def = "no limit",
         .help = "largest pipeline degree (number of stages) considered"},
        {.name = "no-zero",
         .kind = UNIAP_OPTK_FLAG,
         .dest = &r->no_zero,
         .help = "no ZeRO / FSDP sharding of model states"},
        {.name = "no-ckpt",
         .kind = UNIAP_OPTK_FLAG,
         .dest = &r->no_ckpt,
         .help = "no activation checkpointing"},
        {.name = "no-sp",
         .kind = UNIAP_OPTK_FLAG,
         .dest = &r->no_sp,
         .help = "no sequence parallelism"},
        {.name = "no-strided",
         .kind = UNIAP_OPTK_FLAG,
         .dest = &r->no_strided,
         .help = "tensor-parallel groups on consecutive devices only"},
        {.name = "reserve-gib",
         .kind = UNIAP_OPTK_DOUBLE,
         .dest = &r->reserve_gib,
         .metavar = "G",
         .dmin = 0,
         .dmax = 1 << 20,
         .def = "1.5",
         .help = "device memory kept for the framework (CUDA context, workspaces), GiB"},
        {.name = "overlap",
         .kind = UNIAP_OPTK_DOUBLE,
         .dest = &r->overlap,
         .metavar = "F",
         .dmin = 0,
         .dmax = 1,
         .def = "0",
         .help = "fraction of the gradient sync hidden behind the backward pass, 0 to 1"},
    };
    memcpy(opts + *n, t, sizeof(t));
    *n += UNIAP_RESTRICT_OPTS;
}

void uniap_inputs_restrict_apply(const uniap_restrict_args *r, uniap_cost_options *o)
{
    o->max_tp = r->max_tp;
    o->max_pp = r->max_pp;
    o->no_zero = r->no_zero;
    o->no_ckpt = r->no_ckpt;
    o->no_sp = r->no_sp;
    o->no_strided = r->no_strided;
    o->reserve_bytes =
        r->reserve_gib >= 0 ? (int64_t)(r->reserve_gib * (double)((int64_t)1 << 30)) : -1;
    o->overlap = r->overlap;
}
