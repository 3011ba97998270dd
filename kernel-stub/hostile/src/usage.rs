//! CPU-time accounting as Linux reports it: the CPU-time clocks (`CLOCK_PROCESS_CPUTIME_ID`,
//! `CLOCK_THREAD_CPUTIME_ID`, the ids made from pids: `posix_cpu_clock_get`,
//! `pid_for_clock`), `getrusage`, `times`, and the rusage `wait4`/`waitid` give for a reaped
//! child, with its context-switch counts. Only what is deterministic is checked: success or Linux's errno (EINVAL before
//! EFAULT), values that never decrease, and CPU time at least as large as what a busy loop
//! measured on the thread's own CPU clock (never against wall-clock time). Nothing uses pid
//! 1: on the aarch64 Debian kernel the program itself is pid 1.

use core::hint::black_box;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use clone_core::CloneFlags;
use clone_core::user::{self, ARCH, CloneRequest};

use crate::wait::waitid_rusage;
use crate::{CaseResult, KERNEL_HIGH, expect};

const EINVAL: isize = 22;
const EFAULT: isize = 14;
const MS: u64 = 1_000_000;
const SIGCHLD: u8 = 17;
const WEXITED: usize = 4;
const WNOWAIT: usize = 0x0100_0000;
const P_PID: usize = 1;

const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
const CPUCLOCK_PROF: i32 = 0;
const CPUCLOCK_VIRT: i32 = 1;
const CPUCLOCK_SCHED: i32 = 2;
const CLOCKFD: i32 = 3;
const PERTHREAD: i32 = 4;
const RUSAGE_SELF: usize = 0;
const RUSAGE_THREAD: usize = 1;
const RUSAGE_CHILDREN: usize = -1isize as usize;

#[cfg(target_arch = "x86_64")]
mod nr {
    pub const CLOCK_GETTIME: usize = 228;
    pub const CLOCK_GETRES: usize = 229;
    pub const GETRUSAGE: usize = 98;
    pub const TIMES: usize = 100;
}
#[cfg(not(target_arch = "x86_64"))]
mod nr {
    pub const CLOCK_GETTIME: usize = 113;
    pub const CLOCK_GETRES: usize = 114;
    pub const GETRUSAGE: usize = 165;
    pub const TIMES: usize = 153;
}

/// A process CPU clock of `pid` (`MAKE_PROCESS_CPUCLOCK`; pid 0: the caller's).
fn process_clock(pid: u32, which: i32) -> i32 {
    (!(pid as i32) << 3) | which
}

/// A thread CPU clock of `tid` (`MAKE_THREAD_CPUCLOCK`; tid 0: the caller).
fn thread_clock(tid: u32, which: i32) -> i32 {
    (!(tid as i32) << 3) | PERTHREAD | which
}

fn gettime_raw(id: i32, tp: usize) -> isize {
    // SAFETY: the kernel writes at most 16 bytes at `tp` (a local or an address it refuses).
    unsafe { user::syscall2(nr::CLOCK_GETTIME, id as isize as usize, tp) }
}

fn getres_raw(id: i32, tp: usize) -> isize {
    // SAFETY: as for `gettime_raw`.
    unsafe { user::syscall2(nr::CLOCK_GETRES, id as isize as usize, tp) }
}

/// Clock `id` in ns, or the negated errno.
fn clock(id: i32) -> Result<u64, isize> {
    let mut ts = [0i64; 2];
    match gettime_raw(id, ts.as_mut_ptr() as usize) {
        0 => Ok(ts[0] as u64 * 1_000_000_000 + ts[1] as u64),
        e => Err(e),
    }
}

/// Clock `id` in ns, a failure if it cannot be read.
fn read(what: &str, id: i32) -> Result<u64, crate::Fail> {
    match clock(id) {
        Ok(ns) => Ok(ns),
        Err(e) => fail!("clock_gettime({what} = {id}): {e}"),
    }
}

