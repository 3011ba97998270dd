//! Process cases: what a kernel must do with the children clone makes when they are
//! processes (own or shared memory, exit signals, wait, reparenting, exit_group, exec).
//!
//! Every case runs on the kernel stub and on Linux (native, and as init of a real kernel);
//! under qemu-user, whose process handling is the host's, they are skipped with the reason.
//! Expected values come from Linux's documented behaviour (`wait4(2)`, `clone(2)`,
//! `execve(2)`, `kernel/exit.c` `eligible_child`, `kernel/fork.c`), not from the code under
//! test. Each child reports through its exit code or a shared word; every check can fail.

use core::hint::black_box;
use core::sync::atomic::{AtomicU32, Ordering};

use clone_core::CloneFlags;
use clone_core::user::{self, ARCH, CloneRequest};

use crate::cases::{CHILD_OK, Outcome, thread_flags};
use crate::msg;
use crate::sys::{self, Exit, GuardedStack, SIGCHLD};

macro_rules! fail {
    ($($t:tt)*) => { return Outcome::Fail(msg!($($t)*)) };
}
macro_rules! ensure {
    ($c:expr, $($t:tt)*) => { if !$c { fail!($($t)*) } };
}

const ECHILD: i32 = 10;
const EFAULT: i32 = 14;
const ENOEXEC: i32 = 8;
const ENOENT: i32 = 2;
const EINVAL: i32 = 22;
const WNOHANG: usize = 1;
const WALL: usize = 0x4000_0000;
const WCLONE: usize = 0x8000_0000;
const STACK: usize = 16 * 1024;

/// qemu-user runs process children with the host's process model and its own emulation
/// limits; these cases are about a kernel's, so they run natively, on real kernels and on the
/// stub.
fn skip_under_qemu_user() -> Option<Outcome> {
    sys::qemu_user().then(|| {
        Outcome::Skip(msg!(
            "qemu-user: process semantics are the host's (checked natively and on real kernels)"
        ))
    })
}

fn result(ret: isize) -> Result<usize, i32> {
    if (-4095..0).contains(&ret) {
        Err(-ret as i32)
    } else {
        Ok(ret as usize)
    }
}

/// `wait4(pid, &status, options)` (or `waitid` where the arch has no `wait4`): `Ok(None)` when
/// `WNOHANG` found nothing to reap.
fn wait_opts(pid: i32, options: usize) -> Result<Option<(u32, Exit)>, i32> {
    let nr = ARCH.syscalls();
    if let Some(wait4) = nr.wait4 {
        let mut status: i32 = 0;
        // SAFETY: the kernel writes one int to `status`; rusage NULL.
        let ret = unsafe {
            user::syscall4(
                wait4 as usize,
                pid as isize as usize,
                core::ptr::addr_of_mut!(status) as usize,
                options,
                0,
            )
        };
        let got = result(ret)?;
        if got == 0 {
            return Ok(None);
        }
        let exit = if status & 0x7f == 0 {
            Exit::Code((status >> 8) & 0xff)
        } else {
            Exit::Signal(status & 0x7f)
        };
        return Ok(Some((got as u32, exit)));
    }
    const P_ALL: usize = 0;
    const P_PID: usize = 1;
    const WEXITED: usize = 4;
    let (idtype, id) = if pid > 0 {
        (P_PID, pid as usize)
    } else {
        (P_ALL, 0)
    };
    let mut info = [0u32; 32];
    // SAFETY: the kernel writes at most 128 bytes of siginfo to `info`.
    let ret = unsafe {
        user::syscall5(
            nr.waitid as usize,
            idtype,
            id,
            info.as_mut_ptr() as usize,
            WEXITED | options,
            0,
        )
    };
    result(ret)?;
    let union = if cfg!(target_pointer_width = "64") {
        4
    } else {
        3
    };
    let got = info[union];
    if got == 0 {
        return Ok(None);
    }
    let status = info[union + 2] as i32;
    let exit = match info[2] {
        1 => Exit::Code(status & 0xff),
        _ => Exit::Signal(status),
    };
    Ok(Some((got, exit)))
}

