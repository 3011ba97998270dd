//! s390x raw syscalls and the `clone`/`clone3` child trampoline.
//!
//! # Register map (Linux s390x syscall ABI, `arch/s390/kernel/entry.S`)
//!
//! | | |
//! |---|---|
//! | trap | `svc 0` (number in `r1`; `svc N` would encode numbers below 256) |
//! | number | `r1` |
//! | arguments 1..6 | `r2`..`r7` |
//! | return | `r2`; `-4095..=-1` is `-errno` |
//! | clobbered by the kernel | `r2` and the condition code; a `clone` child starts with a copy of the parent's registers except `r2 = 0`, `r15 = newsp` (and access registers `a0:a1` = `tls` with `CLONE_SETTLS`) |
//!
//! Legacy `clone` argument order: **`CLONE_BACKWARDS2`** (`arch/s390/Kconfig`:
//! `select CLONE_BACKWARDS2`): `clone(newsp, flags, parent_tid, child_tid, tls)` — the stack
//! comes *first* — in `r2..r6`, as glibc's `s390-64/clone.S` passes it. `clone3(args, size)`
//! is `r2, r3`.
//!
//! TLS: `tls` is split over the access registers, `a0` = high 32 bits, `a1` = low 32 bits;
//! [`thread_pointer`] joins them back with `ear`.
//!
//! # The child's first frame
//!
//! `entry`, `arg` and the child SP travel through the trap in `r8`, `r9`, `r10` (`r11` is the
//! frame pointer, `r15` the SP). The zSeries ELF ABI makes every caller provide a 160-byte
//! register save area at `0(%r15)` into which the callee stores `r6`–`r15`, with the back
//! chain in its first word. [`crate::stack::layout`] reserves exactly that: the child moves
//! `r15` to its `child_sp` (top − 160, 8-aligned), stores a zero back chain there, clears `r11`
//! and `r14` so unwinding ends here, and calls `entry` with `basr`. Without a stack the child
//! aligns the inherited SP to 8 and allocates its own 160-byte area below it. `entry`'s return
//! value goes to the raw `exit` syscall (this thread only).
#![allow(unsafe_code)]

use core::arch::asm;

use crate::Arch;
use crate::user::ChildEntry;

/// The arch this file implements.
pub(crate) const ARCH: Arch = Arch::S390x;

// Syscall numbers come from `crate::abi` (one table for the asm and the kernel face).
pub(crate) use crate::user::nr::{
    SYS_CLONE, SYS_CLONE3, SYS_EXIT, SYS_EXIT_GROUP, SYS_FUTEX, SYS_GETPID, SYS_GETTID,
    SYS_SCHED_YIELD, SYS_WRITE,
};

/// Whether this arch has a `clone3` trampoline.
pub(crate) const HAS_CLONE3: bool = true;

/// The ABI's register save area the trampoline allocates when it has no computed SP.
const SAVE_AREA: usize = 160;
const _: () = assert!(crate::stack::reserved_frame(Arch::S390x) == SAVE_AREA as u64);

// The plain wrappers: trap `svc 0`, number in r1, arguments r2–r7, result in r2; the condition code is not preserved.
raw_syscalls! {
    trap: "svc 0",
    nr: "r1",
    args: ["r2", "r3", "r4", "r5", "r6", "r7"],
    clobbers: [],
    options: (nostack),
}

/// The child side of both traps: runs only when `r2 == 0` after the trap. Expects `entry`
/// in r8, `arg` in r9, the child SP (or 0 to stay on the inherited SP) in r10, and `{exit}`
/// / `{save}` bound to `__NR_exit` and the 160-byte save area size.
macro_rules! child_path {
    () => {
        concat!(
            "ltgr %r10, %r10\n",    // child SP given?
            "jz 3f\n",              // no: build a frame on the inherited SP
            "lgr %r15, %r10\n",     // exactly layout's SP (top - 160)
            "j 4f\n",               // its save area is already reserved
            "3:\n",                 // inherited SP:
            "nill %r15, 0xfff8\n",  // 8-aligned, as the ABI keeps it
            "aghi %r15, -{save}\n", // allocate entry's 160-byte register save area
            "4:\n",                 // both cases continue here
            "lghi %r0, 0\n",        // zero
            "stg %r0, 0(%r15)\n",   // back chain = 0: the outermost frame
            "lghi %r11, 0\n",       // zero frame pointer
            "lghi %r14, 0\n",       // zero return address until basr sets it
            "lgr %r2, %r9\n",       // entry's argument
            "basr %r14, %r8\n",     // entry(arg)
            "lghi %r1, {exit}\n",   // __NR_exit: this thread only, not exit_group
            "svc 0\n",              // exit(entry's result, already in r2); does not return
            ".word 0\n",            // unreachable: an invalid opcode traps rather than run on
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
/// child may use as its stack with the 160-byte save area at it, and a `CLONE_VM` child never
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
    // only r2 and the condition code change. The child leaves through `exit` and never
    // reaches Rust code of this function; in the no-stack case it allocates its frame below
    // the inherited SP, which the caller allows only when that memory is private (no
    // CLONE_VM) or the parent is suspended (CLONE_VFORK).
    unsafe {
        asm!(
            "svc 0",          // clone(newsp, flags, ptid, ctid, tls); both resume here
            "ltgr %r2, %r2",  // 0 only in the child
            "jnz 2f",         // parent (tid) or error (-errno): done
            child_path!(),    // child: set up the first frame, entry(arg), exit
            "2:",             // parent continues
            exit = const SYS_EXIT,
            save = const SAVE_AREA,
            in("r1") SYS_CLONE,
            inlateout("r2") newsp => ret,
            in("r3") word,
            in("r4") parent_tid,
            in("r5") child_tid,
            in("r6") tls,
            in("r8") entry,
            in("r9") arg,
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
            "svc 0",          // clone3(args, size); both resume here
            "ltgr %r2, %r2",  // 0 only in the child
            "jnz 2f",         // parent (tid) or error (-errno): done
            child_path!(),    // child: set up the first frame, entry(arg), exit
            "2:",             // parent continues
            exit = const SYS_EXIT,
            save = const SAVE_AREA,
            in("r1") SYS_CLONE3,
            inlateout("r2") args => ret,
            in("r3") size,
            in("r8") entry,
            in("r9") arg,
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
        asm!("lgr {}, %r15", out(reg) sp, options(nomem, nostack, preserves_flags)); // copy r15
    }
    sp
}

/// The thread pointer: access registers `a0:a1`.
pub(crate) fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: reads access registers; no memory access.
    unsafe {
        asm!(
            "ear {0}, %a0",       // high half into bits 32-63
            "sllg {0}, {0}, 32",  // move it up; low half now zero
            "ear {0}, %a1",       // low half into bits 32-63
            out(reg) tp,
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
            "svc 0",   // exit(code)
            ".word 0", // unreachable: invalid opcode
            in("r1") SYS_EXIT,
            in("r2") code as isize as usize,
            options(noreturn, nostack),
        );
    }
}

/// Ends the whole process with `code` (raw `exit_group`).
pub(crate) fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group ends every thread at once; nothing in this process runs afterwards.
    unsafe {
        asm!(
            "svc 0",   // exit_group(code)
            ".word 0", // unreachable: invalid opcode
            in("r1") SYS_EXIT_GROUP,
            in("r2") code as isize as usize,
            options(noreturn, nostack),
        );
    }
}
