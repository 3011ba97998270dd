//! `futex(2)`: `FUTEX_WAIT`, `FUTEX_WAKE` and their `_BITSET` forms, on one address space.
//!
//! The stub has a single address space, so private (`FUTEX_PRIVATE_FLAG`) and shared futexes
//! are the same thing: the key is the user address. Timeouts are counted in timer ticks
//! ([`TICK_NS`]); a `FUTEX_WAIT` timeout is relative, a `FUTEX_WAIT_BITSET` one is absolute on a
//! clock the stub does not have, so it is treated as relative to boot (time 0).

use crate::syscall::{EAGAIN, EFAULT, EINVAL, ENOSYS, SysResult};
use crate::task::{Kernel, State};
use crate::uaccess;

const FUTEX_WAIT: u64 = 0;
const FUTEX_WAKE: u64 = 1;
const FUTEX_WAIT_BITSET: u64 = 9;
const FUTEX_WAKE_BITSET: u64 = 10;
const FUTEX_PRIVATE_FLAG: u64 = 128;
const FUTEX_CLOCK_REALTIME: u64 = 256;

/// Nanoseconds per timer tick (every arch's timer runs at 100 Hz).
pub const TICK_NS: u64 = 10_000_000;

/// What a futex call asks the scheduler to do.
pub enum Outcome {
    /// Return this to the caller now.
    Done(SysResult),
    /// Put the caller to sleep in this state (its return value is 0 unless a timeout fires).
    Block(State),
}

/// Decodes and performs one futex call for the task in slot `cur`.
pub fn futex(k: &mut Kernel, uaddr: u64, op: u64, val: u64, timeout: u64, val3: u64) -> Outcome {
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    if op & FUTEX_CLOCK_REALTIME != 0 && cmd != FUTEX_WAIT_BITSET {
        return Outcome::Done(Err(ENOSYS));
    }
    let bitset = match cmd {
        FUTEX_WAIT_BITSET | FUTEX_WAKE_BITSET => {
            if val3 as u32 == 0 {
                return Outcome::Done(Err(EINVAL));
            }
            val3 as u32
        }
        _ => u32::MAX,
    };
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            if !uaddr.is_multiple_of(4) {
                return Outcome::Done(Err(EINVAL));
            }
            let deadline = if timeout == 0 {
                None
            } else {
                let (Ok(sec), Ok(nsec)) = (
                    uaccess::read_u64(timeout),
                    uaccess::read_u64(timeout.wrapping_add(8)),
                ) else {
                    return Outcome::Done(Err(EFAULT));
                };
                let (sec, nsec) = (sec as i64, nsec as i64);
                if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
                    return Outcome::Done(Err(EINVAL));
                }
                let ns = (sec as u64)
                    .saturating_mul(1_000_000_000)
                    .saturating_add(nsec as u64);
                let ticks = ns.div_ceil(TICK_NS);
                Some(if cmd == FUTEX_WAIT {
                    k.ticks.saturating_add(ticks.max(1))
                } else {
                    ticks
                })
            };
            match uaccess::read_u32(uaddr) {
                Err(_) => Outcome::Done(Err(EFAULT)),
                Ok(cur) if cur != val as u32 => Outcome::Done(Err(EAGAIN)),
                Ok(_) => Outcome::Block(State::FutexWait {
                    uaddr,
                    bitset,
                    deadline,
                }),
            }
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            if !uaddr.is_multiple_of(4) {
                return Outcome::Done(Err(EINVAL));
            }
            let n = (val as u32).min(i32::MAX as u32);
            Outcome::Done(Ok(u64::from(wake(k, uaddr, n, bitset))))
        }
        _ => Outcome::Done(Err(ENOSYS)),
    }
}

/// Wakes up to `n` tasks waiting on `uaddr` whose bitset overlaps `bitset`; returns how many.
pub fn wake(k: &mut Kernel, uaddr: u64, n: u32, bitset: u32) -> u32 {
    let mut woken = 0;
    for t in k.tasks_mut() {
        if woken >= n {
            break;
        }
        if let State::FutexWait {
            uaddr: a,
            bitset: b,
            ..
        } = t.state
            && a == uaddr
            && b & bitset != 0
        {
            t.state = State::Runnable;
            woken += 1;
        }
    }
    woken
}
