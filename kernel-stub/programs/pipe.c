/* pipe: pipes as programs use them (issue 8): pipe2 flags, F_GETFD/F_GETFL, a read that
 * waits for a forked writer, EOF when the last writer exits, a blocking write of more than
 * any pipe holds, O_NONBLOCK's EAGAIN, EPIPE with SIGPIPE ignored and death by SIGPIPE by
 * default, dup/dup2/dup3/F_DUPFD_CLOEXEC, readv/writev, a thread woken by another thread's
 * write. Nothing printed depends on the pipe's capacity. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *err(int r)
{
    return r < 0 ? strerror(errno) : "ok";
}

static int tp[2];

static void *reader(void *arg)
{
    char b[16] = {0};
    ssize_t n = read(tp[0], b, sizeof b - 1);
    (void)arg;
    printf("thread: read %zd \"%s\"\n", n, b);
    return NULL;
}

int main(void)
{
    int p[2];
    printf("pipe2(0x1): %s\n", err(pipe2(p, 1)));
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0)
        return 1;
    printf("flags: cloexec %d %d, read end mode %d nonblock %d, write end mode %d\n",
           fcntl(p[0], F_GETFD), fcntl(p[1], F_GETFD), fcntl(p[0], F_GETFL) & O_ACCMODE,
           !!(fcntl(p[0], F_GETFL) & O_NONBLOCK), fcntl(p[1], F_GETFL) & O_ACCMODE);
    char b[64];
    printf("empty nonblocking read: %s\n", err(read(p[0], b, sizeof b)));
    printf("read of the write end: %s, write to the read end: %s\n",
           err(read(p[1], b, 1)), err(write(p[0], "x", 1)));
    close(p[0]);
    close(p[1]);

    /* A read that waits for a child's write, then EOF when the child exits. */
    if (pipe(p) != 0)
        return 1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        usleep(20000);
        write(p[1], "from the child", 14);
        _exit(0);
    }
    close(p[1]);
    ssize_t n = read(p[0], b, sizeof b);
    printf("parent read %zd: %.*s\n", n, (int)(n > 0 ? n : 0), b);
    n = read(p[0], b, sizeof b);
    printf("after the child's exit: %zd\n", n);
    waitpid(pid, NULL, 0);
    close(p[0]);

    /* A blocking write of 200000 bytes, read in small pieces. */
    if (pipe(p) != 0)
        return 1;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        static char big[200000];
        for (size_t i = 0; i < sizeof big; i++)
            big[i] = (char)(i * 7);
        close(p[0]);
        ssize_t w = write(p[1], big, sizeof big);
        _exit(w == (ssize_t)sizeof big ? 3 : 4);
    }
    close(p[1]);
    long total = 0;
    unsigned sum = 0, bad = 0;
    while ((n = read(p[0], b, 37)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            if (b[i] != (char)((total + i) * 7))
                bad++;
        for (ssize_t i = 0; i < n; i++)
            sum = sum * 31 + (unsigned char)b[i];
        total += n;
    }
    int st = 0;
    waitpid(pid, &st, 0);
    printf("big write: read %ld bytes, %u out of place, checksum %08x, writer status %d\n",
           total, bad, sum, WEXITSTATUS(st));
    close(p[0]);

    /* A reader blocked while the only writer, another process, exits without writing. */
    if (pipe(p) != 0)
        return 1;
    fflush(stdout);
    pid_t a = fork();
    if (a == 0) {
        close(p[1]);
        _exit(read(p[0], b, 1) == 0 ? 7 : 8);
    }
    pid_t w = fork();
    if (w == 0) {
        close(p[0]);
        usleep(20000);
        _exit(0);
    }
    close(p[0]);
    close(p[1]);
    waitpid(a, &st, 0);
    printf("blocked reader after the writer's exit: status %d\n", WEXITSTATUS(st));
    waitpid(w, NULL, 0);

    /* EPIPE with SIGPIPE ignored; death by SIGPIPE by default. */
    if (pipe(p) != 0)
        return 1;
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    printf("write without readers: %s\n", err(write(p[1], "x", 1)));
    signal(SIGPIPE, SIG_DFL);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        write(p[1], "x", 1);
        _exit(0);
    }
    waitpid(pid, &st, 0);
    printf("child writing without readers: signaled %d, signal %d\n", WIFSIGNALED(st),
           WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    close(p[1]);

    /* dup, dup2, dup3, F_DUPFD_CLOEXEC, readv/writev. */
    if (pipe(p) != 0)
        return 1;
    printf("dup3(fd, fd): %s, dup3 flags 1: %s, dup2(fd, fd) = %d, dup2 of a closed fd: %s\n",
           err(dup3(p[0], p[0], 0)), err(syscall(SYS_dup3, p[0], 50, 1)), dup2(p[0], p[0]),
           err(dup2(99, 50)));
    int d = fcntl(p[1], F_DUPFD_CLOEXEC, 20);
    printf("F_DUPFD_CLOEXEC from 20: %d, cloexec %d\n", d, fcntl(d, F_GETFD));
    int e = dup2(p[0], 40);
    int f = dup(p[1]);
    printf("dup2 to 40: %d, dup: %d\n", e, f);
    close(p[1]);
    close(d);
    struct iovec out[2] = {{"vec", 3}, {"tored", 5}};
    printf("writev: %zd\n", writev(f, out, 2));
    close(f);
    char x[4] = {0}, y[8] = {0};
    struct iovec in[2] = {{x, 3}, {y, 7}};
    n = readv(40, in, 2);
    printf("readv: %zd \"%s\" \"%s\", then %zd\n", n, x, y, read(e, b, 1));
    close(p[0]);
    close(40);
    printf("close of a closed fd: %s\n", err(close(40)));

    /* A thread blocked in read, woken by the main thread's write. */
    if (pipe(tp) != 0)
        return 1;
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    usleep(20000);
    write(tp[1], "wake up", 7);
    pthread_join(t, NULL);
    close(tp[0]);
    close(tp[1]);
    return 0;
}
