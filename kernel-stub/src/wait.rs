//! `wait4` and `waitid` for process children (clones without `CLONE_THREAD`: forks, vforks
//! and `CLONE_VM` processes).
//!
//! Which children a wait sees follows Linux's `eligible_child()` (`kernel/exit.c`): without
//! `__WALL`, a child whose exit signal is not SIGCHLD is seen only with `__WCLONE`, and a
//! SIGCHLD child only without it; with `__WNOTHREAD` only the calling thread's own children
//! (`Task::parent_thread`), else those of every thread in its group. The stub has no process groups, so every `pid <= 0` (and
//! `P_ALL`/`P_PGID`) means "any child". A waiting parent sleeps until a matching child exits;
//! the exit path ([`child_exited`]) completes the wait. A leader that exited before its threads
//! is a zombie no wait reaps until they are gone (`delay_group_leader`, [`Kernel::delayed`]).

use crate::addrspace::AddressSpace;
use crate::files::FdKind;
use crate::syscall::{EFAULT, EINVAL, SysResult, neg};
use crate::task::{Death, FIRST_PID, Kernel, State, WaitRequest};
use crate::uaccess;

/// SIGCHLD on x86_64, aarch64 and riscv64.
pub const SIGCHLD: u8 = 17;

const WNOHANG: u64 = 1;
/// `WUNTRACED` (`wait4`) is `WSTOPPED` (`waitid`).
const WSTOPPED: u64 = 2;
const WEXITED: u64 = 4;
const WCONTINUED: u64 = 8;
const WNOWAIT: u64 = 0x0100_0000;
const WNOTHREAD: u64 = 0x2000_0000;
const WALL: u64 = 0x4000_0000;
const WCLONE: u64 = 0x8000_0000;
const P_ALL: u32 = 0;
const P_PID: u32 = 1;
const P_PGID: u32 = 2;
const P_PIDFD: u32 = 3;
const EBADF: i32 = 9;
const ECHILD: i32 = 10;
const ESRCH: i32 = 3;
/// `si_code` values for SIGCHLD (`CLD_EXITED`, `CLD_KILLED`).
const CLD_EXITED: i32 = 1;
const CLD_KILLED: i32 = 2;

/// The stub's one process group: every process is in the program's (its pgid is the
/// program's pid), as if a shell had started it as a job.
const PGID: u32 = FIRST_PID;

/// Children of process group `pgid`: all of them for the program's group, none for any other
/// (`Some(0)`: no task has tid 0).
fn group(pgid: u32) -> Option<u32> {
    if pgid == PGID { None } else { Some(0) }
}

/// `wait4(pid, wstatus, options, rusage)` (`kernel_wait4`): `options` is an `int` with only
/// `WNOHANG`, `WUNTRACED`, `WCONTINUED`, `__WNOTHREAD`, `__WCLONE` and `__WALL` allowed
/// (EINVAL); pid `INT_MIN` is ESRCH; -1 any child, 0 or `-pgid` a process group.
pub fn wait4_request(
    pid: u64,
    wstatus: u64,
    options: u64,
    rusage: u64,
) -> Result<WaitRequest, i32> {
    let options = u64::from(options as u32);
    if options & !(WNOHANG | WSTOPPED | WCONTINUED | WNOTHREAD | WCLONE | WALL) != 0 {
        return Err(EINVAL);
    }
    let pid = match pid as i32 {
        i32::MIN => return Err(ESRCH),
        -1 => None,
        0 => group(PGID),
        p if p < 0 => group(p.unsigned_abs()),
        p => Some(p as u32),
    };
    Ok(WaitRequest {
        pid,
        options: options | WEXITED,
        out: wstatus,
        waitid: false,
        rusage,
    })
}

/// `waitid(idtype, id, infop, options, rusage)` (`kernel_waitid`): unknown option bits, no
/// `WEXITED`/`WSTOPPED`/`WCONTINUED`, an unknown `idtype`, `P_PID` with id <= 0 and
/// `P_PGID`/`P_PIDFD` with id < 0 are EINVAL; a `P_PIDFD` id must be an open pidfd (EBADF
/// otherwise, as `pidfd_get_pid` answers for a closed fd and for another kind of file).
pub fn waitid_request(
    k: &Kernel,
    idtype: u64,
    id: u64,
    infop: u64,
    options: u64,
    rusage: u64,
) -> Result<WaitRequest, i32> {
    let options = u64::from(options as u32);
    let known = WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | WNOTHREAD | WCLONE | WALL;
    if options & !known != 0 || options & (WEXITED | WSTOPPED | WCONTINUED) == 0 {
        return Err(EINVAL);
    }
    let id = id as i32;
    let pid = match idtype as u32 {
        P_ALL => None,
        P_PID if id > 0 => Some(id as u32),
        P_PGID if id == 0 => group(PGID),
        P_PGID if id > 0 => group(id as u32),
        P_PIDFD if id >= 0 => match k.fd_kind(id as u32) {
            FdKind::Pidfd(tid) => Some(tid),
            FdKind::Free => return Err(EBADF),
            FdKind::Console | FdKind::Pipe { .. } | FdKind::File(_) => return Err(EBADF),
        },
        _ => return Err(EINVAL),
    };
    Ok(WaitRequest {
        pid,
        options,
        out: infop,
        waitid: true,
        rusage,
    })
}

