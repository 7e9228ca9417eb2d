/*
 * test_verify.c - `index --verify` and `index --stats`, and damage
 * detection by both programs.
 *
 * An index of corpus/ is built once per test in a mkdtemp directory.  Then,
 * for every file of the index (MANIFEST and the five segment files), bytes
 * are flipped one at a time at the header, the footer and a spread of
 * offsets in between: `index --verify` must fail with exit 3 naming that
 * file, and `search` must fail with exit 3 before printing any result.
 * After each trial the file is restored and --verify passes again.
 *
 * The same for an index with deletions: the deletions file (every field)
 * and the manifest's deletion fields, plus a missing, a truncated and a
 * stale deletions file.
 *
 * And writers on a damaged index (a damaged or newer MANIFEST, a damaged
 * or missing deletions file, a damaged postings file for a merge) must
 * refuse with exit 3 and leave every file as it was.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>
#include <unistd.h>

#include "tests/e2e/expect.h"
#include "tests/support/e2e.h"
#include "tests/support/fsutil.h"
#include "tests/support/run.h"

#define TIMEOUT          60.0
#define OFFSETS_PER_FILE 24

static char *g_tmp;
static char g_index[4096];

static void setup(void)
{
    g_tmp = fs_mkdtemp("se-verify");
    cr_assert_not_null(g_tmp);
    cr_assert_eq(fs_join(g_index, sizeof g_index, g_tmp, "ix"), 0);
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "-q", "-i", g_index, "corpus", NULL);
    cr_assert_eq(r.exit_code, 0, "indexing corpus/: %s", run_describe(&r));
    run_result_free(&r);
}

static void teardown(void)
{
    if (g_tmp) fs_rm_rf(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

TestSuite(verify, .init = setup, .fini = teardown);

Test(verify, intact_index_passes_and_stats_describe_it)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "--verify", "-i", g_index, NULL);
    cr_assert_eq(r.exit_code, 0, "%s", run_describe(&r));
    cr_assert(strstr(r.out, "ok: generation 1, 1 segment(s), 5 documents") != NULL, "%s", r.out);
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "index", "--stats", "-i", g_index, NULL);
    cr_assert_eq(r.exit_code, 0, "%s", run_describe(&r));
    cr_assert(strstr(r.out, "documents   5 live, 0 deleted\n") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "per posting") != NULL, "%s", r.out);
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "index", "--verify", "-i", g_index, "corpus", NULL);
    cr_assert_eq(r.exit_code, 2, "a PATH with --verify is a usage error: %s", run_describe(&r));
    run_result_free(&r);
}

Test(verify, missing_index_is_reported)
{
    char missing[4096];
    fs_join(missing, sizeof missing, g_tmp, "nothing-here");
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "--verify", "-i", missing, NULL);
    cr_assert_eq(r.exit_code, 3, "%s", run_describe(&r));
    cr_assert(strstr(r.err, "no index") != NULL, "%s", r.err);
    run_result_free(&r);
}

/* Flip byte `off` of `path`, check both programs refuse the index and name
 * the file, then restore it. */
/* Every offset is flipped normally; every fourth under a wrapper such as
 * valgrind (make valgrind), where each of the two runs per offset takes
 * seconds and all of them would not fit in the tests' time limits. */
static size_t flip_stride(void)
{
    const char *w = getenv("SE_RUN_WRAPPER");
    return w && *w ? 4 : 1;
}

