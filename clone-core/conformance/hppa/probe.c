/* PA-RISC (hppa) stack probe for clone-core.
 *
 * Rust cannot target hppa, so `cargo xtask linux` asks clone-core for the child stack pointer of
 * a canary-fenced region (`stack::layout(Arch::Hppa, region)`; the stack grows UP there) and
 * hands it to this program, which passes that exact value to the raw clone trap and checks where
 * the child really ran:
 *
 *   probe MAP_ADDR MAP_LEN BASE SIZE SP
 *
 * maps [MAP_ADDR, MAP_ADDR + MAP_LEN) at that fixed address, fills everything outside the region
 * [BASE, BASE + SIZE) with canary bytes, clones with CLONE_VM | CLONE_VFORK | SIGCHLD and SP,
 * and prints one verdict line:
 *
 *   hppa-probe: pass sp=0x... frame=[0x..., 0x...) local=0x... region=[0x..., 0x...)
 *   hppa-probe: FAIL <detail>
 *
 * The trap is inline assembly, not glibc's clone() (which aligns the pointer up to 8 and adds a
 * 64-byte frame itself) nor syscall() (whose caller frame the child would return through).
 * Register use follows glibc sysdeps/unix/sysv/linux/hppa/clone.S: r26 flags, r25 stack,
 * r24 parent_tid, r23 tls, r22 child_tid (CLONE_BACKWARDS), syscall number in r20 (set in the
 * delay slot of `ble 0x100(%sr2, %r0)`), result in r28. The kernel (arch/parisc/kernel/process.c
 * copy_thread) puts the value, aligned up to 4, into the child's r30 (sp).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define CANARY 0xA5
#define MARK 0x600DF00DUL

/* Written by the child, read by the parent after the vfork wait. They live in a MAP_SHARED
 * page (as does the stack mapping) because qemu-user runs CLONE_VM | CLONE_VFORK as a plain
 * fork; on a real kernel CLONE_VM would share them anyway. */
struct results {
	unsigned long sp;    /* r30 right after the trap, in the child */
	unsigned long local; /* address of a local in the child's first C frame */
	unsigned long inner; /* r30 inside that frame */
	unsigned long mark;  /* MARK once the child got that far */
};
static volatile struct results *res;

/* Runs on the new stack: a normal C frame (the callee stores its return pointer at sp-20 and
 * grows its frame upward from sp), so this exercises the 64-byte frame marker area below the
 * child's SP that clone-core reserves. Never returns: ends with the raw exit syscall. */
__attribute__((noreturn, noinline)) void probe_child(void)
{
	volatile unsigned char buf[512];
	unsigned long sp;

	__asm__ volatile("copy %%r30, %0" : "=r"(sp));
	for (unsigned i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)i;
	res->local = (unsigned long)&buf[0];
	res->inner = sp; /* SP inside this frame: the frame lies below it. */
	res->mark = MARK;

	register unsigned long r26 __asm__("r26") = 0;
	__asm__ volatile("ble 0x100(%%sr2, %%r0)\n\t"
			 "ldi %1, %%r20"
			 : "+r"(r26)
			 : "i"(SYS_exit)
			 : "memory", "r1", "r2", "r20", "r21", "r22", "r23", "r24", "r25",
			   "r28", "r29", "r31");
	for (;;)
		;
}

static long raw_clone_vfork(unsigned long flags, unsigned long sp)
{
	register unsigned long r26 __asm__("r26") = flags;
	register unsigned long r25 __asm__("r25") = sp;
	register unsigned long r24 __asm__("r24") = 0; /* parent_tid */
	register unsigned long r23 __asm__("r23") = 0; /* tls */
	register unsigned long r22 __asm__("r22") = 0; /* child_tid */
	register long r28 __asm__("r28");
	/* Callee-saved, so the child (a copy of our registers) still has it after the trap. */
	register volatile unsigned long *slot __asm__("r5") = &res->sp;

	__asm__ volatile("ble 0x100(%%sr2, %%r0)\n\t"
			 "ldi %[nr], %%r20\n\t"
			 "comib,<>,n 0, %%r28, 1f\n\t"
			 /* Child: record the SP the kernel gave us before anything moves it. */
			 "stw %%r30, 0(%[slot])\n\t"
			 "bl probe_child, %%r2\n\t"
			 "nop\n"
			 "1:"
			 : "=r"(r28), "+r"(r26), "+r"(r25), "+r"(r24), "+r"(r23), "+r"(r22)
			 : [nr] "i"(SYS_clone), [slot] "r"(slot)
			 : "memory", "r1", "r2", "r20", "r21", "r29", "r31");
	return r28;
}

