//! `poll`/`ppoll` (`fs/select.c` `do_sys_poll`) over every descriptor kind the stub has, and
//! `pidfd_open`.
//!
//! What each kind reports is its Linux `poll` method's mask: the console `n_tty_poll`'s
//! (always writable, readable when the UART holds input), `/dev/null`, the tree's files and
//! directories `DEFAULT_POLLMASK` (they have no method), a pipe `pipe_poll`'s (read end:
//! readable with bytes in it, `POLLHUP` without writers; write end: writable with room,
//! `POLLERR` without readers), a pidfd `pidfd_poll`'s (readable once its process has exited,
//! and `POLLHUP` too once it is reaped). A closed descriptor is `POLLNVAL`, a negative one is
//! skipped. The mask is filtered by the events asked plus `POLLERR | POLLHUP`.
//!
//! A poll with nothing ready sleeps in `State::PollWait` until its deadline, or until
//! anything it might watch changes (any pipe's state, any task's exit, console input at a
//! tick): then it runs again with the same absolute deadline (carried as the retry's
//! `done`), as Linux's `do_poll` re-scans after a wake-up.

use crate::files::FdKind;
use crate::open::Node;
use crate::syscall::{EFAULT, EINVAL, SysResult};
use crate::task::{Kernel, State};
use crate::{clock, uaccess};

const ESRCH: i32 = 3;

const POLLIN: u16 = 0x1;
const POLLOUT: u16 = 0x4;
const POLLERR: u16 = 0x8;
const POLLHUP: u16 = 0x10;
const POLLNVAL: u16 = 0x20;
const POLLRDNORM: u16 = 0x40;
const POLLWRNORM: u16 = 0x100;
/// `DEFAULT_POLLMASK`: what a file without a `poll` method reports.
const DEFAULT_POLLMASK: u16 = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

/// `RLIMIT_NOFILE`'s index in the limits.
const RLIMIT_NOFILE: usize = 7;

impl Kernel {
    /// Makes every task in `poll` (or a console `read`) look again.
    pub fn wake_pollers(&mut self) {
        for t in self.tasks_mut() {
            if let State::PollWait { deadline, .. } = t.state {
                t.state = State::Retry {
                    done: deadline.unwrap_or(u64::MAX),
                };
            }
        }
    }
}

/// The mask `fd` reports now (`vfs_poll`), before filtering.
fn mask(k: &Kernel, fd: u32) -> u16 {
    match k.fd_kind(fd) {
        FdKind::Free => POLLNVAL,
        FdKind::Console => console_mask(),
        FdKind::File(id) => match k.opens.get(id) {
            // `fdget` refuses an `O_PATH` descriptor.
            Some(f) if f.flags & 0o10000000 != 0 => POLLNVAL,
            Some(f) if f.node == Node::Console => console_mask(),
            Some(_) => DEFAULT_POLLMASK,
            None => POLLNVAL,
        },
        FdKind::Pipe { id, write } => {
            let (len, readers, writers) = k.pipes.state(id);
            let mut m = 0;
            if write {
                if len < crate::pipe::PIPE_SIZE {
                    m |= POLLOUT | POLLWRNORM;
                }
                if readers == 0 {
                    m |= POLLERR;
                }
            } else {
                if len > 0 {
                    m |= POLLIN | POLLRDNORM;
                }
                if writers == 0 {
                    m |= POLLHUP;
                }
            }
            m
        }
        FdKind::Pidfd(tid) => pidfd_mask(k, tid),
    }
}

/// `n_tty_poll` on the serial console: room to write always, input when the UART has some.
fn console_mask() -> u16 {
    let mut m = POLLOUT | POLLWRNORM;
    if crate::arch::console_pending() {
        m |= POLLIN | POLLRDNORM;
    }
    m
}

/// `pidfd_poll`: readable once the process exited (a zombie whose other threads are gone
/// too: `delay_group_leader`), and hung up once it was reaped.
fn pidfd_mask(k: &Kernel, tid: u32) -> u16 {
    match k.slots().find(|(_, t)| t.tid == tid) {
        None => POLLIN | POLLRDNORM | POLLHUP,
        Some((_, t))
            if t.is_zombie()
                && !k
                    .slots()
                    .any(|(_, o)| o.tgid == tid && o.tid != tid && !o.is_zombie()) =>
        {
            POLLIN | POLLRDNORM
        }
        Some(_) => 0,
    }
}

