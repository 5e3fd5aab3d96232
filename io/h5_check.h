/*
 * h5_check.h - private to io: the HDF5 checking macro and the helpers that
 * turn HDF5's error stack into uniap_err() messages. HDF5's own stack
 * printing is switched off around every public profile function
 * (uniap_h5_quiet/uniap_h5_restore) so that a bad file yields one clear
 * uniap message instead of a page of library traces.
 */
#ifndef UNIAP_H5_CHECK_H
#define UNIAP_H5_CHECK_H

#include <hdf5.h>

#include "uniap_io.h"

/* Evaluates an HDF5 call (hid_t, herr_t or htri_t); on a negative result
 * records the printf-style message (which names the file and the object)
 * with code, HDF5's innermost error description and this source file and
 * line (through uniap_err_at: the location is shown only with --debug),
 * stores the status in the caller's `int rc` and jumps to label. */
#define H5_CHECK(call, code, label, ...)                                                           \
    do {                                                                                           \
        if ((call) < 0) {                                                                          \
            rc = uniap_h5_fail(__FILE__, __LINE__, (code), __VA_ARGS__);                           \
            goto label;                                                                            \
        }                                                                                          \
    } while (0)

/* The body of H5_CHECK: records the message and returns code. When the
 * HDF5 error stack reports a failed checksum, the message says "checksum
 * mismatch" and the code becomes UNIAP_EFORMAT. */
int uniap_h5_fail(const char *src, int line, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* 1 when the current HDF5 error stack reports a failed checksum (Fletcher32
 * on raw data, or a metadata checksum). */
int uniap_h5_stack_has_checksum(void);

/* The value checks of a profile just read (profile_check.c): impossible
 * root attributes and rows are UNIAP_EFORMAT naming path and the field. */
int uniap_h5_check_values(const char *path, const uniap_profile *p);

/* Switches HDF5's automatic error printing off, saving the old handler;
 * uniap_h5_restore clears the error stack and restores a handler the
 * program installed, but leaves HDF5's default printer off for good (uniap
 * turns HDF5 errors into its own messages; see profile_h5_schema.c). */
typedef struct uniap_h5_quiet_state {
    H5E_auto2_t func;
    void *data;
} uniap_h5_quiet_state;
void uniap_h5_quiet(uniap_h5_quiet_state *saved);
void uniap_h5_restore(const uniap_h5_quiet_state *saved);

#endif /* UNIAP_H5_CHECK_H */
