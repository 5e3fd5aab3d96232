/*
 * test_options.c - the table-driven option parser (cli/options.h):
 * both value forms, overflow and range checks, NaN and infinity, repeated
 * and unknown options, missing values, sizes, choices, lists, positional
 * arguments, the --help / man text generated from the table with its
 * defaults (description paragraphs wrapped at 79 columns), and the one
 * error style with control characters escaped.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "cmd_util.h"
#include "options.h"
#include "uniap_io.h"

typedef struct args {
    const char *model, *out, *archive;
    int64_t batch, bytes;
    int tp, sp, sched, n_mb, mb[8];
    double overlap, limit;
} args;

static const char *const scheds[] = {"1f1b", "gpipe", NULL};

/* Fills cmd with a table over a (defaults set here). */
static void make_cmd(args *a, uniap_opt *opts, uniap_cmd *cmd)
{
    memset(a, 0, sizeof(*a));
    a->batch = 0;
    a->bytes = 256 * 1024 * 1024;
    a->tp = 8;
    a->overlap = 0.5;
    a->limit = 5;
    a->mb[0] = 1, a->mb[1] = 2, a->n_mb = 2;
    uniap_opt t[] = {
        {.name = "archive",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &a->archive,
         .flags = UNIAP_OPT_POSITIONAL,
         .help = "the archive"},
        {.name = "model",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &a->model,
         .metavar = "M",
         .help = "zoo name or spec file",
         .flags = UNIAP_OPT_REQUIRED | UNIAP_OPT_MAYBE_FILE},
        {.name = "out", .kind = UNIAP_OPTK_OUTPUT, .dest = &a->out, .flags = UNIAP_OPT_STDOUT},
        {.name = "global-batch",
         .kind = UNIAP_OPTK_INT64,
         .dest = &a->batch,
         .min = 1,
         .max = (int64_t)1 << 40,
         .help = "samples per iteration"},
        {.name = "max-tp",
         .kind = UNIAP_OPTK_INT,
         .dest = &a->tp,
         .min = 1,
         .max = 1 << 20,
         .help = "largest tensor-parallel degree"},
        {.name = "max-bytes",
         .kind = UNIAP_OPTK_SIZE,
         .dest = &a->bytes,
         .min = 4,
         .max = (int64_t)4 << 30,
         .help = "largest message"},
        {.name = "overlap",
         .kind = UNIAP_OPTK_DOUBLE,
         .dest = &a->overlap,
         .dmin = 0,
         .dmax = 1,
         .help = "overlap fraction"},
        {.name = "time-limit",
         .kind = UNIAP_OPTK_DOUBLE,
         .dest = &a->limit,
         .dmin = 0,
         .dmax = 1e9,
         .flags = UNIAP_OPT_GT_MIN,
         .help = "seconds"},
        {.name = "sp", .kind = UNIAP_OPTK_FLAG, .dest = &a->sp, .help = "sequence parallelism"},
        {.name = "schedule",
         .kind = UNIAP_OPTK_CHOICE,
         .dest = &a->sched,
         .choices = scheds,
         .help = "pipeline schedule"},
        {.name = "micro-batches",
         .kind = UNIAP_OPTK_INT_LIST,
         .dest = a->mb,
         .count = &a->n_mb,
         .max_count = 8,
         .min = 1,
         .max = 1 << 20,
         .help = "micro-batch sizes"},
        {0}};
    memcpy(opts, t, sizeof(t));
    memset(cmd, 0, sizeof(*cmd));
    cmd->name = "test";
    cmd->summary = "a test command";
    cmd->opts = opts;
}

/* Parses the NULL-terminated words; returns the parse status. */
static int parse(args *a, const char *const *words)
{
    static uniap_opt opts[16];
    uniap_cmd cmd;
    char *argv[32];
    int argc = 0;
    make_cmd(a, opts, &cmd);
    argv[argc++] = "test";
    for (int i = 0; words[i]; i++)
        argv[argc++] = (char *)words[i];
    uniap_err_clear();
    return uniap_opts_parse(&cmd, argc, argv);
}

#define PARSE(a, ...) parse(a, (const char *const[]){__VA_ARGS__, NULL})

/* The last error mentions every one of the given fragments. */
static int msg_has(const char *s)
{
    int ok = strstr(uniap_errmsg(), s) != NULL;
    if (!ok)
        fprintf(stderr, "  message '%s' lacks '%s'\n", uniap_errmsg(), s);
    return ok;
}

