/*
 * spec_json.h - private helpers of the model and cluster spec parsers:
 * strict reading of JSON fields with cJSON, each error naming the source
 * file, the JSON path (e.g. "layers[1].heads"), what was expected and what
 * was found. (The layer fields and the layer kinds: layer_kinds.h.)
 */
#ifndef UNIAP_SPEC_JSON_H
#define UNIAP_SPEC_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "uniap_io.h"

/* Propagates a negative status from a spec helper, jumping to a cleanup
 * label: JSON_CHECK(spec_get_int(...), free_root). The status is left in
 * the caller's `int rc_` (1 present, 0 absent for the field readers). */
#define JSON_CHECK(expr, label)                                                                    \
    do {                                                                                           \
        rc_ = (expr);                                                                              \
        if (rc_ < 0)                                                                               \
            goto label;                                                                            \
    } while (0)

/* Largest integer a spec may hold (JSON numbers are doubles: 2^53). */
#define SPEC_INT_MAX ((int64_t)1 << 53)

/* Parses text into a JSON object. Syntax errors name the line and column;
 * a root that is not an object is refused. *root is freed by the caller. */
int spec_parse_text(const char *json, const char *source, cJSON **root);

/* Refuses keys of obj not in allowed[0..n) ("unknown key") and duplicated
 * keys. path names obj ("" for the root). */
int spec_check_keys(const cJSON *obj, const char *source, const char *path,
                    const char *const *allowed, int n_allowed);

/* Writes "parent.key" (or "key" when parent is "") into buf. */
void spec_path(char *buf, size_t n, const char *parent, const char *key);

/* Describes a JSON value for "got ..." ("string \"abc\"", "number 2.5",
 * "an array", "nothing (field missing)" for NULL). */
const char *spec_describe(const cJSON *v, char *buf, size_t n);

/* Field readers: return 1 when the key is present and valid (value stored),
 * 0 when absent (out untouched), or UNIAP_EINVAL with the message set. */
int spec_get_int(const cJSON *obj, const char *key, const char *source, const char *parent,
                 int64_t min, int64_t max, int64_t *out);
int spec_get_number(const cJSON *obj, const char *key, const char *source, const char *parent,
                    double min, double max, double *out);
int spec_get_bool(const cJSON *obj, const char *key, const char *source, const char *parent,
                  int *out);
int spec_get_string(const cJSON *obj, const char *key, const char *source, const char *parent,
                    char *buf, size_t n);
/* A string among names[0..n_names); stores its index. */
int spec_get_enum(const cJSON *obj, const char *key, const char *source, const char *parent,
                  const char *const *names, int n_names, int *out);

/* Error for a required field that is absent. */
int spec_missing(const char *source, const char *parent, const char *key, const char *expected);

/* JSON numbers printed exactly: an integer as digits, a double with the
 * fewest significant digits (15 to 17) that read back to the same bits.
 * (cJSON's own printer keeps 15 digits when they read back within an
 * epsilon, which loses the last bits.) NULL when out of memory. */
cJSON *spec_json_int(int64_t v);
cJSON *spec_json_double(double v);

/* Default name from a source path: basename without extension. */
void spec_default_name(const char *source, char *buf, size_t n);

/* ---- cluster spec ranges (cluster_ranges.c) ---------------------------- */

/* Refuses figures no device has (memory, rates, latencies; 0 = unknown is
 * accepted) naming source, the field, the value and the expected range
 * with its unit, and the likely unit slip; appends a warning for figures
 * inside the range but unusual (uniap_cluster_warnings). from_gib: the
 * memory was given as device_memory_gib = gib. */
int spec_cluster_check_ranges(const uniap_cluster *c, const char *source, int from_gib, double gib);
void spec_cluster_warnings_clear(void);

#endif /* UNIAP_SPEC_JSON_H */