static void flip_and_check(const char *path, const char *name, size_t off)
{
    size_t len;
    char *orig = fs_read_file(path, &len);
    cr_assert_not_null(orig);
    cr_assert_lt(off, len);
    char *bad = malloc(len);
    cr_assert_not_null(bad);
    memcpy(bad, orig, len);
    bad[off] ^= 0x5a;
    cr_assert_eq(fs_write_file(path, bad, len), 0);

    run_result r;
    e2e_run(&r, TIMEOUT, "index", "--verify", "-i", g_index, NULL);
    cr_expect_eq(r.exit_code, 3, "%s byte %zu: --verify: %s", name, off, run_describe(&r));
    cr_expect(strstr(r.err, name) != NULL, "%s byte %zu: message does not name it: %s", name, off,
              r.err);
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--json", "mi5 OR the", NULL);
    cr_expect_eq(r.exit_code, 3, "%s byte %zu: search: %s", name, off, run_describe(&r));
    cr_expect_eq(r.out_len, 0, "%s byte %zu: search printed results from a damaged index", name,
                 off);
    run_result_free(&r);

    cr_assert_eq(fs_write_file(path, orig, len), 0);
    free(bad);
    free(orig);
}

Test(verify, every_file_kind_detects_flipped_bytes, .timeout = 300)
{
    DIR *d = opendir(g_index);
    cr_assert_not_null(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "LOCK") == 0) continue;
        char path[4096];
        fs_join(path, sizeof path, g_index, e->d_name);
        size_t len;
        char *data = fs_read_file(path, &len);
        cr_assert_not_null(data);
        free(data);
        files++;
        /* header, footer, and evenly spread offsets in between */
        size_t offs[OFFSETS_PER_FILE];
        size_t n = 0;
        for (size_t k = 0; k < 8; k++) offs[n++] = k * 2;
        for (size_t k = 0; k < 8; k++) offs[n++] = len - 1 - k * 2;
        while (n < OFFSETS_PER_FILE) offs[n] = (len / (OFFSETS_PER_FILE - 15)) * (n - 15), n++;
        for (size_t k = 0; k < n; k += flip_stride())
            flip_and_check(path, e->d_name, offs[k] % len);
    }
    closedir(d);
    cr_assert_eq(files, 6, "expected MANIFEST and five segment files, saw %d", files);
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "--verify", "-i", g_index, NULL);
    cr_assert_eq(r.exit_code, 0, "restored index: %s", run_describe(&r));
    run_result_free(&r);
}

/* ------------------------------------------------------------- deletions */

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* The name of the only deletions file in the index. */
static void find_deletions_file(char *name, size_t cap)
{
    DIR *d = opendir(g_index);
    cr_assert_not_null(d);
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".del") == 0) {
            snprintf(name, cap, "%s", e->d_name);
            found++;
        }
    }
    closedir(d);
    cr_assert_eq(found, 1, "expected one deletions file, found %d", found);
}

/* Both programs refuse the index, naming `name`, and search prints nothing. */
static void expect_refused(const char *name, const char *what)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "--verify", "-i", g_index, NULL);
    cr_expect_eq(r.exit_code, 3, "%s: --verify: %s", what, run_describe(&r));
    cr_expect(strstr(r.err, name) != NULL, "%s: --verify does not name %s: %s", what, name, r.err);
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--json", "mi5 OR the", NULL);
    cr_expect_eq(r.exit_code, 3, "%s: search: %s", what, run_describe(&r));
    cr_expect(strstr(r.err, name) != NULL, "%s: search does not name %s: %s", what, name, r.err);
    cr_expect_eq(r.out_len, 0, "%s: search printed results from a damaged index:\n%s", what, r.out);
    run_result_free(&r);
}

/*
 * An index with deletions (a --delete, then a replacement, both with
 * --no-merge so the segment keeps its deletions file): single bytes flipped
 * in the deletions file (header, every fixed field, bitmap, term table,
 * term blob, footer) and in MANIFEST (header, generation, the segment
 * records' deletion fields, footer) are refused by --verify (exit 3, the
 * file named) and by search (exit 3, nothing printed).  So are a missing,
 * a truncated, and a stale deletions file: the previous generation's file
 * copied over the current one is itself valid, and only the manifest's
 * recorded size and checksum can tell; accepting it would bring the
 * replaced document's old copy back.
 */
