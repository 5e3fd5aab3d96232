/*
 * glpk_guard.c - GLPK kept from ending the process, and the search's
 * interrupt request.
 *
 * GLPK reports an invalid argument, a failed internal assertion or an
 * exhausted heap by printing a message and calling abort(). Inside a guard
 * (solver_glpk_push ... solver_glpk_pop) its error hook instead frees the
 * whole GLPK environment (glp_free_env: every problem object is gone, as
 * GLPK's manual asks before leaving the hook with longjmp) and jumps back
 * to the innermost guard, which records UNIAP_ELIB "GLPK failed: <GLPK's
 * message>" (UNIAP_ENOMEM when GLPK ran out of memory). The terminal hook,
 * also set inside guards, keeps the tail of GLPK's output for that message
 * and forwards the output to the solver's log file when one is open.
 *
 * The interrupt flag is a volatile sig_atomic_t set by
 * uniap_search_interrupt() (async-signal-safe). A simplex run marked
 * interruptible is stopped from the terminal hook, which GLPK calls about
 * every SOLVER_GLPK_TICK_MS while it iterates: the same route as an error,
 * ending in UNIAP_EINTR.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "solver_internal.h"

static volatile sig_atomic_t interrupt_flag;

void uniap_search_interrupt(void)
{
    interrupt_flag = 1;
}

int solver_interrupted(void)
{
    return interrupt_flag != 0;
}

void solver_interrupt_clear(void)
{
    interrupt_flag = 0;
}

static solver_glpk_try *top;         /* innermost guard, NULL: none */
static unsigned long generation = 1; /* bumped by each glp_free_env */
static FILE *log_file;
static int interruptible;
static char tail[1024]; /* the last output of GLPK, NUL-terminated */

unsigned long solver_glpk_generation(void)
{
    return generation;
}

void solver_glpk_set_log(FILE *f)
{
    log_file = f;
}

void solver_glpk_interruptible(int on)
{
    interruptible = on;
}

static void leave(int how)
{
    solver_glpk_try *tr = top;
    tr->how = how;
    interruptible = 0;
    glp_free_env();
    generation++;
    longjmp(tr->jb, how);
}

static void on_error(void *info)
{
    (void)info;
    leave(1);
}

static int on_term(void *info, const char *s)
{
    (void)info;
    size_t n = strlen(tail), add = strlen(s);
    if (add >= sizeof tail) {
        s += add - (sizeof tail - 1);
        add = sizeof tail - 1;
    }
    if (n + add >= sizeof tail) { /* keep the newest part */
        size_t drop = n + add - (sizeof tail - 1);
        memmove(tail, tail + drop, n - drop + 1);
        n -= drop;
    }
    memcpy(tail + n, s, add + 1);
    if (log_file)
        fputs(s, log_file);
    if (interruptible && interrupt_flag && top)
        leave(2);
    return 1; /* never to the terminal */
}

/* The hooks of the current state: ours inside a guard, GLPK's outside. A
 * glp_free_env resets them, so they are set again at every change. */
static void install(void)
{
    glp_error_hook(top ? on_error : NULL, NULL);
    glp_term_hook(top ? on_term : NULL, NULL);
}

void solver_glpk_push(solver_glpk_try *tr)
{
    tr->prev = top;
    tr->how = 0;
    if (!top)
        tail[0] = '\0';
    top = tr;
    install();
}

void solver_glpk_pop(solver_glpk_try *tr)
{
    top = tr->prev;
    interruptible = 0;
    install();
}

int solver_glpk_caught(solver_glpk_try *tr, const char *what)
{
    char msg[sizeof tail], file[256] = "";
    int line = 0;

    solver_glpk_pop(tr);
    if (tr->how == 2) /* no message: the callers turn it into a result */
        return UNIAP_EINTR;
    /* GLPK prints "<message>\nError detected in file F at line N\n" */
    snprintf(msg, sizeof msg, "%s", tail);
    char *at = strstr(msg, "Error detected in file ");
    if (at) {
        sscanf(at, "Error detected in file %255s at line %d", file, &line);
        *at = '\0';
    }
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    char *start = strrchr(msg, '\n'); /* the message's own lines are last */
    const char *text = start && start[1] ? start + 1 : msg;
    int code = strstr(text, "no memory") ? UNIAP_ENOMEM : UNIAP_ELIB;
    return uniap_err_at(file[0] ? file : NULL, line, code, "GLPK failed in %s: %s", what,
                        text[0] ? text : "(no message)");
}
