/*
 * progress.c - the search's progress on rank 0's standard error: on a
 * terminal one line rewritten in place after every round, elsewhere (a
 * log file, a Slurm job's output) one line each time another tenth of the
 * pairs is done. Each line says how many pairs are done of how many, how
 * many were solved and pruned, the best TPI so far and the gap proven
 * against the least lower bound of every pair (solved pairs: their MILP
 * bound; pairs not yet solved: their bound from the table alone).
 */
#include <float.h>
#include <stdio.h>
#include <unistd.h>

#include "solver_internal.h"

void solver_progress_init(solver_progress *p, int n_cand, int enabled)
{
    p->mode = !enabled ? 0 : isatty(fileno(stderr)) ? 2 : 1;
    p->n_cand = n_cand;
    p->tenth = 0;
    p->drawn = 0;
}

void solver_progress_show(solver_progress *p, const solver_progress_counts *k, int last)
{
    char best[64] = "no plan yet", gap[48] = "";
    int tenth = p->n_cand > 0 ? 10 * k->done / p->n_cand : 10;
    if (!p->mode)
        return;
    if (p->mode == 1 && tenth <= p->tenth && !(last && !p->drawn))
        return; /* not a terminal: a line per tenth of the pairs */
    p->tenth = tenth;
    if (k->best < DBL_MAX) {
        snprintf(best, sizeof best, "best TPI %.6g s", k->best);
        if (k->bound > 0 && k->bound < DBL_MAX)
            snprintf(gap, sizeof gap, ", gap %.3g %%",
                     k->bound >= k->best ? 0.0 : 100 * (k->best - k->bound) / k->best);
    }
    fprintf(stderr, "%suniap plan: %d of %d pairs done (%d solved, %d pruned), %s%s%s",
            p->mode == 2 ? "\r\033[K" : "", k->done, p->n_cand, k->solved, k->pruned, best, gap,
            p->mode == 2 && !last ? "" : "\n");
    fflush(stderr);
    p->drawn = 1;
}