/// Clones `entry(arg)` with `flags`, `exit_signal` and optionally a stack and a
/// `CLONE_CHILD_CLEARTID` word; a refusal is already the case's failing [`Outcome`].
#[allow(clippy::result_large_err)] // the error is returned at once as the case's outcome
fn spawn(
    flags: CloneFlags,
    exit_signal: u8,
    stack: Option<&GuardedStack<STACK>>,
    clear_tid: Option<&AtomicU32>,
    entry: extern "C" fn(usize) -> i32,
    arg: usize,
) -> Result<u32, Outcome> {
    let stack = stack.map(|s| {
        s.arm();
        s.region()
    });
    let req = CloneRequest {
        stack,
        child_tid: clear_tid,
        ..CloneRequest::new(flags, exit_signal)
    };
    // SAFETY: each caller's child runs on its own static stack (with CLONE_VM) or on its own
    // copy of this stack (without), touches only statics, and is waited for or joined before
    // the case returns.
    unsafe { user::clone(&req, entry, arg) }.map_err(|e| Outcome::Fail(msg!("clone: {e}")))
}

/// Waits (futex join) until the kernel cleared `word` (`CLONE_CHILD_CLEARTID`).
fn join(word: &AtomicU32) {
    loop {
        let v = word.load(Ordering::Acquire);
        if v == 0 {
            return;
        }
        let _ = user::futex_wait(word, v);
    }
}

// ---------------------------------------------------------------------------------------------

static PRIVATE: AtomicU32 = AtomicU32::new(0);

extern "C" fn private_child(_: usize) -> i32 {
    for _ in 0..50 {
        user::sched_yield();
    }
    if PRIVATE.load(Ordering::Relaxed) != 1 {
        return 2; // the parent's store after the fork reached the child's memory
    }
    PRIVATE.store(3, Ordering::Relaxed);
    CHILD_OK
}

/// A fork child's memory is its own: the parent's store after the fork does not reach it, and
/// its store does not reach the parent.
pub fn fork_memory_private() -> Outcome {
    if let Some(o) = skip_under_qemu_user() {
        return o;
    }
    PRIVATE.store(1, Ordering::Relaxed);
    let tid = match spawn(CloneFlags::empty(), SIGCHLD, None, None, private_child, 0) {
        Ok(t) => t,
        Err(o) => return o,
    };
    PRIVATE.store(2, Ordering::Relaxed);
    match sys::wait_child(tid) {
        Ok((_, Exit::Code(CHILD_OK))) => {}
        Ok((_, Exit::Code(2))) => fail!("the parent's write after fork showed in the child"),
        Ok((_, other)) => fail!("child ended with {other:?}"),
        Err(e) => fail!("wait: errno {e}"),
    }
    let v = PRIVATE.load(Ordering::Relaxed);
    ensure!(
        v == 2,
        "parent's word is {v} after the child wrote 3 (expected its own 2)"
    );
    Outcome::Pass
}

// ---------------------------------------------------------------------------------------------

static SHARED: AtomicU32 = AtomicU32::new(0);
static SHARED_STACK: GuardedStack<STACK> = GuardedStack::new();

extern "C" fn shared_child(v: usize) -> i32 {
    SHARED.store(v as u32, Ordering::Release);
    CHILD_OK
}

/// `CLONE_VM` without `CLONE_THREAD`: a process child that shares the parent's memory.
pub fn clone_vm_shares_memory() -> Outcome {
    if let Some(o) = skip_under_qemu_user() {
        return o;
    }
    SHARED.store(0, Ordering::Relaxed);
    let tid = match spawn(
        CloneFlags::VM,
        SIGCHLD,
        Some(&SHARED_STACK),
        None,
        shared_child,
        0x5EED,
    ) {
        Ok(t) => t,
        Err(o) => return o,
    };
    match sys::wait_child(tid) {
        Ok((got, Exit::Code(CHILD_OK))) if got == tid => {}
        Ok(other) => fail!("wait gave {other:?}"),
        Err(e) => fail!("wait: errno {e}"),
    }
    let v = SHARED.load(Ordering::Acquire);
    ensure!(
        v == 0x5EED,
        "the child's store is not in the parent's memory ({v:#x})"
    );
    Outcome::Pass
}

// ---------------------------------------------------------------------------------------------

extern "C" fn quick_child(_: usize) -> i32 {
    CHILD_OK
}

