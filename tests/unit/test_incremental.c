/*
 * test_incremental.c - an index updated in many steps answers exactly like
 * an index built in one go from the final documents.
 *
 * Each round draws (splitmix64, fixed seed) a sequence of steps over a pool
 * of ids, applied with build_index to one index directory:
 *   - add: new ids;
 *   - replace: ids already indexed, with new text (and sometimes the same
 *     text again, which must be skipped as unchanged);
 *   - the same id twice in one run (the later copy wins);
 *   - delete: build_options.delete_ids, including ids not in the index;
 *   - sync: BUILD_SYNC with a subset of the current documents plus some new
 *     ones, so the rest is deleted;
 *   - optimize now and then.
 * Memory budgets of a few KiB make runs write several batch segments, and
 * merge factors of 2-4 make the merge policy rewrite segments holding
 * deletions often.  The test keeps the expected id -> (title, text) map.
 *
 * After every step: index_verify passes (which also checks every deletions
 * file's per-term counts against the postings); the live documents read
 * back from the index equal the expected map; the reported added /
 * replaced / deleted / unchanged counts match; and a fresh index of the
 * expected documents (BUILD_REBUILD elsewhere) gives, for random queries
 * (terms, OR, AND, NOT, phrases, k in 1..50; half of them with a BM25F
 * title weight, which needs the live documents' title lengths), the same
 * total matches and the same top-k ids with scores within 1e-4 relative.  Since collection
 * statistics exclude deleted documents, the scores are in fact identical.
 *
 * A second test makes 1,000 single-document additions with the default
 * merge policy and checks after each that the segment count stays within
 * the documented bound (F - 1) * (floor(log_F N) + 1), F = 10.
 *
 * Environment: SE_INCREMENTAL_ROUNDS (default 6), SE_INCREMENTAL_SEED.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "common/index.h"
#include "common/segment.h"
#include "indexer/build.h"
#include "indexer/input.h"
#include "indexer/merge_policy.h"
#include "indexer/verify.h"
#include "searcher/search.h"
#include "tests/support/fsutil.h"

#define POOL_IDS  60
#define STEPS     14
#define QUERIES   60
#define SCORE_TOL 1e-4
#define ADDITIONS 1000

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t rng_below(rng *r, uint32_t n)
{
    return (uint32_t)(rng_next(r) % n);
}

static const char *const vocab[] = {
    "river",  "rivers", "stone",   "bridge", "market", "ethical", "responsibility", "cyber",
    "police", "power",  "powers",  "city",   "north",  "south",   "ancient",        "modern",
    "music",  "song",   "singing", "the",    "of",     "and",     "Café",           "naïve",
    "data",   "index",  "search",  "merge",  "delete", "quick",   "brown",          "fox"};
#define NVOCAB (sizeof vocab / sizeof vocab[0])

/* The expected state: per pool id, its current title and text (NULL when
 * absent). */
typedef struct doc {
    char *title, *text;
} doc;

typedef struct state {
    doc docs[POOL_IDS];
} state;

static void id_of(char *buf, size_t cap, uint32_t i)
{
    snprintf(buf, cap, "doc-%02u", i);
}

static char *random_words(rng *r, uint32_t min, uint32_t max)
{
    uint32_t n = min + rng_below(r, max - min + 1);
    size_t cap = 16 + (size_t)n * 20, len = 0;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    s[0] = 0;
    for (uint32_t i = 0; i < n; i++) {
        /* Zipf-ish: low indexes are more frequent. */
        uint32_t w = rng_below(r, 1 + rng_below(r, (uint32_t)NVOCAB));
        len += (size_t)snprintf(s + len, cap - len, "%s%s", i ? " " : "", vocab[w]);
    }
    return s;
}

