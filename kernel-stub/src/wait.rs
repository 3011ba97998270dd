//! `wait4` and `waitid` for process children (clones without `CLONE_THREAD`, e.g. the
//! `CLONE_VM | CLONE_VFORK` children of the conformance program).
//!
//! Which children a wait sees follows Linux's `eligible_child()` (`kernel/exit.c`): without
//! `__WALL`, a child whose exit signal is not SIGCHLD is seen only with `__WCLONE`, and a
//! SIGCHLD child only without it. The stub has no process groups, so every `pid <= 0` (and
//! `P_ALL`/`P_PGID`) means "any child". A waiting parent sleeps until a matching child exits;
//! the exit path ([`child_exited`]) completes the wait.

use crate::syscall::{EFAULT, EINVAL, SysResult, neg};
use crate::task::{Death, Kernel, State, WaitRequest};
use crate::uaccess;

/// SIGCHLD on x86_64, aarch64 and riscv64.
pub const SIGCHLD: u8 = 17;

const WNOHANG: u64 = 1;
const WEXITED: u64 = 4;
const WALL: u64 = 0x4000_0000;
const WCLONE: u64 = 0x8000_0000;
const P_ALL: u64 = 0;
const P_PID: u64 = 1;
const P_PGID: u64 = 2;
const ECHILD: i32 = 10;
/// `si_code` values for SIGCHLD (`CLD_EXITED`, `CLD_KILLED`).
const CLD_EXITED: i32 = 1;
const CLD_KILLED: i32 = 2;

/// `wait4(pid, wstatus, options, rusage)`.
pub fn wait4_request(pid: u64, wstatus: u64, options: u64) -> Result<WaitRequest, i32> {
    if options & !(WNOHANG | 2 | 8 | WALL | WCLONE | 0x2000_0000) != 0 {
        return Err(EINVAL);
    }
    let pid = pid as i32;
    Ok(WaitRequest {
        pid: (pid > 0).then_some(pid as u32),
        options,
        out: wstatus,
        waitid: false,
    })
}

/// `waitid(idtype, id, infop, options, rusage)`.
pub fn waitid_request(idtype: u64, id: u64, infop: u64, options: u64) -> Result<WaitRequest, i32> {
    if options & (WEXITED | 2 | 8) == 0 {
        return Err(EINVAL);
    }
    let pid = match idtype {
        P_PID if id as i32 > 0 => Some(id as u32),
        P_PID => return Err(EINVAL),
        P_ALL | P_PGID => None,
        _ => return Err(EINVAL),
    };
    Ok(WaitRequest {
        pid,
        options,
        out: infop,
        waitid: true,
    })
}

/// Tries to complete `req` for the task in slot `i`: `Some(result)` (a child reaped, `WNOHANG`
/// with nothing to reap, or `ECHILD`), or `None` when the caller must sleep.
pub fn wait(k: &mut Kernel, i: usize, req: WaitRequest) -> Option<SysResult> {
    let me = k.task(i).tgid;
    let eligible = |t: &crate::task::Task| {
        t.tid == t.tgid
            && t.ppid == me
            && req.pid.is_none_or(|p| p == t.tid)
            && (req.options & WALL != 0
                || ((t.exit_signal != SIGCHLD) == (req.options & WCLONE != 0)))
    };
    let zombie = k.slots().find_map(|(j, t)| match t.state {
        State::Zombie(death) if eligible(t) => Some((j, t.tid, death)),
        _ => None,
    });
    if let Some((j, tid, death)) = zombie {
        k.reap(j);
        return Some(report(req, tid, death).map(|()| if req.waitid { 0 } else { u64::from(tid) }));
    }
    if !k.slots().any(|(_, t)| eligible(t)) {
        return Some(Err(ECHILD));
    }
    if req.options & WNOHANG != 0 {
        if req.waitid && req.out != 0 {
            // waitid with WNOHANG and no child ready: si_pid = 0.
            let _ = uaccess::write_bytes(req.out, &[0u8; 128]);
        }
        return Some(Ok(0));
    }
    None
}

/// Writes the result of a reaped child where the caller asked.
fn report(req: WaitRequest, tid: u32, death: Death) -> Result<(), i32> {
    if req.out == 0 {
        return Ok(());
    }
    if !req.waitid {
        return uaccess::write_u32(req.out, death.wstatus()).map_err(|_| EFAULT);
    }
    // siginfo_t for SIGCHLD (64-bit layout): si_signo, si_errno, si_code, then the union at
    // offset 16: si_pid, si_uid, si_status.
    let (code, status) = match death {
        Death::Exited(c) => (CLD_EXITED, i32::from(c)),
        Death::Killed(s) => (CLD_KILLED, i32::from(s)),
    };
    let mut info = [0u8; 128];
    info[0..4].copy_from_slice(&i32::from(SIGCHLD).to_ne_bytes());
    info[8..12].copy_from_slice(&code.to_ne_bytes());
    info[16..20].copy_from_slice(&tid.to_ne_bytes());
    info[24..28].copy_from_slice(&status.to_ne_bytes());
    uaccess::write_bytes(req.out, &info).map_err(|_| EFAULT)
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
        if let Some(r) = wait(k, j, req) {
            let t = k.task(j);
            t.state = State::Runnable;
            t.frame.set_return(match r {
                Ok(v) => v,
                Err(e) => neg(e),
            });
        }
    }
}
