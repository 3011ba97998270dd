/* sighandler: signal handlers as a libc program uses them (issue 8): a SIGUSR1 handler run by
 * raise, kill and pthread_kill; the SA_SIGINFO fields (si_signo, si_code SI_USER/SI_TKILL,
 * si_pid); sa_mask and the handler's own signal blocked while it runs, and the mask back
 * after; SA_NODEFER; SA_RESETHAND (the second signal kills a child); a handler on the
 * sigaltstack; a SIGSEGV handler for a NULL write that siglongjmps out (SEGV_MAPERR, si_addr);
 * blocking calls interrupted by a handled signal from another thread (nanosleep, futex wait,
 * waitpid, pipe read: EINTR; with SA_RESTART waitpid and read go on); a child killed by an
 * unhandled SIGSEGV. Prints no pid, address or time, only what they satisfy. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* <linux/futex.h> is not among musl-gcc's headers. */
#define FUTEX_WAIT_PRIVATE 128

static volatile sig_atomic_t count, order_len;
static volatile int order[8];
static volatile int seen_signo, seen_code, seen_pid_self, blocked_self, blocked_other;
static volatile int on_alt, alt_flags;
static char altstack[65536];
static sigjmp_buf env;
static volatile void *fault_addr;
static volatile int fault_code, fault_signo;

static void on_usr1(int sig)
{
    (void)sig;
    count++;
}

static void on_info(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    seen_signo = si->si_signo == sig;
    seen_code = si->si_code;
    seen_pid_self = si->si_pid == getpid();
}

static void masked(int sig)
{
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    blocked_self = sigismember(&now, sig);
    blocked_other = sigismember(&now, SIGUSR2);
    order[order_len++] = sig;
    if (sig == SIGUSR1)
        raise(SIGUSR2); /* blocked by sa_mask: runs after this handler returns */
    order[order_len++] = -sig;
}

static void on_alt_stack(int sig)
{
    char here;
    stack_t now;
    (void)sig;
    on_alt = &here >= altstack && &here < altstack + sizeof altstack;
    sigaltstack(NULL, &now);
    alt_flags = now.ss_flags;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    fault_signo = sig;
    fault_code = si->si_code;
    fault_addr = si->si_addr;
    siglongjmp(env, 1);
}

static void install(int sig, void (*h)(int), int flags, int mask_sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (mask_sig)
        sigaddset(&sa.sa_mask, mask_sig);
    sigaction(sig, &sa, NULL);
}

static int is_blocked(int sig)
{
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    return sigismember(&now, sig);
}

/* Another thread signals the main thread every 20 ms until the main thread is done. */
static pthread_t main_thread;
static volatile int done;
static int pipe_fds[2];
static volatile int write_after;

static void *pester(void *arg)
{
    int sig = (int)(intptr_t)arg;
    int n = 0;
    while (!done) {
        usleep(20000);
        if (!done)
            pthread_kill(main_thread, sig);
        if (write_after && ++n == write_after)
            write(pipe_fds[1], "x", 1);
    }
    return NULL;
}

static pthread_t start_pester(int sig)
{
    pthread_t t;
    done = 0;
    pthread_create(&t, NULL, pester, (void *)(intptr_t)sig);
    return t;
}

static void stop_pester(pthread_t t)
{
    done = 1;
    pthread_join(t, NULL);
}

