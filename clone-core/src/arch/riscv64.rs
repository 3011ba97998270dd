//! RISC-V 64 raw syscalls and the `clone`/`clone3` child trampoline.
//!
//! # Register map (Linux riscv syscall ABI, `arch/riscv/kernel/entry.S`)
//!
//! | | |
//! |---|---|
//! | trap | `ecall` |
//! | number | `a7` |
//! | arguments 1..6 | `a0`..`a5` |
//! | return | `a0`; `-4095..=-1` is `-errno` |
//! | clobbered by the kernel | nothing but `a0` among the integer registers; a `clone` child starts with a copy of the parent's registers except `a0 = 0`, `sp = newsp` (and `tp = tls` with `CLONE_SETTLS`). Vector state is discarded across syscalls (`Documentation/arch/riscv/vector.rst`); the riscv64gc targets this builds for have no V registers to declare |
//!
//! Legacy `clone` argument order: **`CLONE_BACKWARDS`** (`arch/riscv/Kconfig`:
//! `select CLONE_BACKWARDS`): `clone(flags, newsp, parent_tid, tls, child_tid)` in
//! `a0..a4`, as glibc's and musl's `riscv64/clone.S` pass it. `clone3(args, size)` is `a0, a1`.
//!
//! TLS: `tls` becomes `tp`; [`thread_pointer`] reads `tp`.
//!
//! # The child's first frame
//!
//! `entry`, `arg` and the child SP travel through the trap in `t0`, `t1`, `t2` (`s0` is the
//! frame pointer and `s1` is reserved by LLVM). The child moves `sp` to the SP
//! [`crate::stack::layout`] computed (16-aligned, nothing reserved: the psABI passes `arg` in
//! `a0` and has no home area), clears `s0`/`fp` and `ra` so unwinding ends here, and calls
//! `entry` with `jalr`. Its return value goes to the raw `exit` syscall (this thread only).
#![allow(unsafe_code)]

use core::arch::asm;

use crate::Arch;
use crate::user::ChildEntry;

/// The arch this file implements.
pub(crate) const ARCH: Arch = Arch::Riscv64;

// Syscall numbers come from `crate::abi` (one table for the asm and the kernel face).
pub(crate) use crate::user::nr::{
    SYS_CLONE, SYS_CLONE3, SYS_EXIT, SYS_EXIT_GROUP, SYS_FUTEX, SYS_GETPID, SYS_GETTID,
    SYS_SCHED_YIELD, SYS_WRITE,
};

/// Whether this arch has a `clone3` trampoline.
pub(crate) const HAS_CLONE3: bool = true;

// The plain wrappers: trap `ecall`, number in a7, arguments a0–a5, result in a0.
raw_syscalls! {
    trap: "ecall",
    nr: "a7",
    args: ["a0", "a1", "a2", "a3", "a4", "a5"],
    clobbers: [],
    options: (nostack, preserves_flags),
}

/// The child side of both traps: runs only when `a0 == 0` after the trap. Expects `entry`
/// in t0, `arg` in t1, the child SP (or 0 to stay on the inherited SP) in t2, and `{exit}`
/// bound to `__NR_exit`.
macro_rules! child_path {
    () => {
        concat!(
            "beqz t2, 3f\n",      // no child SP given: keep the inherited SP
            "mv sp, t2\n",        // exactly the SP crate::stack::layout computed
            "j 4f\n",             // skip the alignment of the inherited SP
            "3:\n",               // inherited SP:
            "andi sp, sp, -16\n", // the psABI's 16-byte alignment at calls
            "4:\n",               // both cases continue here
            "mv s0, zero\n",      // zero frame pointer: unwinding ends here
            "mv ra, zero\n",      // zero return address until jalr sets it
            "mv a0, t1\n",        // entry's argument
            "jalr t0\n",          // entry(arg)
            "li a7, {exit}\n",    // __NR_exit: this thread only, not exit_group
            "ecall\n",            // exit(entry's result, already in a0); does not return
            "unimp\n",            // unreachable; trap rather than run on
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
    // only a0 changes. The child leaves through `exit` and never reaches Rust code of this
    // function, so it cannot touch the parent's frame; it uses the inherited SP only in the
    // no-stack case, which the caller allows only when that memory is private (no CLONE_VM)
    // or the parent is suspended (CLONE_VFORK).
    unsafe {
        asm!(
            "ecall",       // clone(flags, newsp, ptid, tls, ctid); both resume here
            "bnez a0, 2f", // parent (tid) or error (-errno): done
            child_path!(), // child: set up the first frame, entry(arg), exit
            "2:",          // parent continues
            exit = const SYS_EXIT,
            in("a7") SYS_CLONE,
            inlateout("a0") word => ret,
            in("a1") newsp,
            in("a2") parent_tid,
            in("a3") tls,
            in("a4") child_tid,
            in("t0") entry,
            in("t1") arg,
            in("t2") child_sp,
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
            "ecall",       // clone3(args, size); both resume here
            "bnez a0, 2f", // parent (tid) or error (-errno): done
            child_path!(), // child: set up the first frame, entry(arg), exit
            "2:",          // parent continues
            exit = const SYS_EXIT,
            in("a7") SYS_CLONE3,
            inlateout("a0") args => ret,
            in("a1") size,
            in("t0") entry,
            in("t1") arg,
            in("t2") child_sp,
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
        asm!("mv {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags)); // copy sp
    }
    sp
}

/// The thread pointer: `tp`.
pub(crate) fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: reads a register; no memory access.
    unsafe {
        asm!("mv {}, tp", out(reg) tp, options(nomem, nostack, preserves_flags)); // copy tp
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
            "ecall", // exit(code)
            "unimp", // unreachable
            in("a7") SYS_EXIT,
            in("a0") code as isize as usize,
            options(noreturn, nostack),
        );
    }
}

/// Ends the whole process with `code` (raw `exit_group`).
pub(crate) fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group ends every thread at once; nothing in this process runs afterwards.
    unsafe {
        asm!(
            "ecall", // exit_group(code)
            "unimp", // unreachable
            in("a7") SYS_EXIT_GROUP,
            in("a0") code as isize as usize,
            options(noreturn, nostack),
        );
    }
}