/// A child with exit signal 0 is not seen by a plain wait (ECHILD), only with `__WCLONE` or
/// `__WALL` (`eligible_child`); a SIGCHLD child is not seen with `__WCLONE`.
pub fn exit_signal_zero_needs_wclone() -> Outcome {
    if let Some(o) = skip_under_qemu_user() {
        return o;
    }
    let tid = match spawn(CloneFlags::empty(), 0, None, None, quick_child, 0) {
        Ok(t) => t,
        Err(o) => return o,
    };
    match wait_opts(tid as i32, 0) {
        Err(ECHILD) => {}
        other => {
            let _ = sys::wait_child(tid);
            fail!("plain wait for an exit-signal-0 child gave {other:?}, expected ECHILD");
        }
    }
    match wait_opts(tid as i32, WCLONE) {
        Ok(Some((got, Exit::Code(CHILD_OK)))) if got == tid => {}
        other => fail!("__WCLONE wait gave {other:?}, expected ({tid}, exit {CHILD_OK})"),
    }
    let tid = match spawn(CloneFlags::empty(), SIGCHLD, None, None, quick_child, 0) {
        Ok(t) => t,
        Err(o) => return o,
    };
    match wait_opts(tid as i32, WCLONE) {
        Err(ECHILD) => {}
        other => {
            let _ = sys::wait_child(tid);
            fail!("__WCLONE wait for a SIGCHLD child gave {other:?}, expected ECHILD");
        }
    }
    match wait_opts(tid as i32, WALL) {
        Ok(Some((got, Exit::Code(CHILD_OK)))) if got == tid => Outcome::Pass,
        other => fail!("__WALL wait gave {other:?}, expected ({tid}, exit {CHILD_OK})"),
    }
}

// ---------------------------------------------------------------------------------------------

static NAP: AtomicU32 = AtomicU32::new(0);

extern "C" fn napping_child(_: usize) -> i32 {
    // Up to a second on a private word nobody wakes: long enough for the parent's WNOHANG.
    let _ = sys::futex_wait_1s(&NAP, 0);
    CHILD_OK
}

/// `WNOHANG` with no child at all is ECHILD; with a live child it returns 0; the blocking wait
/// then reaps the child; afterwards there is no child again (ECHILD).
pub fn wnohang_and_echild() -> Outcome {
    if let Some(o) = skip_under_qemu_user() {
        return o;
    }
    match wait_opts(-1, WNOHANG | WALL) {
        Err(ECHILD) => {}
        other => fail!("WNOHANG with no children gave {other:?}, expected ECHILD"),
    }
    let tid = match spawn(CloneFlags::empty(), SIGCHLD, None, None, napping_child, 0) {
        Ok(t) => t,
        Err(o) => return o,
    };
    let early = wait_opts(-1, WNOHANG | WALL);
    let reaped = sys::wait_child(tid);
    ensure!(
        early == Ok(None),
        "WNOHANG with a live child gave {early:?}, expected 0 (nothing to reap)"
    );
    match reaped {
        Ok((got, Exit::Code(CHILD_OK))) if got == tid => {}
        other => fail!("blocking wait gave {other:?}"),
    }
    match wait_opts(-1, WNOHANG | WALL) {
        Err(ECHILD) => Outcome::Pass,
        other => fail!("WNOHANG after the reap gave {other:?}, expected ECHILD"),
    }
}

// ---------------------------------------------------------------------------------------------

static GROUP_STACK: GuardedStack<STACK> = GuardedStack::new();

extern "C" fn group_ender(code: usize) -> i32 {
    user::exit_group(code as i32)
}

extern "C" fn group_leader(_: usize) -> i32 {
    let req = CloneRequest {
        stack: Some({
            GROUP_STACK.arm();
            GROUP_STACK.region()
        }),
        ..CloneRequest::new(thread_flags(), 0)
    };
    // SAFETY: a thread of this (forked) process on its own static stack; it ends the group.
    if unsafe { user::clone(&req, group_ender, 77) }.is_err() {
        return 3;
    }
    // The leader keeps running; only the thread's exit_group can end it.
    for i in 0..1_000_000u32 {
        user::sched_yield();
        black_box(i);
    }
    4
}

/// `exit_group` from a secondary thread ends the whole group, and the parent's wait reports
/// that thread's status (77) for the process, although the leader never exited.
pub fn exit_group_from_thread() -> Outcome {
    if let Some(o) = skip_under_qemu_user() {
        return o;
    }
    let tid = match spawn(CloneFlags::empty(), SIGCHLD, None, None, group_leader, 0) {
        Ok(t) => t,
        Err(o) => return o,
    };
    match sys::wait_child(tid) {
        Ok((got, Exit::Code(77))) if got == tid => Outcome::Pass,
        Ok((_, Exit::Code(3))) => fail!("the child could not start its thread"),
        Ok((_, Exit::Code(4))) => fail!("the thread's exit_group did not end the leader"),
        other => fail!("wait gave {other:?}, expected ({tid}, exit 77)"),
    }
}

// ---------------------------------------------------------------------------------------------

static PARENT_SEEN: AtomicU32 = AtomicU32::new(0);
static PARENT_TID: AtomicU32 = AtomicU32::new(0);
static PARENT_STACK: GuardedStack<STACK> = GuardedStack::new();

