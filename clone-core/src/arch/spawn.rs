//! The unsafe half of [`crate::user`], arch-neutral: hands a checked plan to the arch's trap
//! (`src/arch/<arch>.rs`), and wraps the raw syscall helpers in safe functions.
//!
//! Lives under `src/arch/` because clone-core keeps every `unsafe` there; it is a child
//! module of `user` (`#[path]`), not one of the per-arch files.
#![allow(unsafe_code)]

use core::sync::atomic::AtomicU32;

use crate::arch;
use crate::user::{
    ChildEntry, Clone3Request, CloneRequest, SpawnError, decode, plan_clone, plan_clone3,
};
use crate::validate::CLONE_ARGS_SIZE_VER2;

pub(super) const HAS_CLONE3: bool = arch::HAS_CLONE3;

/// Starts a child with the legacy `clone` syscall; it runs `entry(arg)` and exits with its
/// return value. Returns the child's tid in the parent.
///
/// See the [module docs](crate::user) for the steps and [`SpawnError`] for the failures.
///
/// # Safety
///
/// The kernel and the child act on raw memory the borrow checker cannot see:
///
/// * `stack` must be memory nobody else uses, readable and writable, and stay so until the
///   child has exited (with `CLONE_CHILD_CLEARTID`: until `child_tid` reads 0). Without
///   `CLONE_VM` the child gets its own copy and this is about the copy.
/// * `parent_tid`/`child_tid` must stay valid while the kernel may write them: `child_tid`
///   with `CLONE_CHILD_CLEARTID` until the child exits, even after this call's borrow ends.
/// * With `CLONE_VM`, `entry` runs concurrently with the parent in the same memory, so
///   everything it touches (through `arg` or globals) must be thread-safe, and it must not
///   rely on the parent's thread-local storage unless `CLONE_SETTLS` gives it its own
///   (`tls` must then point at a TLS block laid out as this platform's code expects, or the
///   code run by `entry` must not use TLS). `entry` must not unwind.
/// * With `CLONE_VM | CLONE_VFORK` and no stack, the child runs on the parent's stack below
///   the current frame while the parent is suspended; `entry` must not return into or free
///   anything of the parent's.
/// * Without `CLONE_VM` the child is a copy of a possibly multi-threaded process: only
///   async-signal-safe work is sound in `entry` (as after `fork`).
/// * Flags that change the process as a whole (`CLONE_THREAD` without `CLONE_SIGHAND`-aware
///   signal handling, `CLONE_PARENT`, namespace flags …) are the caller's to reason about.
pub unsafe fn clone(
    req: &CloneRequest<'_>,
    entry: ChildEntry,
    arg: usize,
) -> Result<u32, SpawnError> {
    let p = plan_clone(req)?;
    // SAFETY: the plan's values come from a checked request (no shared live stack, stack
    // values from crate::stack::layout) and the caller upholds the contract above.
    let ret = unsafe {
        arch::clone(
            p.word,
            p.newsp,
            p.parent_tid,
            p.child_tid,
            p.tls,
            entry,
            arg,
            p.child_sp,
        )
    };
    decode(ret)
}

/// Starts a child with `clone3` (`struct clone_args`, 88 bytes); otherwise as [`clone`].
///
/// # Safety
///
/// As for [`clone`]; `pidfd` follows the rules of `parent_tid`, and `set_tid` is only read
/// during the call.
pub unsafe fn clone3(
    req: &Clone3Request<'_>,
    entry: ChildEntry,
    arg: usize,
) -> Result<u32, SpawnError> {
    let p = plan_clone3(req)?;
    let args = p.args;
    // SAFETY: `args` (88 bytes, 8-aligned) lives on this frame for the whole trap; the rest as
    // in `clone`.
    let ret = unsafe {
        arch::clone3(
            core::ptr::addr_of!(args) as usize,
            CLONE_ARGS_SIZE_VER2 as usize,
            entry,
            arg,
            p.child_sp,
        )
    };
    decode(ret)
}

/// Ends the calling thread with `code` (raw `exit`, not `exit_group`); with
/// `CLONE_CHILD_CLEARTID` the kernel then clears and wakes the tid word.
///
/// # Safety
///
/// Nothing on the calling thread's stack may still be borrowed by other threads or need
/// dropping, and whoever owns that stack must not free it before the kernel is done with it
/// (wait for the `CLONE_CHILD_CLEARTID` wake-up).
pub unsafe fn exit_thread(code: i32) -> ! {
    // SAFETY: the caller's contract is the one `arch::exit_thread` asks for.
    unsafe { arch::exit_thread(code) }
}

pub(super) fn gettid() -> u32 {
    // SAFETY: gettid has no arguments and no side effects.
    unsafe { arch::syscall0(arch::SYS_GETTID) as u32 }
}

pub(super) fn getpid() -> u32 {
    // SAFETY: getpid has no arguments and no side effects.
    unsafe { arch::syscall0(arch::SYS_GETPID) as u32 }
}

pub(super) fn sched_yield() {
    // SAFETY: sched_yield has no arguments and only affects scheduling.
    unsafe {
        arch::syscall0(arch::SYS_SCHED_YIELD);
    }
}

pub(super) fn write(fd: i32, bytes: &[u8]) -> isize {
    // SAFETY: the kernel reads at most `bytes.len()` bytes from `bytes`.
    unsafe {
        arch::syscall3(
            arch::SYS_WRITE,
            fd as isize as usize,
            bytes.as_ptr() as usize,
            bytes.len(),
        )
    }
}

pub(super) fn unshare(flags: usize) -> isize {
    // SAFETY: unshare takes no pointer; what it changes (namespaces, shared fs/files/sighand
    // copies, credentials) is process state no Rust memory depends on.
    unsafe { arch::syscall1(super::nr::SYS_UNSHARE, flags) }
}

pub(super) fn setns(fd: i32, nstype: usize) -> isize {
    // SAFETY: setns takes no pointer; it only switches namespaces (and, for a user namespace,
    // credentials) of this thread.
    unsafe { arch::syscall2(super::nr::SYS_SETNS, fd as isize as usize, nstype) }
}

pub(super) fn futex(word: &AtomicU32, op: usize, val: u32) -> isize {
    // SAFETY: FUTEX_WAIT/FUTEX_WAKE only read the aligned u32 behind the reference (atomically
    // with respect to other futex operations); the timeout pointer is NULL.
    unsafe { arch::syscall4(arch::SYS_FUTEX, word.as_ptr() as usize, op, val as usize, 0) }
}