static void test_forms(void)
{
    args a;
    CHECK_EQ(PARSE(&a, "--model", "gpt", "--global-batch", "16", "arch.h5"), 0);
    CHECK(a.model && strcmp(a.model, "gpt") == 0);
    CHECK(a.archive && strcmp(a.archive, "arch.h5") == 0);
    CHECK_EQ(a.batch, 16);
    CHECK_EQ(a.tp, 8); /* default kept */
    CHECK_EQ(PARSE(&a, "--model=gpt", "--global-batch=32", "--overlap=0.25", "--sp",
                   "--schedule=gpipe", "--micro-batches=1,4,8", "--max-bytes", "64K"),
             0);
    CHECK_EQ(a.batch, 32);
    CHECK_NEAR(a.overlap, 0.25, 0, 0);
    CHECK_EQ(a.sp, 1);
    CHECK_EQ(a.sched, 1);
    CHECK_EQ(a.n_mb, 3);
    CHECK_EQ(a.mb[2], 8);
    CHECK_EQ(a.bytes, 64 * 1024);
    CHECK_EQ(PARSE(&a, "--model", "gpt", "--out", "-"), 0);
    CHECK(a.out && strcmp(a.out, "-") == 0);
    CHECK_EQ(PARSE(&a, "--model", "gpt", "--", "--weird-name"), 0);
    CHECK(a.archive && strcmp(a.archive, "--weird-name") == 0);
}

static void test_numbers(void)
{
    args a;
    CHECK_EQ(PARSE(&a, "--model", "m", "--global-batch", "99999999999999999999"), UNIAP_EINVAL);
    CHECK(msg_has("--global-batch 99999999999999999999") && msg_has("1099511627776"));
    CHECK_EQ(PARSE(&a, "--model", "m", "--global-batch", "9223372036854775807"), UNIAP_EINVAL);
    CHECK(msg_has("--global-batch"));
    CHECK_EQ(PARSE(&a, "--model", "m", "--global-batch", "0"), UNIAP_EINVAL);
    CHECK(msg_has("--global-batch 0: expected an integer from 1 to"));
    CHECK_EQ(PARSE(&a, "--model", "m", "--global-batch", "16x"), UNIAP_EINVAL);
    CHECK(msg_has("--global-batch 16x"));
    CHECK_EQ(PARSE(&a, "--model", "m", "--global-batch", " 16"), UNIAP_EINVAL);
    CHECK_EQ(PARSE(&a, "--model", "m", "--max-tp", "4294967297"), UNIAP_EINVAL);
    CHECK(msg_has("--max-tp"));
    CHECK_EQ(PARSE(&a, "--model", "m", "--overlap", "nan"), UNIAP_EINVAL);
    CHECK(msg_has("--overlap nan"));
    CHECK_EQ(PARSE(&a, "--model", "m", "--overlap", "inf"), UNIAP_EINVAL);
    CHECK_EQ(PARSE(&a, "--model", "m", "--overlap", "1.5"), UNIAP_EINVAL);
    CHECK(msg_has("--overlap 1.5"));
    CHECK_EQ(PARSE(&a, "--model", "m", "--overlap", "1e999"), UNIAP_EINVAL);
    CHECK_EQ(PARSE(&a, "--model", "m", "--time-limit", "0"), UNIAP_EINVAL);
    CHECK(msg_has("> 0"));
    CHECK_EQ(PARSE(&a, "--model", "m", "--max-bytes", "8G"), UNIAP_EINVAL);
    CHECK(msg_has("--max-bytes 8G"));
    CHECK_EQ(PARSE(&a, "--model", "m", "--max-bytes", "1.5K"), 0);
    CHECK_EQ(a.bytes, 1536);
    CHECK_EQ(PARSE(&a, "--model", "m", "--max-bytes", "nanK"), UNIAP_EINVAL);
    CHECK_EQ(PARSE(&a, "--model", "m", "--max-bytes", "1Q"), UNIAP_EINVAL);
    CHECK_EQ(PARSE(&a, "--model", "m", "--micro-batches", "1,0"), UNIAP_EINVAL);
    CHECK(msg_has("--micro-batches 1,0") && msg_has("'0'"));
    CHECK_EQ(PARSE(&a, "--model", "m", "--micro-batches", "1,,2"), UNIAP_EINVAL);
    CHECK_EQ(PARSE(&a, "--model", "m", "--micro-batches", "1,2,3,4,5,6,7,8,9"), UNIAP_EINVAL);
    CHECK(msg_has("more than 8"));
    CHECK_EQ(PARSE(&a, "--model", "m", "--schedule", "zb"), UNIAP_EINVAL);
    CHECK(msg_has("--schedule zb: expected one of 1f1b, gpipe"));
}

