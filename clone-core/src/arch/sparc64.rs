//! SPARC64 raw syscalls and the legacy `clone` child trampoline. Behind the `experimental-asm`
//! feature: SPARC inline asm needs the nightly `asm_experimental_arch`.
//!
//! # Register map (Linux sparc64 syscall ABI, `arch/sparc/kernel/syscalls.S`)
//!
//! | | |
//! |---|---|
//! | trap | `ta 0x6d` (the 64-bit syscall trap) |
//! | number | `%g1` (reserved by LLVM as its scratch register, so the asm loads it itself) |
//! | arguments 1..6 | `%o0`..`%o5` |
//! | return | `%o0`; **carry set (`%xcc`) means `%o0` holds the positive errno** |
//! | clobbered by the kernel | `%o0`, the condition codes, and for `clone`/`fork` `%o1` |
//!
//! Legacy `clone` uses the SunOS return convention (`arch/sparc/kernel/process_64.c`):
//! the **parent** gets the child's tid in `%o0` and `%o1 = 0`; the **child** gets the parent's
//! pid in `%o0` and `%o1 = 1`. glibc's `sparc64/clone.S` tests `%o1`, and so does this
//! trampoline. Errors come back in SPARC numbering (`arch/sparc/include/uapi/asm/errno.h`).
//!
//! Legacy `clone` argument order: sparc's own `sparc_clone()` wrapper, laid out like
//! `CLONE_BACKWARDS`: `clone(flags, newsp, parent_tid, tls, child_tid)` in `%o0..%o4`. `newsp`
//! is a *biased* stack pointer (real address − 2047, `STACK_BIAS`), and the kernel does not
//! start the child on it as given: `clone_stackframe()` copies the trapping frame below
//! `(newsp + 2047) & ~15` and starts the child there. The trampoline therefore sets `%sp` to
//! the stack module's `child_sp` itself.
//!
//! No `clone3`: Linux through 6.19 defines `__ARCH_BROKEN_SYS_CLONE3` for sparc (ENOSYS); the
//! 2026 patch that wires it up is not in a release. [`clone3`] here is never reached
//! ([`crate::user::clone3`] answers `Clone3Unsupported` first).
//!
//! TLS: `tls` becomes `%g7`; [`thread_pointer`] reads `%g7`.
//!
//! # The child's first frame
//!
//! `entry`, `arg` and the child SP travel through the trap in `%g2`, `%g3`, `%g4` (globals are
//! restored from the saved registers, which the child gets a copy of; the register windows
//! are not). The child sets `%sp` to the biased SP [`crate::stack::layout`] computed, whose
//! 176 bytes at `%sp + 2047` are the save area a window spill of this frame writes; without a
//! stack it allocates the same 176 bytes below the inherited `%sp`. It zeroes `%fp` and `%i7`
//! so the frame chain ends here, calls `entry` with `jmpl` (delay slots are explicit: the
//! SPARC assembler never fills them), and passes its return value to the raw `exit` syscall.
#![allow(unsafe_code)]

use core::arch::asm;

use crate::Arch;
use crate::user::ChildEntry;

/// The arch this file implements.
pub(crate) const ARCH: Arch = Arch::Sparc64;

// Syscall numbers come from `crate::abi` (one table for the asm and the kernel face).
// No SYS_CLONE3: no sparc release wires clone3 (see the module docs).
pub(crate) use crate::user::nr::{
    SYS_CLONE, SYS_EXIT, SYS_EXIT_GROUP, SYS_FUTEX, SYS_GETPID, SYS_GETTID, SYS_SCHED_YIELD,
    SYS_WRITE,
};

/// Whether this arch has a `clone3` trampoline.
pub(crate) const HAS_CLONE3: bool = false;

/// The frame (register-window save area + argument words) the child gives itself when it has
/// no computed SP; the stack module reserves the same above its `child_sp`.
const FRAME: usize = crate::stack::reserved_frame(ARCH) as usize;
const _: () = assert!(FRAME % 16 == 0 && FRAME >= 176);