/// `do_sys_poll` for task `i` with the absolute `deadline` (`None`: no timeout): EINVAL for
/// more descriptors than `RLIMIT_NOFILE`, EFAULT for an unreadable array, then the scan; with
/// nothing ready before the deadline the task sleeps (`None`); the `revents` are written
/// back (EFAULT) and the count of ready entries returned.
fn do_poll(
    k: &mut Kernel,
    i: usize,
    fds: u64,
    nfds: u64,
    deadline: Option<u64>,
) -> Option<SysResult> {
    let nfds = u64::from(nfds as u32);
    let limit = k.task(i).sig.limits.borrow()[RLIMIT_NOFILE].0;
    if nfds > limit {
        return Some(Err(EINVAL));
    }
    let mut table = alloc::vec![0u8; nfds as usize * 8];
    if uaccess::read_bytes(fds, &mut table).is_err() && nfds > 0 {
        return Some(Err(EFAULT));
    }
    let mut ready = 0u64;
    let mut console = false;
    for e in table.chunks_exact_mut(8) {
        let fd = i32::from_ne_bytes([e[0], e[1], e[2], e[3]]);
        let events = u16::from_ne_bytes([e[4], e[5]]);
        let revents = if fd < 0 {
            0
        } else {
            let m = mask(k, fd as u32);
            console |= events & POLLIN != 0
                && matches!(k.fd_kind(fd as u32), FdKind::Console | FdKind::File(_));
            if m == POLLNVAL {
                POLLNVAL
            } else {
                m & (events | POLLERR | POLLHUP)
            }
        };
        e[6..8].copy_from_slice(&revents.to_ne_bytes());
        if revents != 0 {
            ready += 1;
        }
    }
    if ready == 0 && deadline.is_none_or(|d| clock::monotonic_ns() < d) {
        k.task(i).state = State::PollWait { deadline, console };
        return None;
    }
    if nfds > 0 && uaccess::write_bytes(fds, &table).is_err() {
        return Some(Err(EFAULT));
    }
    Some(Ok(ready))
}

/// The absolute deadline of a call that is being run again after a wake-up (`None` if it
/// runs for the first time), and of one without a timeout.
fn retried(k: &Kernel) -> Option<Option<u64>> {
    match k.retry_done {
        0 => None,
        u64::MAX => Some(None),
        d => Some(Some(d)),
    }
}

/// `poll(fds, nfds, timeout)`: `timeout` in milliseconds (an `int`; negative: none).
pub fn poll(k: &mut Kernel, i: usize, fds: u64, nfds: u64, timeout: u64) -> Option<SysResult> {
    let deadline = retried(k).unwrap_or_else(|| {
        let ms = timeout as u32 as i32;
        (ms >= 0).then(|| clock::monotonic_ns() + ms as u64 * 1_000_000)
    });
    do_poll(k, i, fds, nfds, deadline)
}

/// `ppoll(fds, nfds, tsp, sigmask, sigsetsize)`: EFAULT for an unreadable timeout, EINVAL for
/// one that is not a valid timespec (`poll_select_set_timeout`), EINVAL for a signal set
/// size other than 8 and EFAULT for an unreadable set (`set_user_sigmask`), then the poll;
/// the time left is written back to `tsp` as Linux does (a failure to write it is ignored,
/// and a zero timeout is not updated). The mask is checked but not put in place while the
/// call waits (see the README).
pub fn ppoll(
    k: &mut Kernel,
    i: usize,
    fds: u64,
    nfds: u64,
    tsp: u64,
    sigmask: u64,
    sigsetsize: u64,
) -> Option<SysResult> {
    let mut zero = false;
    let mut deadline = None;
    if tsp != 0 {
        let (Ok(sec), Ok(nsec)) = (uaccess::read_u64(tsp), uaccess::read_u64(tsp + 8)) else {
            return Some(Err(EFAULT));
        };
        let (sec, nsec) = (sec as i64, nsec as i64);
        if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
            return Some(Err(EINVAL));
        }
        zero = sec == 0 && nsec == 0;
        let ns = (sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(nsec as u64);
        deadline = Some(clock::monotonic_ns().saturating_add(ns));
    }
    if sigmask != 0 {
        if sigsetsize != 8 {
            return Some(Err(EINVAL));
        }
        if uaccess::read_u64(sigmask).is_err() {
            return Some(Err(EFAULT));
        }
    }
    if let Some(again) = retried(k) {
        deadline = again;
    }
    let r = do_poll(k, i, fds, nfds, deadline)?;
    if let Some(d) = deadline
        && !zero
    {
        let left = d.saturating_sub(clock::monotonic_ns());
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&(left / 1_000_000_000).to_ne_bytes());
        b[8..].copy_from_slice(&(left % 1_000_000_000).to_ne_bytes());
        let _ = uaccess::write_bytes(tsp, &b);
    }
    Some(r)
}

/// `PIDFD_NONBLOCK` (`O_NONBLOCK`) and `PIDFD_THREAD` (`O_EXCL`).
const PIDFD_NONBLOCK: u64 = 0o4000;
const PIDFD_THREAD: u64 = 0o200;

/// `pidfd_open(pid, flags)` (`kernel/pid.c`): EINVAL for unknown flags or a pid that is not
/// positive, ESRCH for a pid no task has, EINVAL for a thread that does not lead its group
/// (unless `PIDFD_THREAD`), then a close-on-exec descriptor (EMFILE).
pub fn pidfd_open(k: &mut Kernel, pid: u64, flags: u64) -> SysResult {
    let flags = u64::from(flags as u32);
    if flags & !(PIDFD_NONBLOCK | PIDFD_THREAD) != 0 {
        return Err(EINVAL);
    }
    let pid = pid as u32 as i32;
    if pid <= 0 {
        return Err(EINVAL);
    }
    let tid = pid as u32;
    let leader = k
        .slots()
        .find(|(_, t)| t.tid == tid)
        .map(|(_, t)| t.tgid == tid)
        .ok_or(ESRCH)?;
    if !leader && flags & PIDFD_THREAD == 0 {
        return Err(EINVAL);
    }
    k.install_fd(FdKind::Pidfd(tid), true, 0).map(u64::from)
}
