//! 32-bit x86 (i686) raw syscalls and the `clone`/`clone3` child trampoline.
//!
//! # Register map (Linux i386 `int $0x80` ABI, `arch/x86/entry/entry_32.S`)
//!
//! | | |
//! |---|---|
//! | trap | `int 0x80` (not the vDSO's `__kernel_vsyscall`: a `clone` child must not return through a stub that expects the parent's stack) |
//! | number | `eax` |
//! | arguments 1..6 | `ebx`, `ecx`, `edx`, `esi`, `edi`, `ebp` |
//! | return | `eax`; `-4095..=-1` is `-errno` |
//! | clobbered by the kernel | nothing but `eax`; a `clone` child starts with a copy of the parent's registers except `eax = 0`, `esp = newsp` |
//!
//! Rust's inline asm may not name `esi` (LLVM's base pointer on x86-32) or `ebp` (frame
//! pointer) as operands, so the asm loads them itself from a small array passed in `eax` and
//! saves and restores their old values around the trap.
//!
//! Legacy `clone` argument order: **`CLONE_BACKWARDS`** (`arch/x86/Kconfig`:
//! `select CLONE_BACKWARDS if X86_32`): `clone(flags, newsp, parent_tid, tls, child_tid)` in
//! `ebx, ecx, edx, esi, edi`, as glibc's `i386/clone.S` passes them. `clone3(args, size)` is
//! `ebx, ecx`.
//!
//! TLS: `tls` is the address of a `struct user_desc` ([`crate::user::UserDesc`]), applied as
//! by `set_thread_area` to the GDT TLS slot `entry_number` names (which must not be -1 here).
//! The child keeps the parent's `%gs` selector, so the slot should be the one `%gs` already
//! selects (`%gs >> 3`), as musl and glibc do. [`thread_pointer`] returns the base of the
//! segment `%gs` selects (`get_thread_area`), 0 if `%gs` is null.
//!
//! # The child's first frame
//!
//! Every general register but `ebp` carries a syscall argument, so `entry`, `arg` and the
//! child SP reach the child through memory: `ebp` points at a three-word block
//! `[arg, entry, child_sp]`. With a stack, the block is written at `child_sp` itself — the
//! 16 bytes [`crate::stack::layout`] reserves there are cdecl's outgoing argument area, so
//! after `esp = child_sp` the first argument slot already holds `arg`. Without a stack the
//! block lives on the parent's frame, which the child can read because it is either a private
//! copy (no `CLONE_VM`) or frozen (`CLONE_VFORK`); the child then aligns its inherited SP to
//! 16 and makes its own argument area. `ebp` is then zeroed (end of the frame chain) and
//! `entry` is called with `esp` 16-aligned; its return value goes to the raw `exit` syscall.
#![allow(unsafe_code)]

use core::arch::asm;

use crate::Arch;
use crate::user::ChildEntry;

/// The arch this file implements.
pub(crate) const ARCH: Arch = Arch::I386;

// Syscall numbers come from `crate::abi` (one table for the asm and the kernel face).
pub(crate) use crate::user::nr::{
    SYS_CLONE, SYS_CLONE3, SYS_EXIT, SYS_EXIT_GROUP, SYS_FUTEX, SYS_GETPID, SYS_GETTID,
    SYS_SCHED_YIELD, SYS_WRITE,
};
/// `__NR_get_thread_area`, for [`thread_pointer`].
const SYS_GET_THREAD_AREA: usize = 244;

/// Whether this arch has a `clone3` trampoline.
pub(crate) const HAS_CLONE3: bool = true;

// The child's block `[arg, entry, child_sp]` (12 bytes) is written at `child_sp`, inside the
// frame the stack module reserves there.
const _: () = assert!(crate::stack::reserved_frame(Arch::I386) >= 12);

