/* signal: default signal actions as a libc program sees them (issue 8): kill of a child with
 * SIGTERM and SIGKILL ends it (waitpid: WIFSIGNALED, WTERMSIG), raise(SIGKILL) in a child,
 * tgkill-based pthread_kill of the child's own thread, SIGCHLD's default is to ignore,
 * kill(pid, 0) probes, EINVAL and ESRCH. No handlers run (none are installed). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>

static void report(const char *what, pid_t c)
{
    int st = 0;
    pid_t w = waitpid(c, &st, 0);
    printf("%s: reaped %s, signaled %d, signal %d, exited %d\n", what, w == c ? "yes" : "no",
           WIFSIGNALED(st), WIFSIGNALED(st) ? WTERMSIG(st) : 0, WIFEXITED(st));
}

int main(void)
{
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        struct timespec t = {10, 0};
        nanosleep(&t, NULL);
        _exit(0);
    }
    printf("kill(child, 0): %d\n", kill(c, 0));
    printf("kill(child, SIGTERM): %d\n", kill(c, SIGTERM));
    report("SIGTERM child", c);

    fflush(stdout);
    c = fork();
    if (c == 0) {
        for (;;)
            sched_yield();
    }
    kill(c, SIGKILL);
    report("SIGKILL child", c);

    fflush(stdout);
    c = fork();
    if (c == 0) {
        raise(SIGKILL);
        _exit(1);
    }
    report("raise(SIGKILL) child", c);

    fflush(stdout);
    c = fork();
    if (c == 0) {
        pthread_kill(pthread_self(), SIGTERM);
        _exit(1);
    }
    report("pthread_kill(self, SIGTERM) child", c);

    printf("kill(self, SIGCHLD) (ignored by default): %d, still running\n", kill(getpid(), SIGCHLD));
    printf("kill(self, 0): %d\n", kill(getpid(), 0));
    int r = kill(getpid(), 65);
    printf("kill with signal 65: %s\n", r < 0 && errno == EINVAL ? "EINVAL" : "other");
    r = kill(c, 0);
    printf("kill of a reaped child: %s\n", r < 0 && errno == ESRCH ? "ESRCH" : "other");
    return 0;
}