extern "C" fn parent_probe(_: usize) -> i32 {
    PARENT_SEEN.store(sys::getppid().unwrap_or(u32::MAX), Ordering::Release);
    CHILD_OK
}

/// `CLONE_PARENT`: the child's parent is the caller's parent, so the caller cannot wait for
/// it (ECHILD) and its `getppid()` is the caller's `getppid()`. Run as init (a real kernel's
/// `/init`), the call must be refused with EINVAL instead.
pub fn clone_parent() -> Outcome {
    if let Some(o) = skip_under_qemu_user() {
        return o;
    }
    let Ok(my_parent) = sys::getppid() else {
        fail!("getppid failed");
    };
    PARENT_SEEN.store(0, Ordering::Relaxed);
    PARENT_TID.store(u32::MAX, Ordering::Relaxed);
    let flags = CloneFlags::VM | CloneFlags::PARENT | CloneFlags::CHILD_CLEARTID;
    let req = CloneRequest {
        stack: Some({
            PARENT_STACK.arm();
            PARENT_STACK.region()
        }),
        child_tid: Some(&PARENT_TID),
        ..CloneRequest::new(flags, SIGCHLD)
    };
    // SAFETY: the child runs on its own static stack, stores one word and exits; the tid word
    // is a static the kernel clears at its exit, which `join` waits for.
    let as_init = user::getpid() == 1;
    let tid = match unsafe { user::clone(&req, parent_probe, 0) } {
        // Linux refuses CLONE_PARENT from a pid namespace's init, which has no parent to share
        // (`copy_process`: CLONE_PARENT with SIGNAL_UNKILLABLE is EINVAL).
        Err(e) if as_init && is_einval(&e) => return Outcome::Pass,
        Err(e) if as_init => fail!("clone(VM|PARENT) as init: {e}, expected EINVAL"),
        Ok(t) if as_init => {
            join_or_reap(t);
            fail!("clone(VM|PARENT) as init succeeded; Linux refuses it with EINVAL")
        }
        Ok(t) => t,
        Err(e) => fail!("clone(VM|PARENT): {e}"),
    };
    // The kernel clears the word when the child exits; it may have done so already.
    let _ = PARENT_TID.compare_exchange(u32::MAX, tid, Ordering::AcqRel, Ordering::Acquire);
    join(&PARENT_TID);
    let seen = PARENT_SEEN.load(Ordering::Acquire);
    ensure!(
        seen == my_parent,
        "child's getppid() is {seen}, expected the caller's parent {my_parent}"
    );
    match wait_opts(tid as i32, WNOHANG | WALL) {
        Err(ECHILD) => Outcome::Pass,
        other => {
            fail!("wait for the CLONE_PARENT child in its sibling gave {other:?}, expected ECHILD")
        }
    }
}

/// Waits until a `CLONE_PARENT` child that should not exist is gone.
fn join_or_reap(tid: u32) {
    let _ = PARENT_TID.compare_exchange(u32::MAX, tid, Ordering::AcqRel, Ordering::Acquire);
    join(&PARENT_TID);
}

fn is_einval(e: &user::SpawnError) -> bool {
    matches!(e, user::SpawnError::Kernel { raw, .. } if *raw == EINVAL)
}

// ---------------------------------------------------------------------------------------------

static ORPHAN_PPID: AtomicU32 = AtomicU32::new(0);
static ORPHAN_TID: AtomicU32 = AtomicU32::new(0);
static MIDDLE_PID: AtomicU32 = AtomicU32::new(0);
static ORPHAN_PID: AtomicU32 = AtomicU32::new(0);
static MIDDLE_STACK: GuardedStack<STACK> = GuardedStack::new();
static ORPHAN_STACK: GuardedStack<STACK> = GuardedStack::new();

extern "C" fn orphan(_: usize) -> i32 {
    let middle = MIDDLE_PID.load(Ordering::Acquire);
    let mut ppid = sys::getppid().unwrap_or(0);
    for _ in 0..100_000 {
        if ppid != middle {
            break;
        }
        user::sched_yield();
        ppid = sys::getppid().unwrap_or(0);
    }
    ORPHAN_PPID.store(ppid, Ordering::Release);
    CHILD_OK
}

