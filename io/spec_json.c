/*
 * spec_json.c - strict JSON field reading for the model and cluster specs.
 * Every error reads "<file>: <json path>: expected ..., got ..." so that a
 * typo or a wrong type in a spec is refused with the place to fix it.
 */
#include <assert.h>
#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_json.h"

void spec_path(char *buf, size_t n, const char *parent, const char *key)
{
    if (!parent || !parent[0])
        snprintf(buf, n, "%s", key);
    else
        snprintf(buf, n, "%s.%s", parent, key);
}

/* Copies at most 24 characters of s into buf, escaping what is not
 * printable, for quoting user input in messages. */
static void quote_snippet(const char *s, size_t len, char *buf, size_t n)
{
    size_t o = 0;
    assert(n >= 8);
    for (size_t i = 0; i < len && i < 24 && o + 6 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isprint(c) && c != '"' && c != '\\')
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c);
    }
    if (len > 24 && o + 4 < n) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o < n ? o : n - 1] = '\0';
}

const char *spec_describe(const cJSON *v, char *buf, size_t n)
{
    char snip[128];

    if (!v)
        snprintf(buf, n, "nothing (field missing)");
    else if (cJSON_IsString(v)) {
        quote_snippet(v->valuestring, strlen(v->valuestring), snip, sizeof(snip));
        snprintf(buf, n, "string \"%s\"", snip);
    } else if (cJSON_IsNumber(v))
        snprintf(buf, n, "number %.17g", v->valuedouble);
    else if (cJSON_IsBool(v))
        snprintf(buf, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNull(v))
        snprintf(buf, n, "null");
    else if (cJSON_IsArray(v))
        snprintf(buf, n, "an array");
    else if (cJSON_IsObject(v))
        snprintf(buf, n, "an object");
    else
        snprintf(buf, n, "an invalid value");
    return buf;
}

