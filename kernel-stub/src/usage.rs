//! CPU-time accounting and what reports it: `getrusage`, `times`, the rusage of a reaped
//! child (`wait4`/`waitid`), and the CPU-time clocks of `clock_gettime`/`clock_getres`.
//!
//! The scheduler charges each task the time it ran: the time in user mode from entering it
//! to the trap that ended the slice (user time), and the time the kernel then spent on that
//! trap, a syscall, a fault or a timer tick (system time), both measured on the monotonic
//! clock in ns. Linux counts `sum_exec_runtime` the same way (precisely, from the
//! scheduler), and its reported utime/stime add up to it (`cputime_adjust`); the stub's
//! split is measured, not scaled from tick samples. The syscall that ends a task is not
//! charged to it (its record is gone when the time is known).
//!
//! Group-wide figures live in the group leader's record, which stays as long as any thread of
//! the group (`delay_group_leader`), like Linux's `signal_struct`: the time of the group's
//! exited threads (`signal->utime/stime`, added by `__exit_signal`) and of its reaped
//! children, each with their own reaped children (`signal->cutime/cstime`, added by
//! `wait_task_zombie`). Context switches are counted as `__schedule` counts them (`nvcsw`
//! when a task blocks, `nivcsw` when a runnable one loses the CPU to another) and summed the
//! same way. The other rusage fields (maxrss, faults, ...) are 0.

use crate::syscall::{EFAULT, EINVAL, SysResult};
use crate::task::{Kernel, Task};
use crate::uaccess;

/// CPU time in ns (user and system) and context switches (voluntary: the task blocked;
/// involuntary: it lost the CPU while runnable).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Times {
    pub user: u64,
    pub sys: u64,
    pub nvcsw: u64,
    pub nivcsw: u64,
}

impl Times {
    fn plus(self, o: Times) -> Times {
        Times {
            user: self.user.saturating_add(o.user),
            sys: self.sys.saturating_add(o.sys),
            nvcsw: self.nvcsw + o.nvcsw,
            nivcsw: self.nivcsw + o.nivcsw,
        }
    }

    fn total(self) -> u64 {
        self.user.saturating_add(self.sys)
    }
}

/// A task's accounting.
#[derive(Clone, Copy, Default, Debug)]
pub struct Cpu {
    /// This thread's time.
    pub own: Times,
    /// In a group leader's record: the time of the group's threads that have exited.
    pub dead: Times,
    /// In a group leader's record: the reaped children's time, each with its own reaped
    /// children's (`RUSAGE_CHILDREN`).
    pub children: Times,
}

/// `sizeof(struct rusage)` on 64-bit Linux: two timevals and fourteen longs.
pub const RUSAGE_SIZE: usize = 144;

const RUSAGE_SELF: i32 = 0;
const RUSAGE_CHILDREN: i32 = -1;
const RUSAGE_THREAD: i32 = 1;

/// Linux's `USER_HZ`: the unit of `clock_t` (`times`).
const USER_HZ: u64 = 100;
/// Linux's `INITIAL_JIFFIES` for `HZ` = 100 (the stub's tick): jiffies start 300 s before
/// the 32-bit wrap, so `times` returns `2^32 - 30000` plus the ticks since boot, as a
/// `HZ=100` Linux does.
const INITIAL_JIFFIES: u64 = (1 << 32) - 300 * USER_HZ;

/// The CPU-clock encoding of `clockid_t` (`include/linux/posix-timers_types.h`): the pid
/// inverted above bit 3, bit 2 per-thread, bits 0-1 which clock (3: an fd clock).
const CPUCLOCK_PROF: i32 = 0;
const CPUCLOCK_VIRT: i32 = 1;
const CPUCLOCK_SCHED: i32 = 2;
const CLOCKFD: i32 = 3;
const CPUCLOCK_PERTHREAD: i32 = 4;
/// `CLOCK_PROCESS_CPUTIME_ID`, `CLOCK_THREAD_CPUTIME_ID`: the caller's own SCHED clocks.
const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

