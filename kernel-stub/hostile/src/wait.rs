//! `wait4`/`waitid` argument handling as Linux has it (`kernel_wait4`, `kernel_waitid`,
//! `SYSCALL_DEFINE5(waitid)`): option bits, pid `INT_MIN`, process groups, `P_PIDFD`, which
//! siginfo bytes `waitid` writes (and that it writes them even when it fails), `WNOWAIT`,
//! EFAULT for the status word or rusage after the child is reaped, `__WNOTHREAD`, a leader
//! that exits before its thread (`delay_group_leader`), and which thread inherits an exiting
//! thread's children (`find_alive_thread`: the oldest), and that a zombie can be signalled
//! until it is reaped.

use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use clone_core::CloneFlags;
use clone_core::user::{self, ARCH, CloneRequest};

use crate::{CaseResult, KERNEL_HIGH, STACK, expect};

const EBADF: isize = 9;
const ECHILD: isize = 10;
const EFAULT: isize = 14;
const EINVAL: isize = 22;
const ESRCH: isize = 3;
const WNOHANG: usize = 1;
const WEXITED: usize = 4;
const WNOWAIT: usize = 0x0100_0000;
const P_ALL: usize = 0;
const P_PID: usize = 1;
const P_PIDFD: usize = 3;
const SIGCHLD: u8 = 17;

fn wait4(pid: usize, status: usize, options: usize, rusage: usize) -> isize {
    let nr = ARCH.syscalls().wait4.unwrap_or(u64::MAX) as usize;
    // SAFETY: the kernel writes an int at `status` and a rusage at `rusage` (locals, or
    // addresses it must refuse).
    unsafe { user::syscall4(nr, pid, status, options, rusage) }
}

fn waitid(idtype: usize, id: usize, info: usize, options: usize) -> isize {
    waitid_rusage(idtype, id, info, options, 0)
}

/// `waitid` raw, with a rusage pointer (0 for none).
pub(crate) fn waitid_rusage(
    idtype: usize,
    id: usize,
    info: usize,
    options: usize,
    rusage: usize,
) -> isize {
    // SAFETY: the kernel writes at most a siginfo_t at `info` and a struct rusage at
    // `rusage` (locals or addresses it refuses).
    unsafe {
        user::syscall5(
            ARCH.syscalls().waitid as usize,
            idtype,
            id,
            info,
            options,
            rusage,
        )
    }
}

extern "C" fn exit_with(code: usize) -> i32 {
    code as i32
}

/// Starts a `CLONE_VM` process child (SIGCHLD) that exits with `code`; with `pidfd`, also a
/// pidfd for it in that slot.
fn child(code: usize, pidfd: Option<&AtomicU32>) -> Result<u32, crate::Fail> {
    let mut flags = CloneFlags::VM;
    if pidfd.is_some() {
        flags |= CloneFlags::PIDFD;
    }
    let req = CloneRequest {
        stack: Some(STACK.region()),
        parent_tid: pidfd,
        ..CloneRequest::new(flags, SIGCHLD)
    };
    // SAFETY: the child only returns `code` on STACK; the parent reaps it before STACK is
    // used again.
    match unsafe { user::clone(&req, exit_with, code) } {
        Ok(pid) => Ok(pid),
        Err(e) => fail!("clone(CLONE_VM, SIGCHLD) failed: {e}"),
    }
}

