/* access: the permission probe a libc program (and the kernel's clone3 selftest, for
 * /proc/self/ns/time) makes: access and faccessat on a directory and on the program's own file
 * (argv[0]) as root, a missing path, a file used as a directory, an empty path, a bad pointer,
 * an unknown mode bit and an unknown faccessat flag. Only outcomes that are the same on any
 * Linux system are printed (no W_OK: that depends on how the file system is mounted). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, int r)
{
    printf("%s: %s\n", what, r == 0 ? "0" : strerror(errno));
}

int main(int argc, char **argv)
{
    char sub[4096];

    (void)argc;
    show("access(/, R_OK|X_OK)", access("/", R_OK | X_OK));
    show("access(argv[0], R_OK|X_OK)", access(argv[0], R_OK | X_OK));
    show("access(argv[0], F_OK)", access(argv[0], F_OK));
    show("access(/nonexistent-clone-core, F_OK)", access("/nonexistent-clone-core", F_OK));
    snprintf(sub, sizeof(sub), "%s/x", argv[0]);
    show("access(argv[0]/x, F_OK)", access(sub, F_OK));
    show("access(\"\", F_OK)", access("", F_OK));
    show("access(bad pointer, F_OK)", (int)syscall(SYS_faccessat, AT_FDCWD, (char *)8, F_OK));
    show("access(/, 8)", (int)syscall(SYS_faccessat, AT_FDCWD, "/", 8));
    show("faccessat(AT_FDCWD, /, X_OK, 0)", faccessat(AT_FDCWD, "/", X_OK, 0));
#ifdef SYS_faccessat2
    show("faccessat2(AT_FDCWD, /, F_OK, 0x1)",
         (int)syscall(SYS_faccessat2, AT_FDCWD, "/", F_OK, 0x1));
    show("faccessat2(AT_FDCWD, /, R_OK, AT_EACCESS)",
         (int)syscall(SYS_faccessat2, AT_FDCWD, "/", R_OK, AT_EACCESS));
#endif
    return 0;
}