extern "C" fn middle(_: usize) -> i32 {
    MIDDLE_PID.store(user::getpid(), Ordering::Release);
    let req = CloneRequest {
        stack: Some({
            ORPHAN_STACK.arm();
            ORPHAN_STACK.region()
        }),
        child_tid: Some(&ORPHAN_TID),
        ..CloneRequest::new(CloneFlags::VM | CloneFlags::CHILD_CLEARTID, SIGCHLD)
    };
    // SAFETY: the grandchild runs on its own static stack and only stores words.
    match unsafe { user::clone(&req, orphan, 0) } {
        Ok(t) => {
            ORPHAN_PID.store(t, Ordering::Release);
            // The kernel clears this word when the orphan exits; it may have done so already.
            let _ = ORPHAN_TID.compare_exchange(u32::MAX, t, Ordering::AcqRel, Ordering::Acquire);
            CHILD_OK
        }
        Err(_) => 3,
    }
}

/// A process that exits with a live child leaves it reparented: the orphan's `getppid()`
/// changes from the dead parent's pid (to init, pid 1, on the stub and under a plain init;
/// to a subreaper if the host has one).
pub fn orphan_reparented() -> Outcome {
    if let Some(o) = skip_under_qemu_user() {
        return o;
    }
    ORPHAN_PPID.store(0, Ordering::Relaxed);
    ORPHAN_TID.store(u32::MAX, Ordering::Relaxed);
    let tid = match spawn(
        CloneFlags::VM,
        SIGCHLD,
        Some(&MIDDLE_STACK),
        None,
        middle,
        0,
    ) {
        Ok(t) => t,
        Err(o) => return o,
    };
    match sys::wait_child(tid) {
        Ok((_, Exit::Code(CHILD_OK))) => {}
        Ok((_, Exit::Code(3))) => fail!("the middle process could not clone"),
        other => fail!("wait for the middle process gave {other:?}"),
    }
    let orphan = ORPHAN_PID.load(Ordering::Acquire);
    join(&ORPHAN_TID);
    // If this process is the reaper (it is init on a real kernel), reap the orphan.
    let _ = wait_opts(orphan as i32, WALL);
    let ppid = ORPHAN_PPID.load(Ordering::Acquire);
    ensure!(
        ppid != tid && ppid != 0,
        "the orphan's getppid() is still its dead parent {tid} (got {ppid})"
    );
    if !sys::native() {
        // On the stub (and as init of a real kernel) the reaper is init.
        ensure!(
            ppid == 1,
            "the orphan was reparented to {ppid}, expected init (1)"
        );
    }
    Outcome::Pass
}

// ---------------------------------------------------------------------------------------------

static EXEC_MARK: AtomicU32 = AtomicU32::new(0);

unsafe extern "C" {
    /// Start of this program's image (lld defines it).
    static __ehdr_start: u8;
}

/// Where this program can find itself to exec: Linux's /proc, the real kernel's initramfs
/// (/init), the stub's file table.
const SELF_PATHS: [&[u8]; 3] = [b"/proc/self/exe\0", b"/init\0", b"/bin/conformance\0"];
/// The argument that makes the exec'd program exit at once with [`EXEC_CODE`].
pub const EXEC_ARG: &[u8] = b"exit-with-status-57\0";
pub const EXEC_CODE: i32 = 57;

/// `execve` on the arches whose table these cases know: x86_64 and the generic table of
/// aarch64 and riscv64 (`None` elsewhere: the exec cases skip).
const EXECVE: Option<usize> = if cfg!(target_arch = "x86_64") {
    Some(59)
} else if cfg!(any(target_arch = "aarch64", target_arch = "riscv64")) {
    Some(221)
} else {
    None
};

/// Why the exec cases cannot run here, if they cannot.
fn skip_exec() -> Option<Outcome> {
    skip_under_qemu_user().or_else(|| {
        EXECVE.is_none().then(|| {
            Outcome::Skip(msg!(
                "execve's number is known here for x86_64, aarch64 and riscv64 only"
            ))
        })
    })
}

/// `execve(path, argv, envp)`: only returns on failure, with the errno.
fn execve(path: &[u8], argv: &[usize], envp: usize) -> i32 {
    execve_at(path.as_ptr() as usize, argv, envp)
}

/// [`execve`] with the path given as an address (which may be bad on purpose).
fn execve_at(path: usize, argv: &[usize], envp: usize) -> i32 {
    execve_raw(path, argv.as_ptr() as usize, envp)
}

/// `execve` with every argument an address (any of which may be bad on purpose).
fn execve_raw(path: usize, argv: usize, envp: usize) -> i32 {
    let Some(nr) = EXECVE else {
        return ENOENT;
    };
    // SAFETY: the kernel only reads the path (or fails with EFAULT) and the NULL-terminated
    // argv/envp arrays of NUL-terminated strings; on success this process is replaced.
    let ret = unsafe { user::syscall3(nr, path, argv, envp) };
    result(ret).err().unwrap_or(0)
}

