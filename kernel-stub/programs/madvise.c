/* madvise: what a libc program gets from madvise on anonymous memory (issue 8):
 * MADV_DONTNEED zeroes a private page, MADV_POPULATE_READ/WRITE fault pages in without
 * changing them (also out of copy-on-write after a fork), and their errors: EINVAL for a
 * mapping without the access's permission, ENOMEM for a hole, EINVAL for a bad advice or an
 * unaligned start. Prints each answer as 0 or an errno name. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define PAGE 4096

static const char *answer(int r)
{
    if (r == 0)
        return "0";
    switch (errno) {
    case EINVAL:
        return "EINVAL";
    case ENOMEM:
        return "ENOMEM";
    case EFAULT:
        return "EFAULT";
    default:
        return "another errno";
    }
}

int main(void)
{
    char *m = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        printf("mmap failed\n");
        return 1;
    }
    printf("populate-write on fresh rw pages: %s\n", answer(madvise(m, 4 * PAGE, MADV_POPULATE_WRITE)));
    printf("populated pages read as zero: %s\n", m[0] == 0 && m[3 * PAGE + 17] == 0 ? "yes" : "no");
    memset(m, 'a', 4 * PAGE);
    /* (Each call is made before the memory is read: printf's arguments have no order.) */
    const char *r = answer(madvise(m, 4 * PAGE, MADV_POPULATE_READ));
    printf("populate-read keeps contents: %s, %s\n", r, m[2 * PAGE] == 'a' ? "yes" : "no");
    r = answer(madvise(m + PAGE, PAGE, MADV_POPULATE_WRITE));
    printf("populate-write keeps contents: %s, %s\n", r, m[PAGE + 5] == 'a' ? "yes" : "no");

    /* After a fork every page is shared copy-on-write: the child's populate-write copies them,
     * so its stores after it are its own. */
    pid_t pid = fork();
    if (pid == 0) {
        if (madvise(m, 4 * PAGE, MADV_POPULATE_WRITE) != 0)
            _exit(2);
        if (m[3 * PAGE] != 'a')
            _exit(3);
        memset(m, 'c', 4 * PAGE);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    printf("fork child populate-write and store: exit %d, parent still sees its own: %s\n",
           WIFEXITED(status) ? WEXITSTATUS(status) : -1, m[0] == 'a' && m[4 * PAGE - 1] == 'a' ? "yes" : "no");

    r = answer(madvise(m, PAGE, MADV_DONTNEED));
    printf("dontneed then page reads zero: %s, %s; the next page kept: %s\n", r, m[100] == 0 ? "yes" : "no",
           m[PAGE] == 'a' ? "yes" : "no");

    mprotect(m + 2 * PAGE, PAGE, PROT_READ);
    printf("populate-write over a read-only page: %s\n", answer(madvise(m, 4 * PAGE, MADV_POPULATE_WRITE)));
    printf("populate-read over a read-only page: %s\n", answer(madvise(m, 4 * PAGE, MADV_POPULATE_READ)));
    mprotect(m + 2 * PAGE, PAGE, PROT_NONE);
    printf("populate-read over a PROT_NONE page: %s\n", answer(madvise(m, 4 * PAGE, MADV_POPULATE_READ)));
    printf("the pages before it were done: %s\n", m[PAGE] == 'a' ? "yes" : "no");

    munmap(m + PAGE, PAGE);
    printf("populate-write over a hole: %s\n", answer(madvise(m, 4 * PAGE, MADV_POPULATE_WRITE)));
    printf("populate-write of zero bytes at the hole: %s\n", answer(madvise(m + PAGE, 0, MADV_POPULATE_WRITE)));
    printf("populate-write at an unaligned start: %s\n", answer(madvise(m + 1, PAGE, MADV_POPULATE_WRITE)));
    printf("an unknown advice (12345): %s\n", answer(madvise(m, PAGE, 12345)));
    munmap(m, 4 * PAGE);
    printf("populate-read after munmap: %s\n", answer(madvise(m, PAGE, MADV_POPULATE_READ)));
    return 0;
}
