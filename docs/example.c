/*
 * example.c - search an index with libsearch and print the hits.
 *
 *     cc -o example example.c $(pkg-config --cflags --libs libsearch)
 *     ./example INDEX-DIR 'query' [K]
 *
 * Prints "N matching documents" and then, per hit, its rank, score, id,
 * title and a snippet with the query words between ** markers.  Exits 0
 * with hits, 1 without, 2 on a usage error and 3 on any other error.
 */
#include <libsearch.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: example INDEX-DIR QUERY [K]\n");
        return 2;
    }
    srch_index *ix;
    int rc = srch_index_open(&ix, argv[1]);
    if (rc != SRCH_OK) {
        fprintf(stderr, "example: %s\n", srch_index_errmsg(ix));
        srch_index_close(ix);
        return 3;
    }
    srch_search *s;
    rc = srch_search_new(&s, ix);
    if (rc != SRCH_OK) {
        fprintf(stderr, "example: %s\n", srch_status_name(rc));
        srch_index_close(ix);
        return 3;
    }
    srch_options opt;
    srch_options_init(&opt);
    if (argc == 4) opt.k = (unsigned)strtoul(argv[3], NULL, 10);
    rc = srch_search_run(s, argv[2], &opt);
    if (rc == SRCH_OK) {
        int exact;
        unsigned long long matches = srch_search_matches(s, &exact);
        printf("%s%llu matching documents of %llu\n", exact ? "" : "at least ", matches,
               (unsigned long long)srch_index_documents(ix));
        srch_hit hit;
        while ((rc = srch_search_next(s, &hit)) == 1)
            printf("%zu. %s (score %.4f)\n   %s\n   %s\n", hit.rank, hit.id, hit.score, hit.title,
                   hit.snippet);
    }
    int status = 0;
    if (rc < 0) {
        fprintf(stderr, "example: %s\n", srch_search_errmsg(s));
        status = rc == SRCH_SYNTAX || rc == SRCH_INVALID || rc == SRCH_LIMIT ? 2 : 3;
    } else if (srch_search_hit_count(s) == 0) {
        status = 1;
    }
    srch_search_free(s);
    srch_index_close(ix);
    return status;
}
