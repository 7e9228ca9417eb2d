/*
 * test_hostile_files.c - input files that change while bin/index reads them.
 *
 * A directory of large text and JSONL files is indexed while this test
 * keeps truncating some of them (to a random shorter length, to nothing)
 * and growing others (appending words, or a half-written JSONL line), over
 * and over until the indexer ends.  Whatever it read, the indexer must end
 * normally (no signal: an input mapped into memory would die of SIGBUS when
 * truncated under it), with exit status 0 or 1 (warnings about what it
 * found: an empty file, a cut JSONL line, a file grown past the size limit),
 * no error, an index that passes --verify, and searches that work.  Three
 * rounds (--rebuild), each starting from freshly written files.
 *
 * When exactly each change lands is up to the scheduler; the assertions
 * hold for every interleaving.  SE_HOSTILE_SCALE below 1 (make valgrind)
 * makes the files smaller.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e/expect.h"
#include "tests/support/e2e.h"
#include "tests/support/fsutil.h"
#include "tests/support/run.h"

#define TIMEOUT 300.0
#define NTEXT   8
#define NJSONL  3
#define NFILES  (NTEXT + NJSONL)

static char *g_tmp;

static void setup(void)
{
    g_tmp = fs_mkdtemp_fast("se_e2e_files_");
    cr_assert_not_null(g_tmp, "mkdtemp failed");
}

static void teardown(void)
{
    if (g_tmp) fs_rm_rf(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

TestSuite(changing_files, .init = setup, .fini = teardown, .timeout = 900);

static uint64_t g_rng = 0x243F6A8885A308D3u;

static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static double scale(void)
{
    const char *s = getenv("SE_HOSTILE_SCALE");
    double v = s && *s ? strtod(s, NULL) : 1.0;
    return v > 0 && v < 1 ? v : 1.0;
}

/* `size` bytes of words (JSONL: lines of documents) into a buffer. */
static char *content(int jsonl, int fileno, size_t size, size_t *len)
{
    char *s = malloc(size + 200);
    cr_assert_not_null(s);
    size_t n = 0;
    if (!jsonl) n += (size_t)sprintf(s, "Changing file %d\n\n", fileno);
    unsigned doc = 0;
    while (n < size) {
        if (jsonl) n += (size_t)sprintf(s + n, "{\"id\": \"f%d-%u\", \"text\": \"", fileno, doc++);
        size_t line_end = jsonl ? n + 2000 + rnd() % 20000 : size;
        while (n < line_end && n < size) {
            int k = 1 + (int)(rnd() % 9);
            for (int i = 0; i < k; i++) s[n++] = (char)('a' + rnd() % 26);
            s[n++] = ' ';
        }
        if (jsonl) n += (size_t)sprintf(s + n, "changing\"}\n");
    }
    if (!jsonl) n += (size_t)sprintf(s + n, "changing\n");
    *len = n;
    return s;
}

static void file_path(char *buf, size_t cap, int i)
{
    char rel[64];
    snprintf(rel, sizeof rel, "in/%s%02d.%s", i < NTEXT ? "text" : "lines", i,
             i < NTEXT ? "txt" : "jsonl");
    cr_assert_eq(fs_join(buf, cap, g_tmp, rel), 0);
}

static void write_all_files(size_t size)
{
    for (int i = 0; i < NFILES; i++) {
        char p[4096];
        file_path(p, sizeof p, i);
        size_t len;
        char *s = content(i >= NTEXT, i, size / 2 + rnd() % size, &len);
        cr_assert_eq(fs_write_file(p, s, len), 0, "write %s", p);
        free(s);
    }
}

/* One change to one file: truncate (maybe to nothing) or append. */
static void mutate(size_t size)
{
    int i = (int)(rnd() % NFILES);
    char p[4096];
    file_path(p, sizeof p, i);
    struct stat st;
    if (stat(p, &st) != 0) return;
    switch (rnd() % 4) {
    case 0:
        cr_assert_eq(truncate(p, 0), 0, "truncate %s: %s", p, strerror(errno));
        break;
    case 1:
        cr_assert_eq(truncate(p, st.st_size ? (off_t)(rnd() % (uint64_t)st.st_size) : 0), 0);
        break;
    default: {
        int fd = open(p, O_WRONLY | O_APPEND);
        cr_assert_geq(fd, 0, "open %s: %s", p, strerror(errno));
        size_t len;
        char *s = content(i >= NTEXT, 100 + i, size / 64, &len);
        if (rnd() % 2) len -= len / 3; /* a line left half-written */
        cr_assert_eq(write(fd, s, len), (ssize_t)len);
        free(s);
        close(fd);
    }
    }
}

Test(changing_files, truncated_and_grown_while_indexed)
{
    size_t size = (size_t)(2e6 * scale());
    char in[4096], index[4096];
    cr_assert_eq(fs_join(in, sizeof in, g_tmp, "in"), 0);
    cr_assert_eq(fs_join(index, sizeof index, g_tmp, "index"), 0);
    cr_assert_eq(mkdir(in, 0755), 0);
    unsigned long total_changes = 0;
    for (int round = 0; round < 3; round++) {
        write_all_files(size);
        const char *args[] = {"-i", index, "--rebuild", "--max-doc-mb", "6", in};
        run_child *c;
        cr_assert_eq(e2e_start(&c, "index", args, 6), 0, "cannot start index: %s", strerror(errno));
        unsigned long changes = 0;
        do {
            mutate(size);
            changes++;
            struct timespec ts = {0, 3000000};
            nanosleep(&ts, NULL);
        } while (!run_child_done(c));
        run_result r;
        run_wait(c, TIMEOUT, &r);
        cr_assert(!r.signal && !r.timed_out && (r.exit_code == 0 || r.exit_code == 1),
                  "round %d, %lu changes: %s\n%.4000s", round, changes, run_describe(&r), r.err);
        EXPECT_EXIT(&r, r.exit_code, "index while the files change");
        cr_assert(strstr(r.err, "index: error") == NULL, "round %d: %s", round, r.err);
        EXPECT_STDERR_HAS(&r, "index: ", "the run reports");
        run_result_free(&r);
        total_changes += changes;

        e2e_run(&r, TIMEOUT, "index", "-i", index, "--verify", NULL);
        EXPECT_EXIT(&r, 0, "--verify after files changed under the indexer");
        run_result_free(&r);
        e2e_run(&r, TIMEOUT, "search", "-i", index, "--json", "-k", "50", "changing OR file", NULL);
        cr_assert(!r.signal && (r.exit_code == 0 || r.exit_code == 1), "search: %s\n%s",
                  run_describe(&r), r.err);
        e2e_hits h;
        char why[512];
        cr_assert_eq(e2e_parse_hits(r.out, 1, &h, why, sizeof why), 0, "%s", why);
        e2e_hits_free(&h);
        run_result_free(&r);
    }
    printf("changing_files: 3 runs of bin/index, %lu truncations and appends while they ran\n",
           total_changes);
}
