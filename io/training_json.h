/*
 * training_json.h - private to io/: the model spec's training fields
 * (training.c) as the parser and the serializer read and write them.
 */
#ifndef UNIAP_IO_TRAINING_JSON_H
#define UNIAP_IO_TRAINING_JSON_H

#include <cjson/cJSON.h>

#include "uniap_io.h"

/* The keys, for the root's key check. */
#define SPEC_TRAINING_KEYS                                                                         \
    "attention", "dropout", "checkpointing", "grad_dtype", "master_dtype", "optimizer", "fp8"
#define SPEC_TRAINING_N_KEYS 7

/* Reads the training fields of root (absent: the defaults) into m, whose
 * mixed_precision and layers are already parsed; EINVAL naming source and
 * the field. */
int spec_parse_training(const cJSON *root, const char *source, uniap_model *m);
/* Adds the fields that differ from the defaults to root; ENOMEM. */
int spec_training_to_json(const uniap_model *m, cJSON *root);

#endif
