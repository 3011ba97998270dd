//! `futex(2)` as Linux 6.18 has it for the commands the stub keeps: `FUTEX_WAIT`,
//! `FUTEX_WAKE`, their `_BITSET` forms, `FUTEX_REQUEUE`, `FUTEX_CMP_REQUEUE` and
//! `FUTEX_WAKE_OP` (no PI futexes: `FUTEX_LOCK_PI` and friends are ENOSYS).
//!
//! Check order, from Linux `kernel/futex/syscalls.c` and `kernel/futex/{core,waitwake,
//! requeue}.c`:
//! 1. `op` is an `int`; for a command that takes a timeout, a non-NULL timeout is read (EFAULT)
//!    and checked (`timespec64_valid`: EINVAL) before anything else. `FUTEX_WAIT`'s timeout is
//!    relative to `CLOCK_MONOTONIC`; `FUTEX_WAIT_BITSET`'s is absolute, on `CLOCK_REALTIME`
//!    with `FUTEX_CLOCK_REALTIME`, else on `CLOCK_MONOTONIC`.
//! 2. `FUTEX_CLOCK_REALTIME` with a command other than `FUTEX_WAIT_BITSET` (or the PI ones):
//!    ENOSYS; an unknown command: ENOSYS.
//! 3. A zero bitset: EINVAL; `nr_wake`/`nr_requeue` below 0 (requeue): EINVAL.
//! 4. The key (`get_futex_key`): a misaligned address is EINVAL, one `access_ok` refuses
//!    (at or above `arch::TASK_SIZE_MAX`) EFAULT; a private key (`FUTEX_PRIVATE_FLAG`) is
//!    the address in the caller's address space and touches no memory, a shared one needs
//!    the page (EFAULT if it is not mapped) and is the physical address. Private and shared
//!    waiters never match each other.
//! 5. Then the value: read (EFAULT), compared (EAGAIN), and only then the timeout: a time
//!    already past is ETIMEDOUT at once.
//!
//! Wake counts are `int`s: a wake always wakes the first waiter before it compares the count,
//! so 0, `0x80000000` and `0xffffffff` wake one (`futex_wake`, `futex_wake_op`); a requeue
//! compares first, so its `nr_wake` 0 wakes none.
//!
//! Keys, as Linux makes them for the stub's memory, which is all anonymous and private (no
//! files, no shared mappings): a private key is (address space, address), and a shared key of
//! an anonymous page is also (address space, address) but marked shared (`FUT_OFF_MMSHARED`),
//! after the page is faulted in. So threads (`CLONE_VM`) share futexes, a forked child and its
//! parent do not, and private and shared waiters never wake each other.

use crate::addrspace;
use crate::clock;
use crate::syscall::{EAGAIN, EFAULT, EINVAL, ENOSYS, ETIMEDOUT, SysResult};
use crate::task::{Kernel, State, Task};
use crate::uaccess;

const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_REQUEUE: u32 = 3;
const FUTEX_CMP_REQUEUE: u32 = 4;
const FUTEX_WAKE_OP: u32 = 5;
const FUTEX_LOCK_PI: u32 = 6;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_WAIT_REQUEUE_PI: u32 = 11;
const FUTEX_LOCK_PI2: u32 = 13;
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;
/// `FUTEX_BITSET_MATCH_ANY`.
pub const MATCH_ANY: u32 = u32::MAX;

/// What a futex call asks the scheduler to do.
pub enum Outcome {
    /// Return this to the caller now.
    Done(SysResult),
    /// Put the caller to sleep in this state (its return value is 0 unless a timeout fires).
    Block(State),
}

/// A futex key (`union futex_key`): which waiters a wake reaches.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Key {
    /// The address space (`mm`), by identity.
    pub mm: usize,
    /// Shared (`FUT_OFF_MMSHARED`) or private.
    pub shared: bool,
    /// The user address.
    pub addr: u64,
}

