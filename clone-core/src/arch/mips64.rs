//! MIPS64 (n64 ABI) raw syscalls and the `clone`/`clone3` child trampoline. Behind the
//! `experimental-asm` feature: MIPS inline asm needs the nightly `asm_experimental_arch`.
//!
//! # Register map (Linux MIPS n64 syscall ABI, `arch/mips/kernel/scall64-n64.S`)
//!
//! | | |
//! |---|---|
//! | trap | `syscall` |
//! | number | `$2` (`v0`); n64 numbers start at 5000 |
//! | arguments 1..6 | `$4`..`$9` (`a0`..`a5`) |
//! | return | `$2`; **`$7` (`a3`) is the error flag**: non-zero means `$2` holds the positive errno |
//! | clobbered by the kernel | `$2`, `$3`, `$7`, and what glibc's `__SYSCALL_CLOBBERS` lists: `$1`, `$10`–`$15`, `$24`, `$25`, `hi`, `lo` (`$1`, `hi`, `lo` cannot be named as asm operands; `hi`/`lo` live only between a multiply and its `mfhi`/`mflo`, but LLVM does keep values in `$1` across asm, so every trap that returns saves `$1` in `$23` (`s7`, callee-saved, so the kernel keeps it) and restores it after: a real kernel returns with a kernel address in `$1` (qemu-user preserves it, which hid this)) |
//!
//! A `clone` child starts with a copy of the parent's registers except `$2 = 0`, `$7 = 0`,
//! `$29 = newsp` (and UserLocal = `tls` with `CLONE_SETTLS`). Errors come back in MIPS
//! numbering (`arch/mips/include/uapi/asm/errno.h`); the wrappers here fold the flag into the
//! usual `-errno` form.
//!
//! Legacy `clone` argument order: **`CLONE_BACKWARDS`** (`arch/mips/Kconfig`:
//! `select CLONE_BACKWARDS`): `clone(flags, newsp, parent_tid, tls, child_tid)` in
//! `$4..$8`, as glibc's and musl's `mips64/clone.S` pass it. `clone3(args, size)` is `$4, $5`.
//!
//! TLS: `tls` becomes the UserLocal register; [`thread_pointer`] reads it with
//! `rdhwr $3, $29` (emulated by the kernel on CPUs without it).
//!
//! # The child's first frame
//!
//! `entry`, `arg` and the child SP travel through the trap in `$16`, `$17`, `$18` (`s0`–`s2`,
//! callee-saved). The child moves `$sp` to the SP [`crate::stack::layout`] computed (16-aligned,
//! nothing reserved: n64 passes `arg` in `$4` and, unlike o32, has no argument home area),
//! clears `$fp` and `$ra` so unwinding ends here, and calls `entry` through `$25` (`t9`), which
//! position-independent callees use to find their `$gp`. The assembler runs in its default
//! `reorder` mode, so it fills the branch delay slots. `entry`'s return value goes to the raw
//! `exit` syscall (this thread only).
#![allow(unsafe_code)]

use core::arch::asm;

use crate::Arch;
use crate::user::ChildEntry;

/// The arch this file implements.
pub(crate) const ARCH: Arch = Arch::Mips64;

// Syscall numbers come from `crate::abi` (one table for the asm and the kernel face).
pub(crate) use crate::user::nr::{
    SYS_CLONE, SYS_CLONE3, SYS_EXIT, SYS_EXIT_GROUP, SYS_FUTEX, SYS_GETPID, SYS_GETTID,
    SYS_SCHED_YIELD, SYS_WRITE,
};

/// Whether this arch has a `clone3` trampoline.
pub(crate) const HAS_CLONE3: bool = true;

/// Raw syscall with no arguments. Returns the kernel's value normalised to the usual form:
/// `-4095..=-1` is `-errno` (the MIPS convention — `a3 != 0`, positive errno in `v0` — is
/// folded in here; the errno is in MIPS numbering).
///
/// # Safety
///
/// `nr` and the arguments must form a syscall that is sound to make here (it may not, for
/// example, unmap memory Rust still uses or start a thread on a shared stack).
#[inline]
pub unsafe fn syscall0(nr: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the syscall; the trap itself touches no user memory, and
    // the registers the kernel may change ($2, $3, $7-$15, $24, $25) are declared.
    unsafe {
        asm!(
            ".set noat",         // $1 is named on purpose (see the module docs)
            "move $23, $1",      // keep $at: the kernel does not preserve it, LLVM may use it
            "syscall",           // trap (number in $2); result in $2, error flag in $7
            "beqz $7, 2f",       // a3 == 0: $2 is the result
            "dsubu $2, $0, $2",  // error: $2 held the positive errno
            "2:",                // done
            "move $1, $23",      // $at back
            ".set at",           // assembler may use $at again
            inlateout("$2") nr => ret,
            lateout("$3") _,
            lateout("$7") _,
            lateout("$8") _,
            lateout("$9") _,
            lateout("$10") _,
            lateout("$11") _,
            lateout("$12") _,
            lateout("$13") _,
            lateout("$14") _,
            lateout("$15") _,
            lateout("$24") _,
            lateout("$25") _,
            lateout("$23") _,
            options(nostack),
        );
    }
    ret
}