/// Bad arguments, with no child: unknown option bits (also `WNOWAIT` for wait4) are EINVAL,
/// an option word with only bit 32 set is 0 (an int: ECHILD), pid `INT_MIN` is ESRCH, an
/// unknown process group is ECHILD; waitid needs `WEXITED` (or `WSTOPPED`/`WCONTINUED`), a
/// known idtype and a positive `P_PID`, `P_PIDFD` needs a pidfd (EBADF for a closed fd and
/// for the console), and a failing waitid still writes its siginfo fields (EFAULT for a
/// kernel pointer instead of ECHILD).
pub fn wait_arguments() -> CaseResult {
    let mut info = [0u8; 128];
    let ip = info.as_mut_ptr() as usize;
    expect("wait4(options 0x10)", wait4(usize::MAX, 0, 0x10, 0), EINVAL)?;
    expect("wait4(WNOWAIT)", wait4(usize::MAX, 0, WNOWAIT, 0), EINVAL)?;
    expect(
        "wait4(options 1 << 32)",
        wait4(usize::MAX, 0, 1 << 32, 0),
        ECHILD,
    )?;
    expect("wait4(INT_MIN)", wait4(i32::MIN as usize, 0, 0, 0), ESRCH)?;
    expect(
        "wait4(-99999)",
        wait4(-99999isize as usize, 0, 0, 0),
        ECHILD,
    )?;
    expect("waitid(no WEXITED)", waitid(P_ALL, 0, ip, WNOHANG), EINVAL)?;
    expect(
        "waitid(options 0x10)",
        waitid(P_ALL, 0, ip, WEXITED | 0x10),
        EINVAL,
    )?;
    expect("waitid(idtype 7)", waitid(7, 0, ip, WEXITED), EINVAL)?;
    expect("waitid(P_PID, 0)", waitid(P_PID, 0, ip, WEXITED), EINVAL)?;
    expect(
        "waitid(P_PIDFD, -1)",
        waitid(P_PIDFD, usize::MAX, ip, WEXITED),
        EINVAL,
    )?;
    expect(
        "waitid(P_PIDFD, 999)",
        waitid(P_PIDFD, 999, ip, WEXITED),
        EBADF,
    )?;
    expect("waitid(P_PIDFD, 1)", waitid(P_PIDFD, 1, ip, WEXITED), EBADF)?;
    info = [0xff; 128];
    expect(
        "waitid(P_ALL), no child",
        waitid(P_ALL, 0, ip, WEXITED),
        ECHILD,
    )?;
    if info[..12] != [0; 12] || info[12..16] != [0xff; 4] || info[28..] != [0xff; 100] {
        fail!(
            "a failing waitid wrote other bytes than si_signo..si_status: {:x?}",
            &info[..32]
        );
    }
    let r = waitid(P_ALL, 0, KERNEL_HIGH, WEXITED);
    expect("waitid(P_ALL, infop in the kernel), no child", r, EFAULT)
}

