/* fork: processes as a libc program makes them (issue 8, suite (b)): fork with copy-on-write
 * memory, exit statuses through waitpid, waitpid(-1) for several children, WNOHANG, vfork +
 * _exit, and ECHILD when nothing is left. Output is deterministic (no pids are printed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int shared_value = 1;
static char big[64 * 1024];

int main(void)
{
    pid_t me = getpid();
    memset(big, 'p', sizeof big);
    fflush(stdout);
    pid_t c = fork();
    if (c < 0) {
        printf("fork: %s\n", strerror(errno));
        return 1;
    }
    if (c == 0) {
        shared_value = 2;
        memset(big, 'c', sizeof big);
        _exit(getppid() == me ? 7 : 8);
    }
    int st = 0;
    pid_t w = waitpid(c, &st, 0);
    printf("waitpid returned the child: %s\n", w == c ? "yes" : "no");
    printf("child exited: %d, status %d\n", WIFEXITED(st), WEXITSTATUS(st));
    printf("parent memory after the child wrote its copy: value %d, big[100] %c\n", shared_value,
           big[100]);

    enum { N = 5 };
    pid_t kids[N];
    for (int i = 0; i < N; i++) {
        fflush(stdout);
        kids[i] = fork();
        if (kids[i] == 0)
            _exit(10 + i);
    }
    int sum = 0, found = 0;
    for (int i = 0; i < N; i++) {
        w = waitpid(-1, &st, 0);
        for (int j = 0; j < N; j++)
            if (kids[j] == w) {
                found++;
                sum += WEXITSTATUS(st);
            }
    }
    printf("waitpid(-1) reaped %d of %d children, statuses sum %d\n", found, N, sum);
    printf("waitpid with no children: %s\n", waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD
                                                 ? "ECHILD"
                                                 : "something else");

    fflush(stdout);
    c = fork();
    if (c == 0) {
        for (volatile int spin = 0; spin < 1000; spin++)
            ;
        _exit(0);
    }
    w = waitpid(c, &st, WNOHANG);
    printf("WNOHANG: %s\n", w == 0 || w == c ? "ok" : "failed");
    if (w == 0)
        waitpid(c, &st, 0);

    volatile int touched = 0;
    fflush(stdout);
    c = vfork();
    if (c == 0) {
        touched = 1;
        _exit(3);
    }
    waitpid(c, &st, 0);
    printf("vfork: child ran first and shared memory: %d, status %d\n", touched, WEXITSTATUS(st));
    return 0;
}