static void test_refusals(void)
{
    args a;
    CHECK_EQ(PARSE(&a, "--model", "m", "--global-batch", "8", "--global-batch", "16"),
             UNIAP_EINVAL);
    CHECK(msg_has("--global-batch given twice"));
    CHECK_EQ(PARSE(&a, "--model", "m", "--sp", "--sp"), UNIAP_EINVAL);
    CHECK_EQ(PARSE(&a, "--model", "m", "--nosuch", "1"), UNIAP_EINVAL);
    CHECK(msg_has("unknown option '--nosuch'"));
    CHECK_EQ(PARSE(&a, "--model", "m", "-x"), UNIAP_EINVAL);
    CHECK_EQ(PARSE(&a, "--model"), UNIAP_EINVAL);
    CHECK(msg_has("--model: missing value"));
    CHECK_EQ(PARSE(&a, "--model", "m", "--out", "--global-batch", "8"), UNIAP_EINVAL);
    CHECK(msg_has("--out: missing value") && msg_has("--global-batch"));
    CHECK_EQ(PARSE(&a, "--global-batch", "8"), UNIAP_EINVAL);
    CHECK(msg_has("--model is required"));
    CHECK_EQ(PARSE(&a, "--model", "m", "--sp=1"), UNIAP_EINVAL);
    CHECK(msg_has("--sp takes no value"));
    CHECK_EQ(PARSE(&a, "--model", "m", "a1", "a2"), UNIAP_EINVAL);
    CHECK(msg_has("unexpected argument 'a2'"));
    CHECK_EQ(PARSE(&a, "--model", "m", "--global-batch", "0", "--help"), UNIAP_OPTS_HELP);
    CHECK_EQ(PARSE(&a, "--man"), UNIAP_OPTS_MAN);
}

/* Captures what fn writes for cmd into a malloc'd string. */
static char *capture(void (*fn)(const uniap_cmd *, FILE *), const uniap_cmd *cmd)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    if (!f)
        return NULL;
    fn(cmd, f);
    fclose(f);
    return s;
}

static void test_help(void)
{
    args a;
    uniap_opt opts[16];
    uniap_cmd cmd;
    make_cmd(&a, opts, &cmd);
    char *h = capture(uniap_opts_help, &cmd);
    CHECK(h != NULL);
    if (h) {
        CHECK(strstr(h, "usage: uniap test [archive] --model M [options]") != NULL);
        CHECK(strstr(h, "--max-tp N") != NULL);
        CHECK(strstr(h, "(default: 8)") != NULL);    /* from *dest */
        CHECK(strstr(h, "(default: 256M)") != NULL); /* a size rendered */
        CHECK(strstr(h, "(default: 0.5)") != NULL);  /* a double */
        CHECK(strstr(h, "1f1b, gpipe (default: 1f1b)") != NULL);
        CHECK(strstr(h, "(default: 1,2)") != NULL); /* a list */
        CHECK(strstr(h, "(required)") != NULL);
        CHECK(strstr(h, "--debug") != NULL);
        CHECK(strstr(h, "--global-batch N") != NULL);
        free(h);
    }
    char *m = capture(uniap_opts_man, &cmd);
    CHECK(m != NULL);
    if (m) {
        CHECK(strncmp(m, ".TH UNIAP-TEST 1", 16) == 0);
        CHECK(strstr(m, "\\fB\\-\\-max\\-tp\\fR \\fIN\\fR") != NULL);
        CHECK(strstr(m, "(default: 8)") != NULL);
        CHECK(strstr(m, ".SH EXIT STATUS") != NULL);
        free(m);
    }
}

/* Description paragraphs are wrapped at 79 columns, their own line breaks
 * joined, the blank line between paragraphs kept. */
static void test_help_wrap(void)
{
    args a;
    uniap_opt opts[16];
    uniap_cmd cmd;
    make_cmd(&a, opts, &cmd);
    cmd.description = "First paragraph, long enough to need wrapping: alpha beta gamma delta "
                      "epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho\nsigma "
                      "tau upsilon phi chi psi omega.\n\nSecond paragraph ends here.";
    char *h = capture(uniap_opts_help, &cmd);
    CHECK(h != NULL);
    if (!h)
        return;
    int longest = 0, len = 0;
    for (const char *c = h; *c; c++) {
        len = *c == '\n' ? 0 : len + 1;
        if (len > longest)
            longest = len;
    }
    CHECK(longest <= 79);
    CHECK(strstr(h, "rho sigma") != NULL || strstr(h, "rho\nsigma") != NULL);
    CHECK(strstr(h, "omega.\n\nSecond paragraph ends here.\n") != NULL);
    free(h);
}

