//! `nanosleep` and `clock_nanosleep` (`kernel/time/hrtimer.c`, `kernel/time/posix-timers.c`):
//! the task sleeps until `CLOCK_MONOTONIC` reaches its deadline, woken at the first timer tick
//! after it (10 ms granularity, as futex timeouts). A signal with a handler ends it early:
//! EINTR, and for a relative sleep the time left in `rem` (`crate::signal` writes it when
//! the handler is set up; without a handler after all, the task sleeps on to its deadline).
//!
//! `clock_nanosleep` checks in Linux's order: a clock the stub does not know EINVAL, a clock
//! without a sleep method (the coarse and raw clocks, the alarm clocks without an RTC alarm)
//! EOPNOTSUPP, then the request's EFAULT and EINVAL (`timespec64_valid`). `TIMER_ABSTIME` takes
//! the request as a time of that clock (a `CLOCK_REALTIME` one converted with the realtime
//! offset); other flag bits are ignored, as Linux ignores them. The CPU-time clocks are EINVAL
//! (the stub keeps no CPU time, as its `clock_gettime` says).

use crate::clock;
use crate::syscall::{EFAULT, EINVAL, SysResult};
use crate::task::{Kernel, State};
use crate::uaccess;

const EOPNOTSUPP: i32 = 95;
const TIMER_ABSTIME: u64 = 1;

/// Reads a `struct __kernel_timespec` as ns (EFAULT, EINVAL for a negative second or a
/// nanosecond field outside 0..1e9).
fn timespec_ns(at: u64) -> Result<u64, i32> {
    let sec = uaccess::read_u64(at).map_err(|_| EFAULT)? as i64;
    let nsec = uaccess::read_u64(at.wrapping_add(8)).map_err(|_| EFAULT)? as i64;
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(EINVAL);
    }
    Ok((sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(nsec as u64))
}

/// Puts task `i` to sleep until monotonic time `deadline` (at once back if it has passed).
fn sleep_until(k: &mut Kernel, i: usize, deadline: u64) -> SysResult {
    if deadline > clock::monotonic_ns() {
        k.task(i).state = State::Sleep { deadline };
    }
    k.yield_now = true;
    Ok(0)
}

/// `nanosleep(req, rem)`: a relative sleep on `CLOCK_MONOTONIC`.
pub fn nanosleep(k: &mut Kernel, i: usize, req: u64) -> SysResult {
    let t = timespec_ns(req)?;
    sleep_until(k, i, clock::monotonic_ns().saturating_add(t))
}

/// `clock_nanosleep(clockid, flags, req, rem)`.
pub fn clock_nanosleep(k: &mut Kernel, i: usize, id: u64, flags: u64, req: u64) -> SysResult {
    // Linux's clock ids (`include/uapi/linux/time.h`): REALTIME 0, MONOTONIC 1,
    // PROCESS_CPUTIME 2, THREAD_CPUTIME 3, MONOTONIC_RAW 4, REALTIME_COARSE 5,
    // MONOTONIC_COARSE 6, BOOTTIME 7, REALTIME_ALARM 8, BOOTTIME_ALARM 9, TAI 11.
    let realtime = match id as u32 as i32 {
        0 | 11 => true,
        1 | 7 => false,
        4..=6 | 8 | 9 => return Err(EOPNOTSUPP),
        _ => return Err(EINVAL),
    };
    let t = timespec_ns(req)?;
    let deadline = if flags & TIMER_ABSTIME == 0 {
        clock::monotonic_ns().saturating_add(t)
    } else if realtime {
        t.saturating_sub(clock::realtime_offset_ns())
    } else {
        t
    };
    sleep_until(k, i, deadline)
}
