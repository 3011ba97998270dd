/* poll: poll and ppoll as programs use them (issue 8), on descriptors that behave alike on
 * Linux and in the stub: fd 0 (no input), fd 1 (writable), /dev/null, the program's own
 * file, pipes (POLLIN, POLLOUT, POLLHUP, POLLERR), a closed and a negative descriptor
 * (POLLNVAL, skipped), a pidfd that becomes readable when its process exits and hung up when
 * it is reaped, timeouts of 0, 50 ms and none (woken by a child's write), and the errors:
 * EINVAL past RLIMIT_NOFILE before EFAULT, ppoll's EINVAL/EFAULT for the timeout and the
 * signal set size, the time left written back. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *e(long r)
{
    static char ring[8][32];
    static int next;
    char *buf = ring[next++ % 8];
    if (r >= 0)
        snprintf(buf, 32, "%ld", r);
    else if (errno == EINVAL)
        return "EINVAL";
    else if (errno == EFAULT)
        return "EFAULT";
    else if (errno == ESRCH)
        return "ESRCH";
    else
        snprintf(buf, 32, "errno %d", errno);
    return buf;
}

/* Polls one descriptor for `events` with `timeout` ms: "count revents". */
static const char *one(int fd, short events, int timeout)
{
    static char ring[8][48];
    static int next;
    char *buf = ring[next++ % 8];
    struct pollfd p = {fd, events, 0};
    int r = poll(&p, 1, timeout);
    if (r < 0)
        return e(r);
    snprintf(buf, 48, "%d %#x", r, p.revents);
    return buf;
}

static long ms_since(struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int main(int argc, char **argv)
{
    (void)argc;
    /* An address nothing is mapped at (volatile: so the compiler does not warn about it). */
    void *volatile bad = (void *)8;
    printf("no fds: %s\n", e(poll(NULL, 0, 0)));
    printf("fd 0 POLLIN: %s\n", one(0, POLLIN, 0));
    printf("fd 1 POLLOUT: %s\n", one(1, POLLOUT, 0));
    int nf = open("/dev/null", O_RDWR);
    printf("/dev/null POLLIN|POLLOUT: %s\n", one(nf, POLLIN | POLLOUT, 0));
    int self = open(argv[0], O_RDONLY);
    printf("own file POLLIN: %s\n", one(self, POLLIN, 0));
    printf("closed fd: %s\n", one(999, POLLIN, 0));
    struct pollfd two[2] = {{-1, POLLIN, 7}, {nf, POLLOUT, 0}};
    int r = poll(two, 2, 0);
    printf("negative fd skipped: %d, revents %#x %#x\n", r, two[0].revents, two[1].revents);

    int p[2];
    pipe(p);
    printf("empty pipe: read end %s, write end %s\n", one(p[0], POLLIN, 0),
           one(p[1], POLLOUT, 0));
    write(p[1], "x", 1);
    printf("one byte: read end %s\n", one(p[0], POLLIN | POLLOUT, 0));
    close(p[1]);
    printf("writer closed: %s\n", one(p[0], POLLIN, 0));
    char b[8];
    read(p[0], b, sizeof b);
    printf("drained: %s\n", one(p[0], POLLIN, 0));
    close(p[0]);
    pipe(p);
    close(p[0]);
    printf("reader closed: write end %s\n", one(p[1], POLLOUT, 0));
    close(p[1]);

    /* A 50 ms timeout on an empty pipe, then a wait without one that a child's write ends. */
    pipe(p);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char *r50 = one(p[0], POLLIN, 50);
    long waited = ms_since(&t0);
    printf("50 ms timeout: %s, waited at least 40 ms: %d\n", r50, waited >= 40);
    pid_t c = fork();
    if (c == 0) {
        usleep(30000);
        write(p[1], "y", 1);
        _exit(0);
    }
    printf("no timeout, a child writes: %s\n", one(p[0], POLLIN, -1));
    waitpid(c, NULL, 0);
    close(p[0]);
    close(p[1]);

    /* A pidfd: readable when the process exits, hung up too once it is reaped. */
    c = fork();
    if (c == 0) {
        usleep(50000);
        _exit(3);
    }
    int pfd = syscall(SYS_pidfd_open, c, 0);
    printf("pidfd_open: %s, cloexec %d\n", pfd >= 0 ? "ok" : e(pfd), fcntl(pfd, F_GETFD));
    printf("running: %s\n", one(pfd, POLLIN, 0));
    printf("wait for the exit: %s\n", one(pfd, POLLIN, -1));
    int st;
    waitpid(c, &st, 0);
    printf("reaped (status %d): %s\n", WEXITSTATUS(st), one(pfd, POLLIN, 0));
    close(pfd);
    printf("pidfd_open of it now: %s", e(syscall(SYS_pidfd_open, c, 0)));
    printf(", pid -1: %s", e(syscall(SYS_pidfd_open, -1, 0)));
    printf(", flags 1: %s\n", e(syscall(SYS_pidfd_open, getpid(), 1)));

    /* Errors. */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = 64;
    setrlimit(RLIMIT_NOFILE, &rl);
    struct pollfd many[65];
    memset(many, 0, sizeof many);
    for (int k = 0; k < 65; k++)
        many[k].fd = -1;
    printf("64 fds: %s", e(poll(many, 64, 0)));
    printf(", 65: %s", e(poll(many, 65, 0)));
    printf(", 65 at a bad address: %s", e(poll(bad, 65, 0)));
    printf(", 1 at a bad address: %s\n", e(poll(bad, 1, 0)));
    struct pollfd q = {nf, POLLIN, 0};
    struct timespec ts = {0, 1000000000};
    printf("ppoll tv_nsec 1e9: %s", e(syscall(SYS_ppoll, &q, 1, &ts, NULL, 8)));
    ts.tv_sec = -1;
    ts.tv_nsec = 0;
    printf(", tv_sec -1: %s", e(syscall(SYS_ppoll, &q, 1, &ts, NULL, 8)));
    printf(", bad timespec: %s", e(syscall(SYS_ppoll, &q, 1, bad, NULL, 8)));
    sigset_t none;
    sigemptyset(&none);
    printf(", sigsetsize 4: %s", e(syscall(SYS_ppoll, &q, 1, NULL, &none, 4)));
    printf(", bad set: %s\n", e(syscall(SYS_ppoll, &q, 1, NULL, bad, 8)));
    pipe(p);
    q.fd = p[0];
    ts.tv_sec = 0;
    ts.tv_nsec = 20000000;
    r = syscall(SYS_ppoll, &q, 1, &ts, &none, 8);
    printf("ppoll 20 ms: %s, time left written back below 20 ms: %d\n", e(r),
           ts.tv_sec == 0 && ts.tv_nsec < 20000000);
    q.fd = nf;
    ts.tv_nsec = 20000000;
    r = syscall(SYS_ppoll, &q, 1, &ts, NULL, 8);
    printf("ppoll of a ready fd: %s revents %#x, time left still positive: %d\n", e(r),
           q.revents, ts.tv_nsec > 0);
    return 0;
}
