/*
 * expect.h - assertion macros shared by the end-to-end tests: exit status
 * and output checks whose failure messages show what the program printed.
 * Macros only (no functions), so a test file that uses a few of them does
 * not trip -Wunused-function.
 */
#ifndef TESTS_E2E_EXPECT_H
#define TESTS_E2E_EXPECT_H

#include <criterion/criterion.h>
#include <string.h>

#include "tests/support/run.h"

/* The child exited normally with this status (no signal, no timeout), and
 * no sanitizer reported anything: ASan's own exit status is 1, which a test
 * expecting 1 (warnings, no hits) would otherwise take for success. */
#define EXPECT_EXIT(r, code, what)                                                                 \
    cr_assert((r)->exit_code == (code) && !(r)->timed_out && !(r)->signal &&                       \
                  !strstr((r)->err, "Sanitizer") && !strstr((r)->err, "runtime error:"),           \
              "%s: expected exit %d, got %s\n--- stderr:\n%.4000s\n--- stdout:\n%.2000s", (what),  \
              (code), run_describe(r), (r)->err, (r)->out)

#define EXPECT_STDERR_HAS(r, text, what)                                                           \
    cr_assert(strstr((r)->err, (text)) != NULL, "%s: stderr does not mention \"%s\":\n%.4000s",    \
              (what), (text), (r)->err)

#define EXPECT_STDOUT_EMPTY(r, what)                                                               \
    cr_assert((r)->out_len == 0, "%s: expected no output, got:\n%.2000s", (what), (r)->out)

#endif
