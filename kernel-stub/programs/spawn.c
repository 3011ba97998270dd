/* spawn: posix_spawn as a libc program uses it (issue 8, suite (c)): the program spawns
 * itself (argv[0]) with arguments and an environment, the child prints what it got and exits
 * with a status the parent reads through waitpid. glibc's posix_spawn is
 * clone3(CLONE_VM | CLONE_VFORK) followed by execve in the child. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        printf("child: argc %d:", argc);
        for (int i = 1; i < argc; i++)
            printf(" %s", argv[i]);
        printf("\nchild: environment:");
        for (char **e = environ; *e; e++)
            printf(" %s", *e);
        printf("\n");
        return 42;
    }
    char *args[] = {argv[0], "child", "one", "two words", NULL};
    char *envs[] = {"SPAWNED=yes", "COLOR=blue", NULL};
    pid_t pid;
    fflush(stdout);
    int e = posix_spawn(&pid, argv[0], NULL, NULL, args, envs);
    if (e) {
        printf("posix_spawn: %s\n", strerror(e));
        return 1;
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) {
        printf("waitpid: %s\n", strerror(errno));
        return 1;
    }
    printf("parent: child exited %d with status %d\n", WIFEXITED(st), WEXITSTATUS(st));
    e = posix_spawn(&pid, "/nonexistent/program", NULL, NULL, args, envs);
    printf("posix_spawn of a missing file: %s\n", e ? strerror(e) : "succeeded");
    if (!e)
        waitpid(pid, &st, 0);
    return 0;
}
