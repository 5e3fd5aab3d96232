/*
 * error.c - the error message every uniap function records before it
 * returns a negative status, and the mapping of statuses to names and exit
 * codes (generated from UNIAP_STATUS_MAP). One message per thread; the
 * first error's message is kept and later ones are prepended as context
 * ("outer: inner"). Two copies are kept: the user's, and one where each
 * part recorded with uniap_err_at carries its source location, returned
 * only after uniap_err_set_debug(1) (the commands' --debug).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "uniap_io.h"

#define ERRMSG_MAX 2048

static _Thread_local char errmsg[ERRMSG_MAX];
static _Thread_local char errmsg_dbg[ERRMSG_MAX];
static int err_debug;

/* Prepends part to msg as "part: msg" (or sets it when msg is empty),
 * truncated to ERRMSG_MAX. */
static void chain(char *msg, const char *part)
{
    char joined[2 * ERRMSG_MAX + 2];
    size_t np = strlen(part), nm = strlen(msg);

    if (nm == 0) {
        snprintf(msg, ERRMSG_MAX, "%s", part);
        return;
    }
    memcpy(joined, part, np);
    memcpy(joined + np, ": ", 2);
    memcpy(joined + np + 2, msg, nm + 1);
    joined[ERRMSG_MAX - 1] = '\0';
    memcpy(msg, joined, ERRMSG_MAX);
}

static void record(const char *file, int line, const char *fmt, va_list ap)
{
    char buf[ERRMSG_MAX], dbg[ERRMSG_MAX + 300];

    vsnprintf(buf, sizeof(buf), fmt, ap);
    chain(errmsg, buf);
    if (file) {
        const char *base = strrchr(file, '/');
        snprintf(dbg, sizeof(dbg), "%s [%s:%d]", buf, base ? base + 1 : file, line);
        dbg[ERRMSG_MAX - 1] = '\0';
        chain(errmsg_dbg, dbg);
    } else {
        chain(errmsg_dbg, buf);
    }
}

int uniap_err(int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    record(NULL, 0, fmt, ap);
    va_end(ap);
    return code;
}

int uniap_err_at(const char *file, int line, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    record(file ? file : "?", line, fmt, ap);
    va_end(ap);
    return code;
}

void uniap_err_set_debug(int on)
{
    err_debug = on != 0;
}

const char *uniap_errmsg(void)
{
    return err_debug ? errmsg_dbg : errmsg;
}

void uniap_err_clear(void)
{
    errmsg[0] = '\0';
    errmsg_dbg[0] = '\0';
}

const char *uniap_strstatus(int code)
{
    switch (code) {
#define UNIAP__STATUS_NAME(name, value, str, exit)                                                 \
    case UNIAP_##name:                                                                             \
        return str;
        UNIAP_STATUS_MAP(UNIAP__STATUS_NAME)
#undef UNIAP__STATUS_NAME
    default:
        return "unknown error";
    }
}

int uniap_exit_code(int status)
{
    switch (status) {
#define UNIAP__STATUS_EXIT(name, value, str, exit)                                                 \
    case UNIAP_##name:                                                                             \
        return exit;
        UNIAP_STATUS_MAP(UNIAP__STATUS_EXIT)
#undef UNIAP__STATUS_EXIT
    default:
        return 1;
    }
}