/// With children: waitid with `WNOWAIT` reports an exited child (exactly the six fields) and
/// leaves it; `wait4` with a kernel status pointer or rusage pointer is EFAULT but the child
/// is reaped (the status word is written before the rusage); pid 0 is the caller's group;
/// `P_PIDFD` waits for the pidfd's child.
pub fn wait_results() -> CaseResult {
    let pid = child(3, None)?;
    let mut info = [0xffu8; 128];
    let r = waitid(
        P_PID,
        pid as usize,
        info.as_mut_ptr() as usize,
        WEXITED | WNOWAIT,
    );
    if r != 0 {
        fail!("waitid(P_PID, WNOWAIT): {r}");
    }
    let word = |o: usize| i32::from_ne_bytes([info[o], info[o + 1], info[o + 2], info[o + 3]]);
    let fields = [word(0), word(4), word(8), word(16), word(20), word(24)];
    if fields != [i32::from(SIGCHLD), 0, 1, pid as i32, 0, 3] {
        fail!("waitid siginfo (signo errno code pid uid status) = {fields:?}");
    }
    if info[12..16] != [0xff; 4] || info[28..] != [0xff; 100] {
        fail!("waitid wrote more than si_signo..si_status");
    }
    expect(
        "wait4(status in the kernel)",
        wait4(pid as usize, KERNEL_HIGH, 0, 0),
        EFAULT,
    )?;
    expect("wait4 after that", wait4(pid as usize, 0, 0, 0), ECHILD)?;

    let pid = child(4, None)?;
    let status = AtomicU32::new(0);
    let r = wait4(pid as usize, status.as_ptr() as usize, 0, KERNEL_HIGH);
    expect("wait4(rusage in the kernel)", r, EFAULT)?;
    if status.load(core::sync::atomic::Ordering::Relaxed) != 4 << 8 {
        fail!("wait4 with a bad rusage did not write the status first");
    }
    expect("wait4 after that", wait4(pid as usize, 0, 0, 0), ECHILD)?;

    let pid = child(5, None)?;
    let mut rusage = [0u64; 18];
    let r = wait4(0, status.as_ptr() as usize, 0, rusage.as_mut_ptr() as usize);
    if r != pid as isize || status.load(core::sync::atomic::Ordering::Relaxed) != 5 << 8 {
        fail!(
            "wait4(0) (own process group): {r}, status {:#x}",
            status.into_inner()
        );
    }

    let fd = AtomicU32::new(u32::MAX);
    let pid = child(6, Some(&fd))?;
    let fd = fd.into_inner() as usize;
    let mut info = [0u8; 128];
    let r = waitid(P_PIDFD, fd, info.as_mut_ptr() as usize, WEXITED);
    let close = if cfg!(target_arch = "x86_64") { 3 } else { 57 };
    // SAFETY: closes the pidfd this case opened.
    let _ = unsafe { user::syscall1(close, fd) };
    let got = u32::from_ne_bytes([info[16], info[17], info[18], info[19]]);
    if r != 0 || got != pid {
        fail!("waitid(P_PIDFD, {fd}): {r}, si_pid {got}, expected {pid}");
    }
    Ok(())
}

const WNOTHREAD: usize = 0x2000_0000;

static NT_STACK: crate::Stack<16384> = crate::Stack::new();
static NT_CTID: AtomicU32 = AtomicU32::new(0);
/// The thread's first child (0 = not yet, `u32::MAX` = the clone failed), its second child.
static NT_CHILD: AtomicU32 = AtomicU32::new(0);
static NT_CHILD2: AtomicU32 = AtomicU32::new(0);
/// Set by the main thread when the thread may reap its child.
static NT_GO: AtomicU32 = AtomicU32::new(0);
/// What the thread's `wait4(child, __WNOTHREAD)` returned, and the status.
static NT_RET: AtomicUsize = AtomicUsize::new(0);
static NT_STATUS: AtomicU32 = AtomicU32::new(0);

fn sched_yield() {
    let nr = if cfg!(target_arch = "x86_64") {
        24
    } else {
        124
    };
    // SAFETY: sched_yield has no arguments and touches no memory.
    let _ = unsafe { user::syscall1(nr, 0) };
}

/// The thread of [`wait_nothread`]: a child that exits 7, reaped with `__WNOTHREAD` once the
/// main thread has looked at it; then a child it leaves behind (exit 8) by exiting.
extern "C" fn nothread_thread(_: usize) -> i32 {
    let Ok(pid) = child(7, None) else {
        NT_CHILD.store(u32::MAX, Ordering::Release);
        return 0;
    };
    NT_CHILD.store(pid, Ordering::Release);
    while NT_GO.load(Ordering::Acquire) == 0 {
        sched_yield();
    }
    let status = AtomicU32::new(0);
    let r = wait4(pid as usize, status.as_ptr() as usize, WNOTHREAD, 0);
    NT_STATUS.store(status.into_inner(), Ordering::Relaxed);
    NT_RET.store(r as usize, Ordering::Release);
    let pid2 = child(8, None).unwrap_or(u32::MAX);
    NT_CHILD2.store(pid2, Ordering::Release);
    0
}