/* Give the corpus index deletions: --delete its first document (the
 * resulting deletions file is returned in *stale), then replace its second
 * one; both with --no-merge, so the index ends with two segments and a
 * deletions file for the first.  The two ids go to first and second. */
static void add_deletions(char *first, char *second, size_t cap, char **stale, size_t *stale_len)
{
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "--list", "-i", g_index, NULL);
    cr_assert_eq(r.exit_code, 0, "--list: %s", run_describe(&r));
    char a[256], b[256];
    cr_assert_eq(sscanf(r.out, "%255s %255s", a, b), 2, "--list printed:\n%s", r.out);
    snprintf(first, cap, "%s", a);
    snprintf(second, cap, "%s", b);
    run_result_free(&r);

    e2e_run(&r, TIMEOUT, "index", "-q", "--no-merge", "-i", g_index, "--delete", first, NULL);
    cr_assert_eq(r.exit_code, 0, "--delete: %s\n%s", run_describe(&r), r.err);
    run_result_free(&r);
    char stale_name[256], path[4096];
    find_deletions_file(stale_name, sizeof stale_name);
    fs_join(path, sizeof path, g_index, stale_name);
    *stale = fs_read_file(path, stale_len);
    cr_assert_not_null(*stale);

    char input[4096], line[1024];
    fs_join(input, sizeof input, g_tmp, "replace.jsonl");
    snprintf(line, sizeof line,
             "{\"id\": \"%s\", \"title\": \"Replaced\", \"text\": \"The new text of the "
             "replaced article about mi5.\"}\n",
             second);
    cr_assert_eq(fs_write_str(input, line), 0);
    e2e_run(&r, TIMEOUT, "index", "-q", "--no-merge", "-i", g_index, input, NULL);
    cr_assert_eq(r.exit_code, 0, "replacing %s: %s\n%s", second, run_describe(&r), r.err);
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "index", "--verify", "-i", g_index, NULL);
    cr_assert_eq(r.exit_code, 0, "%s", run_describe(&r));
    cr_assert(strstr(r.out, "2 segment(s), 4 documents (2 deleted)"), "%s", r.out);
    run_result_free(&r);
    char name[256];
    find_deletions_file(name, sizeof name);
    cr_assert_str_neq(name, stale_name, "the deletions file must be a new one");
}