static void set_doc(doc *d, char *title, char *text)
{
    free(d->title);
    free(d->text);
    d->title = title;
    d->text = text;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void json_line(FILE *f, uint32_t i, const char *title, const char *text)
{
    char id[32];
    id_of(id, sizeof id, i);
    fprintf(f, "{\"id\": \"%s\", \"title\": ", id);
    json_str(f, title);
    fputs(", \"text\": ", f);
    json_str(f, text);
    fputs("}\n", f);
}

static void run_build(const char *dir, const char *jsonl, const build_options *bo, build_stats *st)
{
    input_reader *in = NULL;
    se_error err = {0};
    if (jsonl) {
        const char *paths[1] = {jsonl};
        input_options io = {0};
        cr_assert_eq(input_open(&in, paths, 1, &io, &err), SE_OK, "input_open: %s", err.msg);
    }
    int rc = build_index(dir, in, bo, st, &err);
    input_close(in);
    cr_assert_eq(rc, SE_OK, "build_index: %s", err.msg);
}

/* The live documents of the index equal the expected state. */
static void check_contents(const char *dir, const state *s)
{
    index_reader *ix;
    se_error err = {0};
    cr_assert_eq(index_open(&ix, dir, &err), SE_OK, "%s", err.msg);
    int seen[POOL_IDS] = {0};
    uint64_t live = 0, expected = 0;
    seg_store_buffer buf;
    seg_store_buffer_init(&buf);
    for (uint32_t si = 0; si < ix->nsegments; si++) {
        const segment *seg = ix->segments[si];
        const uint64_t *del = segment_deleted_bits(seg);
        for (uint32_t d = 0; d < segment_ndocs(seg); d++) {
            if (del && dels_is_deleted(del, d)) continue;
            seg_document sd;
            cr_assert_eq(segment_document(seg, d, &buf, &sd, &err), SE_OK, "%s", err.msg);
            unsigned n;
            cr_assert_eq(sscanf(sd.id, "doc-%2u", &n), 1);
            cr_assert(n < POOL_IDS && !seen[n], "id %.*s live twice", (int)sd.id_len, sd.id);
            seen[n] = 1;
            cr_assert_not_null(s->docs[n].text, "id %.*s should be gone", (int)sd.id_len, sd.id);
            cr_assert(sd.text_len == strlen(s->docs[n].text) &&
                          memcmp(sd.text, s->docs[n].text, sd.text_len) == 0,
                      "id %.*s holds an old text", (int)sd.id_len, sd.id);
            live++;
        }
    }
    for (uint32_t i = 0; i < POOL_IDS; i++) expected += s->docs[i].text != NULL;
    cr_assert_eq(live, expected, "index holds %" PRIu64 " documents, expected %" PRIu64, live,
                 expected);
    cr_assert_eq(ix->ndocs, expected);
    seg_store_buffer_free(&buf);
    index_close(ix);
}

static void write_state(const char *path, const state *s)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    for (uint32_t i = 0; i < POOL_IDS; i++)
        if (s->docs[i].text) json_line(f, i, s->docs[i].title, s->docs[i].text);
    cr_assert_eq(fclose(f), 0);
}

typedef struct hitrow {
    char id[64];
    float score;
} hitrow;

static size_t run_query(const index_reader *ix, searcher *sr, const char *q, uint32_t k,
                        int exhaustive, float title_weight, hitrow *rows, uint64_t *matches,
                        int *exact)
{
    search_options so = {.k = k,
                         .k1 = SEARCH_DEFAULT_K1,
                         .b = SEARCH_DEFAULT_B,
                         .exhaustive = exhaustive,
                         .title_weight = title_weight,
                         .title_b = 0.5f};
    search_result res;
    se_error err = {0};
    cr_assert_eq(searcher_run(sr, q, strlen(q), &so, &res, &err), SE_OK, "%s: %s", q, err.msg);
    seg_store_buffer buf;
    seg_store_buffer_init(&buf);
    for (size_t i = 0; i < res.nhits; i++) {
        seg_document sd;
        cr_assert_eq(
            segment_document(ix->segments[res.hits[i].segment], res.hits[i].doc, &buf, &sd, &err),
            SE_OK);
        snprintf(rows[i].id, sizeof rows[i].id, "%.*s", (int)sd.id_len, sd.id);
        rows[i].score = res.hits[i].score;
    }
    seg_store_buffer_free(&buf);
    *matches = res.matches;
    *exact = res.matches_exact;
    return res.nhits;
}