int main(void)
{
    main_thread = pthread_self();

    install(SIGUSR1, on_usr1, 0, 0);
    raise(SIGUSR1);
    kill(getpid(), SIGUSR1);
    pthread_kill(pthread_self(), SIGUSR1);
    printf("SIGUSR1 handler runs: %d times\n", (int)count);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    kill(getpid(), SIGUSR1);
    printf("kill: si_signo %d, si_code SI_USER %d, si_pid is self %d\n", seen_signo,
           seen_code == SI_USER, seen_pid_self);
    raise(SIGUSR1);
    printf("raise: si_signo %d, si_code SI_TKILL %d, si_pid is self %d\n", seen_signo,
           seen_code == SI_TKILL, seen_pid_self);

    install(SIGUSR1, masked, 0, SIGUSR2);
    install(SIGUSR2, masked, 0, 0);
    raise(SIGUSR1);
    printf("sa_mask: order %d %d %d %d, own signal blocked %d, after: USR1 blocked %d, USR2 "
           "blocked %d\n",
           order[0], order[1], order[2], order[3], blocked_self, is_blocked(SIGUSR1),
           is_blocked(SIGUSR2));
    install(SIGUSR2, masked, SA_NODEFER, 0);
    order_len = 0;
    raise(SIGUSR2);
    printf("SA_NODEFER: own signal blocked %d, order %d %d\n", blocked_self, order[0], order[1]);

    count = 0;
    install(SIGUSR1, on_usr1, SA_RESETHAND, 0);
    raise(SIGUSR1);
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    printf("SA_RESETHAND: ran %d, handler now SIG_DFL %d\n", (int)count,
           now.sa_handler == SIG_DFL);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        raise(SIGUSR1);
        _exit(0);
    }
    int st = 0;
    waitpid(c, &st, 0);
    printf("second SIGUSR1 after SA_RESETHAND: signaled %d, signal %d\n", WIFSIGNALED(st),
           WIFSIGNALED(st) ? WTERMSIG(st) : 0);

    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    printf("sigaltstack: %d\n", sigaltstack(&ss, NULL));
    install(SIGUSR2, on_alt_stack, SA_ONSTACK, 0);
    raise(SIGUSR2);
    stack_t after;
    sigaltstack(NULL, &after);
    printf("SA_ONSTACK: on the alternate stack %d, ss_flags inside SS_ONSTACK %d, after %d\n",
           on_alt, alt_flags == SS_ONSTACK, after.ss_flags);
    install(SIGUSR2, on_alt_stack, 0, 0);
    raise(SIGUSR2);
    printf("without SA_ONSTACK: on the alternate stack %d\n", on_alt);

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    if (sigsetjmp(env, 1) == 0) {
        *(volatile int *)0 = 1;
        printf("NULL write: no fault\n");
    } else {
        printf("NULL write: SIGSEGV %d, SEGV_MAPERR %d, si_addr NULL %d, SIGSEGV blocked after "
               "siglongjmp %d\n",
               fault_signo == SIGSEGV, fault_code == SEGV_MAPERR, fault_addr == NULL,
               is_blocked(SIGSEGV));
    }
    signal(SIGSEGV, SIG_DFL);

    install(SIGALRM, on_usr1, 0, 0);
    pthread_t t = start_pester(SIGALRM);
    struct timespec req = {5, 0}, rem = {0, 0};
    int r = nanosleep(&req, &rem);
    int e = errno;
    stop_pester(t);
    printf("nanosleep: %d %s, rem in (0, 5 s) %d\n", r, r ? strerror(e) : "",
           rem.tv_sec < 5 && (rem.tv_sec > 0 || rem.tv_nsec > 0));

    static uint32_t word;
    t = start_pester(SIGALRM);
    long lr = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    e = errno;
    stop_pester(t);
    printf("futex wait: %ld %s\n", lr, lr ? strerror(e) : "");

    fflush(stdout);
    c = fork();
    if (c == 0) {
        usleep(300000);
        _exit(7);
    }
    t = start_pester(SIGALRM);
    r = waitpid(c, &st, 0);
    e = errno;
    stop_pester(t);
    printf("waitpid: %d %s\n", r == c ? 1 : r, r == c ? "" : strerror(e));
    install(SIGALRM, on_usr1, SA_RESTART, 0);
    t = start_pester(SIGALRM);
    r = waitpid(c, &st, 0);
    stop_pester(t);
    printf("waitpid with SA_RESTART: reaped %d, exit status %d\n", r == c, WEXITSTATUS(st));

    pipe(pipe_fds);
    install(SIGALRM, on_usr1, 0, 0);
    t = start_pester(SIGALRM);
    char b;
    r = read(pipe_fds[0], &b, 1);
    e = errno;
    stop_pester(t);
    printf("pipe read: %d %s\n", r, r < 0 ? strerror(e) : "");
    install(SIGALRM, on_usr1, SA_RESTART, 0);
    count = 0;
    write_after = 5;
    t = start_pester(SIGALRM);
    r = read(pipe_fds[0], &b, 1);
    stop_pester(t);
    printf("pipe read with SA_RESTART: %d byte '%c', handler ran %d\n", r, r == 1 ? b : '?',
           count > 0);

    fflush(stdout);
    c = fork();
    if (c == 0) {
        *(volatile int *)0 = 1;
        _exit(0);
    }
    waitpid(c, &st, 0);
    printf("unhandled SIGSEGV child: signaled %d, signal %d\n", WIFSIGNALED(st),
           WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return 0;
}
