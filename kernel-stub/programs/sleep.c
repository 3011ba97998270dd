/* sleep: the time calls a libc program uses (issue 8): nanosleep and usleep for 20 ms, an
 * absolute clock_nanosleep on CLOCK_MONOTONIC, an invalid request, gettimeofday against
 * CLOCK_REALTIME. Prints only whether each bound held, never the times themselves. */
#include <errno.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void)
{
    long long t0 = mono_ns();
    struct timespec req = {0, 20 * 1000 * 1000};
    int r = nanosleep(&req, NULL);
    printf("nanosleep 20 ms: returned %d, at least 20 ms passed: %s\n", r,
           mono_ns() - t0 >= 20000000 ? "yes" : "no");

    t0 = mono_ns();
    usleep(20000);
    printf("usleep 20 ms: at least 20 ms passed: %s\n", mono_ns() - t0 >= 20000000 ? "yes" : "no");

    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += 30 * 1000 * 1000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
    long long end = until.tv_sec * 1000000000LL + until.tv_nsec;
    printf("clock_nanosleep absolute: returned %d, woke after the deadline: %s\n", r,
           mono_ns() >= end ? "yes" : "no");

    struct timespec bad = {0, 1000000000};
    r = nanosleep(&bad, NULL);
    printf("nanosleep with tv_nsec 1e9: %s\n", r < 0 && errno == EINVAL ? "EINVAL" : "accepted");
    r = clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL);
    printf("clock_nanosleep on the thread CPU clock: %s\n", r == EINVAL ? "EINVAL" : "other");

    struct timeval tv;
    struct timespec rt;
    gettimeofday(&tv, NULL);
    clock_gettime(CLOCK_REALTIME, &rt);
    long long diff = rt.tv_sec * 1000000LL + rt.tv_nsec / 1000 - (tv.tv_sec * 1000000LL + tv.tv_usec);
    printf("gettimeofday agrees with CLOCK_REALTIME within 1 s: %s\n",
           diff >= 0 && diff < 1000000 ? "yes" : "no");
    return 0;
}
