//! kernel-stub-hostile: stub-only hostile-input cases, run by the kernel stub after the
//! conformance program. Prints `case stub-<name>: pass|FAIL ...` lines like the conformance
//! program and exits with `exit_group(0)` only if every case passed.
//!
//! What it checks (issue 4, "hostile input never takes the kernel down"):
//!
//! * kernel-space or unreadable pointers for the `clone3` struct, the `clone3` stack, the pidfd
//!   slot, futex words and `write` buffers get Linux's errno (EFAULT, EINVAL);
//! * kernel-space `CLONE_PARENT_SETTID`/`CHILD_SETTID`/`CHILD_CLEARTID` slots are ignored, as
//!   Linux ignores a failed `put_user` there: the clone succeeds;
//! * x86_64: a non-canonical or kernel-half `CLONE_SETTLS` value is EPERM;
//! * a child started with a kernel-space or non-canonical stack pointer does not hurt the
//!   kernel, and dies alone if it uses the stack;
//! * a user fault and a child stack overflow kill that process (a `CLONE_VM` child; a fault
//!   kills the whole thread group, as on Linux), its parent's `wait4` sees the signal;
//! * a busy-waiting thread is preempted by the timer (the child it waits for gets to run);
//! * a full task table is EAGAIN, and everything started before it is joined;
//! * a fork bomb is bounded (EAGAIN) and leaves nothing behind; running out of frames makes
//!   fork and execve ENOMEM and kills a faulting process, and every frame comes back
//!   (`procs.rs`);
//! * 10,000 clone/exit cycles (the kernel prints its heap balance at the end);
//! * every user-settable flag bit survives a syscall, and each fault kills its process with
//!   Linux's signal (`entry.rs`);
//! * signal handlers run with Linux's frame and `rt_sigreturn`, a fault's handler included
//!   (`signals.rs`);
//! * clocks and absolute futex timeouts (`time.rs`), and the futex classes of issue 13: wake
//!   counts, private/shared keys, addresses, check order, requeue and wake-op (`futex.rs`);
//! * argument widths, `write`/`close` details and a long preemptible write (`args.rs`);
//! * pipe errors: `pipe2`, the ends, `dup3`, `fcntl` (`pipe.rs`);
//! * x86_64 OSXSAVE/XCR0, FSGSBASE and `arch_prctl` GS/CPUID (`cpu.rs`), UMIP's dummy
//!   results for `sgdt`/`sidt`/`smsw`/`sldt`/`str` (`umip.rs`);
//! * `wait4`/`waitid` argument and result handling, a leader reaped only after its last thread,
//!   and an exiting thread's children passing to the oldest thread (`wait.rs`);
//! * CPU-time clocks, `getrusage`, `times` and a reaped child's rusage (`usage.rs`);
//! * ELF segment permissions as page permissions, for the user and the kernel (`memprot.rs`).
//!
//! The program is linked 64 KiB above the bottom of the stub's user region (the xtask passes
//! `--image-base=USER_IMAGE_BASE + 0x10000`), so `[__ehdr_start - 64 KiB, __ehdr_start)` is
//! user memory nobody uses, directly above kernel memory: the stack-overflow case runs a
//! thread there.
//!
//! Run on Linux (with any argument, so `argc > 0`), the cases that make sense there run too
//! and the others print `skip stub-only`: `cargo xtask qemu` compares both columns.
//!
//! Raw traps whose success would be a bug use [`raw_or_exit`]: if the kernel wrongly creates a
//! child, the child exits in the same asm block without touching memory.
#![no_std]
#![no_main]
// A failure carries its message inline (no allocator here); the size is fine for a test.
#![allow(clippy::result_large_err)]

use core::fmt::{self, Write as _};
use core::hint::black_box;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use clone_core::syscall::{CloneCall, LegacyCloneArgs, encode};
use clone_core::user::{self, ARCH, CloneRequest, SpawnError};
use clone_core::{CloneFlags, StackRegion};

const EPERM: isize = 1;
const EAGAIN: i32 = 11;
const EFAULT: isize = 14;
const EINVAL: isize = 22;
const E2BIG: isize = 7;

/// Kernel half of a 64-bit address space: no user access on Linux or the stub.
const KERNEL_HIGH: usize = 0xffff_ffff_ffff_f000;
/// The unmapped first page.
const NULLISH: usize = 0x10;