/// Burns CPU until the calling thread's CPU clock has advanced `ns`: true, or false if
/// that did not happen within 60 s of `CLOCK_MONOTONIC` (a guard against a hang only).
fn busy(ns: u64) -> bool {
    let (Ok(start), Ok(wall)) = (clock(CLOCK_THREAD_CPUTIME_ID), clock(1)) else {
        return false;
    };
    let mut x = 0u64;
    loop {
        for i in 0..10_000u64 {
            x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i));
        }
        match clock(CLOCK_THREAD_CPUTIME_ID) {
            Ok(t) if t >= start + ns => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
        if clock(1).map_or(true, |w| w > wall + 60_000 * MS) {
            return false;
        }
    }
}

/// `getrusage(who, ru)` raw.
fn getrusage_raw(who: usize, ru: usize) -> isize {
    // SAFETY: the kernel writes at most a struct rusage (144 bytes) at `ru`.
    unsafe { user::syscall2(nr::GETRUSAGE, who, ru) }
}

/// `ru_utime` and `ru_stime` of a `struct rusage`, in µs.
fn user_sys(ru: &[i64; 18]) -> (u64, u64) {
    (
        (ru[0] * 1_000_000 + ru[1]) as u64,
        (ru[2] * 1_000_000 + ru[3]) as u64,
    )
}

/// `getrusage(who)`'s user and system time in µs.
fn rusage(who: usize) -> Result<(u64, u64), crate::Fail> {
    let mut ru = [0i64; 18];
    let r = getrusage_raw(who, ru.as_mut_ptr() as usize);
    if r != 0 {
        fail!("getrusage({}): {r}", who as isize);
    }
    Ok(user_sys(&ru))
}

/// `times(buf)` raw: the clock_t tick count or the negated errno.
fn times_raw(buf: usize) -> isize {
    // SAFETY: the kernel writes at most a struct tms (32 bytes) at `buf`.
    unsafe { user::syscall1(nr::TIMES, buf) }
}

static T_STACK: crate::Stack<16384> = crate::Stack::new();
static T_CTID: AtomicU32 = AtomicU32::new(0);
static T_GO: AtomicU32 = AtomicU32::new(0);
static T_TID: AtomicU32 = AtomicU32::new(0);
/// The thread's answers: process clock by its own tid (gettime, getres), its thread clock by
/// its tid, the main thread's thread clock.
static T_RESULTS: [AtomicUsize; 4] = [const { AtomicUsize::new(0) }; 4];

/// A thread of [`cpu_clocks`]: reads the clocks named by its own tid and the main thread's,
/// then waits until the main thread has used its tid.
extern "C" fn clock_thread(main_tid: usize) -> i32 {
    let me = user::gettid();
    T_TID.store(me, Ordering::Release);
    let res = |r: Result<u64, isize>| r.map_or_else(|e| e as usize, |_| 0);
    let mut ts = [0i64; 2];
    let answers = [
        res(clock(process_clock(me, CPUCLOCK_SCHED))),
        getres_raw(process_clock(me, CPUCLOCK_SCHED), ts.as_mut_ptr() as usize) as usize,
        res(clock(thread_clock(me, CPUCLOCK_SCHED))),
        res(clock(thread_clock(main_tid as u32, CPUCLOCK_SCHED))),
    ];
    for (slot, a) in T_RESULTS.iter().zip(answers) {
        slot.store(a, Ordering::Relaxed);
    }
    T_GO.store(1, Ordering::Release);
    while T_GO.load(Ordering::Acquire) != 2 {
        user::sched_yield();
    }
    0
}

static C_STACK: crate::Stack<16384> = crate::Stack::new();

/// A process child: burns `ms` ms of its own CPU time, then exits (1 if it could not).
extern "C" fn busy_child(ms: usize) -> i32 {
    if busy(ms as u64 * MS) { 0 } else { 1 }
}

