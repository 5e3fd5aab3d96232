/*
 * test_training.c - the model spec's training fields (io/training.c):
 * defaults (a default model's dump has none of them), a round trip of
 * every field, the per-layer copies and the signature tokens, the setter
 * the command-line overrides use, and the error messages naming the file
 * and the field.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "uniap_io.h"

#define LAYERS                                                                                     \
    "\"layers\": [{\"type\": \"embedding\", \"hidden\": 64, \"vocab\": 100},"                      \
    "{\"type\": \"decoder\", \"count\": 2, \"hidden\": 64, \"heads\": 4, \"ffn\": 256},"           \
    "{\"type\": \"head\", \"hidden\": 64, \"vocab\": 100}]"

static void test_defaults(void)
{
    uniap_model m;
    char *json = NULL, sig[96];

    CHECK(uniap_model_parse("{\"seq_len\": 16, " LAYERS "}", "d.json", &m) == 0);
    CHECK_EQ(m.training.attention, UNIAP_ATTN_EAGER);
    CHECK_EQ(m.training.no_dropout, 0);
    CHECK_EQ(uniap_training_ckpt_modes(&m.training), UNIAP_CKPT_DEFAULT);
    CHECK(uniap_model_to_json(&m, &json) == 0);
    CHECK(json && !strstr(json, "attention") && !strstr(json, "dropout") &&
          !strstr(json, "checkpointing") && !strstr(json, "optimizer"));
    uniap_layer_signature(&m.runs[1], sig, sizeof(sig));
    CHECK(!strstr(sig, "flash") && !strstr(sig, "nodrop"));
    free(json);
    uniap_model_free(&m);
}

static void test_roundtrip(void)
{
    uniap_model m, back;
    char *json = NULL, sig[96];
    const char *text = "{\"seq_len\": 16, \"attention\": \"flash\", \"dropout\": false, "
                       "\"checkpointing\": [\"none\", \"selective\"], \"grad_dtype\": \"fp32\", "
                       "\"master_dtype\": \"bf16\", \"optimizer\": \"sgd_momentum\", " LAYERS "}";

    CHECK(uniap_model_parse(text, "t.json", &m) == 0);
    CHECK_EQ(m.training.attention, UNIAP_ATTN_FLASH);
    CHECK_EQ(m.training.no_dropout, 1);
    CHECK_EQ(m.training.ckpt_modes,
             UNIAP_CKPT_BIT(UNIAP_CKPT_NONE) | UNIAP_CKPT_BIT(UNIAP_CKPT_SELECTIVE));
    CHECK_EQ(m.training.grad_dtype, 1 + UNIAP_DTYPE_FP32);
    CHECK_EQ(m.training.master_dtype, 1 + UNIAP_DTYPE_BF16);
    CHECK_EQ(m.training.optimizer, UNIAP_OPTIM_SGD_MOMENTUM);
    CHECK_EQ(m.runs[1].flash_attn, 1);
    CHECK_EQ(m.runs[0].no_dropout, 1);
    uniap_layer_signature(&m.runs[1], sig, sizeof(sig));
    CHECK(strstr(sig, ".flash.nodrop") != NULL);
    uniap_layer_signature(&m.runs[0], sig, sizeof(sig));
    CHECK(strstr(sig, ".nodrop") && !strstr(sig, "flash")); /* no attention */
    CHECK(uniap_model_to_json(&m, &json) == 0);
    CHECK(json && uniap_model_parse(json, "dump", &back) == 0);
    if (json) {
        CHECK(memcmp(&back.training, &m.training, sizeof(m.training)) == 0);
        for (int r = 0; r < m.n_runs; r++)
            CHECK(memcmp(&back.runs[r], &m.runs[r], sizeof(m.runs[r])) == 0);
        uniap_model_free(&back);
    }
    free(json);

    /* the setter of the command-line overrides: back to eager, copies follow */
    uniap_training t = m.training;
    t.attention = UNIAP_ATTN_EAGER;
    t.no_dropout = 0;
    CHECK(uniap_model_set_training(&m, &t, "--attention") == 0);
    CHECK_EQ(m.runs[1].flash_attn, 0);
    CHECK_EQ(m.runs[1].no_dropout, 0);
    unsigned mask = 0;
    CHECK(uniap_ckpt_modes_parse("full,selective", "--checkpointing", &mask) == 0);
    CHECK_EQ(mask, UNIAP_CKPT_BIT(UNIAP_CKPT_FULL) | UNIAP_CKPT_BIT(UNIAP_CKPT_SELECTIVE));
    CHECK(uniap_ckpt_modes_parse("full,partial", "--checkpointing", &mask) == UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "--checkpointing");
    CHECK_STR_CONTAINS(uniap_errmsg(), "partial");
    uniap_err_clear();
    uniap_model_free(&m);
}

static void expect_error(const char *fields, const char *needle)
{
    char text[1024];
    uniap_model m;

    snprintf(text, sizeof(text), "{\"seq_len\": 16, %s, " LAYERS "}", fields);
    uniap_err_clear();
    CHECK(uniap_model_parse(text, "bad.json", &m) == UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "bad.json");
    CHECK_STR_CONTAINS(uniap_errmsg(), needle);
    uniap_err_clear();
}

static void test_errors(void)
{
    expect_error("\"attention\": \"fast\"", "attention");
    expect_error("\"dropout\": 0.1", "dropout");
    expect_error("\"checkpointing\": \"full\"", "checkpointing");
    expect_error("\"checkpointing\": []", "checkpointing");
    expect_error("\"checkpointing\": [\"none\", \"partial\"]", "checkpointing[1]");
    expect_error("\"grad_dtype\": \"fp8\"", "grad_dtype");
    expect_error("\"optimizer\": \"lamb\"", "optimizer");
    expect_error("\"mixed_precision\": false, \"master_dtype\": \"fp32\"", "master_dtype");
    expect_error("\"attentions\": \"flash\"", "attentions");
}

int main(void)
{
    test_defaults();
    test_roundtrip();
    test_errors();
    return check_report();
}
