//! x86-64 raw syscalls and the `clone`/`clone3` child trampoline.
//!
//! # Register map (Linux x86-64 syscall ABI, `arch/x86/entry/entry_64.S`)
//!
//! | | |
//! |---|---|
//! | trap | `syscall` |
//! | number | `rax` |
//! | arguments 1..6 | `rdi`, `rsi`, `rdx`, **`r10`**, `r8`, `r9` |
//! | return | `rax`; `-4095..=-1` is `-errno` |
//! | clobbered by the kernel | `rcx` (return `rip`), `r11` (saved `rflags`); everything else is preserved, and a `clone` child starts with a copy of the parent's registers except `rax = 0`, `rsp = newsp` |
//!
//! Legacy `clone` argument order: **default** (x86 selects `CLONE_BACKWARDS` only for 32-bit,
//! `arch/x86/Kconfig`): `clone(flags, newsp, parent_tid, child_tid, tls)` in
//! `rdi, rsi, rdx, r10, r8`; glibc `sysdeps/unix/sysv/linux/x86_64/clone.S` documents the same
//! kernel order. `clone3(struct clone_args *, size_t)` is `rdi, rsi`.
//!
//! TLS: `tls` is the child's new FS base (`CLONE_SETTLS`); [`thread_pointer`] reads the FS
//! base back with `arch_prctl(ARCH_GET_FS)`, which works whether or not FS points at a TLS block.
//!
//! # The child's first frame
//!
//! The trampoline carries `entry`, `arg` and the child SP through the trap in `r12`, `r13`,
//! `r14` (preserved by the kernel and copied into the child). The child moves `rsp` to the SP
//! [`crate::stack::layout`] computed (16-aligned; without a stack it steps 128 bytes below the
//! inherited SP, past the red zone, and aligns), zeroes `rbp` so frame-pointer unwinding
//! stops here, and `call`s `entry`, so `entry` starts with `(rsp + 8) % 16 == 0` as the psABI
//! requires. `entry`'s own red zone lies below its `rsp`, inside the region. `entry`'s return
//! value goes to the raw `exit` syscall (this thread only, not `exit_group`).
#![allow(unsafe_code)]

use core::arch::asm;

use crate::Arch;
use crate::user::ChildEntry;

/// The arch this file implements.
pub(crate) const ARCH: Arch = Arch::X86_64;

// Syscall numbers come from `crate::abi` (one table for the asm and the kernel face).
pub(crate) use crate::user::nr::{
    SYS_CLONE, SYS_CLONE3, SYS_EXIT, SYS_EXIT_GROUP, SYS_FUTEX, SYS_GETPID, SYS_GETTID,
    SYS_SCHED_YIELD, SYS_WRITE,
};
/// `__NR_arch_prctl`, for [`thread_pointer`].
const SYS_ARCH_PRCTL: usize = 158;
/// `ARCH_GET_FS` (`arch/x86/include/uapi/asm/prctl.h`).
const ARCH_GET_FS: usize = 0x1003;

/// Whether this arch has a `clone3` trampoline.
pub(crate) const HAS_CLONE3: bool = true;

/// Raw syscall with no arguments; returns the kernel's value (`-errno` on failure).
///
/// # Safety
///
/// `nr` and the arguments must form a syscall that is sound to make here (it may not, for
/// example, unmap memory Rust still uses or start a thread on a shared stack).
#[inline]
pub unsafe fn syscall0(nr: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the syscall; `syscall` touches no user memory by itself,
    // rcx/r11 are declared clobbered, and sysret restores rflags from r11.
    unsafe {
        asm!(
            "syscall", // trap; result in rax
            inlateout("rax") nr => ret,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags),
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
            "syscall", // trap; result in rax
            inlateout("rax") nr => ret,
            in("rdi") a0,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags),
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
            "syscall", // trap; result in rax
            inlateout("rax") nr => ret,
            in("rdi") a0,
            in("rsi") a1,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags),
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
            "syscall", // trap; result in rax
            inlateout("rax") nr => ret,
            in("rdi") a0,
            in("rsi") a1,
            in("rdx") a2,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags),
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
            "syscall", // trap; result in rax
            inlateout("rax") nr => ret,
            in("rdi") a0,
            in("rsi") a1,
            in("rdx") a2,
            in("r10") a3,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags),
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
            "syscall", // trap; result in rax
            inlateout("rax") nr => ret,
            in("rdi") a0,
            in("rsi") a1,
            in("rdx") a2,
            in("r10") a3,
            in("r8") a4,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags),
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
            "syscall", // trap; result in rax
            inlateout("rax") nr => ret,
            in("rdi") a0,
            in("rsi") a1,
            in("rdx") a2,
            in("r10") a3,
            in("r8") a4,
            in("r9") a5,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags),
        );
    }
    ret
}

