/*
 * fuzz_cluster_spec.c - libFuzzer target for the cluster spec parser: any
 * bytes give a cluster or UNIAP_EINVAL with a message, never a crash; an
 * accepted cluster round-trips through its canonical JSON unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uniap_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    uniap_cluster c, back;
    char *json = NULL;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    uniap_err_clear();
    if (uniap_cluster_parse(text, "fuzz.json", &c) != 0) {
        if (uniap_errmsg()[0] == '\0')
            abort();
        free(text);
        return 0;
    }
    if (c.nodes < 1 || c.devices_per_node < 1 || c.device_memory <= 0)
        abort(); /* validation let an impossible cluster through */
    if (uniap_cluster_to_json(&c, &json) != 0 || uniap_cluster_parse(json, "canonical", &back) != 0)
        abort();
    if (memcmp(&back, &c, sizeof(c)) != 0)
        abort();
    free(json);
    free(text);
    return 0;
}
