/* files: open and read files as programs do (issue 8), on paths that exist both on Linux and
 * in the stub: the program's own file (argv[0]), its directory, /dev/null, and descriptor 0.
 * open/openat flag checks (EINVAL), ENOENT, ENOTDIR, EISDIR, EEXIST, ENAMETOOLONG, EFAULT,
 * EBADF for a bad directory descriptor; read/pread/lseek (SEEK_SET/CUR/END/DATA/HOLE, a
 * position shared by dup), getdents64 of the directory, O_PATH descriptors, F_GETFL/F_SETFL,
 * /dev/null, and an O_NONBLOCK read of descriptor 0, which has no input (EAGAIN). Nothing
 * printed depends on where the program lies or what else is in its directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* A result as text: the value, or the errno's name. Each call has its own buffer of a ring,
 * so one printf can show several; arguments are evaluated in any order, so every call with
 * an effect is made in a statement of its own (R). */
static const char *e(long r)
{
    static char ring[16][32];
    static int next;
    char *buf = ring[next++ % 16];
    if (r >= 0) {
        snprintf(buf, 32, "%ld", r);
        return buf;
    }
    switch (errno) {
    case ENOENT: return "ENOENT";
    case ENXIO: return "ENXIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case EFAULT: return "EFAULT";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ESPIPE: return "ESPIPE";
    case EROFS: return "EROFS";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    }
    snprintf(buf, 32, "errno %d", errno);
    return buf;
}

/* Prints "label result" for one call, in program order. */
#define R(label, call) printf("%s %s", label, e(call))