/// Raw syscall with no arguments. Returns the kernel's value: `-4095..=-1` is `-errno`.
///
/// # Safety
///
/// `nr` and the arguments must form a syscall that is sound to make here (it may not, for
/// example, unmap memory Rust still uses or start a thread on a shared stack).
#[inline]
pub unsafe fn syscall0(nr: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the syscall; the trap itself touches no user memory and
    // the kernel preserves every register but eax.
    unsafe {
        asm!(
            "int 0x80", // trap (number in eax); result in eax
            inlateout("eax") nr => ret,
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
            "int 0x80", // trap (number in eax); result in eax
            inlateout("eax") nr => ret,
            in("ebx") a0,
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
            "int 0x80", // trap (number in eax); result in eax
            inlateout("eax") nr => ret,
            in("ebx") a0,
            in("ecx") a1,
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
            "int 0x80", // trap (number in eax); result in eax
            inlateout("eax") nr => ret,
            in("ebx") a0,
            in("ecx") a1,
            in("edx") a2,
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
    // SAFETY: as in `syscall0`; esi is swapped in and back out, so it is unchanged afterwards.
    unsafe {
        asm!(
            "xchg esi, {a3}", // fourth argument into esi (which cannot be an operand)
            "int 0x80",       // trap (number in eax); result in eax
            "xchg esi, {a3}", // restore esi
            a3 = inout(reg) a3 => _,
            inlateout("eax") nr => ret,
            in("ebx") a0,
            in("ecx") a1,
            in("edx") a2,
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
    // SAFETY: as in `syscall4`.
    unsafe {
        asm!(
            "xchg esi, {a3}", // fourth argument into esi (which cannot be an operand)
            "int 0x80",       // trap (number in eax); result in eax
            "xchg esi, {a3}", // restore esi
            a3 = inout(reg) a3 => _,
            inlateout("eax") nr => ret,
            in("ebx") a0,
            in("ecx") a1,
            in("edx") a2,
            in("edi") a4,
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
    // Neither esi nor ebp can be operands: pass them, and the number, through memory.
    let regs = [nr, a3, a5];
    // SAFETY: as in `syscall0`; `regs` is read before the trap, and esi/ebp are saved on the
    // stack and restored afterwards.
    unsafe {
        asm!(
            "push ebp",           // save the frame pointer
            "push esi",           // save LLVM's base pointer
            "mov esi, [eax + 4]", // fourth argument
            "mov ebp, [eax + 8]", // sixth argument
            "mov eax, [eax]",     // syscall number
            "int 0x80",           // trap; result in eax
            "pop esi",            // restore
            "pop ebp",            // restore
            inlateout("eax") regs.as_ptr() => ret,
            in("ebx") a0,
            in("ecx") a1,
            in("edx") a2,
            in("edi") a4,
            options(preserves_flags),
        );
    }
    ret
}

/// The child side of both traps: runs only when `eax == 0` after the trap. Expects `ebp` to
/// point at `[arg, entry, child_sp]` and `{exit}` bound to `__NR_exit`.
macro_rules! child_path {
    () => {
        concat!(
            "mov ecx, [ebp + 8]\n", // child SP, or 0
            "test ecx, ecx\n",      // given?
            "jz 3f\n",              // no: build a frame on the inherited SP
            "mov esp, ecx\n",       // exactly layout's SP; [esp] already holds arg
            "jmp 4f\n",             // frame ready
            "3:\n",                 // inherited SP:
            "and esp, -16\n",       // 16-aligned at the call
            "sub esp, 16\n",        // outgoing argument area
            "mov ecx, [ebp]\n",     // arg
            "mov [esp], ecx\n",     // first cdecl argument
            "4:\n",                 // both cases continue here
            "mov ecx, [ebp + 4]\n", // entry
            "xor ebp, ebp\n",       // zero frame pointer: the outermost frame
            "call ecx\n",           // entry(arg)
            "mov ebx, eax\n",       // exit status = entry's result
            "mov eax, {exit}\n",    // __NR_exit: this thread only, not exit_group
            "int 0x80\n",           // does not return
            "ud2\n",                // unreachable; trap rather than run on
        )
    };
}

/// Where the child finds `[arg, entry, child_sp]`: written at `child_sp` when there is one,
/// else `local` (on the parent's frame).
///
/// # Safety
///
/// A non-zero `child_sp` must point at 12 writable bytes nobody else uses.
unsafe fn child_block(local: &[usize; 3], child_sp: usize) -> usize {
    if child_sp == 0 {
        return local.as_ptr() as usize;
    }
    let p = child_sp as *mut usize;
    // SAFETY: the caller guarantees the 12 bytes at child_sp (inside the reserved frame).
    unsafe {
        p.write(local[0]);
        p.add(1).write(local[1]);
        p.add(2).write(local[2]);
    }
    child_sp
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
/// child may use as its stack with the stack module's reserved frame at it, and a `CLONE_VM`
/// child never runs on a stack the parent is still using.
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
    let local = [arg, entry as usize, child_sp];
    // SAFETY: the caller guarantees the reserved frame at a non-zero child_sp.
    let block = unsafe { child_block(&local, child_sp) };
    let regs = [SYS_CLONE, block, tls];
    let ret: isize;
    // SAFETY: the caller's contract covers the kernel's use of the arguments. In the parent
    // only eax and the flags change (esi/ebp are restored). The child leaves through `exit`
    // and never reaches Rust code of this function; it reads `local` only in the no-stack
    // case, where that frame is a private copy or frozen by CLONE_VFORK.
    unsafe {
        asm!(
            "push ebp",           // save the frame pointer
            "push esi",           // save LLVM's base pointer
            "mov ebp, [eax + 4]", // the child's block (survives the trap)
            "mov esi, [eax + 8]", // tls (struct user_desc *)
            "mov eax, [eax]",     // __NR_clone
            "int 0x80",           // clone(flags, newsp, ptid, tls, ctid); both resume here
            "test eax, eax",      // 0 only in the child
            "jnz 2f",             // parent (tid) or error (-errno)
            child_path!(),        // child: set up the first frame, entry(arg), exit
            "2:",                 // parent continues
            "pop esi",            // restore
            "pop ebp",            // restore
            exit = const SYS_EXIT,
            inlateout("eax") regs.as_ptr() => ret,
            in("ebx") word,
            in("ecx") newsp,
            in("edx") parent_tid,
            in("edi") child_tid,
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
    let local = [arg, entry as usize, child_sp];
    // SAFETY: the caller guarantees the reserved frame at a non-zero child_sp.
    let block = unsafe { child_block(&local, child_sp) };
    let regs = [SYS_CLONE3, block];
    let ret: isize;
    // SAFETY: as in `clone`; the kernel only reads `size` bytes at `args` during the trap.
    unsafe {
        asm!(
            "push ebp",           // save the frame pointer
            "mov ebp, [eax + 4]", // the child's block (survives the trap)
            "mov eax, [eax]",     // __NR_clone3
            "int 0x80",           // clone3(args, size); both resume here
            "test eax, eax",      // 0 only in the child
            "jnz 2f",             // parent (tid) or error (-errno)
            child_path!(),        // child: set up the first frame, entry(arg), exit
            "2:",                 // parent continues
            "pop ebp",            // restore
            exit = const SYS_EXIT,
            inlateout("eax") regs.as_ptr() => ret,
            in("ebx") args,
            in("ecx") size,
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
        asm!("mov {}, esp", out(reg) sp, options(nomem, nostack, preserves_flags)); // copy esp
    }
    sp
}

/// The thread pointer: the base of the segment `%gs` selects (`get_thread_area`), or 0 if
/// `%gs` is null or the call fails.
pub(crate) fn thread_pointer() -> usize {
    let gs: u16;
    // SAFETY: reads a segment register; no memory access.
    unsafe {
        asm!("mov {0:x}, gs", out(reg) gs, options(nomem, nostack, preserves_flags)); // read %gs
    }
    if gs == 0 {
        return 0;
    }
    // struct user_desc: entry_number, base_addr, limit, flag bits.
    let mut desc: [u32; 4] = [u32::from(gs >> 3), 0, 0, 0];
    // SAFETY: get_thread_area reads entry_number and fills the 16-byte struct at `desc`.
    let ret = unsafe { syscall1(SYS_GET_THREAD_AREA, desc.as_mut_ptr() as usize) };
    if ret < 0 { 0 } else { desc[1] as usize }
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
            "int 0x80", // exit(code)
            "ud2",      // unreachable
            in("eax") SYS_EXIT,
            in("ebx") code,
            options(noreturn, nostack),
        );
    }
}

/// Ends the whole process with `code` (raw `exit_group`).
pub(crate) fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group ends every thread at once; nothing in this process runs afterwards.
    unsafe {
        asm!(
            "int 0x80", // exit_group(code)
            "ud2",      // unreachable
            in("eax") SYS_EXIT_GROUP,
            in("ebx") code,
            options(noreturn, nostack),
        );
    }
}
