//! 64-bit PowerPC raw syscalls and the `clone`/`clone3` child trampoline, for both ABIs:
//! ELFv2 (powerpc64le, and big-endian targets built for ELFv2) and ELFv1 (the built-in
//! big-endian `powerpc64-unknown-linux-gnu`; behind the `experimental-asm` feature).
//! `target_abi` picks the calling sequence, not the endianness.
//!
//! # Register map (Linux powerpc `sc` ABI, `Documentation/arch/powerpc/syscall64-abi.rst`)
//!
//! | | |
//! |---|---|
//! | trap | `sc` |
//! | number | `r0` |
//! | arguments 1..6 | `r3`..`r8` |
//! | return | `r3`; on error **CR0.SO is set and `r3` holds the positive errno** (not `-errno`) |
//! | clobbered by the kernel | `r0`, `r3`–`r12`, `ctr`, `xer`, `cr0` (the ABI's volatile registers); a `clone` child starts with a copy of the parent's registers except `r3 = 0` (SO clear), `r1 = newsp` (and `r13 = tls` with `CLONE_SETTLS`) |
//!
//! (The `scv 0` entry, which returns `-errno`, is not used.) Every wrapper here turns the `sc`
//! convention into the usual one: `-errno` in `-4095..=-1`.
//!
//! Legacy `clone` argument order: **`CLONE_BACKWARDS`** (`arch/powerpc/Kconfig`:
//! `select CLONE_BACKWARDS`): `clone(flags, newsp, parent_tid, tls, child_tid)` in
//! `r3..r7`, as glibc's `powerpc64/clone.S` passes it. `clone3(args, size)` is `r3, r4`.
//!
//! TLS: `tls` becomes `r13`; [`thread_pointer`] reads `r13`.
//!
//! # The child's first frame
//!
//! `entry`, `arg` and the child SP travel through the trap in `r14`, `r15`, `r16`
//! (non-volatile, so the kernel keeps them). The child moves `r1` to the SP
//! [`crate::stack::layout`] computed (16-aligned, minimum frame reserved: 32 bytes on ELFv2 —
//! back chain, CR, LR and TOC save words — and 112 on ELFv1, which adds the 64-byte parameter
//! save area), writes a NULL back chain at `0(r1)`, clears `lr` and the frame pointer `r31`,
//! and calls `entry` through `ctr` (without a stack it first steps 288 bytes below the
//! inherited SP, past the ABI's red zone, then aligns and allocates the minimum frame):
//!
//! * ELFv2: `r12` = `entry` (its global entry point derives the TOC from `r12`);
//! * ELFv1: `entry` is a **function descriptor** `{ address, TOC, environment }`: the child
//!   loads the address into `ctr`, the TOC into `r2` and the environment into `r11`.
//!
//! `entry`'s return value goes to the raw `exit` syscall (this thread only).
#![allow(unsafe_code)]

use core::arch::asm;

use crate::Arch;
use crate::user::ChildEntry;

/// The arch this file implements.
#[cfg(target_endian = "little")]
pub(crate) const ARCH: Arch = Arch::Powerpc64le;
/// The arch this file implements.
#[cfg(target_endian = "big")]
pub(crate) const ARCH: Arch = Arch::Powerpc64;

// Syscall numbers come from `crate::abi` (one table for the asm and the kernel face).
pub(crate) use crate::user::nr::{
    SYS_CLONE, SYS_CLONE3, SYS_EXIT, SYS_EXIT_GROUP, SYS_FUTEX, SYS_GETPID, SYS_GETTID,
    SYS_SCHED_YIELD, SYS_WRITE,
};

/// Whether this arch has a `clone3` trampoline.
pub(crate) const HAS_CLONE3: bool = true;

/// The minimum stack frame the child allocates when it has no computed SP (the stack module
/// reserves the same at its `child_sp`).
const MIN_FRAME: usize = crate::stack::reserved_frame(ARCH) as usize;
#[cfg(target_abi = "elfv1")]
const _: () = assert!(MIN_FRAME == 112);
// ELFv2 needs 32; big-endian ELFv2 targets (musl-style) get the stack module's 112, which is
// larger and equally valid.
#[cfg(not(target_abi = "elfv1"))]
const _: () = assert!(MIN_FRAME >= 32);

