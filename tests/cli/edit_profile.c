/*
 * edit_profile.c - test helper: copies a profile dataset with some root
 * attributes changed, to craft the files the `uniap archive` tests need
 * (control characters in a string attribute, an impossible world_size, an
 * incomplete profile; layer rows slowed down). Written with the library's
 * own serial writer, so the result is a valid dataset apart from the
 * values given.
 *
 * usage: edit_profile IN OUT [provenance=S] [slurm_job_id=S] [world_size=N]
 *        [complete=0|1] [model_spec=@FILE] [scale_layers=PREFIX:FACTOR]
 *   scale_layers multiplies the forward, backward (and its weight-gradient part) times of the layer
 *   rows whose layer_type starts with PREFIX by FACTOR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uniap_io.h"

static int set(uniap_profile *p, const char *kv)
{
    const char *eq = strchr(kv, '=');
    size_t k = eq ? (size_t)(eq - kv) : 0;
    const char *v = eq ? eq + 1 : "";

    if (k == 10 && strncmp(kv, "provenance", k) == 0)
        snprintf(p->provenance, sizeof(p->provenance), "%s", v);
    else if (k == 12 && strncmp(kv, "slurm_job_id", k) == 0)
        snprintf(p->slurm_job_id, sizeof(p->slurm_job_id), "%s", v);
    else if (k == 10 && strncmp(kv, "world_size", k) == 0)
        p->world_size = atoi(v);
    else if (k == 8 && strncmp(kv, "complete", k) == 0)
        p->complete = atoi(v);
    else if (k == 10 && strncmp(kv, "model_spec", k) == 0 && v[0] == '@') {
        char *text;
        if (uniap_read_file(v + 1, &text, NULL) < 0)
            return -1;
        free(p->model_json);
        p->model_json = text;
    } else if (k == 12 && strncmp(kv, "scale_layers", k) == 0 && strchr(v, ':')) {
        size_t n = (size_t)(strchr(v, ':') - v);
        double f = atof(strchr(v, ':') + 1);
        for (int i = 0; i < p->n_layers; i++) {
            uniap_layer_prof *l = &p->layers[i];
            if (strncmp(l->layer_type, v, n) != 0)
                continue;
            uniap_stat *st[3] = {&l->fwd, &l->bwd, &l->wgrad};
            for (int j = 0; j < 3; j++)
                st[j]->median *= f, st[j]->min *= f, st[j]->max *= f;
        }
    } else
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    uniap_profile p;

    if (argc < 3) {
        fprintf(stderr, "usage: edit_profile IN OUT [key=value...]\n");
        return 2;
    }
    if (uniap_profile_read(argv[1], &p) < 0) {
        fprintf(stderr, "edit_profile: %s\n", uniap_errmsg());
        return 1;
    }
    for (int i = 3; i < argc; i++)
        if (set(&p, argv[i]) < 0) {
            fprintf(stderr, "edit_profile: unknown key in '%s'\n", argv[i]);
            uniap_profile_free(&p);
            return 2;
        }
    if (uniap_profile_write(argv[2], &p) < 0) {
        fprintf(stderr, "edit_profile: %s\n", uniap_errmsg());
        uniap_profile_free(&p);
        return 1;
    }
    uniap_profile_free(&p);
    return 0;
}