/// The identity of task `t`'s address space, the `mm` of its futex keys (0 for a zombie,
/// which has none and waits on nothing).
pub fn mm_of(t: &Task) -> usize {
    t.space
        .as_ref()
        .map_or(0, |s| alloc::rc::Rc::as_ptr(s) as usize)
}

/// `get_futex_key` in address space `mm` (the caller's, which is the active one): EINVAL for
/// a misaligned address, EFAULT where `access_ok` refuses it or (shared only) no page can be
/// had there.
fn key(mm: usize, uaddr: u64, shared: bool) -> Result<Key, i32> {
    if !uaddr.is_multiple_of(4) {
        return Err(EINVAL);
    }
    if !uaccess::range_ok(uaddr, 4) {
        return Err(EFAULT);
    }
    if shared && addrspace::current_user_page(uaddr, false).is_err() {
        return Err(EFAULT);
    }
    Ok(Key {
        mm,
        shared,
        addr: uaddr,
    })
}

/// Reads a `struct __kernel_timespec` and converts it to an absolute `CLOCK_MONOTONIC`
/// deadline in ns (`futex_init_timeout`).
fn deadline(cmd: u32, clock_realtime: bool, utime: u64) -> Result<u64, i32> {
    let (Ok(sec), Ok(nsec)) = (
        uaccess::read_u64(utime),
        uaccess::read_u64(utime.wrapping_add(8)),
    ) else {
        return Err(EFAULT);
    };
    let (sec, nsec) = (sec as i64, nsec as i64);
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(EINVAL);
    }
    let t = (sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(nsec as u64);
    Ok(if cmd == FUTEX_WAIT {
        clock::monotonic_ns().saturating_add(t)
    } else if clock_realtime || cmd == FUTEX_LOCK_PI {
        t.saturating_sub(clock::realtime_offset_ns())
    } else {
        t
    })
}

/// Decodes and performs one futex call (`SYSCALL_DEFINE6(futex)` and `do_futex`).
pub fn futex(k: &mut Kernel, i: usize, a: [u64; 6]) -> Outcome {
    let mm = mm_of(k.task(i));
    let [uaddr, op, val, utime, uaddr2, val3] = a;
    let op = op as u32;
    let (val, val2, val3) = (val as u32, utime as u32, val3 as u32);
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    let shared = op & FUTEX_PRIVATE_FLAG == 0;
    let clock_realtime = op & FUTEX_CLOCK_REALTIME != 0;
    let has_timeout = matches!(
        cmd,
        FUTEX_WAIT | FUTEX_LOCK_PI | FUTEX_LOCK_PI2 | FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI
    );
    let timeout = if utime != 0 && has_timeout {
        match deadline(cmd, clock_realtime, utime) {
            Ok(d) => Some(d),
            Err(e) => return Outcome::Done(Err(e)),
        }
    } else {
        None
    };
    if clock_realtime
        && !matches!(
            cmd,
            FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI | FUTEX_LOCK_PI2
        )
    {
        return Outcome::Done(Err(ENOSYS));
    }
    let done = Outcome::Done;
    match cmd {
        FUTEX_WAIT => wait(mm, uaddr, shared, val, timeout, MATCH_ANY),
        FUTEX_WAIT_BITSET => wait(mm, uaddr, shared, val, timeout, val3),
        FUTEX_WAKE => done(wake_cmd(k, mm, uaddr, shared, val as i32, MATCH_ANY)),
        FUTEX_WAKE_BITSET => done(wake_cmd(k, mm, uaddr, shared, val as i32, val3)),
        FUTEX_REQUEUE => done(requeue(k, mm, [uaddr, uaddr2], shared, val, val2, None)),
        FUTEX_CMP_REQUEUE => done(requeue(
            k,
            mm,
            [uaddr, uaddr2],
            shared,
            val,
            val2,
            Some(val3),
        )),
        FUTEX_WAKE_OP => done(wake_op(k, mm, [uaddr, uaddr2], shared, val, val2, val3)),
        _ => done(Err(ENOSYS)),
    }
}

