/*
 * e2e.h - helpers for the end-to-end tests of bin/index and bin/search:
 * where the binaries and the shared data are, running a binary with a time
 * limit, and parsing `search --json` output.
 *
 * The test programs run from the repository root; the Makefile passes
 * SE_BIN_DIR (the directory holding index and search), SE_DATA_DIR and
 * SE_SEEDS_DIR.  Without them the defaults are bin/, ../shared/data and
 * ../shared/seeds relative to the repository root.
 *
 * A binary that cannot be started for a moment because a concurrent build
 * is replacing it (ETXTBSY, EACCES, ENOENT) is retried for about two
 * seconds.
 */
#ifndef TESTS_E2E_H
#define TESTS_E2E_H

#include <stddef.h>

#include "tests/support/run.h"

const char *e2e_bin_dir(void);
const char *e2e_data_dir(void);
const char *e2e_seeds_dir(void);

/* Run $SE_BIN_DIR/prog with the arguments that follow (NULL-terminated, at
 * most 64; use e2e_runv for more) and a time limit in seconds.  Returns what
 * run_argv returns; *r is filled either way. */
int e2e_run(run_result *r, double timeout, const char *prog, ...) __attribute__((sentinel));

/* The same with an argument array of n entries. */
int e2e_runv(run_result *r, double timeout, const char *prog, const char *const *args, size_t n);

/* The same with stdin read from a file. */
int e2e_runv_stdin(run_result *r, double timeout, const char *stdin_path, const char *prog,
                   const char *const *args, size_t n);

/* The same with run options (resource limits, user ids; NULL for none) and
 * stdin from a file (NULL: /dev/null). */
int e2e_runv_opts(run_result *r, double timeout, const run_options *opts, const char *stdin_path,
                  const char *prog, const char *const *args, size_t n);

/* Start $SE_BIN_DIR/prog with n arguments, stdin /dev/null, to run
 * unattended (run_start); 0 or -1 with errno. */
int e2e_start(run_child **c, const char *prog, const char *const *args, size_t n);

/* One line of `search --json`. */
typedef struct e2e_hit {
    char *qid; /* NULL unless --batch */
    long rank;
    char *id;
    double score;
    char *title;
    char *snippet; /* NULL with --no-snippets */
} e2e_hit;

typedef struct e2e_hits {
    size_t n;
    e2e_hit *hits;
} e2e_hits;

/* Parse `search --json` output: every line must be a JSON object with an
 * integer "rank", string "id", number "score", string "title" and (when
 * want_snippet) string "snippet".  Returns 0, or -1 with the offending line
 * and the reason in why (h is emptied then). */
int e2e_parse_hits(const char *out, int want_snippet, e2e_hits *h, char *why, size_t why_cap);

/* Index of the hit with this id, or -1. */
long e2e_hits_find(const e2e_hits *h, const char *id);

void e2e_hits_free(e2e_hits *h);

#endif
