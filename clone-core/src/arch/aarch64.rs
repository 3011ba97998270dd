//! AArch64 raw syscalls and the `clone`/`clone3` child trampoline.
//!
//! # Register map (Linux arm64 syscall ABI, `arch/arm64/kernel/entry.S`)
//!
//! | | |
//! |---|---|
//! | trap | `svc #0` |
//! | number | `x8` |
//! | arguments 1..6 | `x0`..`x5` |
//! | return | `x0`; `-4095..=-1` is `-errno` |
//! | clobbered by the kernel | nothing but `x0`; a `clone` child starts with a copy of the parent's registers except `x0 = 0`, `sp = newsp` (and `tpidr_el0 = tls` with `CLONE_SETTLS`) |
//!
//! Legacy `clone` argument order: **`CLONE_BACKWARDS`** (`arch/arm64/Kconfig`:
//! `select CLONE_BACKWARDS`): `clone(flags, newsp, parent_tid, tls, child_tid)` in
//! `x0..x4`, as glibc's and musl's `aarch64/clone.S` pass it. `clone3(args, size)` is `x0, x1`.
//!
//! TLS: `tls` becomes `tpidr_el0`; [`thread_pointer`] reads it with `mrs`.
//!
//! # The child's first frame
//!
//! `entry`, `arg` and the child SP travel through the trap in `x9`, `x10`, `x11` (`x19` is
//! reserved by LLVM). The child moves `sp` to the SP [`crate::stack::layout`] computed (16-aligned,
//! nothing reserved: AAPCS64 passes `arg` in `x0` and has no home area), clears the frame
//! pointer `x29` and the link register `x30` so the frame-record chain ends here, and calls
//! `entry` with `blr`. Its return value goes to the raw `exit` syscall (this thread only).
#![allow(unsafe_code)]

use core::arch::asm;

use crate::Arch;
use crate::user::ChildEntry;

/// The arch this file implements.
pub(crate) const ARCH: Arch = Arch::Aarch64;

// Syscall numbers come from `crate::abi` (one table for the asm and the kernel face).
pub(crate) use crate::user::nr::{
    SYS_CLONE, SYS_CLONE3, SYS_EXIT, SYS_EXIT_GROUP, SYS_FUTEX, SYS_GETPID, SYS_GETTID,
    SYS_SCHED_YIELD, SYS_WRITE,
};

/// Whether this arch has a `clone3` trampoline.
pub(crate) const HAS_CLONE3: bool = true;

// The plain wrappers: trap `svc 0`, number in x8, arguments x0–x5, result in x0.
raw_syscalls! {
    trap: "svc 0",
    nr: "x8",
    args: ["x0", "x1", "x2", "x3", "x4", "x5"],
    clobbers: [],
    options: (nostack, preserves_flags),
}

/// The child side of both traps: runs only when `x0 == 0` after the trap. Expects `entry`
/// in x9, `arg` in x10, the child SP (or 0 to stay on the inherited SP) in x11, and `{exit}`
/// bound to `__NR_exit`.
macro_rules! child_path {
    () => {
        concat!(
            "cbz x11, 3f\n",     // no child SP given: keep the inherited (16-aligned) SP
            "mov sp, x11\n",     // exactly the SP crate::stack::layout computed
            "3:\n",              // both cases continue here
            "mov x29, xzr\n",    // zero frame pointer: the frame-record chain ends here
            "mov x30, xzr\n",    // zero link register until blr sets it
            "mov x0, x10\n",     // entry's argument
            "blr x9\n",          // entry(arg)
            "mov x8, #{exit}\n", // __NR_exit: this thread only, not exit_group
            "svc #0\n",          // exit(entry's result, already in x0); does not return
            "udf #0\n",          // unreachable; trap rather than run on
        )
    };
}