/// `futex_wait`: sleep while `*uaddr == val`.
fn wait(
    mm: usize,
    uaddr: u64,
    shared: bool,
    val: u32,
    deadline: Option<u64>,
    bitset: u32,
) -> Outcome {
    if bitset == 0 {
        return Outcome::Done(Err(EINVAL));
    }
    let key = match key(mm, uaddr, shared) {
        Ok(key) => key,
        Err(e) => return Outcome::Done(Err(e)),
    };
    match uaccess::read_u32(uaddr) {
        Err(_) => Outcome::Done(Err(EFAULT)),
        Ok(cur) if cur != val => Outcome::Done(Err(EAGAIN)),
        Ok(_) if deadline.is_some_and(|d| d <= clock::monotonic_ns()) => {
            Outcome::Done(Err(ETIMEDOUT))
        }
        Ok(_) => Outcome::Block(State::FutexWait {
            uaddr: key.addr,
            shared: key.shared,
            bitset,
            deadline,
        }),
    }
}

/// `futex_wake` (`FUTEX_WAKE`, `FUTEX_WAKE_BITSET`).
fn wake_cmd(
    k: &mut Kernel,
    mm: usize,
    uaddr: u64,
    shared: bool,
    nr_wake: i32,
    bitset: u32,
) -> SysResult {
    if bitset == 0 {
        return Err(EINVAL);
    }
    let key = key(mm, uaddr, shared)?;
    Ok(u64::from(wake_key(k, key, nr_wake, bitset)))
}

/// Wakes waiters on `key` whose bitset overlaps `bitset`: the first one always, then more
/// while fewer than `nr_wake` are woken (Linux's `if (++ret >= nr_wake) break`).
pub fn wake_key(k: &mut Kernel, key: Key, nr_wake: i32, bitset: u32) -> u32 {
    let mut woken: u32 = 0;
    for t in k.tasks_mut() {
        let mm = mm_of(t);
        if let State::FutexWait {
            uaddr,
            shared,
            bitset: b,
            ..
        } = t.state
            && (Key {
                mm,
                shared,
                addr: uaddr,
            }) == key
            && b & bitset != 0
        {
            t.state = State::Runnable;
            woken += 1;
            if i64::from(woken) >= i64::from(nr_wake) {
                break;
            }
        }
    }
    woken
}

/// The kernel's own shared wake of up to `n` waiters in address space `mm`
/// (`CLONE_CHILD_CLEARTID` at exit: `futex_wake(tidptr, FLAGS_SHARED, 1,
/// FUTEX_BITSET_MATCH_ANY)`).
pub fn wake(k: &mut Kernel, mm: usize, uaddr: u64, n: u32, bitset: u32) -> u32 {
    wake_key(
        k,
        Key {
            mm,
            shared: true,
            addr: uaddr,
        },
        n.min(i32::MAX as u32) as i32,
        bitset,
    )
}

/// `futex_requeue` without PI: wake up to `nr_wake` waiters of the first futex and move up
/// to `nr_requeue` more to the second; `cmpval` (CMP_REQUEUE) must match the first word.
/// Returns how many were woken or moved.
fn requeue(
    k: &mut Kernel,
    mm: usize,
    [uaddr1, uaddr2]: [u64; 2],
    shared: bool,
    nr_wake: u32,
    nr_requeue: u32,
    cmpval: Option<u32>,
) -> SysResult {
    let (nr_wake, nr_requeue) = (nr_wake as i32, nr_requeue as i32);
    if nr_wake < 0 || nr_requeue < 0 {
        return Err(EINVAL);
    }
    let key1 = key(mm, uaddr1, shared)?;
    let key2 = key(mm, uaddr2, shared)?;
    if let Some(cmp) = cmpval {
        let cur = uaccess::read_u32(uaddr1).map_err(|_| EFAULT)?;
        if cur != cmp {
            return Err(EAGAIN);
        }
    }
    let mut count: i64 = 0;
    for t in k.tasks_mut() {
        if count - i64::from(nr_wake) >= i64::from(nr_requeue) {
            break;
        }
        let mm = mm_of(t);
        let State::FutexWait {
            uaddr,
            shared,
            bitset,
            deadline,
        } = t.state
        else {
            continue;
        };
        if (Key {
            mm,
            shared,
            addr: uaddr,
        }) != key1
        {
            continue;
        }
        count += 1;
        t.state = if count <= i64::from(nr_wake) {
            State::Runnable
        } else {
            State::FutexWait {
                uaddr: key2.addr,
                shared: key2.shared,
                bitset,
                deadline,
            }
        };
    }
    Ok(count as u64)
}

