/* theory.h: exact queueing results the validation programs compare the simulator against. */
#ifndef THEORY_H
#define THEORY_H

/* Erlang B: probability that an arrival finds all c servers busy in M/M/c/c with offered load
 * a = lambda / mu (erlangs). Computed by the stable recursion B(k) = a B(k-1) / (k + a B(k-1)). */
static inline double erlang_b(unsigned c, double a)
{
    double b = 1.0;
    for (unsigned k = 1; k <= c; k++) b = a * b / (k + a * b);
    return b;
}

/* Erlang C: probability that an arrival waits in M/M/c with offered load a < c erlangs. The mean
 * wait is erlang_c(c, a) / (c mu - lambda). */
static inline double erlang_c(unsigned c, double a)
{
    double b = erlang_b(c, a);
    return c * b / (c - a * (1.0 - b));
}

#endif