/// Raw syscall with one argument; see [`syscall0`].
///
/// # Safety
///
/// As for [`syscall0`].
#[inline]
pub unsafe fn syscall1(nr: usize, a0: usize) -> isize {
    let ret: isize;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!(
            ".set noat",         // $1 is named on purpose (see the module docs)
            "move $23, $1",      // keep $at: the kernel does not preserve it, LLVM may use it
            "syscall",           // trap (number in $2); result in $2, error flag in $7
            "beqz $7, 2f",       // a3 == 0: $2 is the result
            "dsubu $2, $0, $2",  // error: $2 held the positive errno
            "2:",                // done
            "move $1, $23",      // $at back
            ".set at",           // assembler may use $at again
            inlateout("$2") nr => ret,
            lateout("$3") _,
            in("$4") a0,
            lateout("$7") _,
            lateout("$8") _,
            lateout("$9") _,
            lateout("$10") _,
            lateout("$11") _,
            lateout("$12") _,
            lateout("$13") _,
            lateout("$14") _,
            lateout("$15") _,
            lateout("$24") _,
            lateout("$25") _,
            lateout("$23") _,
            options(nostack),
        );
    }
    ret
}

/// Raw syscall with two arguments; see [`syscall0`].
///
/// # Safety
///
/// As for [`syscall0`].
#[inline]
pub unsafe fn syscall2(nr: usize, a0: usize, a1: usize) -> isize {
    let ret: isize;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!(
            ".set noat",         // $1 is named on purpose (see the module docs)
            "move $23, $1",      // keep $at: the kernel does not preserve it, LLVM may use it
            "syscall",           // trap (number in $2); result in $2, error flag in $7
            "beqz $7, 2f",       // a3 == 0: $2 is the result
            "dsubu $2, $0, $2",  // error: $2 held the positive errno
            "2:",                // done
            "move $1, $23",      // $at back
            ".set at",           // assembler may use $at again
            inlateout("$2") nr => ret,
            lateout("$3") _,
            in("$4") a0,
            in("$5") a1,
            lateout("$7") _,
            lateout("$8") _,
            lateout("$9") _,
            lateout("$10") _,
            lateout("$11") _,
            lateout("$12") _,
            lateout("$13") _,
            lateout("$14") _,
            lateout("$15") _,
            lateout("$24") _,
            lateout("$25") _,
            lateout("$23") _,
            options(nostack),
        );
    }
    ret
}

/// Raw syscall with three arguments; see [`syscall0`].
///
/// # Safety
///
/// As for [`syscall0`].
#[inline]
pub unsafe fn syscall3(nr: usize, a0: usize, a1: usize, a2: usize) -> isize {
    let ret: isize;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!(
            ".set noat",         // $1 is named on purpose (see the module docs)
            "move $23, $1",      // keep $at: the kernel does not preserve it, LLVM may use it
            "syscall",           // trap (number in $2); result in $2, error flag in $7
            "beqz $7, 2f",       // a3 == 0: $2 is the result
            "dsubu $2, $0, $2",  // error: $2 held the positive errno
            "2:",                // done
            "move $1, $23",      // $at back
            ".set at",           // assembler may use $at again
            inlateout("$2") nr => ret,
            lateout("$3") _,
            in("$4") a0,
            in("$5") a1,
            in("$6") a2,
            lateout("$7") _,
            lateout("$8") _,
            lateout("$9") _,
            lateout("$10") _,
            lateout("$11") _,
            lateout("$12") _,
            lateout("$13") _,
            lateout("$14") _,
            lateout("$15") _,
            lateout("$24") _,
            lateout("$25") _,
            lateout("$23") _,
            options(nostack),
        );
    }
    ret
}

