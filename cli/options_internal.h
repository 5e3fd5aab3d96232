/*
 * options_internal.h - helpers shared by options.c (parsing) and
 * options_help.c (--help and man page): not part of the parser's interface.
 */
#ifndef UNIAP_CLI_OPTIONS_INTERNAL_H
#define UNIAP_CLI_OPTIONS_INTERNAL_H

#include <stddef.h>

#include "options.h"

/* The entry's metavar, or the kind's placeholder ("N", "FILE", ...). */
const char *uniap__opt_metavar(const uniap_opt *o);
/* The default shown in help into buf ("" when none): .def, else rendered
 * from *dest. */
void uniap__opt_default(const uniap_opt *o, char *buf, size_t n);
/* The value *dest holds, as text that parses back to it (exact: doubles
 * with 17 digits and sizes in bytes; else as help shows them); "" for a
 * flag, an unset string or a positional list. */
void uniap__opt_value(const uniap_opt *o, int exact, char *buf, size_t n);
/* Stores text v into o's destination as the parser does for `--name v`
 * (o takes a value); EINVAL naming the option otherwise. v is kept by
 * reference for string kinds. */
int uniap__opt_store(const uniap_opt *o, const char *v);

#endif /* UNIAP_CLI_OPTIONS_INTERNAL_H */