/// `__WNOTHREAD` (`do_wait` scans only the caller's own children): another thread's child is
/// ECHILD for it (`wait4` and `waitid`, any pid or that pid) but visible without the flag
/// (`waitid` `WNOWAIT` reports it and leaves it); the thread that made the child reaps it with
/// `__WNOTHREAD`; and when a thread exits, its children pass to a live thread of the group
/// (`forget_original_parent`), whose `__WNOTHREAD` wait then reaps them.
pub fn wait_nothread() -> CaseResult {
    for s in [&NT_CHILD, &NT_CHILD2, &NT_GO, &NT_STATUS] {
        s.store(0, Ordering::Relaxed);
    }
    NT_RET.store(0, Ordering::Relaxed);
    if let Err(e) = crate::spawn(NT_STACK.region(), &NT_CTID, nothread_thread, 0) {
        fail!("clone(CLONE_THREAD) failed: {e}");
    }
    let pid = loop {
        match NT_CHILD.load(Ordering::Acquire) {
            0 => sched_yield(),
            u32::MAX => {
                crate::join(&NT_CTID);
                fail!("the thread's clone(CLONE_VM, SIGCHLD) failed");
            }
            p => break p,
        }
    };
    let status = AtomicU32::new(0);
    let st = status.as_ptr() as usize;
    let mut info = [0u8; 128];
    let ip = info.as_mut_ptr() as usize;
    let checks = [
        (
            "wait4(-1, WNOHANG|__WNOTHREAD), another thread's child",
            wait4(usize::MAX, st, WNOHANG | WNOTHREAD, 0),
        ),
        (
            "wait4(pid, WNOHANG|__WNOTHREAD), another thread's child",
            wait4(pid as usize, st, WNOHANG | WNOTHREAD, 0),
        ),
        (
            "waitid(P_PID, WNOHANG|WNOWAIT|__WNOTHREAD), another thread's child",
            waitid(
                P_PID,
                pid as usize,
                ip,
                WEXITED | WNOHANG | WNOWAIT | WNOTHREAD,
            ),
        ),
    ];
    let r = waitid(P_PID, pid as usize, ip, WEXITED | WNOWAIT);
    NT_GO.store(1, Ordering::Release);
    crate::join(&NT_CTID);
    for (what, got) in checks {
        expect(what, got, ECHILD)?;
    }
    let got = u32::from_ne_bytes([info[16], info[17], info[18], info[19]]);
    if r != 0 || got != pid {
        fail!("waitid(P_PID {pid}, WNOWAIT) without __WNOTHREAD: {r}, si_pid {got}");
    }
    let (r, s) = (
        NT_RET.load(Ordering::Acquire),
        NT_STATUS.load(Ordering::Relaxed),
    );
    if r != pid as usize || s != 7 << 8 {
        fail!(
            "the thread's wait4({pid}, __WNOTHREAD): {}, status {s:#x}",
            r as isize
        );
    }
    let pid2 = NT_CHILD2.load(Ordering::Acquire);
    if pid2 == u32::MAX || pid2 == 0 {
        fail!("the thread's second clone failed");
    }
    // On Linux the thread's tid slot is cleared (`mm_release`) before its children are
    // passed on (`exit_notify`): until then this thread has no such child (ECHILD).
    let mut r = -ECHILD;
    for _ in 0..10_000 {
        r = wait4(pid2 as usize, st, WNOTHREAD, 0);
        if r != -ECHILD {
            break;
        }
        sched_yield();
    }
    if r != pid2 as isize || status.load(Ordering::Relaxed) != 8 << 8 {
        fail!(
            "wait4({pid2}, __WNOTHREAD) after the thread that made it exited: {r}, status {:#x}",
            status.into_inner()
        );
    }
    Ok(())
}

static DL_STACK: crate::Stack<16384> = crate::Stack::new();
/// The leader's tid word (cleared when it exits), its thread's.
static DL_LEADER: AtomicU32 = AtomicU32::new(0);
static DL_THREAD: AtomicU32 = AtomicU32::new(0);
/// Set by the case when the thread may exit.
static DL_GO: AtomicU32 = AtomicU32::new(0);