/// Raw syscall with no arguments. Returns the kernel's value normalised to the usual form:
/// `-4095..=-1` is `-errno` (the `sc` convention — CR0.SO set, positive errno in `r3` — is
/// folded in here).
///
/// # Safety
///
/// `nr` and the arguments must form a syscall that is sound to make here (it may not, for
/// example, unmap memory Rust still uses or start a thread on a shared stack).
#[inline]
pub unsafe fn syscall0(nr: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the syscall; the trap itself touches no user memory, and
    // every register the kernel may change (r0, r3-r12, ctr, xer, cr0) is declared.
    unsafe {
        asm!(
            "sc",       // trap (number in r0); result in r3, CR0.SO on error
            "bns 2f",   // no error: r3 is the result
            "neg 3, 3", // error: r3 held the positive errno
            "2:",       // done
            inlateout("0") nr => _,
            lateout("3") ret,
            lateout("4") _,
            lateout("5") _,
            lateout("6") _,
            lateout("7") _,
            lateout("8") _,
            lateout("9") _,
            lateout("10") _,
            lateout("11") _,
            lateout("12") _,
            lateout("ctr") _,
            lateout("xer") _,
            lateout("cr0") _,
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
            "sc",       // trap (number in r0); result in r3, CR0.SO on error
            "bns 2f",   // no error: r3 is the result
            "neg 3, 3", // error: r3 held the positive errno
            "2:",       // done
            inlateout("0") nr => _,
            inlateout("3") a0 => ret,
            lateout("4") _,
            lateout("5") _,
            lateout("6") _,
            lateout("7") _,
            lateout("8") _,
            lateout("9") _,
            lateout("10") _,
            lateout("11") _,
            lateout("12") _,
            lateout("ctr") _,
            lateout("xer") _,
            lateout("cr0") _,
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
            "sc",       // trap (number in r0); result in r3, CR0.SO on error
            "bns 2f",   // no error: r3 is the result
            "neg 3, 3", // error: r3 held the positive errno
            "2:",       // done
            inlateout("0") nr => _,
            inlateout("3") a0 => ret,
            inlateout("4") a1 => _,
            lateout("5") _,
            lateout("6") _,
            lateout("7") _,
            lateout("8") _,
            lateout("9") _,
            lateout("10") _,
            lateout("11") _,
            lateout("12") _,
            lateout("ctr") _,
            lateout("xer") _,
            lateout("cr0") _,
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
            "sc",       // trap (number in r0); result in r3, CR0.SO on error
            "bns 2f",   // no error: r3 is the result
            "neg 3, 3", // error: r3 held the positive errno
            "2:",       // done
            inlateout("0") nr => _,
            inlateout("3") a0 => ret,
            inlateout("4") a1 => _,
            inlateout("5") a2 => _,
            lateout("6") _,
            lateout("7") _,
            lateout("8") _,
            lateout("9") _,
            lateout("10") _,
            lateout("11") _,
            lateout("12") _,
            lateout("ctr") _,
            lateout("xer") _,
            lateout("cr0") _,
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
            "sc",       // trap (number in r0); result in r3, CR0.SO on error
            "bns 2f",   // no error: r3 is the result
            "neg 3, 3", // error: r3 held the positive errno
            "2:",       // done
            inlateout("0") nr => _,
            inlateout("3") a0 => ret,
            inlateout("4") a1 => _,
            inlateout("5") a2 => _,
            inlateout("6") a3 => _,
            lateout("7") _,
            lateout("8") _,
            lateout("9") _,
            lateout("10") _,
            lateout("11") _,
            lateout("12") _,
            lateout("ctr") _,
            lateout("xer") _,
            lateout("cr0") _,
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
            "sc",       // trap (number in r0); result in r3, CR0.SO on error
            "bns 2f",   // no error: r3 is the result
            "neg 3, 3", // error: r3 held the positive errno
            "2:",       // done
            inlateout("0") nr => _,
            inlateout("3") a0 => ret,
            inlateout("4") a1 => _,
            inlateout("5") a2 => _,
            inlateout("6") a3 => _,
            inlateout("7") a4 => _,
            lateout("8") _,
            lateout("9") _,
            lateout("10") _,
            lateout("11") _,
            lateout("12") _,
            lateout("ctr") _,
            lateout("xer") _,
            lateout("cr0") _,
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
            "sc",       // trap (number in r0); result in r3, CR0.SO on error
            "bns 2f",   // no error: r3 is the result
            "neg 3, 3", // error: r3 held the positive errno
            "2:",       // done
            inlateout("0") nr => _,
            inlateout("3") a0 => ret,
            inlateout("4") a1 => _,
            inlateout("5") a2 => _,
            inlateout("6") a3 => _,
            inlateout("7") a4 => _,
            inlateout("8") a5 => _,
            lateout("9") _,
            lateout("10") _,
            lateout("11") _,
            lateout("12") _,
            lateout("ctr") _,
            lateout("xer") _,
            lateout("cr0") _,
            options(nostack),
        );
    }
    ret
}

/// How the child calls `entry` (in r14) with `arg` (in r15).
#[cfg(not(target_abi = "elfv1"))]
macro_rules! call_entry {
    () => {
        concat!(
            "mr 12, 14\n", // ELFv2: r12 = entry's global entry point (it derives the TOC)
            "mtctr 12\n",  // call through ctr
            "mr 3, 15\n",  // entry's argument
            "bctrl\n",     // entry(arg)
        )
    };
}

/// How the child calls `entry` (in r14, a function descriptor) with `arg` (in r15).
#[cfg(target_abi = "elfv1")]
macro_rules! call_entry {
    () => {
        concat!(
            "ld 0, 0(14)\n",   // ELFv1 descriptor word 0: the code address
            "ld 2, 8(14)\n",   // word 1: entry's TOC
            "ld 11, 16(14)\n", // word 2: environment pointer
            "mtctr 0\n",       // call through ctr
            "mr 3, 15\n",      // entry's argument
            "bctrl\n",         // entry(arg)
        )
    };
}