/// Raw syscall with four arguments; see [`syscall0`].
///
/// # Safety
///
/// As for [`syscall0`].
#[inline]
pub unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> isize {
    let ret: isize;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!(
            ".set noat",         // $1 is named on purpose (see the module docs)
            "move $23, $1",      // keep $at: the kernel does not preserve it, LLVM may use it
            "syscall",           // trap (number in $2); result in $2, error flag in $7
            "beqz $7, 2f",       // a3 == 0: $2 is the result
            "dsubu $2, $0, $2",  // error: $2 held the positive errno
            "2:",                // done
            "move $1, $23",      // $at back
            ".set at",           // assembler may use $at again
            inlateout("$2") nr => ret,
            lateout("$3") _,
            in("$4") a0,
            in("$5") a1,
            in("$6") a2,
            inlateout("$7") a3 => _,
            lateout("$8") _,
            lateout("$9") _,
            lateout("$10") _,
            lateout("$11") _,
            lateout("$12") _,
            lateout("$13") _,
            lateout("$14") _,
            lateout("$15") _,
            lateout("$24") _,
            lateout("$25") _,
            lateout("$23") _,
            options(nostack),
        );
    }
    ret
}

/// Raw syscall with five arguments; see [`syscall0`].
///
/// # Safety
///
/// As for [`syscall0`].
#[inline]
pub unsafe fn syscall5(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize, a4: usize) -> isize {
    let ret: isize;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!(
            ".set noat",         // $1 is named on purpose (see the module docs)
            "move $23, $1",      // keep $at: the kernel does not preserve it, LLVM may use it
            "syscall",           // trap (number in $2); result in $2, error flag in $7
            "beqz $7, 2f",       // a3 == 0: $2 is the result
            "dsubu $2, $0, $2",  // error: $2 held the positive errno
            "2:",                // done
            "move $1, $23",      // $at back
            ".set at",           // assembler may use $at again
            inlateout("$2") nr => ret,
            lateout("$3") _,
            in("$4") a0,
            in("$5") a1,
            in("$6") a2,
            inlateout("$7") a3 => _,
            inlateout("$8") a4 => _,
            lateout("$9") _,
            lateout("$10") _,
            lateout("$11") _,
            lateout("$12") _,
            lateout("$13") _,
            lateout("$14") _,
            lateout("$15") _,
            lateout("$24") _,
            lateout("$25") _,
            lateout("$23") _,
            options(nostack),
        );
    }
    ret
}

/// Raw syscall with six arguments; see [`syscall0`].
///
/// # Safety
///
/// As for [`syscall0`].
#[inline]
#[allow(clippy::too_many_arguments)]
pub unsafe fn syscall6(
    nr: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> isize {
    let ret: isize;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!(
            ".set noat",         // $1 is named on purpose (see the module docs)
            "move $23, $1",      // keep $at: the kernel does not preserve it, LLVM may use it
            "syscall",           // trap (number in $2); result in $2, error flag in $7
            "beqz $7, 2f",       // a3 == 0: $2 is the result
            "dsubu $2, $0, $2",  // error: $2 held the positive errno
            "2:",                // done
            "move $1, $23",      // $at back
            ".set at",           // assembler may use $at again
            inlateout("$2") nr => ret,
            lateout("$3") _,
            in("$4") a0,
            in("$5") a1,
            in("$6") a2,
            inlateout("$7") a3 => _,
            inlateout("$8") a4 => _,
            inlateout("$9") a5 => _,
            lateout("$10") _,
            lateout("$11") _,
            lateout("$12") _,
            lateout("$13") _,
            lateout("$14") _,
            lateout("$15") _,
            lateout("$24") _,
            lateout("$25") _,
            lateout("$23") _,
            options(nostack),
        );
    }
    ret
}

