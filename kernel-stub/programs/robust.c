/* robust: a robust mutex whose owner thread exits while holding it (issue 8): the next
 * locker gets EOWNERDEAD, makes it consistent and goes on; a second owner that dies the same
 * way is seen the same way. glibc leaves the clean-up to the kernel's robust-list walk at
 * thread exit (set_robust_list); musl does it in pthread_exit itself. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t m;

static void *die_holding(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    return NULL; /* exits without unlocking */
}

int main(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&m, &a);
    for (int round = 1; round <= 2; round++) {
        pthread_t t;
        pthread_create(&t, NULL, die_holding, NULL);
        pthread_join(t, NULL);
        int r = pthread_mutex_lock(&m);
        printf("round %d: lock after the owner died: %s\n", round,
               r == EOWNERDEAD ? "EOWNERDEAD" : r ? strerror(r) : "0");
        if (r == EOWNERDEAD)
            printf("round %d: consistent: %d\n", round, pthread_mutex_consistent(&m));
        printf("round %d: unlock: %d\n", round, pthread_mutex_unlock(&m));
    }
    printf("lock again: %d\n", pthread_mutex_lock(&m));
    pthread_mutex_unlock(&m);
    return 0;
}