/// Raw syscall with no arguments. Returns the kernel's value normalised to the usual form:
/// `-4095..=-1` is `-errno` (the SPARC convention — carry set, positive errno in `%o0` — is
/// folded in here; the errno is in SPARC numbering).
///
/// # Safety
///
/// `nr` and the arguments must form a syscall that is sound to make here (it may not, for
/// example, unmap memory Rust still uses or start a thread on a shared stack).
#[inline]
pub unsafe fn syscall0(nr: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the syscall; the trap itself touches no user memory. %g1
    // is LLVM's scratch register (never live across an asm block), %o0 and the condition
    // codes are declared.
    unsafe {
        asm!(
            "mov {nr}, %g1",        // syscall number (%g1 cannot be an operand)
            "ta 0x6d",              // trap; result in %o0, carry set on error
            "bcc,pt %xcc, 2f",      // carry clear: %o0 is the result
            "nop",                  // (delay slot)
            "sub %g0, %o0, %o0",    // error: %o0 held the positive errno
            "2:",                   // done
            nr = in(reg) nr,
            lateout("o0") ret,
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
            "mov {nr}, %g1",        // syscall number (%g1 cannot be an operand)
            "ta 0x6d",              // trap; result in %o0, carry set on error
            "bcc,pt %xcc, 2f",      // carry clear: %o0 is the result
            "nop",                  // (delay slot)
            "sub %g0, %o0, %o0",    // error: %o0 held the positive errno
            "2:",                   // done
            nr = in(reg) nr,
            inlateout("o0") a0 => ret,
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
            "mov {nr}, %g1",        // syscall number (%g1 cannot be an operand)
            "ta 0x6d",              // trap; result in %o0, carry set on error
            "bcc,pt %xcc, 2f",      // carry clear: %o0 is the result
            "nop",                  // (delay slot)
            "sub %g0, %o0, %o0",    // error: %o0 held the positive errno
            "2:",                   // done
            nr = in(reg) nr,
            inlateout("o0") a0 => ret,
            in("o1") a1,
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
            "mov {nr}, %g1",        // syscall number (%g1 cannot be an operand)
            "ta 0x6d",              // trap; result in %o0, carry set on error
            "bcc,pt %xcc, 2f",      // carry clear: %o0 is the result
            "nop",                  // (delay slot)
            "sub %g0, %o0, %o0",    // error: %o0 held the positive errno
            "2:",                   // done
            nr = in(reg) nr,
            inlateout("o0") a0 => ret,
            in("o1") a1,
            in("o2") a2,
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
            "mov {nr}, %g1",        // syscall number (%g1 cannot be an operand)
            "ta 0x6d",              // trap; result in %o0, carry set on error
            "bcc,pt %xcc, 2f",      // carry clear: %o0 is the result
            "nop",                  // (delay slot)
            "sub %g0, %o0, %o0",    // error: %o0 held the positive errno
            "2:",                   // done
            nr = in(reg) nr,
            inlateout("o0") a0 => ret,
            in("o1") a1,
            in("o2") a2,
            in("o3") a3,
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
            "mov {nr}, %g1",        // syscall number (%g1 cannot be an operand)
            "ta 0x6d",              // trap; result in %o0, carry set on error
            "bcc,pt %xcc, 2f",      // carry clear: %o0 is the result
            "nop",                  // (delay slot)
            "sub %g0, %o0, %o0",    // error: %o0 held the positive errno
            "2:",                   // done
            nr = in(reg) nr,
            inlateout("o0") a0 => ret,
            in("o1") a1,
            in("o2") a2,
            in("o3") a3,
            in("o4") a4,
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
            "mov {nr}, %g1",        // syscall number (%g1 cannot be an operand)
            "ta 0x6d",              // trap; result in %o0, carry set on error
            "bcc,pt %xcc, 2f",      // carry clear: %o0 is the result
            "nop",                  // (delay slot)
            "sub %g0, %o0, %o0",    // error: %o0 held the positive errno
            "2:",                   // done
            nr = in(reg) nr,
            inlateout("o0") a0 => ret,
            in("o1") a1,
            in("o2") a2,
            in("o3") a3,
            in("o4") a4,
            in("o5") a5,
            options(nostack),
        );
    }
    ret
}