int spec_parse_text(const char *json, const char *source, cJSON **root)
{
    const char *end = NULL;
    char snip[128], got[160];
    cJSON *r;

    *root = NULL;
    if (!json)
        return uniap_err(UNIAP_EINVAL, "%s: (root): expected a JSON object, got no text", source);
    r = cJSON_ParseWithLengthOpts(json, strlen(json), &end, 0);
    if (!r) {
        int line = 1, col = 1;
        const char *p = json;
        if (!end || end < json || end > json + strlen(json))
            end = json + strlen(json);
        for (; p < end; p++) {
            if (*p == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        quote_snippet(end, strlen(end), snip, sizeof(snip));
        return uniap_err(UNIAP_EINVAL, "%s: line %d, column %d: expected valid JSON, got %s%s%s",
                         source, line, col, *end ? "\"" : "the end of the text", snip,
                         *end ? "\"" : "");
    }
    /* Trailing garbage after the value is an error too. */
    while (end && *end && isspace((unsigned char)*end))
        end++;
    if (end && *end) {
        quote_snippet(end, strlen(end), snip, sizeof(snip));
        cJSON_Delete(r);
        return uniap_err(UNIAP_EINVAL, "%s: (root): expected one JSON value, got trailing \"%s\"",
                         source, snip);
    }
    if (!cJSON_IsObject(r)) {
        spec_describe(r, got, sizeof(got));
        cJSON_Delete(r);
        return uniap_err(UNIAP_EINVAL, "%s: (root): expected a JSON object, got %s", source, got);
    }
    *root = r;
    return UNIAP_OK;
}

int spec_check_keys(const cJSON *obj, const char *source, const char *path,
                    const char *const *allowed, int n_allowed)
{
    char p[256], snip[128];
    const cJSON *it, *prev;

    cJSON_ArrayForEach(it, obj)
    {
        int ok = 0;
        const char *key = it->string ? it->string : "";
        for (int i = 0; i < n_allowed && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        quote_snippet(key, strlen(key), snip, sizeof(snip));
        spec_path(p, sizeof(p), path, snip);
        if (!ok) {
            char list[1024];
            size_t o = 0;
            list[0] = '\0';
            for (int i = 0; i < n_allowed && o + 1 < sizeof(list); i++)
                o +=
                    (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", allowed[i]);
            return uniap_err(UNIAP_EINVAL, "%s: %s: expected one of the keys (%s), got unknown key",
                             source, p, list);
        }
        for (prev = obj->child; prev != it; prev = prev->next) {
            if (prev->string && strcmp(prev->string, key) == 0)
                return uniap_err(UNIAP_EINVAL, "%s: %s: expected each key once, got it twice",
                                 source, p);
        }
    }
    return UNIAP_OK;
}

int spec_missing(const char *source, const char *parent, const char *key, const char *expected)
{
    char p[256];
    spec_path(p, sizeof(p), parent, key);
    return uniap_err(UNIAP_EINVAL, "%s: %s: expected %s, got nothing (field missing)", source, p,
                     expected);
}

int spec_get_int(const cJSON *obj, const char *key, const char *source, const char *parent,
                 int64_t min, int64_t max, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char p[256], got[160];
    double d;

    if (!v)
        return 0;
    spec_path(p, sizeof(p), parent, key);
    d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!cJSON_IsNumber(v) || !isfinite(d) || d != floor(d) || d < (double)min || d > (double)max) {
        if (max >= SPEC_INT_MAX)
            return uniap_err(UNIAP_EINVAL, "%s: %s: expected an integer >= %lld, got %s", source, p,
                             (long long)min, spec_describe(v, got, sizeof(got)));
        return uniap_err(UNIAP_EINVAL, "%s: %s: expected an integer in %lld..%lld, got %s", source,
                         p, (long long)min, (long long)max, spec_describe(v, got, sizeof(got)));
    }
    *out = (int64_t)d;
    return 1;
}

int spec_get_number(const cJSON *obj, const char *key, const char *source, const char *parent,
                    double min, double max, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char p[256], got[160];

    if (!v)
        return 0;
    spec_path(p, sizeof(p), parent, key);
    if (cJSON_IsNumber(v) && !isfinite(v->valuedouble))
        return uniap_err(UNIAP_EINVAL, "%s: %s: expected a finite number, got %s", source, p,
                         spec_describe(v, got, sizeof(got)));
    if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max) {
        if (min == -DBL_MAX && max == DBL_MAX)
            return uniap_err(UNIAP_EINVAL, "%s: %s: expected a number, got %s", source, p,
                             spec_describe(v, got, sizeof(got)));
        return uniap_err(UNIAP_EINVAL, "%s: %s: expected a number in %g..%g, got %s", source, p,
                         min, max, spec_describe(v, got, sizeof(got)));
    }
    *out = v->valuedouble + 0.0; /* -0 reads as 0 */
    return 1;
}

int spec_get_bool(const cJSON *obj, const char *key, const char *source, const char *parent,
                  int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char p[256], got[160];

    if (!v)
        return 0;
    if (!cJSON_IsBool(v)) {
        spec_path(p, sizeof(p), parent, key);
        return uniap_err(UNIAP_EINVAL, "%s: %s: expected true or false, got %s", source, p,
                         spec_describe(v, got, sizeof(got)));
    }
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return 1;
}

int spec_get_string(const cJSON *obj, const char *key, const char *source, const char *parent,
                    char *buf, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char p[256], got[160];

    if (!v)
        return 0;
    spec_path(p, sizeof(p), parent, key);
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= n)
        return uniap_err(UNIAP_EINVAL, "%s: %s: expected a string of 1 to %zu characters, got %s",
                         source, p, n - 1, spec_describe(v, got, sizeof(got)));
    for (const char *c = v->valuestring; *c; c++) {
        if (!isprint((unsigned char)*c))
            return uniap_err(UNIAP_EINVAL, "%s: %s: expected printable ASCII characters, got %s",
                             source, p, spec_describe(v, got, sizeof(got)));
    }
    memset(buf, 0, n); /* no stale bytes after the string */
    memcpy(buf, v->valuestring, strlen(v->valuestring) + 1);
    return 1;
}

int spec_get_enum(const cJSON *obj, const char *key, const char *source, const char *parent,
                  const char *const *names, int n_names, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char p[256], got[160], list[256];
    size_t o = 0;

    if (!v)
        return 0;
    for (int i = 0; i < n_names && cJSON_IsString(v); i++) {
        if (strcmp(v->valuestring, names[i]) == 0) {
            *out = i;
            return 1;
        }
    }
    list[0] = '\0';
    for (int i = 0; i < n_names && o + 1 < sizeof(list); i++)
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? "|" : "", names[i]);
    spec_path(p, sizeof(p), parent, key);
    return uniap_err(UNIAP_EINVAL, "%s: %s: expected one of %s, got %s", source, p, list,
                     spec_describe(v, got, sizeof(got)));
}

void spec_default_name(const char *source, char *buf, size_t n)
{
    const char *base = strrchr(source, '/');
    size_t len;

    base = base ? base + 1 : source;
    len = strcspn(base, ".");
    if (len == 0) {
        base = "unnamed";
        len = strlen(base);
    }
    if (len >= n)
        len = n - 1;
    memcpy(buf, base, len);
    buf[len] = '\0';
    for (size_t i = 0; i < len; i++) {
        if (!isprint((unsigned char)buf[i]))
            buf[i] = '_';
    }
}

cJSON *spec_json_int(int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)v);
    return cJSON_CreateRaw(buf);
}

cJSON *spec_json_double(double v)
{
    char buf[40];

    assert(isfinite(v));
    if (v == floor(v) && fabs(v) < 9007199254740992.0) /* 2^53: exact integer */
        return spec_json_int((int64_t)v);
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof(buf), "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return cJSON_CreateRaw(buf);
}