Test(verify, deletions_file_and_manifest_detect_damage, .timeout = 300)
{
    char first[256], second[256];
    char *stale;
    size_t stale_len;
    add_deletions(first, second, sizeof first, &stale, &stale_len);
    run_result r;

    char del[256];
    find_deletions_file(del, sizeof del);
    char del_path[4096], man_path[4096];
    fs_join(del_path, sizeof del_path, g_index, del);
    fs_join(man_path, sizeof man_path, g_index, "MANIFEST");

    /* The deletions file, field by field (common/deletions.h). */
    size_t len;
    unsigned char *data = (unsigned char *)fs_read_file(del_path, &len);
    cr_assert_not_null(data);
    cr_assert_geq(len, 64);
    uint32_t ndocs = le32(data + 16);
    uint64_t nterms = le64(data + 32), blob_len = le64(data + 40);
    size_t bitmap = 48, index = bitmap + 8 * (((size_t)ndocs + 63) / 64);
    size_t blob = index + 8 * nterms;
    cr_assert_eq(ndocs, 5);
    cr_assert_gt(nterms, 2);
    cr_assert_eq(blob + blob_len + 16, len, "unexpected deletions file layout");
    size_t del_offs[] = {0,
                         7,
                         8,
                         12,
                         16,
                         20,
                         24,
                         32,
                         40,
                         bitmap,
                         bitmap + 7,
                         index,
                         index + 4,
                         index + 8 * (nterms / 2),
                         blob,
                         blob + blob_len / 2,
                         blob + blob_len - 1,
                         len - 16,
                         len - 9,
                         len - 8,
                         len - 1};
    for (size_t k = 0; k < sizeof del_offs / sizeof del_offs[0]; k += flip_stride())
        flip_and_check(del_path, del, del_offs[k]);
    free(data);

    /* MANIFEST: header, generation, segment count, then in each 136-byte
     * segment record its number, document count and deletion fields
     * (generation, count, reserved, size, checksum), and the footer. */
    data = (unsigned char *)fs_read_file(man_path, &len);
    cr_assert_not_null(data);
    uint32_t nseg = le32(data + 28);
    cr_assert_eq(nseg, 2);
    cr_assert_eq(len, 32 + 136 * (size_t)nseg + 16, "unexpected MANIFEST layout");
    size_t man_offs[2 + 4 + 2 * 7 + 3], n = 0;
    man_offs[n++] = 0;
    man_offs[n++] = 8;
    man_offs[n++] = 16;
    man_offs[n++] = 24;
    man_offs[n++] = 28;
    man_offs[n++] = 31;
    for (uint32_t s = 0; s < nseg; s++) {
        size_t rec = 32 + 136 * (size_t)s;
        size_t fields[] = {0, 4, 104, 112, 116, 120, 128};
        for (size_t f = 0; f < 7; f++) man_offs[n++] = rec + fields[f];
    }
    man_offs[n++] = len - 16;
    man_offs[n++] = len - 8;
    man_offs[n++] = len - 1;
    for (size_t k = 0; k < n; k += flip_stride()) flip_and_check(man_path, "MANIFEST", man_offs[k]);
    free(data);

    /* Missing, truncated, stale. */
    char *orig = fs_read_file(del_path, &len);
    cr_assert_not_null(orig);
    cr_assert_eq(unlink(del_path), 0);
    expect_refused(del, "missing deletions file");
    cr_assert_eq(fs_write_file(del_path, orig, len - 8), 0);
    expect_refused(del, "truncated deletions file");
    cr_assert_eq(fs_write_file(del_path, stale, stale_len), 0);
    expect_refused(del, "the previous generation's deletions file under the current name");
    cr_assert_eq(fs_write_file(del_path, orig, len), 0);
    free(orig);
    free(stale);

    e2e_run(&r, TIMEOUT, "index", "--verify", "-i", g_index, NULL);
    cr_assert_eq(r.exit_code, 0, "restored index: %s\n%s", run_describe(&r), r.err);
    run_result_free(&r);
    /* And the replaced document is there once, with its new title. */
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "--json", "-k", "10", "mi5", NULL);
    cr_assert_eq(r.exit_code, 0, "%s", run_describe(&r));
    e2e_hits h;
    char why[256];
    cr_assert_eq(e2e_parse_hits(r.out, 1, &h, why, sizeof why), 0, "%s", why);
    int copies = 0;
    for (size_t i = 0; i < h.n; i++) {
        cr_assert_str_neq(h.hits[i].id, first, "the deleted document is found");
        if (strcmp(h.hits[i].id, second) == 0) {
            copies++;
            cr_assert_str_eq(h.hits[i].title, "Replaced");
        }
    }
    cr_assert_eq(copies, 1, "the replaced document should be found once");
    e2e_hits_free(&h);
    run_result_free(&r);
}

/* ------------------------------------------------------------- writers */

/* Copy every file of the index to <tmp>/backup, or back. */
static void backup_index(int restore)
{
    char backup[4096];
    cr_assert_eq(fs_join(backup, sizeof backup, g_tmp, "backup"), 0);
    if (restore) {
        cr_assert_eq(fs_rm_rf(g_index), 0);
        cr_assert_eq(mkdir(g_index, 0755), 0);
        cr_assert_eq(fs_copy_dir_files(backup, g_index), 0);
    } else {
        fs_rm_rf(backup);
        cr_assert_eq(mkdir(backup, 0755), 0);
        cr_assert_eq(fs_copy_dir_files(g_index, backup), 0);
    }
}

/* Re-frame a file after editing its body: the footer's checksum is the
 * XXH3-64 of everything before it (docs/FORMAT.md, "Framing"). */