/// `futex_wake_op`: apply the encoded operation to the second word, wake up to `nr_wake`
/// waiters of the first, and if the comparison of the old second word holds, up to
/// `nr_wake2` of the second.
fn wake_op(
    k: &mut Kernel,
    mm: usize,
    [uaddr1, uaddr2]: [u64; 2],
    shared: bool,
    nr_wake: u32,
    nr_wake2: u32,
    encoded: u32,
) -> SysResult {
    let key1 = key(mm, uaddr1, shared)?;
    let key2 = key(mm, uaddr2, shared)?;
    let cmp_true = atomic_op(encoded, uaddr2)?;
    let mut woken = wake_key(k, key1, nr_wake as i32, MATCH_ANY);
    if cmp_true {
        woken += wake_key(k, key2, nr_wake2 as i32, MATCH_ANY);
    }
    Ok(u64::from(woken))
}

/// `futex_atomic_op_inuser`: `op` (bits 28..31, bit 31 = the argument is a shift count),
/// `cmp` (24..27), `oparg` (12..23) and `cmparg` (0..11), both sign-extended 12-bit values.
/// Returns whether the comparison of the old value holds.
fn atomic_op(encoded: u32, uaddr: u64) -> Result<bool, i32> {
    const FUTEX_OP_OPARG_SHIFT: u32 = 8;
    let op = (encoded & 0x7000_0000) >> 28;
    let cmp = (encoded & 0x0f00_0000) >> 24;
    let sext12 = |v: u32| ((v << 20) as i32) >> 20;
    let mut oparg = sext12((encoded & 0x00ff_f000) >> 12);
    let cmparg = sext12(encoded & 0xfff);
    if encoded & (FUTEX_OP_OPARG_SHIFT << 28) != 0 {
        // Linux warns and masks an out-of-range shift ("kill this print and return -EINVAL
        // when userspace is sane again").
        oparg = 1i32.wrapping_shl((oparg & 31) as u32);
    }
    // `arch_futex_atomic_op_inuser`: access_ok first (EFAULT), then the op (ENOSYS for an
    // unknown one, before the word is touched), then the access itself (EFAULT).
    if !uaccess::range_ok(uaddr, 4) {
        return Err(EFAULT);
    }
    if op > 4 {
        return Err(ENOSYS);
    }
    let old = uaccess::read_u32(uaddr).map_err(|_| EFAULT)? as i32;
    let new = match op {
        0 => oparg,
        1 => old.wrapping_add(oparg),
        2 => old | oparg,
        3 => old & !oparg,
        _ => old ^ oparg,
    };
    uaccess::write_u32(uaddr, new as u32).map_err(|_| EFAULT)?;
    // FUTEX_OP_CMP_EQ, _NE, _LT, _LE, _GT, _GE (`include/uapi/linux/futex.h`).
    match cmp {
        0 => Ok(old == cmparg),
        1 => Ok(old != cmparg),
        2 => Ok(old < cmparg),
        3 => Ok(old <= cmparg),
        4 => Ok(old > cmparg),
        5 => Ok(old >= cmparg),
        _ => Err(ENOSYS),
    }
}