static void random_query(rng *r, const state *s, char *q, size_t cap)
{
    const char *a = vocab[rng_below(r, NVOCAB)], *b = vocab[rng_below(r, NVOCAB)];
    switch (rng_below(r, 6)) {
    case 0:
        snprintf(q, cap, "%s", a);
        break;
    case 1:
        snprintf(q, cap, "%s %s", a, b);
        break;
    case 2:
        snprintf(q, cap, "%s AND %s", a, b);
        break;
    case 3:
        snprintf(q, cap, "%s -%s", a, b);
        break;
    case 4: { /* a phrase cut from a live document */
        uint32_t i = rng_below(r, POOL_IDS);
        const char *t = s->docs[i].text ? s->docs[i].text : "river stone";
        const char *sp = strchr(t, ' ');
        const char *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
        size_t n = sp2 ? (size_t)(sp2 - t) : strlen(t);
        snprintf(q, cap, "\"%.*s\"", (int)(n < 200 ? n : 200), t);
        break;
    }
    default:
        snprintf(q, cap, "%s OR %s OR %s", a, b, vocab[rng_below(r, NVOCAB)]);
        break;
    }
}

/* The incremental index and a fresh one of the same documents agree. */
static void compare_with_fresh(rng *r, const char *inc_dir, const char *fresh_dir,
                               const char *jsonl, const state *s)
{
    fs_rm_rf(fresh_dir);
    write_state(jsonl, s);
    uint64_t expected = 0;
    for (uint32_t i = 0; i < POOL_IDS; i++) expected += s->docs[i].text != NULL;
    if (expected == 0) return; /* nothing to build a fresh index from */
    build_options bo = {.mode = BUILD_REBUILD};
    build_stats st;
    run_build(fresh_dir, jsonl, &bo, &st);

    index_reader *a, *b;
    se_error err = {0};
    cr_assert_eq(index_open(&a, inc_dir, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(index_open(&b, fresh_dir, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(a->ndocs, b->ndocs);
    cr_assert_eq(a->total_len, b->total_len);
    /* the deleted documents' title lengths are left out as well (BM25F) */
    cr_assert_eq(a->total_title_len, b->total_title_len);
    searcher *sa, *sb;
    cr_assert_eq(searcher_new(&sa, a, &err), SE_OK);
    cr_assert_eq(searcher_new(&sb, b, &err), SE_OK);
    hitrow ra[64], rb[64];
    for (int qi = 0; qi < QUERIES; qi++) {
        char q[512];
        random_query(r, s, q, sizeof q);
        uint32_t k = 1 + rng_below(r, 50);
        uint64_t ma, mb;
        int ea, eb, exhaustive = (int)rng_below(r, 2);
        float w = rng_below(r, 2) ? 2.5f : 0; /* BM25F in half of the queries */
        size_t na = run_query(a, sa, q, k, exhaustive, w, ra, &ma, &ea);
        size_t nb = run_query(b, sb, q, k, exhaustive, w, rb, &mb, &eb);
        /* Match counts are exact only without pruning: compare those. */
        if (ea && eb)
            cr_assert_eq(ma, mb, "query [%s]: %" PRIu64 " matches, fresh index %" PRIu64, q, ma,
                         mb);
        cr_assert_eq(na, nb, "query [%s]", q);
        for (size_t i = 0; i < na; i++) {
            double tol = SCORE_TOL * fabs((double)rb[i].score);
            cr_assert(fabs((double)ra[i].score - (double)rb[i].score) <= tol,
                      "query [%s] rank %zu: score %.7f, fresh index %.7f", q, i + 1,
                      (double)ra[i].score, (double)rb[i].score);
            cr_assert_str_eq(ra[i].id, rb[i].id, "query [%s] rank %zu", q, i + 1);
        }
    }
    searcher_free(sa);
    searcher_free(sb);
    index_close(a);
    index_close(b);
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 0) : dflt;
}

static char *g_tmp;

static void setup(void)
{
    const char *t = getenv("TMPDIR");
    if ((!t || !*t) && access("/dev/shm", W_OK | X_OK) == 0) setenv("TMPDIR", "/dev/shm", 1);
    g_tmp = fs_mkdtemp("se-incremental-");
    cr_assert_not_null(g_tmp);
}

static void teardown(void)
{
    if (g_tmp) fs_rm_rf(g_tmp);
    free(g_tmp);
}

TestSuite(incremental, .init = setup, .fini = teardown, .timeout = 600);

static void one_round(uint64_t seed, const char *base)
{
    rng r = {seed};
    char inc[4096], fresh[4096], jsonl[4096];
    snprintf(inc, sizeof inc, "%s/inc", base);
    snprintf(fresh, sizeof fresh, "%s/fresh", base);
    snprintf(jsonl, sizeof jsonl, "%s/batch.jsonl", base);
    fs_rm_rf(inc);
    state s;
    memset(&s, 0, sizeof s);
    for (int step = 0; step < STEPS; step++) {
        build_options bo = {.memory_budget = rng_below(&r, 2) ? 2048 + rng_below(&r, 8192) : 0,
                            .merge_factor = 2 + rng_below(&r, 3),
                            .optimize = rng_below(&r, 8) == 0};
        uint64_t exp_add = 0, exp_rep = 0, exp_del = 0, exp_same = 0, exp_sup = 0;
        build_stats st;
        uint32_t kind = step == 0 ? 0 : rng_below(&r, 5);
        if (kind == 3) { /* delete by id, some absent */
            const char *ids[12];
            char idbuf[12][32];
            uint32_t n = 1 + rng_below(&r, 12), absent = 0;
            int chosen[POOL_IDS] = {0};
            for (uint32_t j = 0; j < n; j++) {
                uint32_t i = rng_below(&r, POOL_IDS);
                id_of(idbuf[j], sizeof idbuf[j], i);
                ids[j] = idbuf[j];
                if (s.docs[i].text && !chosen[i]) {
                    exp_del++;
                    set_doc(&s.docs[i], NULL, NULL);
                } else {
                    absent++;
                }
                chosen[i] = 1;
            }
            bo.delete_ids = ids;
            bo.ndelete_ids = n;
            run_build(inc, NULL, &bo, &st);
            cr_assert_eq(st.not_found, absent);
        } else {
            FILE *f = fopen(jsonl, "w");
            cr_assert_not_null(f);
            /* Distinct ids, then a few repeated ones.  What a repeated id
             * counts as depends on its first occurrence: after an unchanged
             * one it replaces the indexed copy, after a written one it
             * supersedes that. */
            char first[POOL_IDS] = {0}; /* 'A' added, 'R' replaced, 'U' unchanged */
            int mentioned[POOL_IDS] = {0};
            uint32_t n = 1 + rng_below(&r, 25), dups = rng_below(&r, 3);
            for (uint32_t j = 0; j < n + dups; j++) {
                uint32_t i = rng_below(&r, POOL_IDS);
                int dup = j >= n;
                if (dup) {
                    uint32_t tries = 0;
                    while (!first[i] && tries++ < 4 * POOL_IDS) i = rng_below(&r, POOL_IDS);
                    if (!first[i]) break;
                } else if (first[i]) {
                    continue;
                }
                doc *d = &s.docs[i];
                char *title, *text;
                if (d->text && rng_below(&r, 4) == 0) { /* resubmit the current text */
                    title = strdup(d->title);
                    text = strdup(d->text);
                } else {
                    title = random_words(&r, 0, 5);
                    text = random_words(&r, 1, 40); /* empty documents are skipped */
                }
                int same = d->text && strcmp(d->title, title) == 0 && strcmp(d->text, text) == 0;
                json_line(f, i, title, text);
                if (!dup) {
                    first[i] = !d->text ? 'A' : same ? 'U' : 'R';
                    exp_add += first[i] == 'A';
                    exp_rep += first[i] == 'R';
                    exp_same += first[i] == 'U';
                } else if (same) {
                    exp_same++;
                } else if (first[i] == 'U') {
                    exp_rep++;
                    first[i] = 'R';
                } else {
                    exp_sup++;
                }
                set_doc(d, title, text);
                mentioned[i] = 1;
            }
            if (kind == 4) { /* sync: also resend some, the rest disappears */
                bo.mode = BUILD_SYNC;
                for (uint32_t i = 0; i < POOL_IDS; i++) {
                    if (!s.docs[i].text || mentioned[i]) continue;
                    if (rng_below(&r, 3)) {
                        json_line(f, i, s.docs[i].title, s.docs[i].text);
                        exp_same++;
                        mentioned[i] = 1;
                    } else {
                        set_doc(&s.docs[i], NULL, NULL);
                        exp_del++;
                    }
                }
            }
            cr_assert_eq(fclose(f), 0);
            run_build(inc, jsonl, &bo, &st);
        }
        cr_assert_eq(st.added, exp_add,
                     "seed %" PRIu64 " step %d kind %u: added %" PRIu64 ", expected %" PRIu64
                     " (rep %" PRIu64 "/%" PRIu64 " same %" PRIu64 "/%" PRIu64 " sup %" PRIu64
                     "/%" PRIu64 ")",
                     seed, step, kind, st.added, exp_add, st.replaced, exp_rep, st.unchanged,
                     exp_same, st.superseded, exp_sup);
        cr_assert_eq(st.deleted, exp_del, "seed %" PRIu64 " step %d: deleted", seed, step);
        cr_assert_eq(st.replaced, exp_rep, "seed %" PRIu64 " step %d: replaced", seed, step);
        cr_assert_eq(st.unchanged, exp_same, "seed %" PRIu64 " step %d: unchanged", seed, step);
        cr_assert_eq(st.superseded, exp_sup, "seed %" PRIu64 " step %d: superseded", seed, step);

        index_description desc;
        se_error err = {0};
        cr_assert_eq(index_verify(inc, &desc, &err), SE_OK, "seed %" PRIu64 " step %d: %s", seed,
                     step, err.msg);
        check_contents(inc, &s);
        compare_with_fresh(&r, inc, fresh, jsonl, &s);
    }
    for (uint32_t i = 0; i < POOL_IDS; i++) set_doc(&s.docs[i], NULL, NULL);
}

Test(incremental, matches_a_fresh_index_after_every_step)
{
    uint64_t rounds = env_u64("SE_INCREMENTAL_ROUNDS", 6);
    uint64_t seed = env_u64("SE_INCREMENTAL_SEED", 0x1ace5eedu);
    for (uint64_t k = 0; k < rounds; k++) one_round(seed + k, g_tmp);
}

Test(incremental, segment_count_stays_logarithmic)
{
    char dir[4096], jsonl[4096];
    snprintf(dir, sizeof dir, "%s/adds", g_tmp);
    snprintf(jsonl, sizeof jsonl, "%s/one.jsonl", g_tmp);
    uint32_t most = 0;
    for (uint32_t n = 1; n <= ADDITIONS; n++) {
        FILE *f = fopen(jsonl, "w");
        cr_assert_not_null(f);
        fprintf(f, "{\"id\": \"a%u\", \"title\": \"t%u\", \"text\": \"river stone %u\"}\n", n, n,
                n);
        cr_assert_eq(fclose(f), 0);
        build_options bo = {0};
        build_stats st;
        run_build(dir, jsonl, &bo, &st);
        cr_assert_eq(st.added, 1);
        cr_assert_eq(st.live_docs, n);
        uint32_t bound = (MERGE_POLICY_FACTOR - 1) * (uint32_t)(floor(log10((double)n) + 1e-9) + 1);
        cr_assert(st.segments <= bound, "%u documents in %u segments (bound %u)", n, st.segments,
                  bound);
        if (st.segments > most) most = st.segments;
    }
    index_description d;
    se_error err = {0};
    cr_assert_eq(index_verify(dir, &d, &err), SE_OK, "%s", err.msg);
    cr_assert_eq(d.documents, ADDITIONS);
    printf("incremental: %u single-document additions: at most %u segments, %u at the end\n",
           ADDITIONS, most, d.segments);
}
