/*
 * main.c - bin/index: the command-line front end of the indexer.
 *
 * Parses options, opens the inputs, runs build_index, and turns status
 * codes into messages and exit codes (documented in --help and README).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/analyzer.h"
#include "common/index.h"
#include "common/version.h"
#include "indexer/build.h"
#include "indexer/input.h"
#include "indexer/verify.h"

enum {
    EXIT_OK = 0,
    EXIT_WARNINGS = 1, /* committed, but some inputs were skipped or repaired */
    EXIT_USAGE = 2,
    EXIT_INDEX = 3, /* the index directory: not an index, locked, corrupt */
    EXIT_INPUT = 4, /* an input path missing or unreadable, or no documents */
    EXIT_WRITE = 5, /* writing failed: disk full, I/O error, out of memory */
};

static const char *progname = "index";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [options] PATH...\n"
            "       %s --delete [-i DIR] ID...\n"
            "       %s --optimize | --verify | --stats | --list [-i DIR]\n"
            "Add articles to an index directory, creating it if needed.  Each PATH is a\n"
            "directory (walked recursively for .txt, .md and .jsonl[.gz|.zst] files), a file,\n"
            "or '-' for JSONL on standard input.  A document whose id is new is added, one\n"
            "whose content changed replaces the indexed copy, an unchanged one is skipped.\n"
            "Every run is committed atomically: searches see the previous generation until\n"
            "the new one is complete, and an interrupted run loses nothing committed before.\n"
            "\n"
            "  -i, --index DIR      index directory (default: $SEARCH_INDEX, else ./index)\n"
            "      --sync           also delete the documents the inputs no longer hold\n"
            "      --rebuild        write the index from scratch from the inputs\n"
            "      --analyzer NAME  analysis of a new or rebuilt index: porter (default),\n"
            "                       porter-stop, english, english-stop (kept by the index)\n"
            "      --delete         the arguments are ids of documents to delete\n"
            "      --optimize       merge the index into one segment without deletions\n"
            "      --merge-factor N segments per level before a merge (2..32, default 10)\n"
            "      --no-merge       do not merge segments after this run\n"
            "  -m, --memory MB      memory budget of one in-memory batch (default 256)\n"
            "  -t, --threads N      indexing threads, 1..256 (default 1); the index is the\n"
            "                       same for every N\n"
            "      --max-doc-mb N   skip documents larger than N MiB (default 64)\n"
            "      --store-level N  zlib level 1-9 of the document store (default 1)\n"
            "  -q, --quiet          print only errors and warnings\n"
            "      --verify         check every checksum and structure of the index\n"
            "      --stats          print documents, terms, segments and sizes\n"
            "      --list           print the id of every live document\n"
            "  -h, --help           this help\n"
            "  -V, --version        print the version\n"
            "\n"
            "Exit status: 0 done; 1 done, but some inputs were skipped or repaired, or ids\n"
            "to delete were not found (see the warnings); 2 usage error; 3 index directory\n"
            "problem (not an index, locked by another writer, corrupt); 4 input problem\n"
            "(missing or unreadable path, read error, nothing to index); 5 write failure\n"
            "(disk full, I/O error, out of memory).  On 2-5 nothing was committed, except\n"
            "when the message says the documents were committed and a later merge failed.\n",
            progname, progname, progname);
}

typedef struct cli {
    int quiet;
    int tty;
    uint64_t warnings;
} cli;

static void warn(void *ctx, const char *source, uint64_t line, const char *message)
{
    cli *c = ctx;
    c->warnings++;
    if (c->tty && !c->quiet) fputs("\r\033[K", stderr);
    if (line)
        fprintf(stderr, "%s: warning: %s:%llu: %s\n", progname, source, (unsigned long long)line,
                message);
    else
        fprintf(stderr, "%s: warning: %s: %s\n", progname, source, message);
}