static void reframe(char *data, size_t len)
{
    uint64_t h = XXH3_64bits(data, len - 8);
    for (int i = 0; i < 8; i++) data[len - 8 + i] = (char)(h >> (8 * i));
}

/* The entries of listing `a` (fs_dir_listing) missing from `b`: files
 * removed or changed, by name, comma-separated (malloc'd). */
static char *listing_lost(const char *a, const char *b)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    cr_assert_not_null(f);
    int any = 0;
    for (const char *p = a; *p;) {
        size_t n = strcspn(p, "\n");
        int found = 0;
        for (const char *q = b; *q && !found;) {
            size_t m = strcspn(q, "\n");
            found = m == n && memcmp(p, q, n) == 0;
            q += m + (q[m] == '\n');
        }
        if (!found) {
            fprintf(f, "%s%.*s", any ? ", " : "", (int)strcspn(p, " \n"), p);
            any = 1;
        }
        p += n + (p[n] == '\n');
    }
    fclose(f);
    return out;
}

/*
 * A writer on a damaged index must not make it worse: whatever it is asked
 * to do (add a document, --delete, --sync, --optimize), when it cannot read
 * the current generation it must refuse (exit 3, naming the file) and
 * leave every file as it was: the damage may be repairable (one flipped
 * byte, a file restored from a backup), and readers keep reporting it.
 * The damage: MANIFEST with a flipped magic byte, a flipped body byte
 * (checksum mismatch), or from a newer format version (version 5, framed
 * correctly, as a later release would write it); the deletions file
 * flipped or missing; and, for --optimize (which reads everything to
 * merge), a flipped byte in a postings file.
 */
