/*
 * status.h - error codes shared by every module.
 *
 * Errors are values: a function that can fail returns SE_OK (0) or one of the
 * negative codes below, and never prints.  When there is more to say than the
 * code (a file name, an offset, a line number) the function also takes a
 * `se_error *` and fills its message; the command-line layer prints it.
 * A NULL `se_error *` is always accepted and means "code only".
 */
#ifndef SE_STATUS_H
#define SE_STATUS_H

#include <stddef.h>

enum {
    SE_OK = 0,
    SE_NOMEM = -1,   /* an allocation failed */
    SE_IO = -2,      /* open/read/write/fsync/rename failed (errno in message) */
    SE_CORRUPT = -3, /* an index file failed a checksum or bounds check */
    SE_FORMAT = -4,  /* not an index, or a format version we do not read */
    SE_INVALID = -5, /* bad argument or bad input document */
    SE_SYNTAX = -6,  /* query syntax error */
    SE_LIMIT = -7,   /* a documented limit was exceeded */
    SE_NOTFOUND = -8,
    SE_LOCKED = -9, /* another writer holds the index lock */
    SE_NOSPC = -10, /* no space left on device / quota exceeded */
};

#define SE_ERROR_MAX 512

typedef struct se_error {
    int code;
    char msg[SE_ERROR_MAX];
} se_error;

/* Short stable name of a code ("corrupt index", "out of memory", ...). */
const char *se_status_name(int code);

/* Record `code` and a printf-style message in *err (if err is non-NULL) and
 * return `code`, so callers can write `return se_fail(err, SE_IO, ...)`. */
int se_fail(se_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefix the existing message with "context: " (e.g. a file name). */
void se_error_prefix(se_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Map an errno value from a failed write/open to SE_NOSPC or SE_IO. */
int se_errno_code(int errnum);

#endif