/// The child side of both traps, as one asm string: runs only when `rax == 0` after the
/// trap, i.e. in the new child. Expects `entry` in r12, `arg` in r13, the child SP (or 0 to
/// stay on the inherited SP) in r14, and `{exit}` bound to `__NR_exit`.
macro_rules! child_path {
    () => {
        concat!(
            "test r14, r14\n",   // was a child SP given?
            "jz 3f\n",           // no: build a frame on the inherited SP
            "mov rsp, r14\n",    // yes: exactly the SP crate::stack::layout computed
            "jmp 4f\n",          // (16-aligned already)
            "3:\n",              // inherited (copied or vfork-shared) SP:
            "sub rsp, 128\n",    // step over the psABI red zone the parent may be using
            "and rsp, -16\n",    // 16-aligned at the call
            "4:\n",              // both cases continue here
            "xor ebp, ebp\n",    // zero frame pointer: the outermost frame
            "mov rdi, r13\n",    // entry's argument
            "call r12\n",        // entry(arg); inside, (rsp + 8) % 16 == 0
            "mov edi, eax\n",    // exit status = entry's i32 result
            "mov eax, {exit}\n", // __NR_exit: this thread only, not exit_group
            "syscall\n",         // does not return
            "ud2\n",             // unreachable; trap rather than run on
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
    // only rax (result), rcx and r11 change. The child leaves through `exit` and never reaches
    // Rust code of this function, so it cannot touch the parent's frame; it may push below
    // the inherited SP only in the no-stack case, which the caller allows only when that
    // memory is private (no CLONE_VM) or the parent is suspended (CLONE_VFORK).
    unsafe {
        asm!(
            "syscall",     // clone(flags, newsp, ptid, ctid, tls); parent and child resume here
            "test rax, rax", // 0 only in the child
            "jnz 2f",      // parent (tid) or error (-errno): done
            child_path!(), // child: set up the first frame, entry(arg), exit
            "2:",          // parent continues
            exit = const SYS_EXIT,
            inlateout("rax") SYS_CLONE => ret,
            in("rdi") word,
            in("rsi") newsp,
            in("rdx") parent_tid,
            in("r10") child_tid,
            in("r8") tls,
            in("r12") entry,
            in("r13") arg,
            in("r14") child_sp,
            lateout("rcx") _,
            lateout("r11") _,
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
            "syscall",     // clone3(args, size); parent and child resume here
            "test rax, rax", // 0 only in the child
            "jnz 2f",      // parent (tid) or error (-errno): done
            child_path!(), // child: set up the first frame, entry(arg), exit
            "2:",          // parent continues
            exit = const SYS_EXIT,
            inlateout("rax") SYS_CLONE3 => ret,
            in("rdi") args,
            in("rsi") size,
            in("r12") entry,
            in("r13") arg,
            in("r14") child_sp,
            lateout("rcx") _,
            lateout("r11") _,
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
        asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags)); // copy rsp
    }
    sp
}

/// The thread pointer: the FS base (`arch_prctl(ARCH_GET_FS)`; 0 if unset or on error).
pub(crate) fn thread_pointer() -> usize {
    let mut base: usize = 0;
    // SAFETY: ARCH_GET_FS writes one word at the address given, which is `base`.
    let ret = unsafe {
        syscall2(
            SYS_ARCH_PRCTL,
            ARCH_GET_FS,
            core::ptr::addr_of_mut!(base) as usize,
        )
    };
    if ret < 0 { 0 } else { base }
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
            "ud2",     // unreachable
            in("rax") SYS_EXIT,
            in("rdi") code as isize as usize,
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
            "ud2",     // unreachable
            in("rax") SYS_EXIT_GROUP,
            in("rdi") code as isize as usize,
            options(noreturn, nostack),
        );
    }
}