/// Legacy `clone` trap with the child trampoline. Returns the kernel's value in the parent
/// (child tid, or `-errno`); the child never returns from here.
///
/// `word` is `flags | exit_signal`; `child_sp` is the SP the child calls `entry` with, or 0
/// to call it on the SP the child inherits (fork-like, or vfork while the parent waits).
///
/// # Safety
///
/// The caller guarantees what [`crate::user::clone`] documents: the pointers are valid for
/// what `flags` makes the kernel do with them, `child_sp` (if non-zero) lies in memory the
/// child may use as its stack, and a `CLONE_VM` child never runs on a stack the parent is
/// still using.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub(crate) unsafe fn clone(
    word: usize,
    newsp: usize,
    parent_tid: usize,
    child_tid: usize,
    tls: usize,
    entry: ChildEntry,
    arg: usize,
    child_sp: usize,
) -> isize {
    let ret: isize;
    // SAFETY: the caller's contract covers the kernel's use of the arguments. In the parent
    // only x0 changes. The child leaves through `exit` and never reaches Rust code of this
    // function, so it cannot touch the parent's frame; it uses the inherited SP only in the
    // no-stack case, which the caller allows only when that memory is private (no CLONE_VM)
    // or the parent is suspended (CLONE_VFORK).
    unsafe {
        asm!(
            "svc #0",      // clone(flags, newsp, ptid, tls, ctid); both resume here
            "cbnz x0, 2f", // parent (tid) or error (-errno): done
            child_path!(), // child: set up the first frame, entry(arg), exit
            "2:",          // parent continues
            exit = const SYS_EXIT,
            in("x8") SYS_CLONE,
            inlateout("x0") word => ret,
            in("x1") newsp,
            in("x2") parent_tid,
            in("x3") tls,
            in("x4") child_tid,
            in("x9") entry,
            in("x10") arg,
            in("x11") child_sp,
        );
    }
    ret
}

/// `clone3` trap with the child trampoline; see [`clone`].
///
/// # Safety
///
/// As for [`clone`]; `args` points to `size` readable bytes of `struct clone_args`.
#[inline(never)]
pub(crate) unsafe fn clone3(
    args: usize,
    size: usize,
    entry: ChildEntry,
    arg: usize,
    child_sp: usize,
) -> isize {
    let ret: isize;
    // SAFETY: as in `clone`; the kernel only reads `size` bytes at `args` during the trap.
    unsafe {
        asm!(
            "svc #0",      // clone3(args, size); both resume here
            "cbnz x0, 2f", // parent (tid) or error (-errno): done
            child_path!(), // child: set up the first frame, entry(arg), exit
            "2:",          // parent continues
            exit = const SYS_EXIT,
            in("x8") SYS_CLONE3,
            inlateout("x0") args => ret,
            in("x1") size,
            in("x9") entry,
            in("x10") arg,
            in("x11") child_sp,
        );
    }
    ret
}

/// The current stack pointer.
#[inline(always)]
pub(crate) fn current_sp() -> usize {
    let sp: usize;
    // SAFETY: reads a register; no memory access.
    unsafe {
        asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags)); // copy sp
    }
    sp
}

/// The thread pointer: `tpidr_el0`.
pub(crate) fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: reads a user-readable system register; no memory access.
    unsafe {
        asm!("mrs {}, tpidr_el0", out(reg) tp, options(nomem, nostack, preserves_flags)); // read TLS register
    }
    tp
}

/// Ends the calling thread with `code` (raw `exit`, not `exit_group`).
///
/// # Safety
///
/// Nothing on this thread's stack may still be borrowed or need dropping, and whoever owns
/// the stack memory must not free it before the kernel is done with it.
pub(crate) unsafe fn exit_thread(code: i32) -> ! {
    // SAFETY: the caller allows this thread to vanish; `exit` does not return.
    unsafe {
        asm!(
            "svc #0", // exit(code)
            "udf #0", // unreachable
            in("x8") SYS_EXIT,
            in("x0") code as isize as usize,
            options(noreturn, nostack),
        );
    }
}

/// Ends the whole process with `code` (raw `exit_group`).
pub(crate) fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group ends every thread at once; nothing in this process runs afterwards.
    unsafe {
        asm!(
            "svc #0", // exit_group(code)
            "udf #0", // unreachable
            in("x8") SYS_EXIT_GROUP,
            in("x0") code as isize as usize,
            options(noreturn, nostack),
        );
    }
}