struct dirent64_ {
    unsigned long long ino;
    long long off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

int main(int argc, char **argv)
{
    (void)argc;
    /* An address nothing is mapped at (volatile: so the compiler does not warn about it). */
    void *volatile bad = (void *)8;
    const char *self = argv[0];
    char dir[4096], base[256], path[8192];
    strcpy(dir, self);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 1;
    strcpy(base, slash + 1);
    if (slash == dir)
        slash[1] = 0;
    else
        *slash = 0;

    /* The program's own file. */
    char b[64] = {0};
    int fd = open(self, O_RDONLY);
    printf("open self: %s\n", e(fd));
    long n = read(fd, b, 4);
    printf("read 4: %ld %s\n", n, memcmp(b, "\177ELF", 4) == 0 ? "ELF magic" : "?");
    struct stat st;
    fstat(fd, &st);
    off_t size = st.st_size;
    printf("fstat: regular %d,", S_ISREG(st.st_mode));
    R(" SEEK_CUR", lseek(fd, 0, SEEK_CUR));
    printf(", SEEK_END is the size %d", lseek(fd, 0, SEEK_END) == size);
    R(", read at the end", read(fd, b, sizeof b));
    printf("\n");
    R("SEEK_SET 1:", lseek(fd, 1, SEEK_SET));
    R(", pread 3 at 0:", pread(fd, b, 3, 0));
    printf(" \"%.3s\"", b + 1);
    R(", then SEEK_CUR", lseek(fd, 0, SEEK_CUR));
    printf("\n");
    R("SEEK_SET -1:", lseek(fd, -1, SEEK_SET));
    R(", whence 7:", lseek(fd, 0, 7));
    R(", SEEK_CUR -2:", lseek(fd, -2, SEEK_CUR));
    R(", SEEK_END -1 is size - 1:", lseek(fd, -1, SEEK_END) == size - 1);
    printf("\n");
    R("SEEK_DATA 0:", lseek(fd, 0, SEEK_DATA));
    R(", SEEK_DATA at the end:", lseek(fd, size, SEEK_DATA));
    R(", SEEK_HOLE at the end:", lseek(fd, size, SEEK_HOLE));
    printf(", SEEK_HOLE 0 is the size %d\n", lseek(fd, 0, SEEK_HOLE) == size);
    R("pread at -1:", pread(fd, b, 1, -1));
    R(", read 0 bytes:", read(fd, b, 0));
    lseek(fd, 0, SEEK_SET);
    R(", read to a bad buffer:", read(fd, bad, 1));
    R(", write:", write(fd, "x", 1));
    R(", getdents64:", syscall(SYS_getdents64, fd, b, sizeof b));
    printf("\n");
    int d = dup(fd);
    lseek(d, 2, SEEK_SET);
    n = read(fd, b, 2);
    printf("dup shares the position: %ld \"%.2s\"", n, b);
    R(", at", lseek(d, 0, SEEK_CUR));
    int fl = fcntl(fd, F_GETFL);
    printf("; F_GETFL: mode %d largefile %d nonblock %d", fl & O_ACCMODE, !!(fl & 0100000),
           !!(fl & O_NONBLOCK));
    fcntl(d, F_SETFL, O_NONBLOCK);
    fl = fcntl(fd, F_GETFL);
    printf(", after F_SETFL O_NONBLOCK on the dup: nonblock %d\n", !!(fl & O_NONBLOCK));
    close(d);
    R("close:", close(fd));
    R(", again:", close(fd));
    printf("\n");

    /* Its directory. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    printf("open dir: %s", e(dfd));
    R(", read:", read(dfd, b, 1));
    R(", pread:", pread(dfd, b, 1, 0));
    R(", getdents64 into 10 bytes:", syscall(SYS_getdents64, dfd, b, 10));
    printf("\n");
    char ents[4096];
    int dot = 0, dotdot = 0, me = 0, total = 0;
    long got;
    while ((got = syscall(SYS_getdents64, dfd, ents, sizeof ents)) > 0) {
        for (long o = 0; o < got;) {
            struct dirent64_ *r = (struct dirent64_ *)(ents + o);
            if (strcmp(r->name, ".") == 0)
                dot = r->type;
            else if (strcmp(r->name, "..") == 0)
                dotdot = r->type;
            else if (strcmp(r->name, base) == 0)
                me = r->type;
            total++;
            o += r->reclen;
        }
    }
    printf("getdents64: end %s, . type %d, .. type %d, self type %d, more than 3 entries %d\n",
           e(got), dot, dotdot, me, total > 3);
    R("SEEK_SET 0 again:", lseek(dfd, 0, SEEK_SET));
    printf(", entries again %d", syscall(SYS_getdents64, dfd, ents, sizeof ents) > 0);
    printf("\n");
    int f2 = openat(dfd, base, O_RDONLY | O_CLOEXEC);
    memset(b, 0, sizeof b);
    n = read(f2, b, 4);
    printf("openat(dir, self): %s, cloexec %d, read %ld %s\n", f2 < 0 ? e(f2) : "ok",
           fcntl(f2, F_GETFD), n, memcmp(b, "\177ELF", 4) == 0 ? "ELF magic" : "?");
    R("openat(dir, missing):", openat(dfd, "no-such-file", O_RDONLY));
    R(", openat(self, x):", openat(f2, "x", O_RDONLY));
    R(", openat(1, x):", openat(1, "x", O_RDONLY));
    R(", openat(999, x):", openat(999, "x", O_RDONLY));
    R(", openat(999, absolute self) works:", openat(999, self, O_RDONLY) >= 0);
    printf("\n");
    R("dir O_WRONLY:", open(dir, O_WRONLY));
    R(", O_RDWR:", open(dir, O_RDWR));
    R(", O_RDONLY|O_TRUNC:", open(dir, O_RDONLY | O_TRUNC));
    R(", O_CREAT:", open(dir, O_RDONLY | O_CREAT, 0644));
    R(", O_CREAT|O_DIRECTORY:", open(dir, O_RDONLY | O_CREAT | O_DIRECTORY, 0644));
    printf("\n");
    R("__O_TMPFILE alone:", open(dir, 020000000 | O_RDWR, 0600));
    R(", O_TMPFILE read-only:", open(dir, O_TMPFILE | O_RDONLY, 0600));
    R(", with O_CREAT:", open(dir, O_TMPFILE | O_CREAT | O_RDWR, 0600));
    R(", O_TMPFILE of a file:", open(self, O_TMPFILE | O_RDWR, 0600));
    printf("\n");
    close(f2);
    close(dfd);

    /* Paths that are not there or not directories. */
    snprintf(path, sizeof path, "%s/x", self);
    R("self/x:", open(path, O_RDONLY));
    snprintf(path, sizeof path, "%s/", self);
    R(", self/:", open(path, O_RDONLY));
    R(", self O_DIRECTORY:", open(self, O_RDONLY | O_DIRECTORY));
    R(", self O_CREAT|O_EXCL:", open(self, O_WRONLY | O_CREAT | O_EXCL, 0644));
    printf("\n");
    snprintf(path, sizeof path, "%s/no-such-dir/x", dir);
    R("missing/x:", open(path, O_RDONLY));
    R(", missing/x O_CREAT:", open(path, O_RDONLY | O_CREAT, 0644));
    R(", empty:", open("", O_RDONLY));
    R(", bad pointer:", open(bad, O_RDONLY));
    snprintf(path, sizeof path, "%s/no-such-file/", dir);
    R(", missing/:", open(path, O_RDONLY));
    printf("\n");
    char *lng = malloc(5000);
    memset(lng, 'a', 4999);
    lng[0] = '/';
    lng[4999] = 0;
    R("5000-byte path:", open(lng, O_RDONLY));
    int len = snprintf(path, sizeof path, "%s/", dir);
    memset(path + len, 'b', 300);
    path[len + 300] = 0;
    R(", 300-byte name:", open(path, O_RDONLY));
    strcpy(path + len + 300, "/x");
    R(", under it:", open(path, O_RDONLY));
    printf("\n");
    free(lng);

    /* O_PATH. */
    int pf = open(self, O_PATH);
    printf("O_PATH: %s", pf < 0 ? e(pf) : "ok");
    R(", read:", read(pf, b, 1));
    R(", lseek:", lseek(pf, 0, SEEK_SET));
    R(", getdents64:", syscall(SYS_getdents64, pf, ents, 100));
    R(", fstat:", fstat(pf, &st));
    printf(" regular %d\n", S_ISREG(st.st_mode));
    close(pf);

    /* /dev/null. */
    int nf = open("/dev/null", O_RDWR);
    printf("/dev/null: %s", nf < 0 ? e(nf) : "ok");
    R(", write 5:", write(nf, "hello", 5));
    R(", read:", read(nf, b, sizeof b));
    R(", lseek 100:", lseek(nf, 100, SEEK_SET));
    R(", pread:", pread(nf, b, 1, 7));
    fstat(nf, &st);
    printf(", char %d, %u:%u\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
    close(nf);
    nf = open("/dev/null", O_RDONLY);
    R("/dev/null read-only write:", write(nf, "x", 1));
    R(", O_DIRECTORY:", open("/dev/null", O_RDONLY | O_DIRECTORY));
    R(", O_WRONLY|O_CREAT|O_TRUNC works:", open("/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644) >= 0);
    printf("\n");
    close(nf);

    /* Descriptor 0 has no input: O_NONBLOCK is EAGAIN; it has no position. */
    int f0 = fcntl(0, F_GETFL);
    R("fd 0 O_NONBLOCK:", fcntl(0, F_SETFL, f0 | O_NONBLOCK));
    R(", read:", read(0, b, 1));
    R(", lseek:", lseek(0, 0, SEEK_CUR));
    R(", pread:", pread(0, b, 1, 0));
    fcntl(0, F_SETFL, f0);
    R(", getdents64 of fd 1:", syscall(SYS_getdents64, 1, ents, 100));
    R(", of 999:", syscall(SYS_getdents64, 999, ents, 100));
    printf("\n");
    return 0;
}