/// Legacy `clone` trap with the child trampoline. Returns the kernel's value in the parent
/// (child tid, or `-errno`); the child never returns from here.
///
/// `word` is `flags | exit_signal`; `newsp` and `child_sp` are biased; `child_sp` is the SP the
/// child calls `entry` with, or 0 to call it on the SP the child inherits (fork-like, or vfork
/// while the parent waits).
///
/// # Safety
///
/// The caller guarantees what [`crate::user::clone`] documents: the pointers are valid for
/// what `flags` makes the kernel do with them, `child_sp` (if non-zero) lies in memory the
/// child may use as its stack with the 176-byte frame at `child_sp + 2047` and room below
/// `newsp + 2047` for the kernel's copy of this function's frame, and a `CLONE_VM` child never
/// runs on a stack the parent is still using.
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
    // only %o0, %o1, %g1 and the condition codes change. The child leaves through `exit` and
    // never reaches Rust code of this function; it uses the inherited SP only in the no-stack
    // case, which the caller allows only when that memory is private (no CLONE_VM) or the
    // parent is suspended (CLONE_VFORK).
    unsafe {
        asm!(
            "mov {nr}, %g1",           // __NR_clone
            "ta 0x6d",                 // clone(flags, newsp, ptid, tls, ctid); both resume here
            "bcs,pn %xcc, 5f",         // carry: error (parent only)
            "nop",                     // (delay slot)
            "brz,pt %o1, 2f",          // %o1 == 0: parent, %o0 is the tid
            "nop",                     // (delay slot)
            // Child from here on (%o1 == 1).
            "brz,pn %g4, 3f",          // no child SP given: build a frame on the inherited SP
            "nop",                     // (delay slot)
            "ba,pt %xcc, 4f",          // frame ready once %sp is set
            "mov %g4, %sp",            // (delay slot) exactly layout's biased SP
            "3:",                      // inherited SP:
            "add %sp, -{frame}, %sp",  // allocate a minimum frame (keeps 16-byte alignment)
            "4:",                      // both cases continue here
            "mov %g0, %fp",            // zero frame pointer: the frame chain ends here
            "mov %g0, %i7",            // zero return address of this outermost frame
            "mov %g3, %o0",            // entry's argument
            "jmpl %g2, %o7",           // entry(arg); returns to %o7 + 8
            "nop",                     // (delay slot)
            "mov {exit}, %g1",         // __NR_exit: this thread only, not exit_group
            "ta 0x6d",                 // exit(entry's result, already in %o0); no return
            "illtrap 0",               // unreachable; trap rather than run on
            "5:",                      // error:
            "sub %g0, %o0, %o0",       // positive errno -> -errno
            "2:",                      // parent continues
            nr = in(reg) SYS_CLONE,
            exit = const SYS_EXIT,
            frame = const FRAME,
            inlateout("o0") word => ret,
            inlateout("o1") newsp => _,
            in("o2") parent_tid,
            in("o3") tls,
            in("o4") child_tid,
            in("g2") entry,
            in("g3") arg,
            in("g4") child_sp,
        );
    }
    ret
}

/// Never reached: sparc64 has no `clone3` (see the module docs). Answers `-ENOSYS` (SPARC
/// numbering) without trapping, as Linux through 6.19 would.
///
/// # Safety
///
/// None needed; `unsafe` only to match the other arches.
pub(crate) unsafe fn clone3(
    _args: usize,
    _size: usize,
    _entry: ChildEntry,
    _arg: usize,
    _child_sp: usize,
) -> isize {
    -(crate::Errno::ENOSYS.raw_for(ARCH) as isize)
}

/// The current stack pointer (biased by 2047, as `%sp` always is).
#[inline(always)]
pub(crate) fn current_sp() -> usize {
    let sp: usize;
    // SAFETY: reads a register; no memory access.
    unsafe {
        asm!("mov %sp, {}", out(reg) sp, options(nomem, nostack, preserves_flags)); // copy %sp
    }
    sp
}

/// The thread pointer: `%g7`.
pub(crate) fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: reads a register; no memory access.
    unsafe {
        asm!("mov %g7, {}", out(reg) tp, options(nomem, nostack, preserves_flags)); // copy %g7
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
            "mov {nr}, %g1", // __NR_exit
            "ta 0x6d",       // exit(code)
            "illtrap 0",     // unreachable
            nr = const SYS_EXIT,
            in("o0") code as isize as usize,
            options(noreturn, nostack),
        );
    }
}

/// Ends the whole process with `code` (raw `exit_group`).
pub(crate) fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group ends every thread at once; nothing in this process runs afterwards.
    unsafe {
        asm!(
            "mov {nr}, %g1", // __NR_exit_group
            "ta 0x6d",       // exit_group(code)
            "illtrap 0",     // unreachable
            nr = const SYS_EXIT_GROUP,
            in("o0") code as isize as usize,
            options(noreturn, nostack),
        );
    }
}
