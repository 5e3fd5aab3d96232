/*
 * test_prof_grad.c - every CPU layer kernel's backward against central
 * finite differences of its forward. The loss is the output projected on
 * a fixed random vector (L = sum out * dout, accumulated in double), so
 * the backward from dout is its exact gradient. For each parameter and
 * input tensor, the directional derivative along two random directions is
 * compared with the finite difference along the same direction.
 */
#include "check.h"
#include "cpu_kernels.h"
#include "prof_test_grad.h"
#include "prof_test_layers.h"

int main(void)
{
    test_layer tl[32];
    int n = test_layers(tl);
    prof_rng rng;
    prof_rng_seed(&rng, 7);
    for (int c = 0; c < n; c++) {
        prof_cpu_layer *L;
        int rc = prof_cpu_layer_create(&tl[c].l, 0, tl[c].tp, tl[c].batch, 100 + c, &L);
        CHECK_EQ(rc, 0);
        if (rc < 0) {
            fprintf(stderr, "%s: %s\n", tl[c].name, uniap_errmsg());
            continue;
        }
        /* analytic gradients of every tensor, then finite differences */
        prof_cpu_layer_zero_grads(L);
        CHECK_EQ(prof_cpu_layer_forward(L), 0);
        CHECK_EQ(prof_cpu_layer_backward(L), 0);
        int nt = L->n_params + L->n_inputs;
        float **grads = calloc((size_t)nt, sizeof(float *));
        prof_tensor **ts = calloc((size_t)nt, sizeof(prof_tensor *));
        for (int i = 0; i < nt; i++) {
            ts[i] = i < L->n_params ? &L->params[i] : &L->inputs[i - L->n_params];
            grads[i] = malloc(sizeof(float) * (size_t)ts[i]->n);
            memcpy(grads[i], ts[i]->grad, sizeof(float) * (size_t)ts[i]->n);
        }
        int checked = 0;
        for (int i = 0; i < nt; i++) {
            /* the image of patch_embed has no gradient by design */
            if (L->spec.kind == UNIAP_LAYER_PATCH_EMBED && i >= L->n_params)
                continue;
            check_tensor(tl[c].name, L, ts[i], grads[i], &rng);
            checked++;
        }
        CHECK(checked >= 2);
        fprintf(stderr, "%s: %d tensors checked\n", tl[c].name, checked);
        for (int i = 0; i < nt; i++)
            free(grads[i]);
        free(grads);
        free(ts);
        prof_cpu_layer_destroy(L);
    }
    return check_report();
}