static void not_found(void *ctx, const char *id)
{
    cli *c = ctx;
    c->warnings++;
    fprintf(stderr, "%s: warning: no document with id '%s' in the index\n", progname, id);
}

static void progress(void *ctx, const build_stats *st)
{
    const cli *c = ctx;
    if (c->quiet || !c->tty) return;
    double mb = (double)st->bytes / 1e6;
    fprintf(stderr, "\r\033[K  %llu documents  %.1f MB  %.1f MB/s  %.1f s",
            (unsigned long long)st->documents, mb, st->seconds > 0 ? mb / st->seconds : 0.0,
            st->seconds);
}

static int parse_size(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end != 0 || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int exit_code_for(int rc, int phase_input)
{
    switch (rc) {
    case SE_LOCKED:
    case SE_CORRUPT:
    case SE_FORMAT:
        return EXIT_INDEX;
    case SE_INVALID:
    case SE_NOTFOUND:
        return phase_input ? EXIT_INPUT : EXIT_INDEX;
    case SE_IO:
        return phase_input ? EXIT_INPUT : EXIT_WRITE;
    default:
        return EXIT_WRITE;
    }
}

static void human(char *buf, size_t cap, uint64_t bytes)
{
    if (bytes >= 1000000)
        snprintf(buf, cap, "%.1f MB", (double)bytes / 1e6);
    else if (bytes >= 10000)
        snprintf(buf, cap, "%.1f KB", (double)bytes / 1e3);
    else
        snprintf(buf, cap, "%llu B", (unsigned long long)bytes);
}

/* --verify (deep) and --stats. */
static int run_verify(const char *dir, int deep)
{
    index_description d;
    se_error err = {0};
    int rc = deep ? index_verify(dir, &d, &err) : index_describe(dir, &d, &err);
    if (rc != SE_OK) {
        fprintf(stderr, "%s: %s%s\n", progname, deep ? "verify failed: " : "", err.msg);
        return rc == SE_NOMEM ? EXIT_WRITE : EXIT_INDEX;
    }
    if (deep) {
        printf("%s: ok: generation %llu, %u segment(s), %llu documents (%llu deleted), %llu terms "
               "and %llu title-field terms, %llu postings, %llu positions checked\n",
               dir, (unsigned long long)d.generation, d.segments, (unsigned long long)d.documents,
               (unsigned long long)d.deleted, (unsigned long long)d.terms,
               (unsigned long long)d.title_terms,
               (unsigned long long)(d.postings + d.title_postings),
               (unsigned long long)(d.positions + d.title_positions));
        return EXIT_OK;
    }
    uint64_t total = d.manifest_bytes + d.deletions_bytes;
    for (int f = 0; f < SEG_NFILES; f++) total += d.file_bytes[f];
    printf("index       %s\ngeneration  %llu\nsegments    %u\ndocuments   %llu live, %llu deleted\n"
           "terms       %llu (summed over segments)\npostings    %llu\npositions   %llu\n"
           "tokens      %llu\n"
           "title field %llu terms, %llu postings, %llu positions (not counted above)\n",
           dir, (unsigned long long)d.generation, d.segments, (unsigned long long)d.documents,
           (unsigned long long)d.deleted, (unsigned long long)d.terms,
           (unsigned long long)d.postings, (unsigned long long)d.positions,
           (unsigned long long)d.tokens, (unsigned long long)d.title_terms,
           (unsigned long long)d.title_postings, (unsigned long long)d.title_positions);
    static const char *const what[SEG_NFILES] = {"dictionary", "postings", "positions",
                                                 "document table", "document store"};
    char h[32];
    for (int f = 0; f < SEG_NFILES; f++) {
        human(h, sizeof h, d.file_bytes[f]);
        printf("  .%s  %-15s %10s  (%.1f%%)\n", seg_file_ext[f], what[f], h,
               total ? 100.0 * (double)d.file_bytes[f] / (double)total : 0.0);
    }
    human(h, sizeof h, d.deletions_bytes);
    printf("  .del  %-15s %10s  (%.1f%%)\n", "deletions", h,
           total ? 100.0 * (double)d.deletions_bytes / (double)total : 0.0);
    human(h, sizeof h, d.manifest_bytes);
    printf("  MANIFEST              %10s\n", h);
    human(h, sizeof h, total);
    printf("  total                 %10s\n", h);
    if (d.postings)
        printf("postings file: %.2f bytes (%.1f bits) per posting; positions file: %.2f bytes per "
               "position\n",
               (double)d.file_bytes[SEG_POST] / (double)d.postings,
               8.0 * (double)d.file_bytes[SEG_POST] / (double)d.postings,
               d.positions ? (double)d.file_bytes[SEG_POS] / (double)d.positions : 0.0);
    return EXIT_OK;
}

/* --list: the ids of the live documents, segment by segment. */
static int run_list(const char *dir)
{
    index_reader *ix;
    se_error err = {0};
    int rc = index_open(&ix, dir, &err);
    if (rc != SE_OK) {
        fprintf(stderr, "%s: %s\n", progname, err.msg);
        return rc == SE_NOMEM ? EXIT_WRITE : EXIT_INDEX;
    }
    for (uint32_t i = 0; i < ix->nsegments; i++) {
        const segment *seg = ix->segments[i];
        const uint64_t *deleted = segment_deleted_bits(seg);
        seg_id_iter ids;
        seg_id_iter_init(&ids, seg);
        for (uint32_t d = 0; seg_id_iter_next(&ids); d++) {
            if (deleted && dels_is_deleted(deleted, d)) continue;
            fwrite(ids.id, 1, ids.len, stdout);
            putchar('\n');
        }
    }
    index_close(ix);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_WRITE;
}

int main(int argc, char **argv)
{
    const char *dir = getenv("SEARCH_INDEX");
    if (!dir || !*dir) dir = "index";
    long memory_mb = 256, max_doc_mb = 64, level = 1;
    cli c = {0};
    int mode = 0; /* 0 index, 'Y' verify, 'S' stats, 'l' list */
    int deleting = 0, optimize = 0, no_merge = 0;
    long merge_factor = 0, threads = 1;
    enum build_mode bmode = BUILD_UPDATE;
    int analysis_given = 0;
    uint32_t analysis = ANALYZER_DEFAULT;
    static const struct option opts[] = {{"index", required_argument, 0, 'i'},
                                         {"memory", required_argument, 0, 'm'},
                                         {"max-doc-mb", required_argument, 0, 'D'},
                                         {"store-level", required_argument, 0, 'L'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {"version", no_argument, 0, 'V'},
                                         {"verify", no_argument, 0, 'Y'},
                                         {"stats", no_argument, 0, 'S'},
                                         {"list", no_argument, 0, 'l'},
                                         {"sync", no_argument, 0, 's'},
                                         {"rebuild", no_argument, 0, 'R'},
                                         {"delete", no_argument, 0, 'x'},
                                         {"optimize", no_argument, 0, 'O'},
                                         {"no-merge", no_argument, 0, 'N'},
                                         {"merge-factor", required_argument, 0, 'F'},
                                         {"analyzer", required_argument, 0, 'A'},
                                         {"threads", required_argument, 0, 't'},
                                         {0, 0, 0, 0}};
    int ch;
    argv[0] = (char *)progname; /* getopt's own messages: "index: ..." like ours */
    while ((ch = getopt_long(argc, argv, "i:m:t:qhV", opts, NULL)) != -1) {
        switch (ch) {
        case 'i':
            dir = optarg;
            break;
        case 'm':
            if (parse_size(optarg, 4, 1 << 20, &memory_mb)) {
                fprintf(stderr, "%s: --memory takes a number of MiB (4..1048576)\n", progname);
                return EXIT_USAGE;
            }
            break;
        case 'Y':
        case 'S':
        case 'l':
            mode = ch;
            break;
        case 's':
            bmode = BUILD_SYNC;
            break;
        case 'R':
            bmode = BUILD_REBUILD;
            break;
        case 'x':
            deleting = 1;
            break;
        case 'A':
            if (analyzer_settings_parse(optarg, &analysis) != SE_OK) {
                fprintf(stderr,
                        "%s: --analyzer takes english, english-stop, porter or porter-stop\n",
                        progname);
                return EXIT_USAGE;
            }
            analysis_given = 1;
            break;
        case 'O':
            optimize = 1;
            break;
        case 'N':
            no_merge = 1;
            break;
        case 'F':
            if (parse_size(optarg, 2, 32, &merge_factor)) {
                fprintf(stderr, "%s: --merge-factor takes 2..32\n", progname);
                return EXIT_USAGE;
            }
            break;
        case 't':
            if (parse_size(optarg, 1, 256, &threads)) {
                fprintf(stderr, "%s: --threads takes 1..256\n", progname);
                return EXIT_USAGE;
            }
            break;
        case 'D':
            if (parse_size(optarg, 1, 1024, &max_doc_mb)) {
                fprintf(stderr, "%s: --max-doc-mb takes a number of MiB (1..1024)\n", progname);
                return EXIT_USAGE;
            }
            break;
        case 'L':
            if (parse_size(optarg, 1, 9, &level)) {
                fprintf(stderr, "%s: --store-level takes 1..9\n", progname);
                return EXIT_USAGE;
            }
            break;
        case 'q':
            c.quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case 'V':
            printf("index %s\n", SE_VERSION);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (mode) {
        if (optind < argc) {
            fprintf(stderr, "%s: --verify, --stats and --list take no PATH\n", progname);
            return EXIT_USAGE;
        }
        if (mode == 'l') return run_list(dir);
        return mode == 'Y' ? run_verify(dir, 1) : run_verify(dir, 0);
    }
    if (deleting && bmode != BUILD_UPDATE) {
        fprintf(stderr, "%s: --delete does not combine with --sync or --rebuild\n", progname);
        return EXIT_USAGE;
    }
    if (optind >= argc && !optimize) {
        fprintf(stderr, "%s: no %s given (try '%s corpus/')\n", progname, deleting ? "id" : "input",
                progname);
        usage(stderr);
        return EXIT_USAGE;
    }
    c.tty = isatty(STDERR_FILENO);
    input_options io = {.max_doc_bytes = (size_t)max_doc_mb << 20, .warn = warn, .warn_ctx = &c};
    input_reader *in = NULL;
    se_error err = {0};
    int rc = SE_OK;
    if (!deleting && optind < argc)
        rc =
            input_open(&in, (const char *const *)argv + optind, (size_t)(argc - optind), &io, &err);
    if (rc != SE_OK) {
        fprintf(stderr, "%s: %s\n", progname, err.msg);
        fprintf(stderr, "%s: nothing was committed; the index in %s is unchanged\n", progname, dir);
        return exit_code_for(rc, 1);
    }
    build_options bo = {.memory_budget = (size_t)memory_mb << 20,
                        .store_level = (int)level,
                        .mode = bmode,
                        .optimize = optimize,
                        .no_merge = no_merge,
                        .merge_factor = (unsigned)merge_factor,
                        .analysis_given = analysis_given,
                        .analysis = analysis,
                        .threads = (unsigned)threads,
                        .progress = progress,
                        .progress_ctx = &c,
                        .not_found = not_found,
                        .not_found_ctx = &c,
                        .warn = warn,
                        .warn_ctx = &c};
    if (deleting) {
        bo.delete_ids = (const char *const *)argv + optind;
        bo.ndelete_ids = (size_t)(argc - optind);
    }
    build_stats st;
    rc = build_index(dir, in, &bo, &st, &err);
    input_stats is = {0};
    if (in) is = input_get_stats(in);
    input_close(in);
    if (c.tty && !c.quiet) fputs("\r\033[K", stderr);
    /* SEARCH_INDEX_TIMES=1: where the wall time went, for tuning. */
    const char *times = getenv("SEARCH_INDEX_TIMES");
    if (times && *times && strcmp(times, "0") != 0)
        fprintf(stderr,
                "%s: times: read %.2f s, last ranges %.2f s, last batch and deletions %.2f s, "
                "merge %.2f s, commit %.2f s, merge policy %.2f s, total %.2f s\n",
                progname, st.read_seconds, st.drain_seconds, st.flush_seconds, st.merge_seconds,
                st.commit_seconds, st.policy_seconds, st.seconds);
    if (rc != SE_OK) {
        int phase_input = st.input_error;
        fprintf(stderr, "%s: %s\n", progname, err.msg);
        if (st.commit_unknown)
            fprintf(stderr,
                    "%s: generation %llu is in place, but a crash before the directory is synced "
                    "could bring back the previous one; both are kept complete\n",
                    progname, (unsigned long long)st.generation);
        else if (st.committed)
            fprintf(stderr,
                    "%s: the documents were committed (generation %llu); only merging "
                    "segments failed\n",
                    progname, (unsigned long long)st.generation);
        else
            fprintf(stderr, "%s: nothing was committed; the index in %s is unchanged\n", progname,
                    dir);
        return exit_code_for(rc, phase_input);
    }
    if (!c.quiet) {
        double mb = (double)st.bytes / 1e6;
        fprintf(stderr, "%s: %llu added, %llu replaced, %llu deleted, %llu unchanged", progname,
                (unsigned long long)st.added, (unsigned long long)st.replaced,
                (unsigned long long)st.deleted, (unsigned long long)st.unchanged);
        if (st.superseded)
            fprintf(stderr, " (%llu superseded by a later copy in the same run)",
                    (unsigned long long)st.superseded);
        if (st.not_found)
            fprintf(stderr, "; %llu id(s) not found", (unsigned long long)st.not_found);
        fprintf(stderr, "\n");
        if (st.documents)
            fprintf(stderr,
                    "%s: indexed %llu documents (%llu tokens, %.1f MB of text) in %.2f s "
                    "(%.1f MB/s); new segment: %llu terms, %.1f MB, from %llu batch(es)\n",
                    progname, (unsigned long long)st.documents, (unsigned long long)st.tokens, mb,
                    st.seconds, st.seconds > 0 ? mb / st.seconds : 0.0,
                    (unsigned long long)st.terms, (double)st.index_bytes / 1e6,
                    (unsigned long long)st.batches);
        if (st.committed)
            fprintf(stderr,
                    "%s: %s: generation %llu, %llu documents in %u segment(s) (%llu merge(s))\n",
                    progname, dir, (unsigned long long)st.generation,
                    (unsigned long long)st.live_docs, st.segments, (unsigned long long)st.merges);
        else
            fprintf(stderr, "%s: %s: nothing changed (generation %llu, %llu documents)\n", progname,
                    dir, (unsigned long long)st.generation, (unsigned long long)st.live_docs);
        if (is.skipped || is.repaired_utf8 || st.long_terms)
            fprintf(stderr,
                    "%s: %llu input(s) skipped, %llu repaired (invalid UTF-8), %llu over-long "
                    "token(s) not indexed\n",
                    progname, (unsigned long long)is.skipped, (unsigned long long)is.repaired_utf8,
                    (unsigned long long)st.long_terms);
        if (st.cut_docs)
            fprintf(stderr,
                    "%s: %llu document(s) cut at %lu positions (the rest of their text is not "
                    "indexed)\n",
                    progname, (unsigned long long)st.cut_docs,
                    (unsigned long)ANALYZER_MAX_POSITIONS);
    }
    return (is.skipped || is.repaired_utf8 || st.not_found || st.cut_docs) ? EXIT_WARNINGS
                                                                           : EXIT_OK;
}