/// Charges task `i` (if it is still the task with tid `tid`) `user` and `sys` ns.
pub fn charge(k: &mut Kernel, i: usize, tid: u32, user: u64, sys: u64) {
    if !k.has_task(i) {
        return;
    }
    let t = k.task(i);
    if t.tid == tid {
        t.cpu.own = t.cpu.own.plus(Times {
            user,
            sys,
            ..Times::default()
        });
    }
}

/// Task `i` made a context switch: voluntary (it blocked) or not (it was preempted or
/// yielded and another task runs), counted as Linux's `__schedule` counts `nvcsw`/`nivcsw`.
pub fn switched(k: &mut Kernel, i: usize, voluntary: bool) {
    let own = &mut k.task(i).cpu.own;
    if voluntary {
        own.nvcsw += 1;
    } else {
        own.nivcsw += 1;
    }
}

/// Task `task` (already out of the table) exits: a thread's time goes to its group leader's
/// record (`__exit_signal`); a leader keeps its own.
pub fn exited(k: &mut Kernel, task: &Task) {
    if task.tid == task.tgid {
        return;
    }
    if let Some(leader) = k.tasks_mut().find(|t| t.tid == task.tgid) {
        leader.cpu.dead = leader.cpu.dead.plus(task.cpu.own);
    }
}

/// The time of thread group `tgid`: its live threads, its leader (alive or not) and its
/// exited threads.
fn group(k: &Kernel, tgid: u32) -> Times {
    k.slots()
        .filter(|(_, t)| t.tgid == tgid)
        .fold(Times::default(), |acc, (_, t)| {
            let acc = acc.plus(t.cpu.own);
            if t.tid == tgid {
                acc.plus(t.cpu.dead)
            } else {
                acc
            }
        })
}

/// Group `tgid`'s reaped children's time (its leader's record).
fn children(k: &Kernel, tgid: u32) -> Times {
    k.slots()
        .find(|(_, t)| t.tid == tgid)
        .map_or(Times::default(), |(_, t)| t.cpu.children)
}

/// A zombie child `child` is reported by a wait of group `waiter`: returns its rusage
/// figures (`RUSAGE_BOTH`: its own group's time and its reaped children's); when it is
/// reaped (`reaped`), they are added to the waiter's children (`wait_task_zombie`).
pub fn reported(k: &mut Kernel, waiter: u32, child: u32, reaped: bool) -> Times {
    let both = group(k, child).plus(children(k, child));
    if reaped && let Some(leader) = k.tasks_mut().find(|t| t.tid == waiter) {
        leader.cpu.children = leader.cpu.children.plus(both);
    }
    both
}

/// `struct rusage` with `t` as `ru_utime`/`ru_stime` (timevals, µs truncated) and
/// `ru_nvcsw`/`ru_nivcsw` (the last two longs), every other count 0.
pub fn rusage_bytes(t: Times) -> [u8; RUSAGE_SIZE] {
    let mut b = [0u8; RUSAGE_SIZE];
    for (off, ns) in [(0, t.user), (16, t.sys)] {
        b[off..off + 8].copy_from_slice(&(ns / 1_000_000_000).to_ne_bytes());
        b[off + 8..off + 16].copy_from_slice(&(ns % 1_000_000_000 / 1000).to_ne_bytes());
    }
    b[128..136].copy_from_slice(&t.nvcsw.to_ne_bytes());
    b[136..144].copy_from_slice(&t.nivcsw.to_ne_bytes());
    b
}

/// `getrusage(who, ru)`: `who` is an `int`, EINVAL unless `RUSAGE_SELF` (the caller's
/// group), `RUSAGE_CHILDREN` or `RUSAGE_THREAD`, checked before `ru` is written (EFAULT).
pub fn getrusage(k: &mut Kernel, i: usize, who: u64, ru: u64) -> SysResult {
    let t = k.task(i);
    let (tgid, own) = (t.tgid, t.cpu.own);
    let times = match who as i32 {
        RUSAGE_SELF => group(k, tgid),
        RUSAGE_CHILDREN => children(k, tgid),
        RUSAGE_THREAD => own,
        _ => return Err(EINVAL),
    };
    uaccess::write_bytes(ru, &rusage_bytes(times)).map_err(|_| EFAULT)?;
    Ok(0)
}