/// The leader of [`wait_delayed_leader`]'s process: starts a thread and exits (raw `exit`,
/// status 3) while the thread runs on; 99 if the thread could not be started.
extern "C" fn delayed_leader(_: usize) -> i32 {
    if crate::spawn(DL_STACK.region(), &DL_THREAD, delayed_thread, 0).is_err() {
        return 99;
    }
    3
}

/// The thread the leader leaves behind: exits with 5 once the case has looked at the leader,
/// after giving the case time to block in its wait.
extern "C" fn delayed_thread(_: usize) -> i32 {
    while DL_GO.load(Ordering::Acquire) == 0 {
        sched_yield();
    }
    for _ in 0..100 {
        sched_yield();
    }
    5
}

/// Starts a `CLONE_VM` process (SIGCHLD) running `entry` on STACK with its tid word in
/// `ctid` (cleared when its leader exits).
fn process(entry: extern "C" fn(usize) -> i32, ctid: &AtomicU32) -> Result<u32, crate::Fail> {
    ctid.store(u32::MAX, Ordering::Relaxed);
    let req = CloneRequest {
        stack: Some(STACK.region()),
        child_tid: Some(ctid),
        ..CloneRequest::new(
            CloneFlags::VM | CloneFlags::CHILD_SETTID | CloneFlags::CHILD_CLEARTID,
            SIGCHLD,
        )
    };
    // SAFETY: the leader runs on STACK only until it exits (the case waits for its tid word
    // before STACK is used again); `ctid` is a static.
    match unsafe { user::clone(&req, entry, 0) } {
        Ok(pid) => Ok(pid),
        Err(e) => fail!("clone(CLONE_VM, SIGCHLD) failed: {e}"),
    }
}

/// `delay_group_leader` (`wait_consider_task`): a process whose leader has called `exit`
/// while its thread runs on is a child but not one to reap: `wait4` and `waitid` with
/// `WNOHANG` answer 0 (waitid's si_pid 0). A blocking `wait4` returns when the thread exits,
/// with the thread's status (5), not the leader's (3): the last thread to exit sets the
/// group's exit code (`synchronize_group_exit`).
pub fn wait_delayed_leader() -> CaseResult {
    DL_GO.store(0, Ordering::Relaxed);
    let pid = process(delayed_leader, &DL_LEADER)?;
    crate::join(&DL_LEADER);
    let status = AtomicU32::new(0);
    let st = status.as_ptr() as usize;
    let early = wait4(pid as usize, st, WNOHANG, 0);
    let mut info = [0xffu8; 128];
    let early_id = waitid(
        P_PID,
        pid as usize,
        info.as_mut_ptr() as usize,
        WEXITED | WNOHANG,
    );
    let si_pid = u32::from_ne_bytes([info[16], info[17], info[18], info[19]]);
    let probe = kill(pid, 0);
    DL_GO.store(1, Ordering::Release);
    let r = wait4(pid as usize, st, 0, 0);
    let s = status.load(Ordering::Relaxed);
    if early != 0 {
        fail!("wait4(WNOHANG) after the leader's exit, its thread alive: {early}, status {s:#x}");
    }
    if early_id != 0 || si_pid != 0 {
        fail!(
            "waitid(WNOHANG) after the leader's exit, its thread alive: {early_id}, si_pid {si_pid}"
        );
    }
    if probe != 0 {
        fail!("kill({pid}, 0) while its leader waits for its thread: {probe}");
    }
    if r != pid as isize || s != 5 << 8 {
        fail!(
            "wait4 once the thread exited: {r}, status {s:#x} (the leader exited 3, the thread 5)"
        );
    }
    Ok(())
}