/// Starts a `CLONE_VM` process child (SIGCHLD) on C_STACK running [`busy_child`].
fn start_busy_child(ms: usize) -> Result<u32, crate::Fail> {
    let req = CloneRequest {
        stack: Some(C_STACK.region()),
        ..CloneRequest::new(CloneFlags::VM, SIGCHLD)
    };
    // SAFETY: the child runs on C_STACK only; the case reaps it before C_STACK is used again.
    match unsafe { user::clone(&req, busy_child, ms) } {
        Ok(pid) => Ok(pid),
        Err(e) => fail!("clone(CLONE_VM, SIGCHLD) failed: {e}"),
    }
}

fn wait4(pid: u32, status: &AtomicU32, rusage: usize) -> isize {
    let nr = ARCH.syscalls().wait4.unwrap_or(u64::MAX) as usize;
    // SAFETY: the kernel writes an int at `status` and a rusage at `rusage` (a local).
    unsafe { user::syscall4(nr, pid as usize, status.as_ptr() as usize, 0, rusage) }
}

/// CPU-time clocks: the thread and process clocks work, never go back, and advance with a
/// busy loop (the process clock, read later, is at least the thread clock); PROF and VIRT
/// work; a clock made from the caller's pid or tid is the caller's; another process's
/// clock works (a zombie child's too) but not its thread clock; a thread can name its
/// process by its own tid in `clock_gettime` but not in `clock_getres`, and another thread's
/// tid names no process; fd clocks are EINVAL; the id is checked before the pointer (EINVAL,
/// then EFAULT); the SCHED clocks' resolution is 1 ns.
pub fn cpu_clocks() -> CaseResult {
    let t0 = read("CLOCK_THREAD_CPUTIME_ID", CLOCK_THREAD_CPUTIME_ID)?;
    let p0 = read("CLOCK_PROCESS_CPUTIME_ID", CLOCK_PROCESS_CPUTIME_ID)?;
    let prof0 = read("thread PROF", thread_clock(0, CPUCLOCK_PROF))?;
    let virt0 = read("process VIRT", process_clock(0, CPUCLOCK_VIRT))?;
    if !busy(5 * MS) {
        fail!("the thread CPU clock did not advance 5 ms in a busy loop");
    }
    let t1 = read("CLOCK_THREAD_CPUTIME_ID", CLOCK_THREAD_CPUTIME_ID)?;
    let p1 = read("CLOCK_PROCESS_CPUTIME_ID", CLOCK_PROCESS_CPUTIME_ID)?;
    if t1 < t0 + 5 * MS || p1 < p0 || p1 < t1 {
        fail!("thread clock {t0} -> {t1}, process clock {p0} -> {p1} over a 5 ms busy loop");
    }
    let prof1 = read("thread PROF", thread_clock(0, CPUCLOCK_PROF))?;
    let virt1 = read("process VIRT", process_clock(0, CPUCLOCK_VIRT))?;
    if prof1 < prof0 || virt1 < virt0 {
        fail!("PROF {prof0} -> {prof1}, VIRT {virt0} -> {virt1}: went back");
    }
    let (me, pid) = (user::gettid(), user::getpid());
    let by_tid = read("own tid's thread clock", thread_clock(me, CPUCLOCK_SCHED))?;
    let by_pid = read(
        "own pid's process clock",
        process_clock(pid, CPUCLOCK_SCHED),
    )?;
    if by_tid < t1 || by_pid < p1 {
        fail!("clocks by own tid/pid {by_tid}/{by_pid} below thread/process {t1}/{p1}");
    }
    let mut ts = [0i64; 2];
    let r = getres_raw(CLOCK_THREAD_CPUTIME_ID, ts.as_mut_ptr() as usize);
    if r != 0 || ts != [0, 1] {
        fail!("clock_getres(CLOCK_THREAD_CPUTIME_ID): {r}, {ts:?}");
    }
    expect(
        "clock_getres(CLOCK_PROCESS_CPUTIME_ID, NULL)",
        getres_raw(CLOCK_PROCESS_CPUTIME_ID, 0),
        0,
    )?;
    expect(
        "clock_gettime(CLOCK_THREAD_CPUTIME_ID, kernel pointer)",
        gettime_raw(CLOCK_THREAD_CPUTIME_ID, KERNEL_HIGH),
        EFAULT,
    )?;
    for (what, id) in [
        ("fd clock of fd 0", process_clock(0, CLOCKFD)),
        ("fd clock of fd 999", process_clock(999, CLOCKFD)),
    ] {
        expect(what, clock(id).map_or_else(|e| e, |_| 0), EINVAL)?;
    }

    // Another process: a zombie child.
    let child = start_busy_child(0)?;
    let mut info = [0u8; 128];
    let r = waitid_rusage(
        P_PID,
        child as usize,
        info.as_mut_ptr() as usize,
        WEXITED | WNOWAIT,
        0,
    );
    let zombie_process = clock(process_clock(child, CPUCLOCK_SCHED));
    let zombie_thread = clock(thread_clock(child, CPUCLOCK_SCHED));
    let thread_bad_ptr = gettime_raw(thread_clock(child, CPUCLOCK_SCHED), KERNEL_HIGH);
    let status = AtomicU32::new(0);
    let reaped = wait4(child, &status, 0);
    let gone = clock(process_clock(child, CPUCLOCK_SCHED));
    if r != 0 || reaped != child as isize {
        fail!("waitid(WNOWAIT) {r}, wait4 {reaped} for child {child}");
    }
    if let Err(e) = zombie_process {
        fail!("process clock of a zombie child: {e}");
    }
    expect(
        "thread clock of another process's thread",
        zombie_thread.map_or_else(|e| e, |_| 0),
        EINVAL,
    )?;
    expect(
        "thread clock of another process's thread, kernel pointer",
        thread_bad_ptr,
        EINVAL,
    )?;
    expect(
        "process clock of a reaped child",
        gone.map_or_else(|e| e, |_| 0),
        EINVAL,
    )?;

    // Another thread of this process.
    for s in &T_RESULTS {
        s.store(usize::MAX, Ordering::Relaxed);
    }
    T_GO.store(0, Ordering::Relaxed);
    if let Err(e) = crate::spawn(T_STACK.region(), &T_CTID, clock_thread, me as usize) {
        fail!("clone(CLONE_THREAD) failed: {e}");
    }
    while T_GO.load(Ordering::Acquire) == 0 {
        user::sched_yield();
    }
    let t = T_TID.load(Ordering::Acquire);
    let other_thread = clock(thread_clock(t, CPUCLOCK_SCHED));
    let other_as_process = clock(process_clock(t, CPUCLOCK_SCHED));
    T_GO.store(2, Ordering::Release);
    crate::join(&T_CTID);
    let got: [isize; 4] = core::array::from_fn(|n| T_RESULTS[n].load(Ordering::Relaxed) as isize);
    if got != [0, -EINVAL, 0, 0] {
        fail!(
            "in thread {t}: gettime/getres of the process clock by its own tid, its thread clock, the main thread's: {got:?}, expected [0, -{EINVAL}, 0, 0]"
        );
    }
    if let Err(e) = other_thread {
        fail!("thread clock of thread {t} of this process: {e}");
    }
    expect(
        "process clock named by another thread's tid",
        other_as_process.map_or_else(|e| e, |_| 0),
        EINVAL,
    )
}

