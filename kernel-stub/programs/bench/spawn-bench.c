/* spawn-bench: what it costs to start and reap a thread against a process (issue 8, "How it
 * must be proven"): pthread_create + pthread_join of a thread that returns at once, and fork +
 * waitpid of a child that _exits at once. Not part of the compared suite (`cargo xtask
 * programs` compiles only the .c files directly in programs/): its output is timings, which differ from run to run.
 * `cargo xtask programs --bench` runs it natively and in the stub.
 *
 * One process measures ROUNDS rounds; each round times N iterations of each contender,
 * alternating which goes first so neither always runs on a warmer cache. Each round's time
 * per iteration is CLOCK_MONOTONIC after minus before, over N. Printed per contender: the
 * median of the rounds and their min and max (ns), then the median of the per-round ratios
 * fork / pthread (x1000), which is the figure that compares across environments.
 * Optional arguments: N and ROUNDS. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { MAX_ROUNDS = 101 };

static void *nothing(void *arg)
{
    return arg;
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Time per iteration (ns) of n pthread_create + pthread_join; -1 on an error. */
static long long threads(int n)
{
    long long t0 = now_ns();
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, nothing, NULL) != 0 || pthread_join(t, NULL) != 0)
            return -1;
    }
    return (now_ns() - t0) / n;
}

/* Time per iteration (ns) of n fork + waitpid of a child that _exits at once; -1 on an error. */
static long long processes(int n)
{
    long long t0 = now_ns();
    for (int i = 0; i < n; i++) {
        pid_t c = fork();
        if (c < 0)
            return -1;
        if (c == 0)
            _exit(0);
        int st;
        if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return -1;
    }
    return (now_ns() - t0) / n;
}

static int cmp(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Sorts v and prints its median, min and max under name (which says the unit). */
static void summary(const char *name, long long *v, int rounds)
{
    qsort(v, rounds, sizeof v[0], cmp);
    printf("bench %s median=%lld min=%lld max=%lld\n", name, v[rounds / 2], v[0],
           v[rounds - 1]);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 500;
    int rounds = argc > 2 ? atoi(argv[2]) : 11;
    if (n < 1 || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: %s [N >= 1] [ROUNDS 1..%d]\n", argv[0], MAX_ROUNDS);
        return 2;
    }
    long long thr[MAX_ROUNDS], proc[MAX_ROUNDS], ratio[MAX_ROUNDS];
    /* Nothing buffered may be copied into the children. */
    fflush(stdout);
    for (int r = 0; r < rounds; r++) {
        if (r % 2 == 0) {
            thr[r] = threads(n);
            proc[r] = processes(n);
        } else {
            proc[r] = processes(n);
            thr[r] = threads(n);
        }
        if (thr[r] <= 0 || proc[r] <= 0) {
            printf("bench error in round %d (pthread %lld, fork %lld)\n", r, thr[r], proc[r]);
            return 1;
        }
        ratio[r] = proc[r] * 1000 / thr[r];
    }
    printf("bench rounds=%d n=%d\n", rounds, n);
    summary("pthread_create+join_ns", thr, rounds);
    summary("fork+waitpid_ns", proc, rounds);
    summary("fork_per_pthread_x1000", ratio, rounds);
    return 0;
}
