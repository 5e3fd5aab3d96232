/*
 * profile.c - the in-memory profile dataset (uniap_profile): initialisation
 * with the current provenance (time, tool version, git revision), freeing,
 * and appending table rows with amortized growth. The HDF5 form is written
 * by profile_h5_write.c and read by profile_h5_read.c.
 */
#include <assert.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "uniap_io.h"
#include "uniap_version.h"

void uniap_profile_init(uniap_profile *p)
{
    time_t now = time(NULL);
    struct tm tm;
    const char *job = getenv("SLURM_JOB_ID");

    assert(p);
    memset(p, 0, sizeof(*p));
    p->version_major = UNIAP_PROFILE_VERSION_MAJOR;
    p->version_minor = UNIAP_PROFILE_VERSION_MINOR;
    if (gmtime_r(&now, &tm))
        strftime(p->created, sizeof(p->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(p->tool_version, sizeof(p->tool_version), "%s", UNIAP_VERSION);
    snprintf(p->git_revision, sizeof(p->git_revision), "%s", UNIAP_GIT_REVISION);
    snprintf(p->slurm_job_id, sizeof(p->slurm_job_id), "%s", job ? job : "");
    p->world_size = 1;
    p->complete = 1;
}

void uniap_profile_free(uniap_profile *p)
{
    if (!p)
        return;
    free(p->command_line);
    free(p->model_json);
    free(p->cluster_json);
    free(p->notes);
    free(p->ranks);
    free(p->layers);
    free(p->colls);
    free(p->gemm);
    memset(p, 0, sizeof(*p));
}

/* Grows *rows (n used) so that one more row of size `size` fits, doubling.
 * The capacity is not stored in the struct: it is what malloc_usable_size()
 * reports, so tables that callers malloc'd themselves (exact size) grow
 * correctly too. */
static int grow(void **rows, int n, size_t size, const char *table)
{
    size_t cap, have = *rows ? malloc_usable_size(*rows) / size : 0;
    void *nr;

    if (n < 0 || (*rows == NULL && n > 0))
        return uniap_err(UNIAP_EINVAL, "profile table %s: %d rows but no storage", table, n);
    if ((size_t)n < have)
        return UNIAP_OK;
    cap = n < 8 ? 8 : 2 * (size_t)n;
    nr = realloc(*rows, cap * size);
    if (!nr)
        return uniap_err(UNIAP_ENOMEM, "profile table %s: out of memory for %zu rows", table, cap);
    *rows = nr;
    return UNIAP_OK;
}

int uniap_profile_add_layer(uniap_profile *p, const uniap_layer_prof *row)
{
    int rc = grow((void **)&p->layers, p->n_layers, sizeof(*row), "/layers");
    if (rc < 0)
        return rc;
    p->layers[p->n_layers++] = *row;
    return UNIAP_OK;
}

int uniap_profile_add_coll(uniap_profile *p, const uniap_coll_prof *row)
{
    int rc = grow((void **)&p->colls, p->n_colls, sizeof(*row), "/collectives");
    if (rc < 0)
        return rc;
    p->colls[p->n_colls++] = *row;
    return UNIAP_OK;
}

int uniap_profile_add_rank(uniap_profile *p, const uniap_rank_info *row)
{
    int rc = grow((void **)&p->ranks, p->n_ranks, sizeof(*row), "/ranks");
    if (rc < 0)
        return rc;
    p->ranks[p->n_ranks++] = *row;
    return UNIAP_OK;
}

int uniap_profile_add_gemm(uniap_profile *p, const uniap_gemm_prof *row)
{
    int rc = grow((void **)&p->gemm, p->n_gemm, sizeof(*row), "/gemm");
    if (rc < 0)
        return rc;
    p->gemm[p->n_gemm++] = *row;
    return UNIAP_OK;
}
