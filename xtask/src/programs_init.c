/* The /init of `cargo xtask programs`' Linux side on aarch64 and riscv64 (xtask/src/programs_vm.rs):
 * a Debian kernel boots with an initramfs holding this init, the suite programs as /bin/<name>
 * and their names, one a line, in /programs.list. For each name it runs
 * execve("/bin/<name>", { "/bin/<name>" }, { }) as a forked child, with stdin a pipe nobody
 * writes, its write end held open by init until the child is done (no input and no end, like
 * the stub's console and the native run's stdin),
 * stdout into the file /out (as the native x86_64 run writes stdout to a file, so stdio buffers
 * the same way), stderr on the console, then prints
 *
 *   programs-vm: begin <name>
 *   programs-vm: | <each line of stdout>
 *   programs-vm: end <name> exit <code>     (or: signal <number>)
 *
 * and after the last one `programs-vm: done`, and exits (the kernel then panics, and QEMU, with
 * panic=-1 and -no-reboot, exits). /proc is mounted first, as on any Linux system the programs
 * would run on natively. Built static with the arch's cross gcc and glibc. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	char name[256], path[300], line[4096];
	FILE *list, *out;
	int status;
	pid_t pid;

	mkdir("/proc", 0555);
	if (mount("proc", "/proc", "proc", 0, NULL) != 0)
		perror("programs-vm: mount /proc");
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Close-on-exec: the programs start with fds 0-2 only, as natively. */
	list = fopen("/programs.list", "re");
	if (!list) {
		perror("programs-vm: /programs.list");
		return 1;
	}
	while (fgets(name, sizeof(name), list)) {
		name[strcspn(name, "\n")] = 0;
		if (!name[0])
			continue;
		snprintf(path, sizeof(path), "/bin/%s", name);
		printf("programs-vm: begin %s\n", name);
		int in[2];
		if (pipe2(in, O_CLOEXEC) < 0) {
			perror("programs-vm: pipe2");
			return 1;
		}
		pid = fork();
		if (pid == 0) {
			char *argv[] = { path, NULL };
			char *envp[] = { NULL };
			int fd = open("/out", O_WRONLY | O_CREAT | O_TRUNC, 0644);

			/* dup2 clears close-on-exec on 0; the write end closes at the exec. */
			if (fd < 0 || dup2(in[0], 0) < 0 || dup2(fd, 1) < 0)
				_exit(126);
			close(fd);
			execve(path, argv, envp);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid) {
			perror("programs-vm: fork/waitpid");
			return 1;
		}
		close(in[0]);
		close(in[1]);
		out = fopen("/out", "re");
		while (out && fgets(line, sizeof(line), out)) {
			line[strcspn(line, "\n")] = 0;
			printf("programs-vm: | %s\n", line);
		}
		if (out)
			fclose(out);
		if (WIFEXITED(status))
			printf("programs-vm: end %s exit %d\n", name, WEXITSTATUS(status));
		else
			printf("programs-vm: end %s signal %d\n", name, WTERMSIG(status));
	}
	printf("programs-vm: done\n");
	return 0;
}