/* Errors print as "uniap <cmd>: error: <message>", control characters of
 * the message escaped (line breaks kept), with the pointer to --help. */
static void test_print_error(void)
{
    uniap_cmd cmd = {.name = "test"};
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    CHECK(f != NULL);
    if (!f)
        return;
    uniap_err_clear();
    uniap_err(UNIAP_EINVAL, "bad name 'a\x1b[31mb'");
    uniap_opts_print_error(&cmd, UNIAP_EINVAL, f);
    uniap__print_error(f, "plan", UNIAP_EINTR);
    fclose(f);
    CHECK(strstr(s, "uniap test: error: bad name 'a\\x1b[31mb'\n") != NULL);
    CHECK(strchr(s, 0x1b) == NULL);
    CHECK(strstr(s, "(uniap test --help lists the options)") != NULL);
    CHECK(strstr(s, "uniap plan: stopped: bad name") != NULL);
    free(s);
    uniap_err_clear();
}

/* uniap_opts_check_files: an output onto an input (through a hard link),
 * onto a folder, two outputs onto one file, two on standard output. */
static void test_files(void)
{
    char dir[] = "/tmp/uniap_opts_testXXXXXX", in[64], hard[64], sub[64];
    const char *input = NULL, *o1 = NULL, *o2 = NULL;
    CHECK(mkdtemp(dir) != NULL);
    snprintf(in, sizeof in, "%s/in.h5", dir);
    snprintf(hard, sizeof hard, "%s/hard.h5", dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    FILE *f = fopen(in, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    CHECK_EQ(link(in, hard), 0);
    CHECK_EQ(mkdir(sub, 0777), 0);
    uniap_opt opts[] = {
        {.name = "profile", .kind = UNIAP_OPTK_INPUT, .dest = &input},
        {.name = "out", .kind = UNIAP_OPTK_OUTPUT, .dest = &o1, .flags = UNIAP_OPT_STDOUT},
        {.name = "megatron-args",
         .kind = UNIAP_OPTK_OUTPUT,
         .dest = &o2,
         .flags = UNIAP_OPT_STDOUT},
        {0}};
    uniap_cmd cmd = {.name = "test", .opts = opts};
    char *argv[8] = {"test", "--profile", in, "--out", hard, NULL};
    uniap_err_clear();
    CHECK_EQ(uniap_opts_parse(&cmd, 5, argv), 0);
    CHECK_EQ(uniap_opts_check_files(&cmd, NULL, NULL, 0), UNIAP_EINVAL);
    CHECK(msg_has("--out") && msg_has("--profile") && msg_has("same file"));
    argv[4] = sub;
    uniap_err_clear();
    CHECK_EQ(uniap_opts_parse(&cmd, 5, argv), 0);
    CHECK_EQ(uniap_opts_check_files(&cmd, NULL, NULL, 0), UNIAP_EINVAL);
    char *argv2[8] = {"test", "--out", "-", "--megatron-args", "-"};
    uniap_err_clear();
    CHECK_EQ(uniap_opts_parse(&cmd, 5, argv2), 0);
    CHECK_EQ(uniap_opts_check_files(&cmd, NULL, NULL, 0), UNIAP_EINVAL);
    CHECK(msg_has("only one output"));
    char out[64];
    snprintf(out, sizeof out, "%s/new.json", dir);
    char *argv3[8] = {"test", "--out", out, "--megatron-args", out};
    uniap_err_clear();
    CHECK_EQ(uniap_opts_parse(&cmd, 5, argv3), 0);
    CHECK_EQ(uniap_opts_check_files(&cmd, NULL, NULL, 0), UNIAP_EINVAL);
    CHECK(msg_has("the same file for two outputs"));
    char *argv4[8] = {"test", "--profile", in, "--out", out};
    uniap_err_clear();
    CHECK_EQ(uniap_opts_parse(&cmd, 5, argv4), 0);
    CHECK_EQ(uniap_opts_check_files(&cmd, NULL, NULL, 0), 0);
    unlink(hard);
    unlink(in);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    test_forms();
    test_numbers();
    test_refusals();
    test_help();
    test_help_wrap();
    test_print_error();
    test_files();
    return check_report();
}