unsafe extern "C" {
    /// Start of this program's image (lld defines it).
    static __ehdr_start: u8;
}

/// Bottom of the stub's user region (64 KiB below the image, see the module docs).
fn region_start() -> usize {
    (&raw const __ehdr_start) as usize - 0x1_0000
}

/// Stub kernel memory: the page just below the user region.
fn kernel_low() -> usize {
    region_start() - 0x1000
}

// ---------------------------------------------------------------------------------------------
// Output.

struct Line {
    buf: [u8; 256],
    len: usize,
}

impl fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

fn print(args: fmt::Arguments) {
    let mut l = Line {
        buf: [0; 256],
        len: 0,
    };
    let _ = l.write_fmt(args);
    let _ = l.write_str("\n");
    let _ = user::write(1, &l.buf[..l.len]);
}

macro_rules! outln { ($($a:tt)*) => { $crate::print(format_args!($($a)*)) }; }

/// A failed check: the detail printed after `FAIL`.
struct Fail(Line);

macro_rules! fail {
    ($($a:tt)*) => {{
        let mut l = $crate::Line { buf: [0; 256], len: 0 };
        let _ = core::fmt::Write::write_fmt(&mut l, format_args!($($a)*));
        return Err($crate::Fail(l));
    }};
}

type CaseResult = Result<(), Fail>;

mod args;
mod cpu;
mod entry;
mod futex;
mod memprot;
mod pipe;
mod procs;
mod signals;
mod time;
mod umip;
mod usage;
mod wait;

// ---------------------------------------------------------------------------------------------
// Raw traps.

/// Makes syscall `nr`; if it returns 0 (a child was wrongly created) the child calls `exit(0)`
/// at once, in the same asm block, touching no memory.
///
/// # Safety
///
/// The arguments must not make the kernel write anywhere the program cares about.
#[cfg(target_arch = "x86_64")]
unsafe fn raw_or_exit(nr: usize, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: Linux x86_64 syscall ABI (rax number, rdi rsi rdx r10 r8 r9; rcx/r11 clobbered).
    unsafe {
        core::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "mov eax, 60",
            "xor edi, edi",
            "syscall",
            "ud2",
            "2:",
            inlateout("rax") nr as isize => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
            in("r10") a[3], in("r8") a[4], in("r9") a[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack)
        );
    }
    ret
}

/// See the x86_64 version.
///
/// # Safety
///
/// As for the x86_64 version.
#[cfg(target_arch = "aarch64")]
unsafe fn raw_or_exit(nr: usize, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: Linux aarch64 syscall ABI (x8 number, x0..x5 arguments, x0 result).
    unsafe {
        core::arch::asm!(
            "svc #0",
            "cbnz x0, 2f",
            "mov x8, #93",
            "mov x0, #0",
            "svc #0",
            "udf #0",
            "2:",
            inlateout("x0") a[0] => ret,
            in("x1") a[1], in("x2") a[2], in("x3") a[3], in("x4") a[4], in("x5") a[5],
            inlateout("x8") nr => _,
            options(nostack)
        );
    }
    ret
}

/// See the x86_64 version.
///
/// # Safety
///
/// As for the x86_64 version.
#[cfg(target_arch = "riscv64")]
unsafe fn raw_or_exit(nr: usize, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: Linux riscv64 syscall ABI (a7 number, a0..a5 arguments, a0 result).
    unsafe {
        core::arch::asm!(
            "ecall",
            "bnez a0, 2f",
            "li a7, 93",
            "li a0, 0",
            "ecall",
            "unimp",
            "2:",
            inlateout("a0") a[0] => ret,
            in("a1") a[1], in("a2") a[2], in("a3") a[3], in("a4") a[4], in("a5") a[5],
            inlateout("a7") nr => _,
            options(nostack)
        );
    }
    ret
}

/// Like [`raw_or_exit`], but a child created by the call first stores one word on its stack
/// (which faults when the kernel gave it a bad stack pointer), then calls `exit(0)`.
///
/// # Safety
///
/// As for [`raw_or_exit`]; the child's store goes wherever its stack pointer points.
#[cfg(target_arch = "x86_64")]
unsafe fn raw_child_pushes(nr: usize, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: as for `raw_or_exit`; the `push` runs only in the child.
    unsafe {
        core::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "push rax",
            "mov eax, 60",
            "xor edi, edi",
            "syscall",
            "ud2",
            "2:",
            inlateout("rax") nr as isize => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
            in("r10") a[3], in("r8") a[4], in("r9") a[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack)
        );
    }
    ret
}

