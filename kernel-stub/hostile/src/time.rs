//! Clocks and futex timeouts: `CLOCK_REALTIME` is wall-clock time (from the board's RTC on
//! the stub), `CLOCK_MONOTONIC` advances with real time, `clock_gettime` checks its id before
//! its pointer, and absolute futex timeouts are taken on the clock Linux takes them on.

use core::sync::atomic::AtomicU32;

use clone_core::user::{self, ARCH};

use crate::{CaseResult, KERNEL_HIGH, expect};

const CLOCK_REALTIME: usize = 0;
const CLOCK_MONOTONIC: usize = 1;
const EINVAL: isize = 22;
const EFAULT: isize = 14;
const EAGAIN: isize = 11;
const ENOSYS: isize = 38;
const ETIMEDOUT: isize = 110;
const FUTEX_WAIT: usize = 0;
const FUTEX_WAIT_BITSET: usize = 9;
const FUTEX_CLOCK_REALTIME: usize = 256;
const MS: u64 = 1_000_000;

#[cfg(target_arch = "x86_64")]
const CLOCK_GETTIME: usize = 228;
#[cfg(not(target_arch = "x86_64"))]
const CLOCK_GETTIME: usize = 113;

/// `clock_gettime(id, tp)` raw.
fn gettime_raw(id: usize, tp: usize) -> isize {
    // SAFETY: the kernel writes at most 16 bytes at `tp` (a local or an address it refuses).
    unsafe { user::syscall2(CLOCK_GETTIME, id, tp) }
}

/// Clock `id` in ns.
fn now(id: usize) -> Result<u64, crate::Fail> {
    let mut ts = [0i64; 2];
    let r = gettime_raw(id, ts.as_mut_ptr() as usize);
    if r != 0 {
        fail!("clock_gettime({id}) returned {r}");
    }
    Ok(ts[0] as u64 * 1_000_000_000 + ts[1] as u64)
}

/// `CLOCK_MONOTONIC` in ns.
pub fn monotonic_ns() -> Result<u64, crate::Fail> {
    now(CLOCK_MONOTONIC)
}

/// A futex call with a timespec of `ns`.
fn futex_timed(word: &AtomicU32, op: usize, val: u32, ns: u64) -> isize {
    let ts: [i64; 2] = [(ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64];
    // SAFETY: the kernel reads `word` and `ts`; nothing is written.
    unsafe {
        user::syscall6(
            ARCH.syscalls().futex as usize,
            word.as_ptr() as usize,
            op,
            val as usize,
            ts.as_ptr() as usize,
            0,
            u32::MAX as usize,
        )
    }
}

/// `CLOCK_REALTIME` is a plausible wall-clock time (after 2023-11-14, before 2096), and
/// `CLOCK_MONOTONIC` and `CLOCK_REALTIME` advance by at least a 30 ms futex timeout and by
/// the same amount, give or take 100 ms.
pub fn clocks() -> CaseResult {
    let rt0 = now(CLOCK_REALTIME)?;
    if !(1_700_000_000..4_000_000_000).contains(&(rt0 / 1_000_000_000)) {
        fail!("CLOCK_REALTIME = {} s since the epoch", rt0 / 1_000_000_000);
    }
    let m0 = now(CLOCK_MONOTONIC)?;
    let word = AtomicU32::new(0);
    expect(
        "futex(WAIT, 30 ms)",
        futex_timed(&word, FUTEX_WAIT, 0, 30 * MS),
        ETIMEDOUT,
    )?;
    let (m1, rt1) = (now(CLOCK_MONOTONIC)?, now(CLOCK_REALTIME)?);
    let (dm, drt) = (m1.wrapping_sub(m0), rt1.wrapping_sub(rt0));
    if !(30 * MS..10_000 * MS).contains(&dm) {
        fail!("CLOCK_MONOTONIC advanced {dm} ns over a 30 ms timeout");
    }
    if drt.abs_diff(dm) > 100 * MS {
        fail!("CLOCK_REALTIME advanced {drt} ns, CLOCK_MONOTONIC {dm} ns");
    }
    Ok(())
}

/// `clock_gettime`: an unknown clock is EINVAL, also with a bad pointer (the id is checked
/// first); a bad pointer is EFAULT; the id is an `int`, so bits above 31 are ignored.
pub fn clock_gettime_args() -> CaseResult {
    let mut ts = [0i64; 2];
    let p = ts.as_mut_ptr() as usize;
    expect("clock_gettime(99)", gettime_raw(99, p), EINVAL)?;
    expect(
        "clock_gettime(99, kernel pointer)",
        gettime_raw(99, KERNEL_HIGH),
        EINVAL,
    )?;
    expect(
        "clock_gettime(MONOTONIC, kernel pointer)",
        gettime_raw(CLOCK_MONOTONIC, KERNEL_HIGH),
        EFAULT,
    )?;
    let r = gettime_raw((1 << 32) | CLOCK_MONOTONIC, p);
    if r != 0 {
        fail!("clock_gettime((1 << 32) | CLOCK_MONOTONIC) returned {r}, expected 0");
    }
    Ok(())
}

/// Absolute futex timeouts: `FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME` at a realtime in the
/// past is ETIMEDOUT at once, 50 ms ahead it waits at least 50 ms; plain `FUTEX_WAIT_BITSET`
/// is absolute on `CLOCK_MONOTONIC`; a stale value is EAGAIN even with a past deadline;
/// `FUTEX_CLOCK_REALTIME` with `FUTEX_WAIT` is ENOSYS.
pub fn futex_absolute_timeouts() -> CaseResult {
    let word = AtomicU32::new(3);
    let rt_bitset = FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME;
    let m0 = now(CLOCK_MONOTONIC)?;
    expect(
        "futex(WAIT_BITSET|CLOCK_REALTIME, 1970 + 1 s)",
        futex_timed(&word, rt_bitset, 3, 1_000_000_000),
        ETIMEDOUT,
    )?;
    expect(
        "futex(WAIT_BITSET, monotonic 0)",
        futex_timed(&word, FUTEX_WAIT_BITSET, 3, 0),
        ETIMEDOUT,
    )?;
    let waited = now(CLOCK_MONOTONIC)?.wrapping_sub(m0);
    if waited > 1_000 * MS {
        fail!("past deadlines took {waited} ns to time out");
    }
    let rt = now(CLOCK_REALTIME)?;
    let m1 = now(CLOCK_MONOTONIC)?;
    expect(
        "futex(WAIT_BITSET|CLOCK_REALTIME, now + 50 ms)",
        futex_timed(&word, rt_bitset, 3, rt + 50 * MS),
        ETIMEDOUT,
    )?;
    let m2 = now(CLOCK_MONOTONIC)?;
    if m2.wrapping_sub(m1) < 45 * MS {
        fail!(
            "realtime deadline 50 ms ahead returned after {} ns",
            m2 - m1
        );
    }
    expect(
        "futex(WAIT_BITSET, monotonic now + 30 ms)",
        futex_timed(&word, FUTEX_WAIT_BITSET, 3, m2 + 30 * MS),
        ETIMEDOUT,
    )?;
    if now(CLOCK_MONOTONIC)? < m2 + 30 * MS {
        fail!("monotonic deadline returned early");
    }
    expect(
        "futex(WAIT_BITSET|CLOCK_REALTIME, stale value, past deadline)",
        futex_timed(&word, rt_bitset, 4, 1_000_000_000),
        EAGAIN,
    )?;
    expect(
        "futex(WAIT|CLOCK_REALTIME)",
        futex_timed(&word, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 3, 10 * MS),
        ENOSYS,
    )
}