/// `execve` of this program (the first of [`SELF_PATHS`] that exists) with raw `argv` and
/// `envp` addresses: the errno (Linux looks the file up before it reads either array, so a
/// missing path is ENOENT whatever they are, and the next path is tried).
fn exec_self_raw(argv: usize, envp: usize) -> i32 {
    for path in SELF_PATHS {
        let e = execve_raw(path.as_ptr() as usize, argv, envp);
        if e != ENOENT {
            return e;
        }
    }
    ENOENT
}

extern "C" fn exec_child(_: usize) -> i32 {
    EXEC_MARK.store(1, Ordering::Release);
    for _ in 0..20 {
        user::sched_yield();
    }
    for i in 0..200_000u32 {
        black_box(i);
    }
    EXEC_MARK.store(2, Ordering::Release);
    exec_self()
}

/// Execs this program with [`EXEC_ARG`] from the first of [`SELF_PATHS`] that exists; only
/// returns on failure, with 100 + errno as the exit code.
fn exec_self() -> i32 {
    let null = [0usize; 1];
    for path in SELF_PATHS {
        let argv = [path.as_ptr() as usize, EXEC_ARG.as_ptr() as usize, 0];
        let e = execve(path, &argv, null.as_ptr() as usize);
        if e != ENOENT {
            return 100 + e;
        }
    }
    100 + ENOENT
}

/// A vfork parent stays suspended until its child's `execve` (`vfork_done` completes at the
/// exec), and the child then is the new program: its exit status is the new program's.
pub fn vfork_until_exec() -> Outcome {
    if let Some(o) = skip_exec() {
        return o;
    }
    EXEC_MARK.store(0, Ordering::Relaxed);
    let flags = CloneFlags::VM | CloneFlags::VFORK;
    let req = CloneRequest::new(flags, SIGCHLD);
    // SAFETY: CLONE_VFORK suspends this thread until the child execs or exits; the child runs
    // on the parent's stack below this frame and only stores to a static before its execve.
    let tid = match unsafe { user::clone(&req, exec_child, 0) } {
        Ok(t) => t,
        Err(e) => fail!("vfork: {e}"),
    };
    let mark = EXEC_MARK.load(Ordering::Acquire);
    let exit = sys::wait_child(tid);
    ensure!(
        mark == 2,
        "the parent resumed before the child's execve (mark {mark})"
    );
    match exit {
        Ok((_, Exit::Code(EXEC_CODE))) => Outcome::Pass,
        Ok((_, Exit::Code(c))) if c > 100 => fail!("the child's execve failed: errno {}", c - 100),
        other => fail!("the exec'd child ended with {other:?}, expected exit {EXEC_CODE}"),
    }
}

/// If the program was exec'd by [`vfork_until_exec`] (`argv[1] == EXEC_ARG`), exits at once
/// with [`EXEC_CODE`].
///
/// # Safety
///
/// `sp` must be null or the initial stack pointer (argc, argv…) the kernel handed to `_start`.
pub unsafe fn exit_if_exec_probe(sp: *const usize) {
    if sp.is_null() {
        return;
    }
    // SAFETY: the caller guarantees `sp` points at argc, then argc argv pointers and a NULL.
    let (argc, arg1) = unsafe { (sp.read(), sp.add(2).read() as *const u8) };
    if argc != 2 || arg1.is_null() {
        return;
    }
    let want = &EXEC_ARG[..EXEC_ARG.len() - 1];
    for (i, &w) in want.iter().chain(&[0]).enumerate() {
        // SAFETY: argv[1] is NUL-terminated; the loop stops at the first mismatch or the NUL.
        if unsafe { arg1.add(i).read() } != w {
            return;
        }
    }
    user::exit_group(EXEC_CODE)
}

// ---------------------------------------------------------------------------------------------
// 1,000 cycles each, with the time per cycle on a `bench` line (a benchmark figure, never a
// threshold: the case passes or fails on the children's statuses only).

const CYCLES: u32 = 1000;

/// `CLOCK_MONOTONIC` in ns, or 0 where the kernel has no `clock_gettime` (the figure then
/// reads 0).
fn monotonic_ns() -> u64 {
    // `clock_gettime` where these cases know its number and `struct timespec` is two 64-bit
    // longs (x86_64, and the generic table of aarch64, riscv64 and loongarch64).
    let nr = if cfg!(target_arch = "x86_64") {
        228
    } else if cfg!(any(
        target_arch = "aarch64",
        target_arch = "riscv64",
        target_arch = "loongarch64"
    )) {
        113
    } else {
        return 0;
    };
    const CLOCK_MONOTONIC: usize = 1;
    let mut ts = [0i64; 2];
    // SAFETY: the kernel writes one struct timespec (two longs on 64-bit arches) to `ts`.
    let ret = unsafe { user::syscall2(nr, CLOCK_MONOTONIC, ts.as_mut_ptr() as usize) };
    if ret != 0 {
        return 0;
    }
    (ts[0] as u64) * 1_000_000_000 + ts[1] as u64
}

