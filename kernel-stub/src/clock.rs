//! Clocks: `CLOCK_MONOTONIC` from the arch's free-running counter ([`arch::monotonic_ns`]),
//! `CLOCK_REALTIME` from the board's RTC read once at boot ([`arch::rtc_unix_ns`]) plus the
//! monotonic time since, and `clock_gettime`/`clock_getres` over them.
//!
//! Clock ids and check order follow Linux `kernel/time/posix-timers.c`
//! (`clock_gettime`: an unknown id is EINVAL before the timespec is written, then EFAULT).
//! The stub has no suspend, no `clock_settime` and no NTP, so `BOOTTIME` = `MONOTONIC` =
//! `MONOTONIC_RAW`, `TAI` = `REALTIME` (Linux's TAI offset is 0 until set), and the coarse
//! clocks are the fine ones. The CPU-time clocks (`CLOCK_PROCESS_CPUTIME_ID`,
//! `CLOCK_THREAD_CPUTIME_ID` and the ids made from pids) are `crate::usage`'s.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::syscall::{EFAULT, EINVAL, SysResult};
use crate::task::Kernel;
use crate::{arch, uaccess, usage};

/// The scheduler's time slice and tick: 10 ms (every arch's timer runs at 100 Hz).
pub const TICK_NS: u64 = 10_000_000;

/// Realtime minus monotonic, in ns: fixed at boot from the RTC.
static REALTIME_OFFSET_NS: AtomicU64 = AtomicU64::new(0);

pub const CLOCK_REALTIME: i32 = 0;
pub const CLOCK_MONOTONIC: i32 = 1;
const CLOCK_MONOTONIC_RAW: i32 = 4;
const CLOCK_REALTIME_COARSE: i32 = 5;
const CLOCK_MONOTONIC_COARSE: i32 = 6;
const CLOCK_BOOTTIME: i32 = 7;
const CLOCK_TAI: i32 = 11;

/// Reads the RTC and fixes the realtime offset. Called once by `kmain` after `arch::init`.
pub fn init() {
    let rtc = arch::rtc_unix_ns();
    REALTIME_OFFSET_NS.store(rtc.saturating_sub(arch::monotonic_ns()), Ordering::Relaxed);
}

/// `CLOCK_MONOTONIC` now, in ns since boot.
pub fn monotonic_ns() -> u64 {
    arch::monotonic_ns()
}

/// Realtime minus monotonic (ns): converts an absolute `CLOCK_REALTIME` time to monotonic.
pub fn realtime_offset_ns() -> u64 {
    REALTIME_OFFSET_NS.load(Ordering::Relaxed)
}

/// The time of clock `id` in ns, or EINVAL for an id the stub does not keep.
fn now_ns(id: i32) -> Result<u64, i32> {
    match id {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE | CLOCK_TAI => {
            Ok(monotonic_ns().saturating_add(realtime_offset_ns()))
        }
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME => {
            Ok(monotonic_ns())
        }
        _ => Err(EINVAL),
    }
}

/// Writes `ns` as a `struct __kernel_timespec` (two 64-bit words) at `tp`.
fn put_timespec(tp: u64, ns: u64) -> Result<(), i32> {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&(ns / 1_000_000_000).to_ne_bytes());
    b[8..].copy_from_slice(&(ns % 1_000_000_000).to_ne_bytes());
    uaccess::write_bytes(tp, &b).map_err(|_| EFAULT)
}

/// `clock_gettime(clockid, tp)` for the task in slot `i`: the id is an `int` (upper
/// register bits ignored).
pub fn clock_gettime(k: &mut Kernel, i: usize, id: u64, tp: u64) -> SysResult {
    let id = id as i32;
    let ns = if usage::is_cpu_clock(id) {
        usage::cpu_clock(k, i, id, true)?
    } else {
        now_ns(id)?
    };
    put_timespec(tp, ns)?;
    Ok(0)
}

/// `clock_getres(clockid, res)`: 1 ns for every clock the stub keeps (Linux reports the
/// hrtimer resolution, 1 ns, for the fine clocks) but the tick-based CPU clocks
/// ([`usage::cpu_clock_res`]); `res` may be NULL.
pub fn clock_getres(k: &mut Kernel, i: usize, id: u64, res: u64) -> SysResult {
    let id = id as i32;
    let r = if usage::is_cpu_clock(id) {
        usage::cpu_clock(k, i, id, false)?;
        usage::cpu_clock_res(id)
    } else {
        now_ns(id)?;
        1
    };
    if res != 0 {
        put_timespec(res, r)?;
    }
    Ok(0)
}

// Only the CMOS RTC reports a calendar date; PL031 and goldfish count from the epoch.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
/// Seconds since 1970-01-01 of a UTC calendar time (proleptic Gregorian; `month` 1..=12,
/// `day` 1..=31). Howard Hinnant's `days_from_civil`.
pub fn unix_seconds(year: u64, month: u64, day: u64, hour: u64, min: u64, sec: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hour * 3600 + min * 60 + sec
}
