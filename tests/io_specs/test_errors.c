/*
 * test_errors.c - every class of bad spec is refused with UNIAP_EINVAL and
 * a message naming the file, the JSON path and what was expected; the
 * output struct is left zeroed. Usage: test_errors <tests/data/specs>.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "uniap_io.h"

struct bad_case {
    const char *file;     /* under bad/ */
    int cluster;          /* 1: cluster spec, 0: model spec */
    const char *path;     /* JSON path (or position) the message must name */
    const char *expected; /* part of the "expected ..., got ..." text */
};

static const struct bad_case cases[] = {
    /* bad JSON: line and column of the syntax error */
    {"bad_json.json", 0, "line 5, column", "expected valid JSON"},
    {"not_object.json", 0, "(root)", "expected a JSON object, got an array"},
    /* missing fields */
    {"missing_hidden.json", 0, "layers[1].hidden", "got nothing (field missing)"},
    {"missing_seq_len.json", 0, ": seq_len:", "got nothing (field missing)"},
    /* mistyped fields */
    {"mistyped_heads.json", 0, "layers[1].heads",
     "expected an integer in 1..65536, got string \"4\""},
    {"fractional_hidden.json", 0, "layers[0].hidden", "got number 64.5"},
    {"bad_activation.json", 0, "layers[1].activation",
     "expected one of gelu|swiglu|relu, got string \"silu\""},
    {"bad_type.json", 0, "layers[1].type", "got string \"transformer\""},
    /* unknown and misplaced keys */
    {"unknown_key.json", 0, "layers[1].hiden", "got unknown key"},
    {"unknown_top_key.json", 0, ": seqlen:", "got unknown key"},
    {"wrong_kind_field.json", 0, "layers[1].vocab", "expected only fields a decoder layer uses"},
    {"duplicate_key.json", 0, "layers[1].heads", "expected each key once"},
    /* impossible values */
    {"heads_not_dividing.json", 0, "layers[1].heads", "expected a divisor of hidden (1000)"},
    {"kv_not_dividing.json", 0, "layers[1].kv_heads", "expected a divisor of heads (32), got 5"},
    {"count_zero.json", 0, "layers[1].count", "got number 0"},
    {"vocab_zero.json", 0, "layers[2].vocab", "got number 0"},
    {"swin_window.json", 0, "layers[1].window", "divisor of the token grid side 56"},
    {"width_mismatch.json", 0, "layers[1].hidden", "expected 4096 (the width layers[0] outputs)"},
    {"empty_layers.json", 0, ": layers:", "expected a non-empty array of layers, got an empty"},
    /* cluster specs */
    {"cluster_zero_devices.json", 1, ": devices_per_node:", "got number 0"},
    {"cluster_negative_memory.json", 1, ": device_memory:", "got number -1"},
    {"cluster_missing_nodes.json", 1, ": nodes:", "got nothing (field missing)"},
    {"cluster_mistyped_nodes.json", 1, ": nodes:", "got string \"two\""},
    {"cluster_unknown_key.json", 1, ": intra_node_bandwidth:", "got unknown key"},
    {"cluster_negative_bw.json", 1, ": inter_node_bw:", "expected a number in 0.."},
    {"cluster_bad_json.json", 1, "line 1, column 48", "expected valid JSON"},
};

static void check_case(const char *dir, const struct bad_case *c)
{
    char path[1024];
    int rc;

    snprintf(path, sizeof(path), "%s/bad/%s", dir, c->file);
    uniap_err_clear();
    if (c->cluster) {
        uniap_cluster cl;
        memset(&cl, 0x5a, sizeof(cl));
        rc = uniap_cluster_resolve(path, &cl);
        CHECK(cl.nodes == 0 && cl.device_memory == 0);
    } else {
        uniap_model m;
        memset(&m, 0x5a, sizeof(m));
        rc = uniap_model_resolve(path, &m);
        CHECK(m.runs == NULL && m.n_runs == 0);
    }
    CHECK_EQ(rc, UNIAP_EINVAL);
    CHECK_EQ(uniap_exit_code(rc), 2);
    CHECK_STR_CONTAINS(uniap_errmsg(), path); /* the file */
    CHECK_STR_CONTAINS(uniap_errmsg(), c->path);
    CHECK_STR_CONTAINS(uniap_errmsg(), c->expected);
    fprintf(stderr, "  %-30s -> %s\n", c->file, uniap_errmsg());
}

/* Errors from text (no file) name the source string given. */
static void check_inline(void)
{
    uniap_model m;
    uniap_cluster c;

    uniap_err_clear();
    CHECK_EQ(uniap_model_parse("", "inline.json", &m), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "inline.json: line 1, column 1: expected valid JSON");
    uniap_err_clear();
    CHECK_EQ(uniap_model_parse("{\"seq_len\": 8, \"layers\": [{\"type\": \"decoder\", \"hidden\": "
                               "8, \"heads\": 2, \"ffn\": 8}]} trailing",
                               "inline.json", &m),
             UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "expected one JSON value, got trailing");
    uniap_err_clear();
    CHECK_EQ(uniap_model_parse("{\"seq_len\": 8, \"layers\": [{\"type\": \"decoder\", \"hidden\": "
                               "8, \"heads\": 2, \"ffn\": 8, \"max_positions\": 8}]}",
                               "inline.json", &m),
             UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "layers[0].max_positions");
    uniap_err_clear();
    CHECK_EQ(uniap_model_parse("{\"seq_len\": 8, \"layers\": [{\"type\": \"embedding\", "
                               "\"hidden\": 8, \"vocab\": 9, \"max_positions\": 8}]}",
                               "inline.json", &m),
             UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "expected only with position \"learned\"");
    uniap_err_clear();
    CHECK_EQ(uniap_model_parse("{\"seq_len\": 8, \"layers\": [{\"type\": \"patch_embed\", "
                               "\"hidden\": 8, \"image\": 30, \"patch\": 4}]}",
                               "inline.json", &m),
             UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "layers[0].patch: expected a divisor of image (30)");
    uniap_err_clear();
    CHECK_EQ(uniap_cluster_parse("{\"nodes\": 1, \"devices_per_node\": 1, \"device_name\": \"x\","
                                 " \"device_memory\": 1, \"device_memory_gib\": 1}",
                                 "inline.json", &c),
             UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "got both");
    /* a layer too wide for a profile's 96-character layer_type */
    uniap_err_clear();
    CHECK_EQ(uniap_model_parse("{\"seq_len\": 16777216, \"layers\": [{\"type\": "
                               "\"cross_decoder\", \"hidden\": 1048576, \"heads\": 65536, "
                               "\"kv_heads\": 32768, \"head_dim\": 255, \"ffn\": 4194304, "
                               "\"kv_seq\": 16777215, \"bias\": true, \"norm\": "
                               "\"layernorm\", \"position\": \"relative\"}]}",
                               "inline.json", &m),
             UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "inline.json: layers[0]: expected a layer whose signature");
    /* a name that is neither in the zoo nor a file */
    uniap_err_clear();
    CHECK_EQ(uniap_model_resolve("llama-8b", &m), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "llama-8b: expected a zoo model (bert-huge");
    uniap_err_clear();
    CHECK_EQ(uniap_cluster_resolve("a100-40g-2x8", &c), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "expected a cluster preset (a100-40g-1x8");
    uniap_err_clear();
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <tests/data/specs>\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(argv[1], &cases[i]);
    check_inline();
    return check_report();
}
