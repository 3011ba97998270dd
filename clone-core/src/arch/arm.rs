//! 32-bit ARM (EABI) raw syscalls and the `clone`/`clone3` child trampoline.
//!
//! # Register map (Linux ARM EABI syscall ABI, `arch/arm/kernel/entry-common.S`)
//!
//! | | |
//! |---|---|
//! | trap | `svc #0` |
//! | number | `r7` |
//! | arguments 1..6 | `r0`..`r5` |
//! | return | `r0`; `-4095..=-1` (as unsigned: `>= 0xfffff001`) is `-errno` |
//! | clobbered by the kernel | nothing but `r0`; a `clone` child starts with a copy of the parent's registers except `r0 = 0`, `sp = newsp` (and the TLS register TPIDRURO = `tls` with `CLONE_SETTLS`) |
//!
//! Legacy `clone` argument order: **`CLONE_BACKWARDS`** (`arch/arm/Kconfig` selects it;
//! clone(2) lists ARM among the `CLONE_BACKWARDS` arches):
//! `clone(flags, newsp, parent_tid, tls, child_tid)` in `r0..r4`, as glibc's and musl's
//! `arm/clone.S` pass it. `clone3(args, size)` is `r0, r1`.
//!
//! TLS: `tls` becomes the user read-only thread ID register TPIDRURO (what `set_tls` sets);
//! [`thread_pointer`] reads it with `mrc p15, 0, rN, c13, c0, 3`.
//!
//! Builds for A32 (ARM-state) code only: in Thumb state LLVM keeps `r7` as its frame pointer
//! and it could not be named as the syscall-number operand.
//!
//! # The child's first frame
//!
//! `entry`, `arg` and the child SP travel through the trap in `r5`, `r8`, `r10` (`r6` is
//! reserved by LLVM, `r11` is the frame pointer). The child moves `sp` to the SP
//! [`crate::stack::layout`] computed (8-aligned as AAPCS requires at public interfaces,
//! nothing reserved: `arg` goes in `r0`), clears `fp` (`r11`) and `lr` so unwinding ends here,
//! and calls `entry` with `blx` (which also handles a Thumb `entry`). Its return value goes to the raw `exit` syscall (this thread only).
#![allow(unsafe_code)]

use core::arch::asm;

use crate::Arch;
use crate::user::ChildEntry;

/// The arch this file implements.
pub(crate) const ARCH: Arch = Arch::Arm;

// Syscall numbers come from `crate::abi` (one table for the asm and the kernel face).
pub(crate) use crate::user::nr::{
    SYS_CLONE, SYS_CLONE3, SYS_EXIT, SYS_EXIT_GROUP, SYS_FUTEX, SYS_GETPID, SYS_GETTID,
    SYS_SCHED_YIELD, SYS_WRITE,
};

/// Whether this arch has a `clone3` trampoline.
pub(crate) const HAS_CLONE3: bool = true;

// The plain wrappers: trap `svc 0` (EABI), number in r7, arguments r0–r5, result in r0.
raw_syscalls! {
    trap: "svc 0",
    nr: "r7",
    args: ["r0", "r1", "r2", "r3", "r4", "r5"],
    clobbers: [],
    options: (nostack, preserves_flags),
}
/// The child side of both traps: runs only when `r0 == 0` after the trap. Expects `entry`
/// in r5, `arg` in r8, the child SP (or 0 to stay on the inherited SP) in r10, and `{exit}`
/// bound to `__NR_exit`.
macro_rules! child_path {
    () => {
        concat!(
            "cmp r10, #0\n",     // child SP given?
            "beq 3f\n",          // no: keep the inherited SP
            "mov sp, r10\n",     // exactly the SP crate::stack::layout computed
            "b 4f\n",            // skip the alignment of the inherited SP
            "3:\n",              // inherited SP:
            "mov r0, sp\n",      // (bic cannot take sp as its operand in A32)
            "bic r0, r0, #7\n",  // AAPCS 8-byte alignment at a call
            "mov sp, r0\n",      // aligned
            "4:\n",              // both cases continue here
            "mov r11, #0\n",     // zero frame pointer: unwinding ends here
            "mov lr, #0\n",      // zero link register until blx sets it
            "mov r0, r8\n",      // entry's argument
            "blx r5\n",          // entry(arg)
            "mov r7, #{exit}\n", // __NR_exit: this thread only, not exit_group
            "svc #0\n",          // exit(entry's result, already in r0); does not return
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
    // only r0 and the flags change. The child leaves through `exit` and never reaches Rust code of this
    // function, so it cannot touch the parent's frame; it uses the inherited SP only in the
    // no-stack case, which the caller allows only when that memory is private (no CLONE_VM)
    // or the parent is suspended (CLONE_VFORK).
    unsafe {
        asm!(
            "svc #0",      // clone(flags, newsp, ptid, tls, ctid); both resume here
            "cmp r0, #0",  // 0 only in the child
            "bne 2f",      // parent (tid) or error (-errno): done
            child_path!(), // child: set up the first frame, entry(arg), exit
            "2:",          // parent continues
            exit = const SYS_EXIT,
            in("r7") SYS_CLONE,
            inlateout("r0") word => ret,
            in("r1") newsp,
            in("r2") parent_tid,
            in("r3") tls,
            in("r4") child_tid,
            in("r5") entry,
            in("r8") arg,
            in("r10") child_sp,
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
            "cmp r0, #0",  // 0 only in the child
            "bne 2f",      // parent (tid) or error (-errno): done
            child_path!(), // child: set up the first frame, entry(arg), exit
            "2:",          // parent continues
            exit = const SYS_EXIT,
            in("r7") SYS_CLONE3,
            inlateout("r0") args => ret,
            in("r1") size,
            in("r5") entry,
            in("r8") arg,
            in("r10") child_sp,
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

/// The thread pointer: TPIDRURO.
pub(crate) fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: reads the user read-only thread ID register; no memory access.
    unsafe {
        asm!("mrc p15, 0, {}, c13, c0, 3", out(reg) tp, options(nomem, nostack, preserves_flags)); // read TPIDRURO
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
            in("r7") SYS_EXIT,
            in("r0") code as isize as usize,
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
            in("r7") SYS_EXIT_GROUP,
            in("r0") code as isize as usize,
            options(noreturn, nostack),
        );
    }
}