Test(verify, writers_leave_a_damaged_index_as_it_is, .timeout = 300)
{
    char first[256], second[256];
    char *stale;
    size_t stale_len;
    add_deletions(first, second, sizeof first, &stale, &stale_len);
    free(stale);
    char del[256], input[4096];
    find_deletions_file(del, sizeof del);
    fs_join(input, sizeof input, g_tmp, "add.jsonl");
    cr_assert_eq(fs_write_str(input, "{\"id\": \"new-document\", \"title\": \"New\", \"text\": "
                                     "\"A document added to a damaged index.\"}\n"),
                 0);
    backup_index(0);

    enum { FLIP_MAGIC, FLIP_BODY, NEWER_VERSION, FLIP, REMOVE };
    static const struct {
        const char *file; /* NULL: the deletions file */
        int how;
        size_t off; /* FLIP: from the middle of the file */
        int only_merge;
        const char *what;
    } damage[] = {
        {"MANIFEST", FLIP_MAGIC, 0, 0, "MANIFEST with a bad magic"},
        {"MANIFEST", FLIP_BODY, 0, 0, "MANIFEST with a checksum mismatch"},
        {"MANIFEST", NEWER_VERSION, 0, 0, "MANIFEST of format version 5"},
        {NULL, FLIP, 0, 0, "a flipped byte in the deletions file"},
        {NULL, REMOVE, 0, 0, "a missing deletions file"},
        {"s00000000.doc", FLIP, 0, 1, "a flipped byte in a postings file"},
    };
    static const struct {
        const char *name;
        const char *args[3];
        int merges;
    } writers[] = {
        {"an update", {"--no-merge", NULL, NULL}, 0},
        {"--delete", {"--delete", NULL, NULL}, 0},
        {"--sync", {"--sync", NULL, NULL}, 0},
        {"--optimize", {"--optimize", NULL, NULL}, 1},
    };
    static const char *const lock[] = {"LOCK", NULL};
    int failures = 0;
    for (size_t d = 0; d < sizeof damage / sizeof damage[0]; d++) {
        const char *file = damage[d].file ? damage[d].file : del;
        for (size_t w = 0; w < sizeof writers / sizeof writers[0]; w++) {
            if (damage[d].only_merge && !writers[w].merges) continue;
            backup_index(1);
            char path[4096];
            fs_join(path, sizeof path, g_index, file);
            size_t len;
            char *data = fs_read_file(path, &len);
            cr_assert_not_null(data);
            switch (damage[d].how) {
            case FLIP_MAGIC:
                data[0] ^= 0x5a;
                break;
            case FLIP_BODY:
                data[16] ^= 0x5a;
                break;
            case NEWER_VERSION:
                data[8] = 5;
                reframe(data, len);
                break;
            case FLIP:
                data[len / 2] ^= 0x5a;
                break;
            }
            if (damage[d].how == REMOVE)
                cr_assert_eq(unlink(path), 0);
            else
                cr_assert_eq(fs_write_file(path, data, len), 0);
            free(data);
            char *before = fs_dir_listing(g_index, lock);
            cr_assert_not_null(before);

            const char *args[8] = {"-q", "-i", g_index};
            size_t n = 3;
            args[n++] = writers[w].args[0];
            if (strcmp(writers[w].args[0], "--delete") == 0)
                args[n++] = second;
            else if (strcmp(writers[w].args[0], "--optimize") != 0)
                args[n++] = input;
            run_result r;
            e2e_runv(&r, TIMEOUT, "index", args, n);
            char *after = fs_dir_listing(g_index, lock);
            cr_assert_not_null(after);
            int ok = r.exit_code == 3 && !r.signal && strstr(r.err, file) != NULL &&
                     strcmp(before, after) == 0;
            char *lost = listing_lost(before, after);
            cr_expect(ok,
                      "%s, then %s: expected exit 3 naming %s and no file changed; got %s, "
                      "files removed or changed: %s\n%s",
                      damage[d].what, writers[w].name, file, run_describe(&r),
                      *lost ? lost : "none", r.err);
            free(lost);
            failures += !ok;
            run_result_free(&r);
            free(before);
            free(after);
        }
    }
    backup_index(1);
    run_result r;
    e2e_run(&r, TIMEOUT, "index", "--verify", "-i", g_index, NULL);
    cr_assert_eq(r.exit_code, 0, "the undamaged index: %s\n%s", run_describe(&r), r.err);
    run_result_free(&r);
    if (failures) cr_log_error("%d damage/writer combination(s) failed", failures);
}

/* ------------------------------------------------- fields behind the checksum */

/* Replace segment 0's file `ext` by `data` (re-framed), and make the
 * manifest record its new checksum, so only the file's own structure
 * (docs/FORMAT.md) can reveal the change. */
static void write_trusted(const char *ext, char *data, size_t len)
{
    char path[4096], name[64];
    snprintf(name, sizeof name, "s00000000.%s", ext);
    fs_join(path, sizeof path, g_index, name);
    reframe(data, len);
    cr_assert_eq(fs_write_file(path, data, len), 0);
    static const char *const exts[] = {"tdx", "doc", "pos", "len", "sto"};
    int f = 0;
    while (strcmp(exts[f], ext) != 0) f++;
    fs_join(path, sizeof path, g_index, "MANIFEST");
    size_t mlen;
    char *man = fs_read_file(path, &mlen);
    cr_assert_not_null(man);
    cr_assert_eq(le32((const unsigned char *)man + 28), 1, "one segment");
    /* Segment record at 32: number, documents, total length, terms, then
     * (size, checksum) per file. */
    for (int i = 0; i < 8; i++) man[32 + 24 + 16 * f + 8 + i] = data[len - 8 + i];
    reframe(man, mlen);
    cr_assert_eq(fs_write_file(path, man, mlen), 0);
    free(man);
}

/*
 * Every field of the document table (.len) and the store's content hashes
 * and trailer, changed with the checksums made to match: the length block
 * (base, width, packed values), the id entries (shared prefix, suffix
 * length, suffix bytes), the group index, every trailer field.  --verify
 * must refuse each (exit 3, the file named); search too, except for an id
 * byte, which only --verify can check against the store; and a writer
 * adding a document, which reads only the store's content hashes (checked
 * by their own checksum), must refuse each store field.
 */
