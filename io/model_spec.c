/* model_spec.c: placeholder until its owner lands it (TODO remove). */
typedef int uniap_placeholder_;
