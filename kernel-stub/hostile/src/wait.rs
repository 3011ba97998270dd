//! `wait4`/`waitid` argument handling as Linux has it (`kernel_wait4`, `kernel_waitid`,
//! `SYSCALL_DEFINE5(waitid)`): option bits, pid `INT_MIN`, process groups, `P_PIDFD`, which
//! siginfo bytes `waitid` writes (and that it writes them even when it fails), `WNOWAIT`,
//! EFAULT for the status word or rusage after the child is reaped, and `__WNOTHREAD`.

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
    // SAFETY: the kernel writes at most a siginfo_t at `info` (a local or a refused address).
    unsafe {
        user::syscall5(
            ARCH.syscalls().waitid as usize,
            idtype,
            id,
            info,
            options,
            0,
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