Test(verify, document_table_and_store_fields_are_validated, .timeout = 300)
{
    backup_index(0);
    char path[4096];
    size_t len;
    fs_join(path, sizeof path, g_index, "s00000000.len");
    unsigned char *lt = (unsigned char *)fs_read_file(path, &len);
    cr_assert_not_null(lt);
    size_t trailer = len - 16 - 24;
    size_t ids = (size_t)le64(lt + trailer), id_bytes = le32(lt + trailer + 12);
    uint32_t ndocs = le32(lt + trailer + 8);
    cr_assert_eq(ndocs, 5, "corpus/ has 5 documents");
    size_t width_at = 16;
    while (lt[width_at] & 0x80) width_at++; /* the base, a varint */
    width_at++;
    cr_assert_leq(lt[width_at], 32, "the width follows the base");
    size_t groups = (ids + id_bytes + 3) / 4 * 4;
    cr_assert_eq(groups + 4, trailer, "one id group");
    fs_join(path, sizeof path, g_index, "s00000000.sto");
    size_t slen;
    unsigned char *st = (unsigned char *)fs_read_file(path, &slen);
    cr_assert_not_null(st);
    /* Store trailer (24 bytes before the footer): chunk count, documents,
     * chunk index offset, checksum of the content hashes to here. */
    size_t sidx = (size_t)le64(st + slen - 16 - 24 + 8), hashes = sidx - 8 * (size_t)ndocs;
    free(st);

    static const struct {
        const char *ext;
        int where; /* 0 .len header-relative offsets below, 1 .sto */
        int search_sees;
        const char *what;
    } fields[] = {
        {"len", 0, 1, "length base"},
        {"len", 1, 1, "length width"},
        {"len", 2, 1, "packed lengths"},
        {"len", 3, 1, "length padding"},
        {"len", 4, 1, "id shared prefix"},
        {"len", 5, 1, "id suffix length"},
        {"len", 6, 0, "id byte"},
        {"len", 7, 1, "id group offset"},
        {"len", 8, 1, "id padding"},
        {"len", 9, 1, "trailer: id area offset"},
        {"len", 10, 1, "trailer: documents"},
        {"len", 11, 1, "trailer: id bytes"},
        {"len", 12, 1, "trailer: total"},
        {"sto", 13, 1, "content hash"},
        {"sto", 14, 1, "store trailer: chunk index offset"},
        {"sto", 15, 1, "store trailer: content hashes checksum"},
    };
    /* A writer adding a document reads the content hashes only (not the
     * chunks): it must refuse each store field too. */
    char input[4096];
    fs_join(input, sizeof input, g_tmp, "one.jsonl");
    cr_assert_eq(fs_write_str(input, "{\"id\": \"one-more\", \"text\": \"Another document.\"}\n"),
                 0);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        backup_index(1);
        const char *ext = fields[i].ext;
        fs_join(path, sizeof path, g_index,
                strcmp(ext, "len") == 0 ? "s00000000.len" : "s00000000.sto");
        size_t n;
        char *data = fs_read_file(path, &n);
        cr_assert_not_null(data);
        size_t off = 0;
        unsigned char x = 0x01;
        switch (fields[i].where) {
        case 0:
            off = 16;
            break;
        case 1:
            off = width_at;
            x = 0x03;
            break;
        case 2:
            off = width_at + 1;
            x = 0x80;
            break; /* the top value bit of a lane */
        case 3:
            off = width_at + 1 + 16 * (size_t)lt[width_at] - 1;
            x = 0x80;
            break;
        case 4:
            off = ids;
            break;
        case 5:
            off = ids + 1;
            x = 0x40;
            break;
        case 6:
            off = ids + 2;
            x = 0x20;
            break;
        case 7:
            off = groups;
            break;
        case 8:
            off = ids + id_bytes;
            break;
        case 9:
            off = trailer;
            x = 0x08;
            break;
        case 10:
            off = trailer + 8;
            break;
        case 11:
            off = trailer + 12;
            break;
        case 12:
            off = trailer + 16;
            break;
        case 13:
            off = hashes + 8;
            break;
        case 14:
            off = n - 16 - 24 + 8;
            x = 0x10;
            break;
        case 15:
            off = n - 16 - 8;
            break;
        }
        if (off >= n || (fields[i].where == 8 && off >= groups)) { /* no id padding here */
            free(data);
            continue;
        }
        data[off] ^= (char)x;
        write_trusted(ext, data, n);
        free(data);
        char name[64];
        snprintf(name, sizeof name, "s00000000.%s", ext);
        run_result r;
        e2e_run(&r, TIMEOUT, "index", "--verify", "-i", g_index, NULL);
        cr_expect_eq(r.exit_code, 3, "%s: --verify: %s", fields[i].what, run_describe(&r));
        cr_expect(strstr(r.err, name) != NULL, "%s: --verify does not name %s: %s", fields[i].what,
                  name, r.err);
        run_result_free(&r);
        if (strcmp(ext, "sto") == 0) {
            e2e_run(&r, TIMEOUT, "index", "-q", "--no-merge", "-i", g_index, input, NULL);
            cr_expect_eq(r.exit_code, 3, "%s: adding a document: %s", fields[i].what,
                         run_describe(&r));
            cr_expect(strstr(r.err, name) != NULL, "%s: the writer does not name %s: %s",
                      fields[i].what, name, r.err);
            run_result_free(&r);
        }
        if (fields[i].search_sees) {
            e2e_run(&r, TIMEOUT, "search", "-i", g_index, "mi5 OR the", NULL);
            cr_expect_eq(r.exit_code, 3, "%s: search: %s", fields[i].what, run_describe(&r));
            cr_expect(strstr(r.err, name) != NULL, "%s: search does not name %s: %s",
                      fields[i].what, name, r.err);
            run_result_free(&r);
        }
    }
    free(lt);
    backup_index(1);
}