static RO_STACK_A: crate::Stack<16384> = crate::Stack::new();
static RO_STACK_B: crate::Stack<16384> = crate::Stack::new();
static RO_LEADER: AtomicU32 = AtomicU32::new(0);
static RO_A: AtomicU32 = AtomicU32::new(0);
static RO_B: AtomicU32 = AtomicU32::new(0);
/// The leader's child, A's and B's tids, B's tid below A's (1) or not (0).
static RO_CHILD: AtomicU32 = AtomicU32::new(0);
static RO_TID_A: AtomicU32 = AtomicU32::new(0);
static RO_TID_B: AtomicU32 = AtomicU32::new(0);
/// What went wrong in the process (0: nothing), set once.
static RO_ERROR: AtomicUsize = AtomicUsize::new(0);
/// A's `waitid(WNOWAIT|__WNOTHREAD)` poll, then B's, then A's reap and its status.
static RO_A_SAW: AtomicUsize = AtomicUsize::new(0);
static RO_B_SAW: AtomicUsize = AtomicUsize::new(0);
static RO_REAP: AtomicUsize = AtomicUsize::new(0);
static RO_STATUS: AtomicU32 = AtomicU32::new(0);
/// Steps: 1 = A has looked (B may look), 2 = B has looked.
static RO_STEP: AtomicU32 = AtomicU32::new(0);
const RO_NO_THREAD_A: usize = 1;
const RO_NO_THREAD_B: usize = 2;
const RO_NO_CHILD: usize = 3;
const RO_CHILD_NOT_SEEN: usize = 4;

/// `waitid(P_PID, pid, WEXITED|WNOHANG|WNOWAIT|__WNOTHREAD)`: `pid` when `pid` is the calling
/// thread's own exited child (left unreaped), else the negated errno or 0.
fn own_child(pid: u32) -> isize {
    let mut info = [0u8; 128];
    let r = waitid(
        P_PID,
        pid as usize,
        info.as_mut_ptr() as usize,
        WEXITED | WNOHANG | WNOWAIT | WNOTHREAD,
    );
    if r != 0 {
        return r;
    }
    u32::from_ne_bytes([info[16], info[17], info[18], info[19]]) as isize
}

/// Thread B: a younger thread, with a lower tid when `set_tid` can give it one: after A has
/// looked, the leader's child must not be B's (ECHILD).
extern "C" fn reaper_b(_: usize) -> i32 {
    while RO_STEP.load(Ordering::Acquire) == 0 {
        sched_yield();
    }
    let c = RO_CHILD.load(Ordering::Acquire);
    RO_B_SAW.store(own_child(c) as usize, Ordering::Release);
    RO_STEP.store(2, Ordering::Release);
    0
}

/// Thread A, the oldest after the leader: once the leader has exited, its child must become
/// A's (`waitid(__WNOTHREAD)` sees it); after B has looked, A reaps it, waits for B and exits
/// with 6, the status the process's parent gets.
extern "C" fn reaper_a(_: usize) -> i32 {
    crate::join(&RO_LEADER);
    let c = RO_CHILD.load(Ordering::Acquire);
    let mut r = 0;
    // Linux clears the leader's tid word (`mm_release`) before it passes its children on
    // (`exit_notify`): until then they are not A's.
    for _ in 0..100_000 {
        r = own_child(c);
        if r == c as isize {
            break;
        }
        sched_yield();
    }
    RO_A_SAW.store(r as usize, Ordering::Release);
    RO_STEP.store(1, Ordering::Release);
    while RO_STEP.load(Ordering::Acquire) != 2 {
        sched_yield();
    }
    let status = AtomicU32::new(0);
    RO_REAP.store(
        wait4(c as usize, status.as_ptr() as usize, WNOTHREAD, 0) as usize,
        Ordering::Release,
    );
    RO_STATUS.store(status.into_inner(), Ordering::Release);
    crate::join(&RO_B);
    6
}

static RO_CHILD_STACK: crate::Stack<16384> = crate::Stack::new();