static int check_canaries(unsigned char *map, unsigned long map_len, unsigned long base,
			  unsigned long size)
{
	unsigned long m = (unsigned long)map;
	for (unsigned long a = m; a < m + map_len; a++) {
		if (a >= base && a < base + size)
			continue;
		if (map[a - m] != CANARY) {
			printf("hppa-probe: FAIL byte at 0x%lx outside the region [0x%lx, 0x%lx) "
			       "was written (0x%02x)\n",
			       a, base, base + size, map[a - m]);
			return 0;
		}
	}
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		printf("hppa-probe: FAIL usage: probe MAP_ADDR MAP_LEN BASE SIZE SP\n");
		return 2;
	}
	unsigned long map_addr = strtoul(argv[1], 0, 0), map_len = strtoul(argv[2], 0, 0);
	unsigned long base = strtoul(argv[3], 0, 0), size = strtoul(argv[4], 0, 0);
	unsigned long sp = strtoul(argv[5], 0, 0);

	if (base < map_addr || base + size > map_addr + map_len) {
		printf("hppa-probe: FAIL region not inside the mapping\n");
		return 2;
	}
	res = mmap(0, sizeof *res, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED) {
		printf("hppa-probe: FAIL mmap for results: %s\n", strerror(errno));
		return 2;
	}
	unsigned char *map = mmap((void *)map_addr, map_len, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (map == MAP_FAILED || (unsigned long)map != map_addr) {
		printf("hppa-probe: FAIL mmap at 0x%lx: %s (got %p)\n", map_addr, strerror(errno),
		       (void *)map);
		return 2;
	}
	memset(map, CANARY, map_len);
	memset((void *)base, 0, size);

	long tid = raw_clone_vfork(CLONE_VM | CLONE_VFORK | SIGCHLD, sp);
	if (tid < 0 && tid > -4096) {
		printf("hppa-probe: FAIL clone returned errno %ld\n", -tid);
		return 1;
	}
	int status = 0;
	if (waitpid((pid_t)tid, &status, 0) != tid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("hppa-probe: FAIL child %ld ended with status 0x%x\n", tid, status);
		return 1;
	}
	if (res->mark != MARK) {
		printf("hppa-probe: FAIL the child never reached its C function\n");
		return 1;
	}
	unsigned long got = res->sp, end = base + size;
	if (got != sp) {
		printf("hppa-probe: FAIL child started with sp 0x%lx, clone was given 0x%lx\n", got,
		       sp);
		return 1;
	}
	/* Grows up: the 64-byte frame marker area lies at [sp - 64, sp), the frames above sp. */
	if (got - 64 < base || got >= end) {
		printf("hppa-probe: FAIL sp 0x%lx leaves the frame marker area [0x%lx, 0x%lx) "
		       "outside the region [0x%lx, 0x%lx)\n",
		       got, got - 64, got, base, end);
		return 1;
	}
	if (got % 64 != 0) {
		printf("hppa-probe: FAIL sp 0x%lx is not 64-byte aligned (PA-RISC frames)\n", got);
		return 1;
	}
	if (res->local < got || res->local >= end || res->inner >= end) {
		printf("hppa-probe: FAIL the child's C frame (local 0x%lx, sp 0x%lx) is not above "
		       "sp 0x%lx inside the region\n",
		       res->local, res->inner, got);
		return 1;
	}
	if (!check_canaries(map, map_len, base, size))
		return 1;
	printf("hppa-probe: pass sp=0x%lx frame=[0x%lx, 0x%lx) local=0x%lx region=[0x%lx, 0x%lx)\n",
	       got, got - 64, got, res->local, base, end);
	return 0;
}