/// `getrusage` and `times`: `who` is an int checked before the pointer (EINVAL, then EFAULT,
/// NULL included); after a 30 ms busy loop `RUSAGE_THREAD` has at least 29 ms and
/// `RUSAGE_SELF` (read later) as much, neither goes back, and `times` has at least a tick;
/// a busy child's 30 ms come back in `waitid(WNOWAIT)`'s rusage without touching
/// `RUSAGE_CHILDREN`, then in `wait4`'s, and are added to `RUSAGE_CHILDREN` and the
/// children's `times`; `times(NULL)` works, an unwritable buffer is EFAULT, the tick count
/// never goes back.
pub fn getrusage_times() -> CaseResult {
    let mut ru = [0i64; 18];
    let p = ru.as_mut_ptr() as usize;
    expect("getrusage(2)", getrusage_raw(2, p), EINVAL)?;
    expect(
        "getrusage(2, kernel pointer)",
        getrusage_raw(2, KERNEL_HIGH),
        EINVAL,
    )?;
    expect(
        "getrusage(RUSAGE_SELF, kernel pointer)",
        getrusage_raw(RUSAGE_SELF, KERNEL_HIGH),
        EFAULT,
    )?;
    expect(
        "getrusage(RUSAGE_SELF, NULL)",
        getrusage_raw(RUSAGE_SELF, 0),
        EFAULT,
    )?;
    expect(
        "getrusage((1 << 32) | RUSAGE_THREAD)",
        getrusage_raw((1 << 32) | RUSAGE_THREAD, p),
        0,
    )?;
    expect(
        "getrusage(0xffffffff = RUSAGE_CHILDREN)",
        getrusage_raw(0xffff_ffff, p),
        0,
    )?;
    let self0 = rusage(RUSAGE_SELF)?;
    let mut tms0 = [0i64; 4];
    let j0 = times_raw(tms0.as_mut_ptr() as usize);
    if !busy(30 * MS) {
        fail!("the thread CPU clock did not advance 30 ms in a busy loop");
    }
    let thread = rusage(RUSAGE_THREAD)?;
    let self1 = rusage(RUSAGE_SELF)?;
    let mut tms1 = [0i64; 4];
    let j1 = times_raw(tms1.as_mut_ptr() as usize);
    if thread.0 + thread.1 < 29_000 {
        fail!(
            "RUSAGE_THREAD after 30 ms of CPU: user {} µs, system {} µs",
            thread.0,
            thread.1
        );
    }
    if self1.0 + self1.1 + 1 < thread.0 + thread.1 || self1.0 < self0.0 || self1.1 < self0.1 {
        fail!("RUSAGE_SELF {self0:?} -> {self1:?} µs, RUSAGE_THREAD {thread:?} µs");
    }
    if j0 < 0 || j1 < j0 || tms1[0] < tms0[0] || tms1[1] < tms0[1] || tms1[0] + tms1[1] < 1 {
        fail!("times: {j0} {tms0:?} -> {j1} {tms1:?} after 30 ms of CPU");
    }
    let j2 = times_raw(0);
    expect("times(kernel pointer)", times_raw(KERNEL_HIGH), EFAULT)?;
    if j2 < j1 {
        fail!("times(NULL) = {j2} after {j1}");
    }

    let kids0 = rusage(RUSAGE_CHILDREN)?;
    let child = start_busy_child(30)?;
    let mut info = [0u8; 128];
    let mut peek = [0i64; 18];
    let r = waitid_rusage(
        P_PID,
        child as usize,
        info.as_mut_ptr() as usize,
        WEXITED | WNOWAIT,
        peek.as_mut_ptr() as usize,
    );
    let kids1 = rusage(RUSAGE_CHILDREN)?;
    let status = AtomicU32::new(u32::MAX);
    let mut reaped = [0i64; 18];
    let w = wait4(child, &status, reaped.as_mut_ptr() as usize);
    let kids2 = rusage(RUSAGE_CHILDREN)?;
    let mut tms2 = [0i64; 4];
    times_raw(tms2.as_mut_ptr() as usize);
    if r != 0 || w != child as isize || status.load(Ordering::Relaxed) != 0 {
        fail!(
            "waitid(WNOWAIT) {r}, wait4 {w} (status {:#x}) for the busy child {child}",
            status.load(Ordering::Relaxed)
        );
    }
    let (peek, reaped) = (user_sys(&peek), user_sys(&reaped));
    if peek.0 + peek.1 < 29_000 || reaped.0 + reaped.1 < 29_000 {
        fail!("rusage of a child that ran 30 ms: waitid(WNOWAIT) {peek:?} µs, wait4 {reaped:?} µs");
    }
    if kids1 != kids0 {
        fail!("RUSAGE_CHILDREN changed by waitid(WNOWAIT): {kids0:?} -> {kids1:?}");
    }
    if kids2.0 + kids2.1 < kids0.0 + kids0.1 + 29_000 || kids2.0 < kids0.0 || kids2.1 < kids0.1 {
        fail!("RUSAGE_CHILDREN {kids0:?} -> {kids2:?} µs over reaping a child that ran 30 ms");
    }
    if tms2[2] + tms2[3] < tms1[2] + tms1[3] + 1 {
        fail!("times' children {tms1:?} -> {tms2:?} over reaping a child that ran 30 ms");
    }
    Ok(())
}

