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
    {"cluster_negative_bw.json", 1, ": inter_node_bw:", "expected 10000..1e+14 B/s"},
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
    /* moe fields: required, in range, only on a moe layer */
    static const struct {
        const char *fields, *msg;
    } moe[] = {
        {"", "layers[0].experts: expected a positive integer (routed experts)"},
        {", \"experts\": 8", "layers[0].top_k: expected an integer 1..experts"},
        {", \"experts\": 8, \"top_k\": 9", "layers[0].top_k"},
        {", \"experts\": 8, \"top_k\": 2, \"capacity_factor\": 0.5",
         "layers[0].capacity_factor: expected 0 (dropless) or at least 1, got 0.5"},
        {", \"experts\": 8, \"top_k\": 2, \"shared_experts\": -1", "layers[0].shared_experts"},
    };
    for (size_t i = 0; i < sizeof(moe) / sizeof(moe[0]); i++) {
        char json[512];
        snprintf(json, sizeof(json),
                 "{\"seq_len\": 8, \"layers\": [{\"type\": \"moe\", \"hidden\": 8, "
                 "\"heads\": 2, \"ffn\": 8%s}]}",
                 moe[i].fields);
        uniap_err_clear();
        CHECK_EQ(uniap_model_parse(json, "inline.json", &m), UNIAP_EINVAL);
        CHECK_STR_CONTAINS(uniap_errmsg(), moe[i].msg);
    }
    uniap_err_clear();
    CHECK_EQ(uniap_model_parse("{\"seq_len\": 8, \"layers\": [{\"type\": \"decoder\", \"hidden\": "
                               "8, \"heads\": 2, \"ffn\": 8, \"experts\": 8}]}",
                               "inline.json", &m),
             UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "layers[0].experts: expected only fields a decoder layer");
    /* a name that is neither in the zoo nor a file */
    uniap_err_clear();
    CHECK_EQ(uniap_model_resolve("llama-8b", &m), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "llama-8b: expected a zoo model (bert-huge");
    uniap_err_clear();
    CHECK_EQ(uniap_cluster_resolve("a100-40g-2x8", &c), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "expected a cluster preset (a100-40g-1x8");
    uniap_err_clear();
}

/* Parses a one-node cluster with `extra` (a JSON member list) added. */
static int parse_cluster_with(const char *extra, uniap_cluster *c)
{
    char json[1024];
    snprintf(json, sizeof(json),
             "{\"nodes\": 1, \"devices_per_node\": 8, \"device_name\": \"A100\"%s%s}",
             strstr(extra, "device_memory") ? "" : ", \"device_memory\": 42949672960", extra);
    uniap_err_clear();
    return uniap_cluster_parse(json, "c.json", c);
}

/* issue 10 item 4: figures no device has are refused naming the file, the
 * field, the value and the range with its unit (and the likely unit slip);
 * unusual ones are accepted with a warning naming the field. */
static void check_cluster_ranges(void)
{
    static const struct {
        const char *extra, *field, *text;
    } refused[] = {
        {", \"peak_flops\": 1e-300", "c.json: peak_flops:", "FLOP/s"},
        {", \"peak_flops\": 312", "c.json: peak_flops:", "312 looks like TFLOP/s: write 312e12"},
        {", \"peak_flops_fp32\": 19500", "peak_flops_fp32:", "looks like GFLOP/s"},
        {", \"peak_flops\": 1e18", "c.json: peak_flops:", "1e+09..1e+17 FLOP/s"},
        {", \"mem_bandwidth\": 1e-30", "c.json: mem_bandwidth:", "10000..1e+14 B/s"},
        {", \"intra_node_bw\": 300", "c.json: intra_node_bw:", "300 looks like GB/s: write 300e9"},
        {", \"inter_node_bw\": 200", "inter_node_bw:", "if it is Gbit/s, 25e9"},
        {", \"inter_node_bw\": -25e9", "inter_node_bw:", "got -2.5e+10"},
        {", \"intra_node_busbw\": 220", "c.json: intra_node_busbw:", "220 looks like GB/s"},
        {", \"inter_node_busbw\": \"20e9\"", "inter_node_busbw:", "expected a number"},
        {", \"intra_node_latency\": -1e-6", "c.json: intra_node_latency:", "0..1 s"},
        {", \"inter_node_latency\": 10", "inter_node_latency:", "10 looks like microseconds"},
        {", \"inter_node_latency\": 1e999", "inter_node_latency:", "expected a finite number"},
        {", \"peak_flops\": \"312e12\"", "c.json: peak_flops:", "expected a number, got string"},
        {", \"device_memory\": 40", "c.json: device_memory:", "\"device_memory_gib\": 40"},
        {", \"device_memory\": 40960", "device_memory:", "40960 looks like MiB"},
        {", \"device_memory\": 1125899906842624", "device_memory:", "64 MiB to 16 TiB"},
        {", \"device_memory_gib\": 40960", "device_memory_gib:", "40960 looks like MiB: write 40"},
        {", \"device_memory_gib\": 0.01", "device_memory_gib:", "got 0.01"},
    };
    uniap_cluster c;

    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        memset(&c, 0x5a, sizeof(c));
        CHECK_EQ(parse_cluster_with(refused[i].extra, &c), UNIAP_EINVAL);
        CHECK_STR_CONTAINS(uniap_errmsg(), refused[i].field);
        CHECK_STR_CONTAINS(uniap_errmsg(), refused[i].text);
        CHECK(c.nodes == 0);
        fprintf(stderr, "  %-40s -> %s\n", refused[i].extra + 2, uniap_errmsg());
    }
    /* Accepted with a warning that names the field and the likely unit. */
    CHECK_EQ(parse_cluster_with(", \"inter_node_latency\": 0.05", &c), 0);
    CHECK_STR_CONTAINS(uniap_cluster_warnings(), "c.json: inter_node_latency:");
    CHECK_STR_CONTAINS(uniap_cluster_warnings(), "looks like milliseconds");
    CHECK_EQ(parse_cluster_with(", \"peak_flops\": 5e9, \"intra_node_bw\": 5e7", &c), 0);
    CHECK_STR_CONTAINS(uniap_cluster_warnings(), "peak_flops:");
    CHECK_STR_CONTAINS(uniap_cluster_warnings(), "\nc.json: intra_node_bw:");
    /* Plausible figures, unknown (0) and -0: no warning; a new parse
     * clears the last one's warnings. */
    CHECK_EQ(parse_cluster_with(", \"peak_flops\": 312e12, \"inter_node_bw\": -0.0,"
                                " \"intra_node_latency\": 0, \"inter_node_latency\": 1e-5",
                                &c),
             0);
    CHECK(uniap_cluster_warnings()[0] == '\0');
    /* Every preset is plausible and warns about nothing. */
    const char *const *pre = uniap_cluster_presets();
    for (int i = 0; pre[i]; i++) {
        CHECK_EQ(uniap_cluster_preset(pre[i], &c), 0);
        CHECK(uniap_cluster_warnings()[0] == '\0');
    }
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
    check_cluster_ranges();
    return check_report();
}