/// The child side of both traps, placed right after `sc` and the error check: runs only when
/// `r3 == 0`. Expects `entry` in r14, `arg` in r15, the child SP (or 0 to stay on the
/// inherited SP) in r16, and `{exit}` / `{frame}` bound to `__NR_exit` and [`MIN_FRAME`].
macro_rules! child_path {
    () => {
        concat!(
            "cmpdi 16, 0\n",         // child SP given?
            "beq 3f\n",              // no: build a frame on the inherited SP
            "mr 1, 16\n",            // exactly layout's SP (its minimum frame is reserved)
            "b 4f\n",                // frame ready
            "3:\n",                  // inherited SP:
            "addi 1, 1, -288\n",     // step over the 288-byte red zone the parent may use
            "clrrdi 1, 1, 4\n",      // 16-aligned (quadword)
            "addi 1, 1, -{frame}\n", // allocate the ABI's minimum frame
            "4:\n",                  // both cases continue here
            "li 0, 0\n",             // zero
            "std 0, 0(1)\n",         // NULL back chain: the outermost frame
            "mtlr 0\n",              // zero link register until bctrl sets it
            "li 31, 0\n",            // zero frame pointer
            call_entry!(),           // entry(arg); result in r3
            "li 0, {exit}\n",        // __NR_exit: this thread only, not exit_group
            "sc\n",                  // exit(entry's result); does not return
            "trap\n",                // unreachable; trap rather than run on
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
/// child may use as its stack with the minimum frame at it, and a `CLONE_VM` child never runs
/// on a stack the parent is still using.
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
    // only the declared volatile registers change. The child leaves through `exit` and never
    // reaches Rust code of this function; in the no-stack case it allocates its frame below
    // the inherited SP, which the caller allows only when that memory is private (no
    // CLONE_VM) or the parent is suspended (CLONE_VFORK).
    unsafe {
        asm!(
            "sc",          // clone(flags, newsp, ptid, tls, ctid); both resume here
            "bso 5f",      // CR0.SO: error (parent only)
            "cmpdi 3, 0",  // 0 only in the child
            "bne 2f",      // parent: r3 is the tid
            child_path!(), // child: set up the first frame, entry(arg), exit
            "5:",          // error:
            "neg 3, 3",    // positive errno -> -errno
            "2:",          // parent continues
            exit = const SYS_EXIT,
            frame = const MIN_FRAME,
            inlateout("0") SYS_CLONE => _,
            inlateout("3") word => ret,
            inlateout("4") newsp => _,
            inlateout("5") parent_tid => _,
            inlateout("6") tls => _,
            inlateout("7") child_tid => _,
            lateout("8") _,
            lateout("9") _,
            lateout("10") _,
            lateout("11") _,
            lateout("12") _,
            in("14") entry,
            in("15") arg,
            in("16") child_sp,
            lateout("ctr") _,
            lateout("xer") _,
            lateout("cr0") _,
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
            "sc",          // clone3(args, size); both resume here
            "bso 5f",      // CR0.SO: error (parent only)
            "cmpdi 3, 0",  // 0 only in the child
            "bne 2f",      // parent: r3 is the tid
            child_path!(), // child: set up the first frame, entry(arg), exit
            "5:",          // error:
            "neg 3, 3",    // positive errno -> -errno
            "2:",          // parent continues
            exit = const SYS_EXIT,
            frame = const MIN_FRAME,
            inlateout("0") SYS_CLONE3 => _,
            inlateout("3") args => ret,
            inlateout("4") size => _,
            lateout("5") _,
            lateout("6") _,
            lateout("7") _,
            lateout("8") _,
            lateout("9") _,
            lateout("10") _,
            lateout("11") _,
            lateout("12") _,
            in("14") entry,
            in("15") arg,
            in("16") child_sp,
            lateout("ctr") _,
            lateout("xer") _,
            lateout("cr0") _,
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
        asm!("mr {}, 1", out(reg) sp, options(nomem, nostack, preserves_flags)); // copy r1
    }
    sp
}

/// The thread pointer: `r13`.
pub(crate) fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: reads a register; no memory access.
    unsafe {
        asm!("mr {}, 13", out(reg) tp, options(nomem, nostack, preserves_flags)); // copy r13
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
            "sc",   // exit(code)
            "trap", // unreachable
            in("0") SYS_EXIT,
            in("3") code as isize as usize,
            options(noreturn, nostack),
        );
    }
}

/// Ends the whole process with `code` (raw `exit_group`).
pub(crate) fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group ends every thread at once; nothing in this process runs afterwards.
    unsafe {
        asm!(
            "sc",   // exit_group(code)
            "trap", // unreachable
            in("0") SYS_EXIT_GROUP,
            in("3") code as isize as usize,
            options(noreturn, nostack),
        );
    }
}
