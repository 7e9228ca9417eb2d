/*
 * test_fuzz_regressions.c - the fuzz targets of tests/fuzz/ without
 * libFuzzer: every saved crash input (tests/fuzz/regressions/<target>/) and
 * every seed (tests/fuzz/corpus/<target>/) is run once through the same
 * target code, so `make test` (and `make asan`) keep fixed bugs fixed
 * without clang or a fuzzing run.
 *
 * Each target source is included here with its two entry points renamed;
 * the targets prefix their own static names so that they can share this
 * translation unit.  A failed invariant aborts, which Criterion reports as
 * a crash of that target's test.  Inputs named open-* reproduce bugs that
 * are not fixed yet: they are listed but not run.
 */
#include <criterion/criterion.h>

#include <dirent.h>

#define LLVMFuzzerInitialize   fuzz_analyzer_init
#define LLVMFuzzerTestOneInput fuzz_analyzer_one
#include "tests/fuzz/fuzz_analyzer.c"
#undef LLVMFuzzerInitialize
#undef LLVMFuzzerTestOneInput

#define LLVMFuzzerInitialize   fuzz_query_init
#define LLVMFuzzerTestOneInput fuzz_query_one
#include "tests/fuzz/fuzz_query.c"
#undef LLVMFuzzerInitialize
#undef LLVMFuzzerTestOneInput

#define LLVMFuzzerInitialize   fuzz_codec_init
#define LLVMFuzzerTestOneInput fuzz_codec_one
#include "tests/fuzz/fuzz_codec.c"
#undef LLVMFuzzerInitialize
#undef LLVMFuzzerTestOneInput

#define LLVMFuzzerInitialize   fuzz_jsonl_init
#define LLVMFuzzerTestOneInput fuzz_jsonl_one
#include "tests/fuzz/fuzz_jsonl.c"
#undef LLVMFuzzerInitialize
#undef LLVMFuzzerTestOneInput

#define LLVMFuzzerInitialize   fuzz_snippet_init
#define LLVMFuzzerTestOneInput fuzz_snippet_one
#include "tests/fuzz/fuzz_snippet.c"
#undef LLVMFuzzerInitialize
#undef LLVMFuzzerTestOneInput

#define LLVMFuzzerInitialize   fuzz_index_init
#define LLVMFuzzerTestOneInput fuzz_index_one
#include "tests/fuzz/fuzz_index.c"
#undef LLVMFuzzerInitialize
#undef LLVMFuzzerTestOneInput

typedef int (*one_fn)(const uint8_t *data, size_t size);
typedef int (*init_fn)(int *argc, char ***argv);

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run every file of dir (sorted, for a reproducible order) through one;
 * returns how many ran.  A missing directory holds nothing. */
static size_t replay_dir(const char *dir, one_fn one)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            names = realloc(names, cap * sizeof *names);
            cr_assert_not_null(names);
        }
        names[n] = strdup(e->d_name);
        cr_assert_not_null(names[n]);
        n++;
    }
    closedir(d);
    if (n > 1) qsort(names, n, sizeof *names, cmp_str);
    size_t ran = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (strncmp(names[i], "open-", 5) == 0) {
            cr_log_info("%s: known open bug, not replayed", path);
        } else {
            struct stat st;
            size_t len = 0;
            uint8_t *data = NULL;
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                FILE *f = fopen(path, "rb");
                cr_assert_not_null(f, "cannot open %s", path);
                len = (size_t)st.st_size;
                data = malloc(len ? len : 1);
                cr_assert_not_null(data);
                cr_assert_eq(fread(data, 1, len, f), len, "cannot read %s", path);
                fclose(f);
                one(data, len);
                free(data);
                ran++;
            }
        }
        free(names[i]);
    }
    free(names);
    return ran;
}

static void replay(const char *target, init_fn init, one_fn one)
{
    int argc = 1;
    char arg0[] = "test_fuzz_regressions";
    char *args[] = {arg0, NULL};
    char **argv = args;
    init(&argc, &argv);
    char dir[256];
    snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", target);
    size_t seeds = replay_dir(dir, one);
    snprintf(dir, sizeof dir, "tests/fuzz/regressions/%s", target);
    size_t regressions = replay_dir(dir, one);
    cr_assert_gt(seeds, 0, "no seed inputs in tests/fuzz/corpus/%s (run from the repository root)",
                 target);
    cr_log_info("%s: %zu seeds, %zu regression inputs", target, seeds, regressions);
}

Test(fuzz_regressions, analyzer)
{
    replay("analyzer", fuzz_analyzer_init, fuzz_analyzer_one);
}

Test(fuzz_regressions, query)
{
    replay("query", fuzz_query_init, fuzz_query_one);
}

Test(fuzz_regressions, codec)
{
    replay("codec", fuzz_codec_init, fuzz_codec_one);
}

Test(fuzz_regressions, jsonl)
{
    replay("jsonl", fuzz_jsonl_init, fuzz_jsonl_one);
}

Test(fuzz_regressions, snippet)
{
    replay("snippet", fuzz_snippet_init, fuzz_snippet_one);
}

Test(fuzz_regressions, index)
{
    replay("index", fuzz_index_init, fuzz_index_one);
}