/// See the x86_64 version.
///
/// # Safety
///
/// As for the x86_64 version.
#[cfg(target_arch = "aarch64")]
unsafe fn raw_child_pushes(nr: usize, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: as for `raw_or_exit`; the store runs only in the child.
    unsafe {
        core::arch::asm!(
            "svc #0",
            "cbnz x0, 2f",
            "str x0, [sp, #-16]!",
            "mov x8, #93",
            "mov x0, #0",
            "svc #0",
            "udf #0",
            "2:",
            inlateout("x0") a[0] => ret,
            in("x1") a[1], in("x2") a[2], in("x3") a[3], in("x4") a[4], in("x5") a[5],
            inlateout("x8") nr => _,
            options(nostack)
        );
    }
    ret
}

/// See the x86_64 version.
///
/// # Safety
///
/// As for the x86_64 version.
#[cfg(target_arch = "riscv64")]
unsafe fn raw_child_pushes(nr: usize, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: as for `raw_or_exit`; the store runs only in the child.
    unsafe {
        core::arch::asm!(
            "ecall",
            "bnez a0, 2f",
            "sd a0, -8(sp)",
            "li a7, 93",
            "li a0, 0",
            "ecall",
            "unimp",
            "2:",
            inlateout("a0") a[0] => ret,
            in("a1") a[1], in("a2") a[2], in("a3") a[3], in("a4") a[4], in("a5") a[5],
            inlateout("a7") nr => _,
            options(nostack)
        );
    }
    ret
}

/// Legacy `clone` with arguments by meaning, through clone-core's per-arch encoder.
fn raw_clone(flags: CloneFlags, stack: usize, ptid: usize, ctid: usize, tls: usize) -> isize {
    let call = CloneCall::Clone(LegacyCloneArgs {
        word: flags.bits(),
        stack: stack as u64,
        parent_tid: ptid as u64,
        child_tid: ctid as u64,
        tls: tls as u64,
        ..LegacyCloneArgs::default()
    });
    let Ok(raw) = encode(ARCH, &call) else {
        return -(EINVAL);
    };
    let a = raw.args.map(|x| x as usize);
    // SAFETY: the pointers are either kernel/unmapped (the point of the cases) or 0; a wrongly
    // created child exits at once.
    unsafe { raw_or_exit(raw.nr as usize, a) }
}

/// `clone3(args, size)`.
fn raw_clone3(args: usize, size: usize) -> isize {
    let Some(nr) = ARCH.syscalls().clone3 else {
        return -38;
    };
    // SAFETY: as for `raw_clone`.
    unsafe { raw_or_exit(nr as usize, [args, size, 0, 0, 0, 0]) }
}

/// `struct clone_args` (`CLONE_ARGS_SIZE_VER2`).
#[repr(C, align(8))]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

fn thread_flags() -> CloneFlags {
    CloneFlags::VM
        | CloneFlags::FS
        | CloneFlags::FILES
        | CloneFlags::SIGHAND
        | CloneFlags::THREAD
        | CloneFlags::SYSVSEM
}

