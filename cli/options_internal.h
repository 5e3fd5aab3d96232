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

#endif /* UNIAP_CLI_OPTIONS_INTERNAL_H */
