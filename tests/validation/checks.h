/* checks.h: the pass/fail bookkeeping the validation programs share. Each check prints one
 * "check=NAME key=value ... pass=0|1" line and counts; main ends with "N passed, M failed". */
#ifndef CHECKS_H
#define CHECKS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int failures, checks;

/* Records a check that passes when `pass`; fmt/... print its figures as key=value pairs. */
static void check_true(const char *name, bool pass, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void check_true(const char *name, bool pass, const char *fmt, ...)
{
    failures += !pass;
    checks++;
    printf("check=%s ", name);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf(" pass=%d\n", pass);
}

#endif