fn expect(what: &str, got: isize, errno: isize) -> CaseResult {
    if got != -errno {
        fail!("{what}: got {got}, expected -{errno}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Threads.

#[repr(C, align(16))]
struct Stack<const N: usize>(core::cell::UnsafeCell<[u8; N]>);
// SAFETY: each stack is handed to one thread at a time; the program joins before reuse.
unsafe impl<const N: usize> Sync for Stack<N> {}
impl<const N: usize> Stack<N> {
    const fn new() -> Self {
        Self(core::cell::UnsafeCell::new([0; N]))
    }
    fn region(&self) -> StackRegion {
        StackRegion {
            base: self.0.get() as usize as u64,
            size: N as u64,
        }
    }
}

fn join(slot: &AtomicU32) {
    loop {
        let v = slot.load(Ordering::Acquire);
        if v == 0 {
            return;
        }
        let _ = user::futex_wait(slot, v);
    }
}

/// Starts a thread on `stack` running `entry(arg)`, with its tid in `ctid` (cleared at exit).
fn spawn(
    stack: StackRegion,
    ctid: &AtomicU32,
    entry: extern "C" fn(usize) -> i32,
    arg: usize,
) -> Result<u32, SpawnError> {
    ctid.store(u32::MAX, Ordering::Relaxed);
    let req = CloneRequest {
        stack: Some(stack),
        child_tid: Some(ctid),
        ..CloneRequest::new(
            thread_flags() | CloneFlags::CHILD_SETTID | CloneFlags::CHILD_CLEARTID,
            0,
        )
    };
    // SAFETY: the stack is used by this child only until it is joined; `ctid` is a static.
    unsafe { user::clone(&req, entry, arg) }
}

static STACK: Stack<16384> = Stack::new();
static CTID: AtomicU32 = AtomicU32::new(0);

// ---------------------------------------------------------------------------------------------
// Cases.

fn clone3_args_unreadable() -> CaseResult {
    for addr in [NULLISH, kernel_low(), KERNEL_HIGH] {
        expect("clone3(args unreadable)", raw_clone3(addr, 88), EFAULT)?;
    }
    Ok(())
}

fn clone3_size_limits() -> CaseResult {
    let args = CloneArgs::default();
    let p = &args as *const CloneArgs as usize;
    expect("clone3(size 4097)", raw_clone3(p, 4097), E2BIG)?;
    expect("clone3(size 63)", raw_clone3(p, 63), EINVAL)
}

fn clone3_stack_kernel() -> CaseResult {
    let args = CloneArgs {
        flags: thread_flags().bits(),
        stack: 0xffff_ffff_ffff_0000,
        stack_size: 0x1000,
        ..CloneArgs::default()
    };
    expect(
        "clone3(stack in the kernel half)",
        raw_clone3(&args as *const CloneArgs as usize, 88),
        EINVAL,
    )
}

fn pidfd_slot_kernel() -> CaseResult {
    for slot in [kernel_low(), KERNEL_HIGH] {
        let args = CloneArgs {
            flags: (CloneFlags::VM | CloneFlags::PIDFD).bits(),
            pidfd: slot as u64,
            ..CloneArgs::default()
        };
        expect(
            "clone3(CLONE_PIDFD into kernel memory)",
            raw_clone3(&args as *const CloneArgs as usize, 88),
            EFAULT,
        )?;
    }
    Ok(())
}

fn settls_kernel() -> CaseResult {
    if !cfg!(target_arch = "x86_64") {
        return Ok(());
    }
    for tls in [
        0xffff_8000_0000_0000usize,
        0x8000_0000_0000_0000,
        0x7fff_ffff_f000,
    ] {
        expect(
            "clone(CLONE_SETTLS at or above TASK_SIZE_MAX)",
            raw_clone(CloneFlags::VM | CloneFlags::SETTLS, 0, 0, 0, tls),
            EPERM,
        )?;
    }
    Ok(())
}

fn tid_slots_kernel() -> CaseResult {
    for slot in [kernel_low(), KERNEL_HIGH] {
        let flags = CloneFlags::VM
            | CloneFlags::PARENT_SETTID
            | CloneFlags::CHILD_SETTID
            | CloneFlags::CHILD_CLEARTID;
        let tid = raw_clone(flags, 0, slot, slot, 0);
        if tid <= 0 {
            fail!(
                "clone with tid slots at {slot:#x}: got {tid}, expected a tid (Linux ignores the failed writes)"
            );
        }
        // Let the child (which exits at once) run and exit.
        for _ in 0..4 {
            user::sched_yield();
        }
    }
    Ok(())
}

fn futex_bad() -> CaseResult {
    let nr = ARCH.syscalls().futex as usize;
    // SAFETY: FUTEX_WAIT on addresses the kernel must refuse; nothing is written.
    let r = unsafe { user::syscall6(nr, kernel_low(), 0, 0, 0, 0, 0) };
    expect("futex(WAIT, kernel address)", r, EFAULT)?;
    let word = AtomicU32::new(0);
    // SAFETY: as above; the address is inside `word` but misaligned.
    let r = unsafe { user::syscall6(nr, word.as_ptr() as usize + 1, 0, 0, 0, 0, 0) };
    expect("futex(WAIT, misaligned)", r, EINVAL)
}

/// `FUTEX_WAIT` with a timeout nobody beats: the only task sleeps, the kernel idles until
/// the timer expires it with ETIMEDOUT; a malformed timeout is EINVAL.
fn futex_timeout() -> CaseResult {
    const ETIMEDOUT: isize = 110;
    let nr = ARCH.syscalls().futex as usize;
    let word = AtomicU32::new(7);
    let ts: [i64; 2] = [0, 30_000_000];
    // SAFETY: FUTEX_WAIT reads `word` and the timespec; nothing is written.
    let r = unsafe { user::syscall6(nr, word.as_ptr() as usize, 0, 7, ts.as_ptr() as usize, 0, 0) };
    expect("futex(WAIT, 30 ms timeout)", r, ETIMEDOUT)?;
    let bad: [i64; 2] = [0, 1_000_000_000];
    // SAFETY: as above.
    let r = unsafe {
        user::syscall6(
            nr,
            word.as_ptr() as usize,
            0,
            7,
            bad.as_ptr() as usize,
            0,
            0,
        )
    };
    expect("futex(WAIT, tv_nsec = 1e9)", r, EINVAL)?;
    // SAFETY: as above; the value differs, so the kernel returns at once.
    let r = unsafe { user::syscall6(nr, word.as_ptr() as usize, 0, 8, 0, 0, 0) };
    expect("futex(WAIT, stale value)", r, 11)
}

fn write_bad() -> CaseResult {
    let nr = ARCH.syscalls().write as usize;
    for buf in [kernel_low(), KERNEL_HIGH] {
        // SAFETY: the kernel only reads the buffer (and must refuse it).
        let r = unsafe { user::syscall3(nr, 1, buf, 8) };
        expect("write(1, kernel buffer)", r, EFAULT)?;
    }
    Ok(())
}

/// Legacy `clone` of a child whose stack pointer is in kernel memory, in the kernel half or
/// (x86_64) non-canonical. Linux accepts any `newsp`; entering user mode with it must not
/// hurt the kernel. A thread that never touches its stack exits normally (its
/// `CLONE_CHILD_CLEARTID` slot is cleared, so the join returns); a `CLONE_VM` process child
/// that stores through it dies of the fault's signal, which its parent's `wait4` sees, as
/// on Linux (a fault kills the whole thread group, so it cannot be a thread of this
/// program): SIGSEGV, or on x86_64 hardware SIGBUS for the non-canonical one (a stack access
/// to a non-canonical address is a stack-segment fault, #SS).
fn bad_child_stack() -> CaseResult {
    let flags = thread_flags() | CloneFlags::CHILD_CLEARTID;
    let mut sps = [
        kernel_low() + 0x800,
        KERNEL_HIGH - 0x1000,
        0x8000_0000_0000_0000,
    ];
    if !cfg!(target_arch = "x86_64") {
        sps[2] = KERNEL_HIGH - 0x10_0000;
    }
    for sp in sps {
        CTID.store(1, Ordering::Relaxed);
        let call = CloneCall::Clone(LegacyCloneArgs {
            word: flags.bits(),
            stack: sp as u64,
            child_tid: CTID.as_ptr() as usize as u64,
            ..LegacyCloneArgs::default()
        });
        let Ok(raw) = encode(ARCH, &call) else {
            fail!("clone-core cannot encode a legacy clone");
        };
        let a = raw.args.map(|x| x as usize);
        // SAFETY: the child exits at once; `CTID` is a static the kernel clears when the
        // child ends.
        let tid = unsafe { raw_or_exit(raw.nr as usize, a) };
        if tid <= 0 {
            fail!("clone with sp={sp:#x}: got {tid}, expected a tid (Linux accepts any newsp)");
        }
        join(&CTID);

        let call = CloneCall::Clone(LegacyCloneArgs {
            word: CloneFlags::VM.bits() | 17,
            stack: sp as u64,
            ..LegacyCloneArgs::default()
        });
        let Ok(raw) = encode(ARCH, &call) else {
            fail!("clone-core cannot encode a legacy clone");
        };
        let a = raw.args.map(|x| x as usize);
        // SAFETY: the child makes one store through its (bad) stack pointer and dies of it;
        // it shares this program's memory but writes none of it.
        let pid = unsafe { raw_child_pushes(raw.nr as usize, a) };
        if pid <= 0 {
            fail!("clone(CLONE_VM|SIGCHLD) with sp={sp:#x}: got {pid}, expected a pid");
        }
        let status = entry::wait_status(pid)?;
        // x86_64's non-canonical stack store is #SS on hardware (SIGBUS, measured on the
        // 6.18 host), but QEMU's TCG raises #GP for it (SIGSEGV in the stub): the CPU the
        // stub runs on differs, not its signal for the vector, so both count.
        let ok = if cfg!(target_arch = "x86_64") && sp == 0x8000_0000_0000_0000 {
            status == 7 || status == 11
        } else {
            status == 11
        };
        if !ok {
            fail!(
                "child storing through sp={sp:#x}: wait status {status:#x}, expected death by SIGSEGV (SIGBUS for #SS)"
            );
        }
    }
    Ok(())
}

extern "C" fn touch_kernel(addr: usize) -> i32 {
    // SAFETY: deliberately invalid: the read faults and the kernel kills this process.
    let v = unsafe { core::ptr::read_volatile(addr as *const u64) };
    v as i32
}

/// A read of memory that is not the user's (the stub's kernel memory; unmapped on Linux) in
/// a `CLONE_VM` process child: the child dies of SIGSEGV, its parent goes on.
fn fault_kills_process() -> CaseResult {
    let status = entry::child_status(touch_kernel, kernel_low())?;
    if status != 11 {
        fail!("wait status {status:#x}, expected death by SIGSEGV");
    }
    Ok(())
}

extern "C" fn recurse(depth: usize) -> i32 {
    let frame = black_box([depth as u8; 512]);
    if depth == usize::MAX {
        return 0;
    }
    recurse(black_box(depth + 1)) + i32::from(frame[7])
}

/// A `CLONE_VM` process child recursing on the lowest 32 KiB of the stub's user region runs
/// off its bottom into kernel memory and dies of SIGSEGV (on Linux that range is unmapped,
/// so its first store faults: SIGSEGV as well; where the program is linked so low that the
/// range starts at 0, as on riscv64 Linux, it starts at 0x1000 instead, still unmapped there
/// and below `mmap_min_addr`, since clone-core's user face refuses a stack at address 0).
fn stack_overflow_kills_process() -> CaseResult {
    let region = StackRegion {
        base: region_start().max(0x1000) as u64,
        size: 0x8000,
    };
    let status = entry::child_status_on(region, recurse, 0)?;
    if status != 11 {
        fail!("wait status {status:#x}, expected death by SIGSEGV");
    }
    Ok(())
}

const POOL: usize = 96;
static POOL_STACKS: [Stack<4096>; POOL] = [const { Stack::new() }; POOL];
static POOL_CTID: [AtomicU32; POOL] = [const { AtomicU32::new(0) }; POOL];
static GATE: AtomicU32 = AtomicU32::new(0);

extern "C" fn wait_gate(_: usize) -> i32 {
    while GATE.load(Ordering::Acquire) == 0 {
        let _ = user::futex_wait(&GATE, 0);
    }
    0
}

fn task_table_full() -> CaseResult {
    let started = fill_task_table()?;
    outln!("stub: task table full after {started} threads: EAGAIN");
    Ok(())
}

/// Starts threads until the task table is full (EAGAIN), joins them all, and returns how many
/// started.
fn fill_task_table() -> Result<usize, Fail> {
    GATE.store(0, Ordering::Relaxed);
    let mut started = 0;
    let mut refused = None;
    for i in 0..POOL {
        match spawn(POOL_STACKS[i].region(), &POOL_CTID[i], wait_gate, i) {
            Ok(_) => started += 1,
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    GATE.store(1, Ordering::Release);
    let _ = user::futex_wake(&GATE, u32::MAX >> 1);
    for c in &POOL_CTID[..started] {
        join(c);
    }
    match refused {
        Some(SpawnError::Kernel { raw: EAGAIN, .. }) if started > 0 => Ok(started),
        Some(e) => fail!("after {started} threads: {e}, expected EAGAIN"),
        None => fail!("{started} threads started, never EAGAIN"),
    }
}

static SPIN_FLAG: AtomicU32 = AtomicU32::new(0);

extern "C" fn set_flag(_: usize) -> i32 {
    SPIN_FLAG.store(1, Ordering::Release);
    0
}

/// The parent busy-waits (no syscall) for a flag only the child sets: on one CPU this ends
/// only if the timer preempts the parent.
fn timer_preemption() -> CaseResult {
    SPIN_FLAG.store(0, Ordering::Relaxed);
    if let Err(e) = spawn(STACK.region(), &CTID, set_flag, 0) {
        fail!("clone failed: {e}");
    }
    let mut spins: u64 = 0;
    while SPIN_FLAG.load(Ordering::Acquire) == 0 {
        core::hint::spin_loop();
        spins += 1;
        if spins > 20_000_000_000 {
            fail!("the child never ran while the parent spun");
        }
    }
    join(&CTID);
    Ok(())
}

static RAN: AtomicUsize = AtomicUsize::new(0);

extern "C" fn count(_: usize) -> i32 {
    RAN.fetch_add(1, Ordering::Relaxed);
    0
}

fn ten_thousand_cycles() -> CaseResult {
    const N: usize = 10_000;
    RAN.store(0, Ordering::Relaxed);
    for i in 0..N {
        if let Err(e) = spawn(STACK.region(), &CTID, count, i) {
            fail!("cycle {i}: clone failed: {e}");
        }
        join(&CTID);
    }
    let ran = RAN.load(Ordering::Relaxed);
    if ran != N {
        fail!("{ran} of {N} threads ran");
    }
    Ok(())
}

/// A case: name, body, and whether it also makes sense on Linux (where a fault or a stack
/// overflow kills the whole process and the task table never fills).
type Case = (&'static str, fn() -> CaseResult, bool);

/// Set when the program runs on Linux (it got arguments: the stub passes `argc = 0`).
static ON_LINUX: AtomicBool = AtomicBool::new(false);

/// The initial stack pointer `_start` was given (where the stub's stack area ends).
static INITIAL_SP: AtomicUsize = AtomicUsize::new(0);

static CASES: &[Case] = &[
    ("stub-clone3-args-unreadable", clone3_args_unreadable, true),
    ("stub-clone3-size-limits", clone3_size_limits, true),
    ("stub-clone3-stack-kernel", clone3_stack_kernel, true),
    ("stub-pidfd-slot-kernel", pidfd_slot_kernel, true),
    ("stub-settls-kernel", settls_kernel, true),
    ("stub-tid-slots-kernel-ignored", tid_slots_kernel, true),
    ("stub-futex-bad-address", futex_bad, true),
    ("stub-futex-timeout", futex_timeout, true),
    ("stub-write-bad-buffer", write_bad, true),
    ("stub-timer-preemption", timer_preemption, true),
    ("stub-bad-child-stack", bad_child_stack, true),
    ("stub-fault-kills-process", fault_kills_process, true),
    (
        "stub-stack-overflow-kills-process",
        stack_overflow_kills_process,
        true,
    ),
    ("stub-task-table-full-eagain", task_table_full, false),
    ("stub-fork-bomb-eagain", procs::fork_bomb, true),
    ("stub-out-of-frames-enomem", procs::out_of_frames, false),
    ("stub-10000-clone-exit-cycles", ten_thousand_cycles, true),
    (
        "stub-entry-flags-survive-syscall",
        entry::flags_survive_syscall,
        true,
    ),
    (
        "stub-entry-fp-control-survives-syscall",
        entry::fp_control_survives_syscall,
        true,
    ),
    ("stub-fault-signals", entry::fault_signals, true),
    ("stub-signal-handlers", signals::handlers, true),
    ("stub-int80-without-ia32", entry::int80_without_ia32, false),
    ("stub-clocks", time::clocks, true),
    ("stub-clock-gettime-args", time::clock_gettime_args, true),
    (
        "stub-futex-absolute-timeouts",
        time::futex_absolute_timeouts,
        true,
    ),
    ("stub-futex-wake-counts", futex::wake_counts, true),
    (
        "stub-futex-private-shared-keys",
        futex::private_shared_keys,
        true,
    ),
    ("stub-futex-wake-addresses", futex::wake_addresses, true),
    ("stub-futex-check-order", futex::check_order, true),
    ("stub-futex-requeue", futex::requeue, true),
    ("stub-futex-wake-op", futex::wake_op, true),
    ("stub-futex-fork-keys", futex::fork_keys, true),
    (
        "stub-syscall-number-width",
        args::syscall_number_width,
        true,
    ),
    ("stub-write-args", args::write_args, true),
    ("stub-close-stdin", args::close_stdin, true),
    ("stub-pipe-errors", pipe::pipe_errors, true),
    (
        "stub-long-write-preemptible",
        args::long_write_preemptible,
        true,
    ),
    ("stub-cpu-features", cpu::cpu_features, true),
    ("stub-arch-prctl-gs", cpu::arch_prctl_gs, true),
    ("stub-umip-dummies", umip::umip_dummies, true),
    ("stub-wait-arguments", wait::wait_arguments, true),
    ("stub-wait-results", wait::wait_results, true),
    ("stub-wait-nothread", wait::wait_nothread, true),
    ("stub-wait-delayed-leader", wait::wait_delayed_leader, true),
    ("stub-wait-reaper-oldest", wait::wait_reaper_oldest, true),
    ("stub-wait-zombie-signals", wait::wait_zombie_signals, true),
    ("stub-cpu-clocks", usage::cpu_clocks, true),
    ("stub-getrusage-times", usage::getrusage_times, true),
    (
        "stub-rusage-context-switches",
        usage::context_switches,
        true,
    ),
    ("stub-elf-permissions", memprot::elf_permissions, true),
];

/// Entry from `_start` with the initial stack pointer (`argc` first).
#[unsafe(no_mangle)]
extern "C" fn hostile_main(sp: usize) -> ! {
    // SAFETY: `sp` is the initial stack pointer; its first word is `argc` (0 on the stub).
    let argc = unsafe { (sp as *const usize).read() };
    ON_LINUX.store(argc > 0, Ordering::Relaxed);
    INITIAL_SP.store(sp, Ordering::Relaxed);
    if argc > 0 {
        // PR_SET_DUMPABLE 0: the fault-signal cases kill children on purpose; no core files.
        let prctl = if cfg!(target_arch = "x86_64") {
            157
        } else {
            167
        };
        // SAFETY: prctl(PR_SET_DUMPABLE, 0) changes only this process's dump flag.
        let _ = unsafe { user::syscall2(prctl, 4, 0) };
    }
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for &(name, run, portable) in CASES {
        if !portable && ON_LINUX.load(Ordering::Relaxed) {
            skipped += 1;
            outln!(
                "case {name}: skip stub-only (on Linux it would end the whole process or never happen)"
            );
            continue;
        }
        match run() {
            Ok(()) => {
                passed += 1;
                outln!("case {name}: pass");
            }
            Err(Fail(l)) => {
                failed += 1;
                let detail = core::str::from_utf8(&l.buf[..l.len]).unwrap_or("?");
                outln!("case {name}: FAIL {detail}");
            }
        }
    }
    outln!("stub hostile cases: {passed} passed, {failed} failed, {skipped} skipped");
    exit_process(if failed == 0 { 0 } else { 1 })
}

/// `exit_group(code)`, after letting the console drain when this program is init of a real
/// kernel (`cargo xtask qemu`'s Linux column on aarch64): init's exit panics the kernel, and a
/// panic does not transmit what is still queued in the console's tty buffer.
fn exit_process(code: i32) -> ! {
    if user::getpid() == 1 {
        let word = AtomicU32::new(0);
        let one_second: [i64; 2] = [1, 0];
        // SAFETY: a timed FUTEX_WAIT that nobody wakes; the kernel only reads `word` and the
        // timespec.
        let _ = unsafe {
            user::syscall4(
                ARCH.syscalls().futex as usize,
                word.as_ptr() as usize,
                0,
                0,
                one_second.as_ptr() as usize,
            )
        };
    }
    user::exit_group(code)
}

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "mov rdi, rsp",
    "and rsp, -16",
    "call hostile_main",
    "ud2",
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "mov x0, sp",
    "bl hostile_main",
    "udf #0",
);

#[cfg(target_arch = "riscv64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "mv a0, sp",
    "call hostile_main",
    "unimp",
);

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    outln!("case stub-panic: FAIL {info}");
    exit_process(101)
}