/// What `waitid` answers when it fails before or without a child (`SYSCALL_DEFINE5(waitid)`):
/// it still writes the zeroed `si_signo`..`si_status` fields to a non-NULL `infop`, so an
/// unwritable `infop` turns the error into EFAULT.
pub fn waitid_failed(infop: u64, errno: i32) -> SysResult {
    if infop != 0 && put_siginfo(infop, 0, 0, 0, 0).is_err() {
        return Err(EFAULT);
    }
    Err(errno)
}

/// Writes the six fields `waitid` writes (`si_signo`, `si_errno`, `si_code`, `si_pid`,
/// `si_uid`, `si_status`: offsets 0, 4, 8, 16, 20, 24 of the 64-bit `siginfo_t`), nothing
/// else of the 128 bytes.
fn put_siginfo(infop: u64, signo: i32, code: i32, pid: u32, status: i32) -> Result<(), i32> {
    let mut f = [0u8; 28];
    f[0..4].copy_from_slice(&signo.to_ne_bytes());
    f[8..12].copy_from_slice(&code.to_ne_bytes());
    f[16..20].copy_from_slice(&pid.to_ne_bytes());
    f[24..28].copy_from_slice(&status.to_ne_bytes());
    if !uaccess::access_ok(infop, 28) {
        return Err(EFAULT);
    }
    for (off, len) in [(0, 12), (16, 12)] {
        uaccess::write_bytes(infop + off, &f[off as usize..(off + len) as usize])
            .map_err(|_| EFAULT)?;
    }
    Ok(())
}

/// Tries to complete `req` for the task in slot `i`: `Some(result)` (a child reaped, `WNOHANG`
/// with nothing to reap, or `ECHILD`), or `None` when the caller must sleep.
pub fn wait(k: &mut Kernel, i: usize, req: WaitRequest) -> Option<SysResult> {
    let (me, my_tid) = (k.task(i).tgid, k.task(i).tid);
    let eligible = |t: &crate::task::Task| {
        t.tid == t.tgid
            && t.ppid == me
            // `__WNOTHREAD`: only this thread's children (`do_wait` stops after the caller's
            // own `children` list), not those of the other threads of its group.
            && (req.options & WNOTHREAD == 0 || t.parent_thread == my_tid)
            && req.pid.is_none_or(|p| p == t.tid)
            && (req.options & WALL != 0
                || ((t.exit_signal != SIGCHLD) == (req.options & WCLONE != 0)))
    };
    let zombie = k.slots().find_map(|(j, t)| match t.state {
        // `wait_consider_task`: a leader whose threads still run is a child, not yet a zombie
        // to reap (`delay_group_leader`).
        State::Zombie(death) if eligible(t) && !k.delayed(t.tgid) => Some((j, t.tid, death)),
        _ => None,
    });
    if let Some((j, tid, death)) = zombie {
        let reaping = req.options & WNOWAIT == 0;
        let times = crate::usage::reported(k, me, tid, reaping);
        if reaping {
            k.reap(j);
        }
        return Some(
            report(req, tid, death, times).map(|()| if req.waitid { 0 } else { u64::from(tid) }),
        );
    }
    if !k.slots().any(|(_, t)| eligible(t)) {
        return Some(if req.waitid {
            waitid_failed(req.out, ECHILD)
        } else {
            Err(ECHILD)
        });
    }
    if req.options & WNOHANG != 0 {
        if req.waitid && req.out != 0 {
            // waitid with WNOHANG and no child ready: the fields, all zero.
            return Some(put_siginfo(req.out, 0, 0, 0, 0).map(|()| 0));
        }
        return Some(Ok(0));
    }
    None
}

/// Writes the result of a reaped child where the caller asked, in Linux's order: `wait4`'s
/// status word (EFAULT, the child is gone all the same), then the rusage (the child's CPU
/// time with its reaped children's, `RUSAGE_BOTH`; EFAULT), then `waitid`'s siginfo fields
/// (EFAULT).
fn report(req: WaitRequest, tid: u32, death: Death, times: crate::usage::Times) -> Result<(), i32> {
    if !req.waitid && req.out != 0 {
        uaccess::write_u32(req.out, death.wstatus()).map_err(|_| EFAULT)?;
    }
    if req.rusage != 0 {
        uaccess::write_bytes(req.rusage, &crate::usage::rusage_bytes(times)).map_err(|_| EFAULT)?;
    }
    if !req.waitid || req.out == 0 {
        return Ok(());
    }
    let (code, status) = match death {
        Death::Exited(c) => (CLD_EXITED, i32::from(c)),
        Death::Killed(s) => (CLD_KILLED, i32::from(s)),
    };
    put_siginfo(req.out, i32::from(SIGCHLD), code, tid, status)
}

/// A child of thread group `parent` became a zombie: completes any wait it satisfies.
pub fn child_exited(k: &mut Kernel, parent: u32) {
    let waiters: alloc::vec::Vec<(usize, WaitRequest)> = k
        .slots()
        .filter_map(|(j, t)| match t.state {
            State::WaitChild(req) if t.tgid == parent => Some((j, req)),
            _ => None,
        })
        .collect();
    for (j, req) in waiters {
        if !k.has_task(j) {
            continue;
        }
        // The status goes into the waiter's memory, not the exiting child's.
        let space = k.task(j).space().clone();
        if let Some(r) = AddressSpace::with_active(&space, || wait(k, j, req)) {
            let t = k.task(j);
            t.state = State::Runnable;
            t.frame.set_return(match r {
                Ok(v) => v,
                Err(e) => neg(e),
            });
        }
    }
}