/// The leader of [`wait_reaper_oldest`]'s process: thread A, then thread B (with a tid below
/// A's if `clone3`'s `set_tid` allows), then a child that exits 9 at once; once the child is
/// a zombie the leader exits (3) and its child passes to A.
extern "C" fn reaper_leader(_: usize) -> i32 {
    let Ok(a) = crate::spawn(RO_STACK_A.region(), &RO_A, reaper_a, 0) else {
        RO_ERROR.store(RO_NO_THREAD_A, Ordering::Release);
        RO_STEP.store(2, Ordering::Release);
        return 3;
    };
    RO_TID_A.store(a, Ordering::Release);
    // A tid below A's that is free: `set_tid` (privileged, as the suite runs) makes the
    // youngest thread the one with the lowest tid, so "oldest" and "lowest tid" differ.
    RO_B.store(u32::MAX, Ordering::Relaxed);
    let mut b = None;
    for t in (2..a).rev().take(1000) {
        let set_tid = [t as i32];
        let req = user::Clone3Request::new(
            crate::thread_flags() | CloneFlags::CHILD_SETTID | CloneFlags::CHILD_CLEARTID,
            0,
        )
        .with_stack(RO_STACK_B.region())
        .with_child_tid(&RO_B)
        .with_set_tid(&set_tid);
        // SAFETY: RO_STACK_B is B's alone; RO_B is a static.
        match unsafe { user::clone3(&req, reaper_b, 0) } {
            Ok(tid) => {
                b = Some(tid);
                break;
            }
            Err(user::SpawnError::Kernel { raw: 17, .. }) => {} // EEXIST: taken, try lower
            Err(_) => break,
        }
    }
    let b = match b {
        Some(b) => Some(b),
        None => crate::spawn(RO_STACK_B.region(), &RO_B, reaper_b, 0).ok(),
    };
    let Some(b) = b else {
        RO_ERROR.store(RO_NO_THREAD_B, Ordering::Release);
        RO_STEP.store(2, Ordering::Release);
        return 3;
    };
    RO_TID_B.store(b, Ordering::Release);
    let req = CloneRequest {
        stack: Some(RO_CHILD_STACK.region()),
        ..CloneRequest::new(CloneFlags::VM, SIGCHLD)
    };
    // SAFETY: the child only returns 9 on RO_CHILD_STACK, used by nothing else.
    let Ok(c) = (unsafe { user::clone(&req, exit_with, 9) }) else {
        RO_ERROR.store(RO_NO_CHILD, Ordering::Release);
        RO_STEP.store(2, Ordering::Release);
        return 3;
    };
    let mut info = [0u8; 128];
    // The child is a zombie before the leader goes (WNOWAIT leaves it).
    if waitid(
        P_PID,
        c as usize,
        info.as_mut_ptr() as usize,
        WEXITED | WNOWAIT,
    ) != 0
    {
        RO_ERROR.store(RO_CHILD_NOT_SEEN, Ordering::Release);
    }
    RO_CHILD.store(c, Ordering::Release);
    3
}

