/*
 * fuzz_model_spec.c - libFuzzer target for the model spec parser: any
 * bytes must give either a model or UNIAP_EINVAL with a message, never a
 * crash, leak or undefined behaviour. An accepted model must serialize to
 * canonical JSON that parses back with the same parameter count and
 * signatures.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uniap_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    uniap_model m, back;
    char *json = NULL;
    char s1[128], s2[128];

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    uniap_err_clear();
    if (uniap_model_parse(text, "fuzz.json", &m) != 0) {
        if (uniap_errmsg()[0] == '\0' || m.runs != NULL)
            abort(); /* a refusal always says why and leaves nothing */
        free(text);
        return 0;
    }
    if (uniap_model_to_json(&m, &json) != 0 || uniap_model_parse(json, "canonical", &back) != 0)
        abort();
    if (uniap_model_params(&back) != uniap_model_params(&m) || back.n_layers != m.n_layers)
        abort();
    for (int r = 0; r < m.n_runs; r++) {
        int a = uniap_layer_signature(&m.runs[r], s1, sizeof(s1));
        int b = uniap_layer_signature(&back.runs[r], s2, sizeof(s2));
        if (a != b || (a == 0 && strcmp(s1, s2) != 0))
            abort();
    }
    for (int u = 0; u < m.n_layers; u += 1 + m.n_layers / 16)
        if (uniap_model_run_of(&m, u) < 0)
            abort();
    uniap_model_free(&back);
    uniap_model_free(&m);
    free(json);
    free(text);
    return 0;
}
