/* pthreads: a plain libc pthread program, as a user would write it (issue 8, suite (a)).
 * 64 threads created and joined; a mutex-protected counter; a condvar barrier; __thread TLS;
 * pthread_detach; pthread_exit with a value. Output is deterministic: threads only record,
 * the main thread prints after joining. Built unmodified with musl-gcc -static (and any
 * other static libc); `cargo xtask programs` runs the same binary on Linux and in the stub. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 64
#define ROUNDS 1000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int arrived;
static int released;
static __thread int tls_value = 7;
static __thread char tls_name[16];
static int tls_seen[THREADS];

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    if (tls_value != 7)
        return (void *)-1;
    tls_value = id;
    snprintf(tls_name, sizeof tls_name, "t%d", id);
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    arrived++;
    if (arrived == THREADS) {
        released = 1;
        pthread_cond_broadcast(&cond);
    }
    while (!released)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    char want[16];
    snprintf(want, sizeof want, "t%d", id);
    tls_seen[id] = tls_value == id && strcmp(tls_name, want) == 0;
    if (id % 2)
        pthread_exit((void *)(intptr_t)(id * 3));
    return (void *)(intptr_t)(id * 3);
}

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int detached_done;

static void *detached(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&done_lock);
    detached_done = 1;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&done_lock);
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        int e = pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
        if (e) {
            printf("pthread_create %d: %s\n", i, strerror(e));
            return 1;
        }
    }
    printf("created %d threads\n", THREADS);
    long sum = 0;
    int bad = 0;
    for (int i = 0; i < THREADS; i++) {
        void *ret;
        int e = pthread_join(t[i], &ret);
        if (e) {
            printf("pthread_join %d: %s\n", i, strerror(e));
            return 1;
        }
        if ((intptr_t)ret != i * 3)
            bad++;
        sum += (intptr_t)ret;
    }
    printf("joined %d threads, %d wrong return values, sum %ld\n", THREADS, bad, sum);
    printf("counter %ld (expected %d)\n", counter, THREADS * ROUNDS);
    int tls_ok = 0;
    for (int i = 0; i < THREADS; i++)
        tls_ok += tls_seen[i];
    printf("__thread: %d of %d threads saw their own copy; main still has %d\n", tls_ok, THREADS,
           tls_value);

    pthread_t d;
    if (pthread_create(&d, NULL, detached, NULL) || pthread_detach(d)) {
        printf("detached thread: failed\n");
        return 1;
    }
    pthread_mutex_lock(&done_lock);
    while (!detached_done)
        pthread_cond_wait(&done_cond, &done_lock);
    pthread_mutex_unlock(&done_lock);
    printf("detached thread ran\n");

    void *big = malloc(1 << 20);
    memset(big, 0x5a, 1 << 20);
    printf("malloc 1 MiB: %s\n", big ? "ok" : "failed");
    free(big);
    return 0;
}