/// The child side of both traps, placed after the error check: runs only when `$2 == 0`.
/// Expects `entry` in $16, `arg` in $17, the child SP (or 0 to stay on the inherited SP) in
/// $18, and `{exit}` bound to `__NR_exit`.
macro_rules! child_path {
    () => {
        concat!(
            "beqz $18, 3f\n",      // no child SP given: keep the inherited SP
            "move $29, $18\n",     // exactly the SP crate::stack::layout computed
            "b 4f\n",              // skip the alignment of the inherited SP
            "3:\n",                // inherited SP:
            "li $12, -16\n",       // mask
            "and $29, $29, $12\n", // 16-aligned, as n64 requires at calls
            "4:\n",                // both cases continue here
            "move $30, $0\n",      // zero frame pointer: unwinding ends here
            "move $31, $0\n",      // zero return address until jalr sets it
            "move $25, $16\n",     // t9 = entry (PIC callees derive $gp from it)
            "move $4, $17\n",      // entry's argument
            "jalr $25\n",          // entry(arg)
            "move $4, $2\n",       // exit status = entry's result
            "li $2, {exit}\n",     // __NR_exit: this thread only, not exit_group
            "syscall\n",           // does not return
            "break\n",             // unreachable; trap rather than run on
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
    // only the declared registers change. The child leaves through `exit` and never reaches
    // Rust code of this function; it uses the inherited SP only in the no-stack case, which
    // the caller allows only when that memory is private (no CLONE_VM) or the parent is
    // suspended (CLONE_VFORK).
    unsafe {
        asm!(
            ".set noat",         // $1 is named on purpose (see the module docs)
            "move $23, $1",      // keep $at for the parent (the child inherits the copy)
            ".set at",           // the child path may use assembler macros
            "syscall",           // clone(flags, newsp, ptid, tls, ctid); both resume here
            "bnez $7, 5f",       // a3 set: error (parent only)
            "bnez $2, 2f",       // parent: $2 is the tid
            child_path!(),       // child: set up the first frame, entry(arg), exit
            "5:",                // error:
            "dsubu $2, $0, $2",  // positive errno -> -errno
            "2:",                // parent continues
            ".set noat",         // name $1 again
            "move $1, $23",      // $at back
            ".set at",           // assembler may use $at again
            exit = const SYS_EXIT,
            inlateout("$2") SYS_CLONE => ret,
            lateout("$3") _,
            in("$4") word,
            in("$5") newsp,
            in("$6") parent_tid,
            inlateout("$7") tls => _,
            inlateout("$8") child_tid => _,
            lateout("$9") _,
            lateout("$10") _,
            lateout("$11") _,
            lateout("$12") _,
            lateout("$13") _,
            lateout("$14") _,
            lateout("$15") _,
            lateout("$24") _,
            lateout("$25") _,
            lateout("$23") _,
            in("$16") entry,
            in("$17") arg,
            in("$18") child_sp,
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
            ".set noat",         // $1 is named on purpose (see the module docs)
            "move $23, $1",      // keep $at for the parent (the child inherits the copy)
            ".set at",           // the child path may use assembler macros
            "syscall",           // clone3(args, size); both resume here
            "bnez $7, 5f",       // a3 set: error (parent only)
            "bnez $2, 2f",       // parent: $2 is the tid
            child_path!(),       // child: set up the first frame, entry(arg), exit
            "5:",                // error:
            "dsubu $2, $0, $2",  // positive errno -> -errno
            "2:",                // parent continues
            ".set noat",         // name $1 again
            "move $1, $23",      // $at back
            ".set at",           // assembler may use $at again
            exit = const SYS_EXIT,
            inlateout("$2") SYS_CLONE3 => ret,
            lateout("$3") _,
            in("$4") args,
            in("$5") size,
            lateout("$7") _,
            lateout("$8") _,
            lateout("$9") _,
            lateout("$10") _,
            lateout("$11") _,
            lateout("$12") _,
            lateout("$13") _,
            lateout("$14") _,
            lateout("$15") _,
            lateout("$24") _,
            lateout("$25") _,
            lateout("$23") _,
            in("$16") entry,
            in("$17") arg,
            in("$18") child_sp,
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
        asm!("move {}, $29", out(reg) sp, options(nomem, nostack, preserves_flags)); // copy $sp
    }
    sp
}

/// The thread pointer: the UserLocal hardware register.
pub(crate) fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: reads UserLocal (or traps into the kernel's emulation of exactly this form).
    unsafe {
        asm!(
            ".set push",        // keep the assembler's ISA setting local
            ".set mips64r2",    // rdhwr is an R2 instruction
            "rdhwr $3, $29",    // $3 = UserLocal (the form the kernel emulates)
            ".set pop",         // restore
            out("$3") tp,
            options(nomem, nostack, preserves_flags),
        );
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
            "syscall", // exit(code)
            "break",   // unreachable
            in("$2") SYS_EXIT,
            in("$4") code as isize as usize,
            options(noreturn, nostack),
        );
    }
}

/// Ends the whole process with `code` (raw `exit_group`).
pub(crate) fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group ends every thread at once; nothing in this process runs afterwards.
    unsafe {
        asm!(
            "syscall", // exit_group(code)
            "break",   // unreachable
            in("$2") SYS_EXIT_GROUP,
            in("$4") code as isize as usize,
            options(noreturn, nostack),
        );
    }
}