/// `forget_original_parent`/`find_new_reaper`: when a thread exits, its children go to the
/// first live thread of the group's thread list, the oldest (`find_alive_thread`), not to
/// the one with the lowest tid. The leader of a `CLONE_VM` process makes thread A, then B
/// (tid below A's through `set_tid` when the caller may use it), then a child, and exits:
/// only A sees the child with `__WNOTHREAD` (B gets ECHILD) and A reaps it (status 9); the
/// process is reaped after its last thread, A, exited 6.
pub fn wait_reaper_oldest() -> CaseResult {
    for s in [&RO_CHILD, &RO_TID_A, &RO_TID_B, &RO_STEP, &RO_STATUS] {
        s.store(0, Ordering::Relaxed);
    }
    for s in [&RO_ERROR, &RO_A_SAW, &RO_B_SAW, &RO_REAP] {
        s.store(0, Ordering::Relaxed);
    }
    let pid = process(reaper_leader, &RO_LEADER)?;
    let status = AtomicU32::new(0);
    let r = wait4(pid as usize, status.as_ptr() as usize, 0, 0);
    let s = status.into_inner();
    let (a, b, c) = (
        RO_TID_A.load(Ordering::Acquire),
        RO_TID_B.load(Ordering::Acquire),
        RO_CHILD.load(Ordering::Acquire),
    );
    match RO_ERROR.load(Ordering::Acquire) {
        0 => {}
        RO_NO_THREAD_A => fail!("the process could not start thread A"),
        RO_NO_THREAD_B => fail!("the process could not start thread B"),
        RO_NO_CHILD => fail!("the process could not start its child"),
        _ => fail!("waitid(WNOWAIT) in the leader did not see its child {c} exit"),
    }
    let (a_saw, b_saw) = (
        RO_A_SAW.load(Ordering::Acquire) as isize,
        RO_B_SAW.load(Ordering::Acquire) as isize,
    );
    if a_saw != c as isize || b_saw != -ECHILD {
        fail!(
            "child {c} of the exited leader, waitid(__WNOTHREAD): oldest thread A (tid {a}) {a_saw}, younger B (tid {b}) {b_saw}"
        );
    }
    let (reap, cs) = (
        RO_REAP.load(Ordering::Acquire) as isize,
        RO_STATUS.load(Ordering::Acquire),
    );
    if reap != c as isize || cs != 9 << 8 {
        fail!("A's wait4({c}, __WNOTHREAD): {reap}, status {cs:#x}");
    }
    if r != pid as isize || s != 6 << 8 {
        fail!("wait4 for the process: {r}, status {s:#x} (its last thread exited 6)");
    }
    Ok(())
}

#[cfg(target_arch = "x86_64")]
const KILL_NRS: [usize; 3] = [62, 200, 234];
#[cfg(not(target_arch = "x86_64"))]
const KILL_NRS: [usize; 3] = [129, 130, 131];

/// `kill(pid, sig)`.
fn kill(pid: u32, sig: usize) -> isize {
    // SAFETY: sends a signal; no memory is touched.
    unsafe { user::syscall2(KILL_NRS[0], pid as usize, sig) }
}

/// A zombie can still be signalled (its pid and signal state stay until it is reaped, as
/// `release_task` frees them): `kill`, `tkill` and `tgkill` with signal 0 or SIGTERM answer
/// 0 and change nothing (the status is still the exit's), and only after the reap is its
/// pid ESRCH.
pub fn wait_zombie_signals() -> CaseResult {
    const SIGTERM: usize = 15;
    let pid = child(3, None)?;
    let mut info = [0u8; 128];
    let r = waitid(
        P_PID,
        pid as usize,
        info.as_mut_ptr() as usize,
        WEXITED | WNOWAIT,
    );
    if r != 0 {
        fail!("waitid(P_PID {pid}, WNOWAIT): {r}");
    }
    let p = pid as usize;
    // SAFETY: tkill/tgkill send a signal; no memory is touched.
    let (tkill, tgkill) = unsafe {
        (
            user::syscall2(KILL_NRS[1], p, 0),
            user::syscall3(KILL_NRS[2], p, p, 0),
        )
    };
    let answers = [kill(pid, 0), kill(pid, SIGTERM), tkill, tgkill];
    let status = AtomicU32::new(0);
    let w = wait4(p, status.as_ptr() as usize, 0, 0);
    let after = kill(pid, 0);
    if answers != [0; 4] {
        fail!("kill(0), kill(SIGTERM), tkill(0), tgkill(0) of zombie {pid}: {answers:?}");
    }
    let s = status.into_inner();
    if w != pid as isize || s != 3 << 8 {
        fail!("wait4({pid}) after signalling the zombie: {w}, status {s:#x}");
    }
    expect("kill(reaped pid, 0)", after, ESRCH)
}