/// `getrusage(who)`'s `ru_nvcsw` and `ru_nivcsw`.
fn switches(who: usize) -> Result<(u64, u64), crate::Fail> {
    let mut ru = [0i64; 18];
    let r = getrusage_raw(who, ru.as_mut_ptr() as usize);
    if r != 0 {
        fail!("getrusage({}): {r}", who as isize);
    }
    Ok((ru[16] as u64, ru[17] as u64))
}

/// A `FUTEX_WAIT` that nobody wakes, for 10 ms: the caller blocks once.
fn block_10ms() -> isize {
    let word = AtomicU32::new(0);
    let ts: [i64; 2] = [0, 10 * MS as i64];
    // SAFETY: the kernel reads `word` and `ts`; nothing is written.
    unsafe {
        user::syscall4(
            ARCH.syscalls().futex as usize,
            word.as_ptr() as usize,
            0,
            0,
            ts.as_ptr() as usize,
        )
    }
}

/// A process child that blocks once (10 ms), then exits.
extern "C" fn blocking_child(_: usize) -> i32 {
    if block_10ms() == -110 { 0 } else { 1 }
}

/// Context switches in `getrusage` (`ru_nvcsw`, `ru_nivcsw`): a futex wait that blocks adds
/// at least one voluntary switch to `RUSAGE_THREAD`, `RUSAGE_SELF` (read later) has at least
/// as many, neither count goes back; a child that blocked once reports at least one in
/// `wait4`'s rusage and adds at least one to `RUSAGE_CHILDREN`.
pub fn context_switches() -> CaseResult {
    let t0 = switches(RUSAGE_THREAD)?;
    let s0 = switches(RUSAGE_SELF)?;
    let r = block_10ms();
    let t1 = switches(RUSAGE_THREAD)?;
    let s1 = switches(RUSAGE_SELF)?;
    if r != -110 {
        fail!("FUTEX_WAIT with a 10 ms timeout: {r}");
    }
    if t1.0 < t0.0 + 1 || t1.1 < t0.1 || s1.0 < t1.0 || s1.0 < s0.0 || s1.1 < s0.1 {
        fail!(
            "(nvcsw, nivcsw) over a blocking wait: RUSAGE_THREAD {t0:?} -> {t1:?}, RUSAGE_SELF {s0:?} -> {s1:?}"
        );
    }
    let kids0 = switches(RUSAGE_CHILDREN)?;
    let req = CloneRequest {
        stack: Some(C_STACK.region()),
        ..CloneRequest::new(CloneFlags::VM, SIGCHLD)
    };
    // SAFETY: the child runs on C_STACK only; it is reaped below before C_STACK is reused.
    let child = match unsafe { user::clone(&req, blocking_child, 0) } {
        Ok(pid) => pid,
        Err(e) => fail!("clone(CLONE_VM, SIGCHLD) failed: {e}"),
    };
    let status = AtomicU32::new(u32::MAX);
    let mut ru = [0i64; 18];
    let w = wait4(child, &status, ru.as_mut_ptr() as usize);
    let kids1 = switches(RUSAGE_CHILDREN)?;
    let s = status.into_inner();
    if w != child as isize || s != 0 {
        fail!("wait4 for the blocking child {child}: {w}, status {s:#x}");
    }
    if ru[16] < 1 || kids1.0 < kids0.0 + 1 || kids1.1 < kids0.1 {
        fail!(
            "a child that blocked once: wait4's ru_nvcsw {}, RUSAGE_CHILDREN {kids0:?} -> {kids1:?}",
            ru[16]
        );
    }
    Ok(())
}