/// ns as `clock_t` (`nsec_to_clock_t`: `USER_HZ` units, truncated).
fn clock_t(ns: u64) -> u64 {
    ns / (1_000_000_000 / USER_HZ)
}

/// `times(buf)`: the group's and its reaped children's user and system time in `clock_t`
/// (a NULL `buf` is skipped, an unwritable one EFAULT), and the jiffies as `clock_t`.
pub fn times(k: &mut Kernel, i: usize, buf: u64) -> SysResult {
    if buf != 0 {
        let tgid = k.task(i).tgid;
        let (me, kids) = (group(k, tgid), children(k, tgid));
        let mut b = [0u8; 32];
        for (n, v) in [me.user, me.sys, kids.user, kids.sys]
            .into_iter()
            .enumerate()
        {
            b[n * 8..n * 8 + 8].copy_from_slice(&clock_t(v).to_ne_bytes());
        }
        uaccess::write_bytes(buf, &b).map_err(|_| EFAULT)?;
    }
    Ok(INITIAL_JIFFIES + clock_t(crate::clock::monotonic_ns()))
}

/// Is `id` a CPU-time clock (Linux's `clock_posix_cpu` or an fd clock)?
pub fn is_cpu_clock(id: i32) -> bool {
    id < 0 || id == CLOCK_PROCESS_CPUTIME_ID || id == CLOCK_THREAD_CPUTIME_ID
}

/// The time of CPU clock `id` (`posix_cpu_clock_get`; for `clock_getres`, `gettime` false:
/// `validate_clock_permissions`), or EINVAL: an fd clock (the stub has no posix clock
/// devices), a thread clock of a thread outside the caller's group or of no task, a
/// process clock of a pid that is no process (`pid_for_clock`: with `gettime` the caller's
/// own tid counts as its process).
pub fn cpu_clock(k: &mut Kernel, i: usize, id: i32, gettime: bool) -> Result<u64, i32> {
    let (id, me_tid, me_tgid) = {
        let t = k.task(i);
        let id = match id {
            CLOCK_PROCESS_CPUTIME_ID => (!0 << 3) | CPUCLOCK_SCHED,
            CLOCK_THREAD_CPUTIME_ID => (!0 << 3) | CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED,
            id => id,
        };
        (id, t.tid, t.tgid)
    };
    let which = id & 3;
    if which == CLOCKFD {
        return Err(EINVAL);
    }
    let thread = id & CPUCLOCK_PERTHREAD != 0;
    let pid = !(id >> 3) as u32;
    let times = if thread {
        let tid = if pid == 0 { me_tid } else { pid };
        k.slots()
            .find(|(_, t)| t.tid == tid && t.tgid == me_tgid)
            .map(|(_, t)| t.cpu.own)
            .ok_or(EINVAL)?
    } else {
        let tgid = match pid {
            0 => me_tgid,
            p if gettime && p == me_tid => me_tgid,
            p if k.slots().any(|(_, t)| t.tid == p && t.tgid == p) => p,
            // The notional init (pid 1) is a process that never runs.
            1 => return Ok(0),
            _ => return Err(EINVAL),
        };
        group(k, tgid)
    };
    Ok(match which {
        CPUCLOCK_PROF => times.total(),
        CPUCLOCK_VIRT => times.user,
        _ => times.total(),
    })
}

/// `clock_getres` of a valid CPU clock: 1 ns for the SCHED clocks (a cycle counter), a tick
/// for PROF and VIRT (`posix_cpu_clock_getres`: `NSEC_PER_SEC / HZ`, the stub's 100 Hz).
pub fn cpu_clock_res(id: i32) -> u64 {
    if id == CLOCK_PROCESS_CPUTIME_ID || id == CLOCK_THREAD_CPUTIME_ID || id & 3 == CPUCLOCK_SCHED {
        1
    } else {
        crate::clock::TICK_NS
    }
}
