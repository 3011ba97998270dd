//! LoongArch64 raw syscalls and the `clone`/`clone3` child trampoline.
//!
//! # Register map (Linux LoongArch syscall ABI, `arch/loongarch/kernel/entry.S`; glibc `loongarch/sysdep.h`)
//!
//! | | |
//! |---|---|
//! | trap | `syscall 0` |
//! | number | `$a7` (`$r11`) |
//! | arguments 1..6 | `$a0`..`$a5` (`$r4`..`$r9`) |
//! | return | `$a0`; `-4095..=-1` is `-errno` |
//! | clobbered by the kernel | `$a0`, and `$t0`..`$t8` (`$r12`..`$r20`) as glibc's `__SYSCALL_CLOBBERS` declares them; a `clone` child starts with a copy of the parent's registers except `$a0 = 0`, `$sp = newsp` (and `$tp = tls` with `CLONE_SETTLS`) |
//!
//! Legacy `clone` argument order: the **default** one (`arch/loongarch/Kconfig` selects no
//! `CLONE_BACKWARDS*`): `clone(flags, newsp, parent_tid, child_tid, tls)` in `$a0..$a4`;
//! glibc's `loongarch/clone.S` puts ctid in `$a3` and tls in `$a4`, musl's says
//! "sys_clone(flags, stack, ptid, ctid, tls)". `clone3(args, size)` is `$a0, $a1`.
//!
//! TLS: `tls` becomes `$tp` (`$r2`); [`thread_pointer`] reads it.
//!
//! # The child's first frame
//!
//! `entry`, `arg` and the child SP travel through the trap in `$s0`, `$s1`, `$s2` (callee-saved,
//! so no syscall clobbers them; the `$t` registers may be). The child moves `$sp` to the SP
//! [`crate::stack::layout`] computed (16-aligned, nothing reserved: the psABI passes `arg` in
//! `$a0` and has no home area), clears `$fp` and `$ra` so unwinding ends here, and calls
//! `entry` with `jirl`. Its return value goes to the raw `exit` syscall (this thread only).
#![allow(unsafe_code)]

use core::arch::asm;

use crate::Arch;
use crate::user::ChildEntry;

/// The arch this file implements.
pub(crate) const ARCH: Arch = Arch::Loongarch64;

// Syscall numbers come from `crate::abi` (one table for the asm and the kernel face).
pub(crate) use crate::user::nr::{
    SYS_CLONE, SYS_CLONE3, SYS_EXIT, SYS_EXIT_GROUP, SYS_FUTEX, SYS_GETPID, SYS_GETTID,
    SYS_SCHED_YIELD, SYS_WRITE,
};

/// Whether this arch has a `clone3` trampoline.
pub(crate) const HAS_CLONE3: bool = true;

// The plain wrappers: trap `syscall 0`, number in $a7, arguments $a0–$a5, result in $a0; the kernel may clobber $t0–$t8.
raw_syscalls! {
    trap: "syscall 0",
    nr: "$a7",
    args: ["$a0", "$a1", "$a2", "$a3", "$a4", "$a5"],
    clobbers: ["$t0", "$t1", "$t2", "$t3", "$t4", "$t5", "$t6", "$t7", "$t8"],
    options: (nostack, preserves_flags),
}

/// The child side of both traps: runs only when `$a0 == 0` after the trap. Expects `entry`
/// in $s0, `arg` in $s1, the child SP (or 0 to stay on the inherited SP) in $s2, and `{exit}`
/// bound to `__NR_exit`.
macro_rules! child_path {
    () => {
        concat!(
            "beqz $s2, 3f\n",               // no child SP given: keep the inherited SP
            "move $sp, $s2\n",              // exactly the SP crate::stack::layout computed
            "b 4f\n",                       // skip the alignment of the inherited SP
            "3:\n",                         // inherited SP:
            "bstrins.d $sp, $zero, 3, 0\n", // the psABI's 16-byte alignment at calls
            "4:\n",                         // both cases continue here
            "move $fp, $zero\n",            // zero frame pointer: unwinding ends here
            "move $ra, $zero\n",            // zero return address until jirl sets it
            "move $a0, $s1\n",              // entry's argument
            "jirl $ra, $s0, 0\n",           // entry(arg)
            "ori $a7, $zero, {exit}\n",     // __NR_exit: this thread only, not exit_group
            "syscall 0\n",                  // exit(entry's result, already in $a0); no return
            "break 0\n",                    // unreachable; trap rather than run on
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
    // only $a0 and the `$t` registers change. The child leaves through `exit` and never reaches Rust code of this
    // function, so it cannot touch the parent's frame; it uses the inherited SP only in the
    // no-stack case, which the caller allows only when that memory is private (no CLONE_VM)
    // or the parent is suspended (CLONE_VFORK).
    unsafe {
        asm!(
            "syscall 0",     // clone(flags, newsp, ptid, ctid, tls); both resume here
            "bnez $a0, 2f",  // parent (tid) or error (-errno): done
            child_path!(), // child: set up the first frame, entry(arg), exit
            "2:",          // parent continues
            exit = const SYS_EXIT,
            in("$a7") SYS_CLONE,
            inlateout("$a0") word => ret,
            in("$a1") newsp,
            in("$a2") parent_tid,
            in("$a3") child_tid,
            in("$a4") tls,
            in("$s0") entry,
            in("$s1") arg,
            in("$s2") child_sp,
            lateout("$t0") _,
            lateout("$t1") _,
            lateout("$t2") _,
            lateout("$t3") _,
            lateout("$t4") _,
            lateout("$t5") _,
            lateout("$t6") _,
            lateout("$t7") _,
            lateout("$t8") _,
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
            "syscall 0",     // clone3(args, size); both resume here
            "bnez $a0, 2f",  // parent (tid) or error (-errno): done
            child_path!(), // child: set up the first frame, entry(arg), exit
            "2:",          // parent continues
            exit = const SYS_EXIT,
            in("$a7") SYS_CLONE3,
            inlateout("$a0") args => ret,
            in("$a1") size,
            in("$s0") entry,
            in("$s1") arg,
            in("$s2") child_sp,
            lateout("$t0") _,
            lateout("$t1") _,
            lateout("$t2") _,
            lateout("$t3") _,
            lateout("$t4") _,
            lateout("$t5") _,
            lateout("$t6") _,
            lateout("$t7") _,
            lateout("$t8") _,
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
        asm!("move {}, $sp", out(reg) sp, options(nomem, nostack, preserves_flags)); // copy $sp
    }
    sp
}

/// The thread pointer: `$tp`.
pub(crate) fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: reads a register; no memory access.
    unsafe {
        asm!("move {}, $tp", out(reg) tp, options(nomem, nostack, preserves_flags)); // copy $tp
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
            "syscall 0", // exit(code)
            "break 0",   // unreachable
            in("$a7") SYS_EXIT,
            in("$a0") code as isize as usize,
            options(noreturn, nostack),
        );
    }
}

/// Ends the whole process with `code` (raw `exit_group`).
pub(crate) fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group ends every thread at once; nothing in this process runs afterwards.
    unsafe {
        asm!(
            "syscall 0", // exit_group(code)
            "break 0",   // unreachable
            in("$a7") SYS_EXIT_GROUP,
            in("$a0") code as isize as usize,
            options(noreturn, nostack),
        );
    }
}
