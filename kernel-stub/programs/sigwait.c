/* sigwait: waiting for signals as a libc program does (issue 8): sigpending shows a blocked
 * signal raised earlier; sigwaitinfo takes it with its siginfo (SI_TKILL from raise, which
 * glibc shows as SI_USER; SI_USER from kill; si_pid); sigtimedwait with a zero and a 50 ms
 * timeout and nothing pending is EAGAIN; sigwait takes a blocked signal another thread sends while it waits; sigsuspend with
 * an empty mask runs the handler of a blocked signal another thread sends and returns EINTR
 * with the old mask back; an invalid timeout is EINVAL; a blocked SIGCHLD taken with
 * sigwaitinfo after a child exits (CLD_EXITED, si_status 7) and after one is killed
 * (CLD_KILLED, 9); sigqueue's SI_QUEUE and si_value; EPERM for rt_sigqueueinfo claiming
 * SI_USER to another process. Prints no pid or time. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_t main_thread;
static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

static void *send_later(void *arg)
{
    usleep(30000);
    pthread_kill(main_thread, (int)(long)arg);
    return NULL;
}

static int blocked(int sig)
{
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    return sigismember(&now, sig);
}

int main(void)
{
    main_thread = pthread_self();
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);

    raise(SIGUSR1);
    sigpending(&pending);
    printf("sigpending: USR1 %d, USR2 %d\n", sigismember(&pending, SIGUSR1),
           sigismember(&pending, SIGUSR2));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = sigwaitinfo(&set, &si);
    /* glibc's sigwaitinfo turns the kernel's SI_TKILL into SI_USER; musl passes it on. */
    printf("sigwaitinfo: %d, si_signo %d, si_code %d, si_pid is self %d\n", r, si.si_signo,
           si.si_code, si.si_pid == getpid());
    sigpending(&pending);
    printf("after: USR1 pending %d\n", sigismember(&pending, SIGUSR1));

    kill(getpid(), SIGUSR2);
    memset(&si, 0, sizeof si);
    struct timespec zero = {0, 0};
    r = sigtimedwait(&set, &si, &zero);
    printf("sigtimedwait after kill: %d, SI_USER %d, si_pid is self %d\n", r,
           si.si_code == SI_USER, si.si_pid == getpid());

    r = sigtimedwait(&set, &si, &zero);
    printf("sigtimedwait, zero timeout: %d %s\n", r, r < 0 ? strerror(errno) : "");
    struct timespec t50 = {0, 50 * 1000 * 1000};
    r = sigtimedwait(&set, &si, &t50);
    printf("sigtimedwait, 50 ms: %d %s\n", r, r < 0 ? strerror(errno) : "");
    struct timespec bad = {0, 1000 * 1000 * 1000};
    r = sigtimedwait(&set, &si, &bad);
    printf("sigtimedwait, tv_nsec 1e9: %d %s\n", r, r < 0 ? strerror(errno) : "");

    pthread_t t;
    pthread_create(&t, NULL, send_later, (void *)(long)SIGUSR2);
    int got = 0;
    r = sigwait(&set, &got);
    pthread_join(t, NULL);
    printf("sigwait for another thread's signal: %d, signal %d\n", r, got);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_create(&t, NULL, send_later, (void *)(long)SIGUSR1);
    sigset_t none;
    sigemptyset(&none);
    r = sigsuspend(&none);
    int e = errno;
    pthread_join(t, NULL);
    printf("sigsuspend: %d %s, handler ran %d, USR1 blocked again %d\n", r, strerror(e),
           (int)handled, blocked(SIGUSR1));

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0)
        _exit(7);
    memset(&si, 0, sizeof si);
    r = sigwaitinfo(&chld, &si);
    printf("SIGCHLD of an exit: %d, CLD_EXITED %d, si_status %d, si_pid is the child %d\n", r,
           si.si_code == CLD_EXITED, si.si_status, si.si_pid == c);
    waitpid(c, NULL, 0);
    c = fork();
    if (c == 0) {
        sleep(10);
        _exit(0);
    }
    kill(c, SIGKILL);
    memset(&si, 0, sizeof si);
    r = sigwaitinfo(&chld, &si);
    printf("SIGCHLD of a kill: %d, CLD_KILLED %d, si_status %d, si_pid is the child %d\n", r,
           si.si_code == CLD_KILLED, si.si_status, si.si_pid == c);
    waitpid(c, NULL, 0);

    union sigval v = {.sival_int = 42};
    r = sigqueue(getpid(), SIGUSR2, v);
    memset(&si, 0, sizeof si);
    int w = sigwaitinfo(&set, &si);
    printf("sigqueue: %d, taken %d, SI_QUEUE %d, si_value %d, si_pid is self %d\n", r, w,
           si.si_code == SI_QUEUE, si.si_value.sival_int, si.si_pid == getpid());
    fflush(stdout);
    c = fork();
    if (c == 0) {
        sleep(10);
        _exit(0);
    }
    siginfo_t fake;
    memset(&fake, 0, sizeof fake);
    fake.si_signo = SIGUSR2;
    fake.si_code = SI_USER;
    long lr = syscall(SYS_rt_sigqueueinfo, c, SIGUSR2, &fake);
    printf("rt_sigqueueinfo claiming SI_USER to another process: %ld %s\n", lr,
           lr ? strerror(errno) : "");
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    return 0;
}
