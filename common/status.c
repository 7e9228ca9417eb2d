/* status.c - error codes and messages (see status.h). */
#include "status.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *se_status_name(int code)
{
    switch (code) {
    case SE_OK:
        return "ok";
    case SE_NOMEM:
        return "out of memory";
    case SE_IO:
        return "I/O error";
    case SE_CORRUPT:
        return "corrupt index";
    case SE_FORMAT:
        return "unsupported format";
    case SE_INVALID:
        return "invalid input";
    case SE_SYNTAX:
        return "query syntax error";
    case SE_LIMIT:
        return "limit exceeded";
    case SE_NOTFOUND:
        return "not found";
    case SE_LOCKED:
        return "index locked";
    case SE_NOSPC:
        return "no space left on device";
    default:
        return "unknown error";
    }
}

int se_fail(se_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void se_error_prefix(se_error *err, const char *fmt, ...)
{
    if (!err) return;
    char prefix[SE_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char joined[2 * SE_ERROR_MAX + 2];
    int n = snprintf(joined, sizeof joined, "%s: %s", prefix, err->msg);
    (void)n;
    memcpy(err->msg, joined, SE_ERROR_MAX - 1);
    err->msg[SE_ERROR_MAX - 1] = 0;
}

int se_errno_code(int errnum)
{
    return (errnum == ENOSPC || errnum == EDQUOT || errnum == EFBIG) ? SE_NOSPC : SE_IO;
}
