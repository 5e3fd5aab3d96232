/*
 * error.c - the error message every uniap function records before it
 * returns a negative status, and the mapping of statuses to exit codes.
 * One message per thread; the first error's message is kept and later
 * ones are appended as context.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "uniap_io.h"

#define ERRMSG_MAX 2048

static _Thread_local char errmsg[ERRMSG_MAX];

int uniap_err(int code, const char *fmt, ...)
{
    char buf[ERRMSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (errmsg[0] == '\0') {
        snprintf(errmsg, sizeof(errmsg), "%s", buf);
    } else {
        /* An outer layer adds context: "outer: inner", truncated to fit. */
        char joined[2 * ERRMSG_MAX + 2];
        size_t nb = strlen(buf), ni = strlen(errmsg);
        memcpy(joined, buf, nb);
        memcpy(joined + nb, ": ", 2);
        memcpy(joined + nb + 2, errmsg, ni + 1);
        joined[ERRMSG_MAX - 1] = '\0';
        memcpy(errmsg, joined, ERRMSG_MAX);
    }
    return code;
}

const char *uniap_errmsg(void)
{
    return errmsg;
}

void uniap_err_clear(void)
{
    errmsg[0] = '\0';
}

const char *uniap_strstatus(int code)
{
    switch (code) {
    case UNIAP_OK:
        return "ok";
    case UNIAP_EINVAL:
        return "invalid input";
    case UNIAP_EIO:
        return "i/o error";
    case UNIAP_EFORMAT:
        return "bad dataset";
    case UNIAP_ENOMEM:
        return "out of memory";
    case UNIAP_EINFEASIBLE:
        return "infeasible";
    case UNIAP_EMISSING:
        return "missing measurement";
    case UNIAP_ELIB:
        return "library error";
    case UNIAP_EINTR:
        return "interrupted";
    default:
        return "unknown error";
    }
}

int uniap_exit_code(int status)
{
    switch (status) {
    case UNIAP_OK:
        return 0;
    case UNIAP_EINVAL:
    case UNIAP_EFORMAT:
    case UNIAP_EMISSING:
        return 2;
    case UNIAP_EINFEASIBLE:
        return 3;
    default:
        return 1;
    }
}
