/*
 * options_record.c - a command's options as a JSON object, and back: what
 * makes a plan reproducible from its file alone (`uniap plan --from
 * plan.json`). uniap_opts_record writes the value every recorded option
 * holds after parsing (given or default) as text that parses back
 * exactly; uniap_opts_replay feeds such an object back through the same
 * per-kind parser as the command line, for every option the command line
 * did not give (the command line wins). Left out: outputs, positional
 * arguments, hidden options and options flagged UNIAP_OPT_NO_RECORD.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "options_internal.h"
#include "uniap_io.h"

static int recorded(const uniap_opt *o)
{
    return o->kind != UNIAP_OPTK_OUTPUT &&
           !(o->flags & (UNIAP_OPT_POSITIONAL | UNIAP_OPT_HIDDEN | UNIAP_OPT_NO_RECORD));
}

/* An input file as an absolute path (so a rerun from another folder finds
 * it); names that are no file (a zoo model, a preset) as given. */
static void input_path(const char *v, char *buf, size_t n)
{
    char *abs = v ? realpath(v, NULL) : NULL;
    snprintf(buf, n, "%s", abs ? abs : v ? v : "");
    free(abs);
}

int uniap_opts_record(const uniap_cmd *cmd, char **json)
{
    cJSON *obj = cJSON_CreateObject();
    char buf[PATH_MAX + 64];
    int ok = obj != NULL;
    *json = NULL;
    for (const uniap_opt *o = cmd->opts; ok && o->name; o++) {
        if (!recorded(o))
            continue;
        if (o->kind == UNIAP_OPTK_FLAG) {
            ok = cJSON_AddBoolToObject(obj, o->name, *(const int *)o->dest != 0) != NULL;
            continue;
        }
        if ((o->kind == UNIAP_OPTK_STRING || o->kind == UNIAP_OPTK_INPUT) &&
            !*(const char *const *)o->dest) {
            ok = cJSON_AddNullToObject(obj, o->name) != NULL;
            continue;
        }
        if (o->kind == UNIAP_OPTK_INPUT)
            input_path(*(const char *const *)o->dest, buf, sizeof buf);
        else
            uniap__opt_value(o, 1, buf, sizeof buf);
        ok = cJSON_AddStringToObject(obj, o->name, buf) != NULL;
    }
    if (ok)
        *json = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    return *json ? UNIAP_OK : uniap_err(UNIAP_ENOMEM, "out of memory recording the options");
}

/* Drops UNIAP_OPT_REQUIRED from the entries the record holds (before the
 * command line is parsed: the record supplies them). */
void uniap_opts_relax_required(uniap_cmd *cmd, const char *json)
{
    cJSON *obj = cJSON_Parse(json);
    for (uniap_opt *o = cmd->opts; obj && o->name; o++)
        if (cJSON_GetObjectItemCaseSensitive(obj, o->name))
            o->flags &= ~(unsigned)UNIAP_OPT_REQUIRED;
    cJSON_Delete(obj);
}

/* One recorded value v of option o. */
static int replay_one(uniap_opt *o, const cJSON *v, const char *source)
{
    if (o->kind == UNIAP_OPTK_FLAG) {
        if (!cJSON_IsBool(v))
            return uniap_err(UNIAP_EINVAL, "%s: search.%s: expected true or false", source,
                             o->name);
        *(int *)o->dest = cJSON_IsTrue(v);
        return UNIAP_OK;
    }
    if (cJSON_IsNull(v) && (o->kind == UNIAP_OPTK_STRING || o->kind == UNIAP_OPTK_INPUT))
        return UNIAP_OK; /* not given when recorded */
    if (!cJSON_IsString(v))
        return uniap_err(UNIAP_EINVAL, "%s: search.%s: expected a string (the option's value)",
                         source, o->name);
    char cur[PATH_MAX + 64];
    uniap__opt_value(o, 1, cur, sizeof cur);
    if (o->kind != UNIAP_OPTK_INPUT && !strcmp(cur, v->valuestring))
        return UNIAP_OK; /* the default, recorded (it may be outside the option's range) */
    int rc = uniap__opt_store(o, v->valuestring);
    if (rc < 0)
        return uniap_err(rc, "%s: search.%s", source, o->name);
    o->given = 1;
    return UNIAP_OK;
}

static int in_list(const char *name, const char *const *keys)
{
    for (; *keys; keys++)
        if (!strcmp(name, *keys))
            return 1;
    return 0;
}

/* The replay of both entry points: keys NULL, every key of json (one that
 * is no recorded option refused) and then the required check; else only
 * the keys listed (the others skipped). */
static int replay(uniap_cmd *cmd, const char *json, const char *source, const char *const *keys,
                  void **keep)
{
    cJSON *obj = cJSON_Parse(json);
    int rc = UNIAP_OK;
    *keep = NULL;
    if (!cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        return uniap_err(UNIAP_EINVAL, "%s: search: expected a JSON object of options", source);
    }
    for (const cJSON *v = obj->child; v && rc == 0; v = v->next) {
        if (keys && !in_list(v->string, keys))
            continue;
        uniap_opt *o = uniap_opts_find(cmd, v->string);
        if (!o || !recorded(o))
            rc = uniap_err(UNIAP_EINVAL,
                           "%s: search.%s: not an option of `uniap %s` that a plan records "
                           "(a file of another version?)",
                           source, v->string, cmd->name);
        else if (!o->given)
            rc = replay_one(o, v, source);
    }
    for (uniap_opt *o = cmd->opts; rc == 0 && !keys && o->name; o++)
        if ((o->flags & UNIAP_OPT_REQUIRED) && !o->given)
            rc = uniap_err(UNIAP_EINVAL, "--%s is required (neither given nor in %s)", o->name,
                           source);
    if (rc < 0) {
        cJSON_Delete(obj);
        return rc;
    }
    *keep = obj; /* string values are kept by reference */
    return UNIAP_OK;
}

int uniap_opts_replay(uniap_cmd *cmd, const char *json, const char *source, void **keep)
{
    return replay(cmd, json, source, NULL, keep);
}

int uniap_opts_replay_keys(uniap_cmd *cmd, const char *json, const char *source,
                           const char *const *keys, void **keep)
{
    return replay(cmd, json, source, keys, keep);
}

int uniap_opts_record_value(const char *json, const char *name, char *buf, size_t n)
{
    cJSON *obj = json ? cJSON_Parse(json) : NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    int found = cJSON_IsString(v) && strlen(v->valuestring) < n;
    if (n)
        snprintf(buf, n, "%s", found ? v->valuestring : "");
    cJSON_Delete(obj);
    return found;
}

void uniap_opts_replay_free(void *keep)
{
    cJSON_Delete(keep);
}