/* An index of the previous format version is refused, with the way out. */
Test(verify, previous_format_version_is_refused)
{
    char path[4096];
    fs_join(path, sizeof path, g_index, "MANIFEST");
    size_t len;
    char *man = fs_read_file(path, &len);
    cr_assert_not_null(man);
    man[8] = 3;
    reframe(man, len);
    cr_assert_eq(fs_write_file(path, man, len), 0);
    free(man);
    run_result r;
    e2e_run(&r, TIMEOUT, "search", "-i", g_index, "mi5", NULL);
    cr_expect_eq(r.exit_code, 3, "search: %s", run_describe(&r));
    cr_expect(strstr(r.err, "format version 3") && strstr(r.err, "re-index"), "%s", r.err);
    run_result_free(&r);
    /* A writer leaves it alone, saying the same. */
    e2e_run(&r, TIMEOUT, "index", "-q", "-i", g_index, "corpus", NULL);
    cr_expect_eq(r.exit_code, 3, "index: %s", run_describe(&r));
    cr_expect(strstr(r.err, "re-index") != NULL, "%s", r.err);
    run_result_free(&r);
    /* Re-indexing into a new directory works. */
    char fresh[4096];
    fs_join(fresh, sizeof fresh, g_tmp, "fresh");
    e2e_run(&r, TIMEOUT, "index", "-q", "-i", fresh, "corpus", NULL);
    cr_expect_eq(r.exit_code, 0, "new index: %s", run_describe(&r));
    run_result_free(&r);
    e2e_run(&r, TIMEOUT, "search", "-i", fresh, "mi5", NULL);
    cr_expect_eq(r.exit_code, 0, "search of the new index: %s", run_describe(&r));
    run_result_free(&r);
}