/// The demo (`cargo xtask run`) leaves the 1,000-cycle cases out: they are leak tests, run by
/// `cargo xtask qemu`.
fn skip_in_demo() -> Option<Outcome> {
    sys::demo().then(|| {
        Outcome::Skip(msg!(
            "demo run: the 1,000-cycle leak tests run in cargo xtask qemu"
        ))
    })
}

/// fork (clone with SIGCHLD) + child exit + wait, 1,000 times.
pub fn thousand_fork_exit_wait() -> Outcome {
    if let Some(o) = skip_under_qemu_user().or_else(skip_in_demo) {
        return o;
    }
    let start = monotonic_ns();
    for n in 0..CYCLES {
        let tid = match spawn(CloneFlags::empty(), SIGCHLD, None, None, quick_child, 0) {
            Ok(t) => t,
            Err(o) => return o,
        };
        match sys::wait_child(tid) {
            Ok((got, Exit::Code(CHILD_OK))) if got == tid => {}
            other => fail!("cycle {n}: wait gave {other:?}"),
        }
    }
    let us = (monotonic_ns() - start) / u64::from(CYCLES) / 1000;
    crate::outln!("bench fork+exit+wait: {CYCLES} cycles, {us} us per cycle");
    Outcome::Pass
}

extern "C" fn exec_at_once(_: usize) -> i32 {
    exec_self()
}

/// vfork + execve (this program, which exits at once with [`EXEC_CODE`]) + wait, 1,000 times.
pub fn thousand_vfork_exec_wait() -> Outcome {
    if let Some(o) = skip_exec().or_else(skip_in_demo) {
        return o;
    }
    let start = monotonic_ns();
    for n in 0..CYCLES {
        let req = CloneRequest::new(CloneFlags::VM | CloneFlags::VFORK, SIGCHLD);
        // SAFETY: as in `vfork_until_exec`: suspended until the child execs; the child only
        // calls execve from the parent's stack.
        let tid = match unsafe { user::clone(&req, exec_at_once, 0) } {
            Ok(t) => t,
            Err(e) => fail!("cycle {n}: vfork: {e}"),
        };
        match sys::wait_child(tid) {
            Ok((got, Exit::Code(EXEC_CODE))) if got == tid => {}
            Ok((_, Exit::Code(c))) if c > 100 => {
                fail!("cycle {n}: the child's execve failed: errno {}", c - 100)
            }
            other => fail!("cycle {n}: wait gave {other:?}"),
        }
    }
    let us = (monotonic_ns() - start) / u64::from(CYCLES) / 1000;
    crate::outln!("bench vfork+exec+wait: {CYCLES} cycles, {us} us per cycle");
    Outcome::Pass
}

// ---------------------------------------------------------------------------------------------

static COW: AtomicU32 = AtomicU32::new(0);

extern "C" fn cow_grandchild(_: usize) -> i32 {
    if COW.load(Ordering::Relaxed) != 2 {
        return 5; // the middle generation's store before the fork is missing
    }
    COW.store(3, Ordering::Relaxed);
    CHILD_OK
}

extern "C" fn cow_child(_: usize) -> i32 {
    if COW.load(Ordering::Relaxed) != 1 {
        return 2;
    }
    COW.store(2, Ordering::Relaxed);
    let Ok(tid) = spawn(CloneFlags::empty(), SIGCHLD, None, None, cow_grandchild, 0) else {
        return 3;
    };
    match sys::wait_child(tid) {
        Ok((_, Exit::Code(CHILD_OK))) => {}
        Ok((_, Exit::Code(5))) => return 5,
        _ => return 4,
    }
    if COW.load(Ordering::Relaxed) != 2 {
        return 6; // the grandchild's store reached the middle generation
    }
    CHILD_OK
}

/// Copy-on-write across three generations: each generation's store stays its own, and a
/// child sees what its parent had at the fork.
pub fn cow_three_generations() -> Outcome {
    if let Some(o) = skip_under_qemu_user() {
        return o;
    }
    COW.store(1, Ordering::Relaxed);
    let tid = match spawn(CloneFlags::empty(), SIGCHLD, None, None, cow_child, 0) {
        Ok(t) => t,
        Err(o) => return o,
    };
    let verdict = sys::wait_child(tid);
    let mine = COW.load(Ordering::Relaxed);
    match verdict {
        Ok((_, Exit::Code(CHILD_OK))) => {}
        Ok((_, Exit::Code(2))) => fail!("the child did not see the parent's value at the fork"),
        Ok((_, Exit::Code(5))) => fail!("the grandchild did not see the child's value"),
        Ok((_, Exit::Code(6))) => fail!("the grandchild's store reached the child"),
        other => fail!("child ended with {other:?}"),
    }
    ensure!(
        mine == 1,
        "the parent's word is {mine}: a descendant's store reached it"
    );
    Outcome::Pass
}

/// `execve` refusals in Linux's order: a bad path pointer (NULL or unmapped) is EFAULT, a
/// missing file ENOENT, a bad `argv`/`envp` array or element pointer of an existing file
/// EFAULT; on the kernel stub also a file that is not an ELF and an ELF for another machine, ENOEXEC
/// (its file table has both). None replaces the caller.
pub fn execve_refusals() -> Outcome {
    if let Some(o) = skip_exec() {
        return o;
    }
    let null = [0usize; 1];
    let missing: &[u8] = b"/no/such/program\0";
    let argv = [missing.as_ptr() as usize, 0];
    // An address no process maps (the first page).
    let e = execve_at(8, &argv, null.as_ptr() as usize);
    ensure!(
        e == EFAULT,
        "execve(bad path pointer) gave errno {e}, expected EFAULT"
    );
    let e = execve(missing, &argv, null.as_ptr() as usize);
    ensure!(
        e == ENOENT,
        "execve(missing path) gave errno {e}, expected ENOENT"
    );
    // NULL path: `getname` faults before anything else.
    let e = execve_at(0, &argv, null.as_ptr() as usize);
    ensure!(
        e == EFAULT,
        "execve(NULL path) gave errno {e}, expected EFAULT"
    );
    // Bad argv/envp with a path that exists: the arrays and strings are read after the lookup
    // (`count` for each array, then `copy_strings`), and any bad pointer is EFAULT. Kernel
    // memory: the top page of the address space, and (on the stub) the page just below this
    // image, which is the stub kernel's; on Linux that page is simply not mapped. None of
    // these can run the program: argv and envp name the exit-at-once probe where they are
    // good, so a kernel that wrongly ignored a bad pointer ends the run with EXEC_CODE.
    let below_image = (&raw const __ehdr_start) as usize - 0x1000;
    let kernel = [usize::MAX - 0xfff, below_image];
    let me = SELF_PATHS[0].as_ptr() as usize;
    let good_argv = [me, EXEC_ARG.as_ptr() as usize, 0];
    let good = good_argv.as_ptr() as usize;
    for bad in kernel.into_iter().chain([8]) {
        let bad_element = [me, EXEC_ARG.as_ptr() as usize, bad, 0];
        let env_element = [bad, 0];
        for (what, argv, envp) in [
            ("the argv array", bad, null.as_ptr() as usize),
            (
                "argv[2]",
                bad_element.as_ptr() as usize,
                null.as_ptr() as usize,
            ),
            ("the envp array", good, bad),
            ("envp[0]", good, env_element.as_ptr() as usize),
        ] {
            let e = exec_self_raw(argv, envp);
            ensure!(
                e == EFAULT,
                "execve(self) with {what} at {bad:#x} gave errno {e}, expected EFAULT"
            );
        }
    }
    // The stub: neither native Linux, nor qemu-user, nor a real kernel's init.
    if !sys::native() && user::getpid() != 1 {
        for path in [&b"/bin/not-elf\0"[..], b"/bin/wrong-machine\0"] {
            let argv = [path.as_ptr() as usize, 0];
            let e = execve(path, &argv, null.as_ptr() as usize);
            ensure!(
                e == ENOEXEC,
                "execve of a non-program gave errno {e}, expected ENOEXEC"
            );
        }
    }
    Outcome::Pass
}

/// The exec cases: this file knows `execve`'s number only on the kernel stub's arches, and a
/// real-kernel run allows no skips, so elsewhere they are left out of the run. (The other
/// process cases run everywhere; on Debian's 6.1, 6.12 and 7.2 kernels for armv7, s390x,
/// powerpc64le and mips64el they all passed.)
const CASES_HERE: [&str; 3] = [
    "vfork-suspends-until-exec",
    "execve-refusals",
    "thousand-vfork-exec-wait",
];

/// Does case `name` run on this arch?
pub fn listed_here(name: &str) -> bool {
    cfg!(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64"
    )) || !CASES_HERE.contains(&name)
}
