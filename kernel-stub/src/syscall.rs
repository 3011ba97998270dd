//! System call dispatch: Linux numbers for the arch, the few calls the conformance program
//! needs, `ENOSYS` for everything else.
//!
//! Errors are raw Linux errno values (positive `i32`); [`dispatch`] stores `-errno` in the
//! return register like Linux does.

use clone_core::Errno;

use crate::arch::{self, ARCH};
use crate::futex::{self, Outcome};
use crate::task::{Death, Kernel, State};
use crate::{clock, clone, exec, uaccess, wait};

/// A syscall's result: the return value, or a positive errno.
pub type SysResult = Result<u64, i32>;

pub const EBADF: i32 = 9;
pub const EAGAIN: i32 = 11;
pub const EFAULT: i32 = 14;
pub const EINVAL: i32 = 22;
pub const ENOSYS: i32 = 38;
pub const ETIMEDOUT: i32 = 110;

/// The raw value of a clone-core errno on this arch.
pub fn errno(e: Errno) -> i32 {
    e.raw_for(ARCH)
}

/// `-errno` as the u64 a return register holds.
pub fn neg(errno: i32) -> u64 {
    (-i64::from(errno)) as u64
}

/// `arch_prctl` (x86_64 only: `arch/x86/entry/syscalls/syscall_64.tbl`).
#[cfg(target_arch = "x86_64")]
const ARCH_PRCTL: u64 = 158;
#[cfg(not(target_arch = "x86_64"))]
const ARCH_PRCTL: u64 = u64::MAX;

/// `close` (x86_64 table / the generic `asm-generic/unistd.h` table of aarch64 and riscv64).
#[cfg(target_arch = "x86_64")]
const CLOSE: u64 = 3;
#[cfg(not(target_arch = "x86_64"))]
const CLOSE: u64 = 57;

/// `clock_gettime` and `clock_getres` (x86_64 table / the generic table).
#[cfg(target_arch = "x86_64")]
const CLOCK_GETTIME: u64 = 228;
#[cfg(not(target_arch = "x86_64"))]
const CLOCK_GETTIME: u64 = 113;
const CLOCK_GETRES: u64 = CLOCK_GETTIME + 1;

/// `getrusage` and `times` (x86_64 table / generic table).
#[cfg(target_arch = "x86_64")]
const GETRUSAGE: u64 = 98;
#[cfg(not(target_arch = "x86_64"))]
const GETRUSAGE: u64 = 165;
#[cfg(target_arch = "x86_64")]
const TIMES: u64 = 100;
#[cfg(not(target_arch = "x86_64"))]
const TIMES: u64 = 153;

/// `execve` (x86_64 table / generic table).
#[cfg(target_arch = "x86_64")]
const EXECVE: u64 = 59;
#[cfg(not(target_arch = "x86_64"))]
const EXECVE: u64 = 221;

#[cfg(target_arch = "x86_64")]
const ARCH_SET_GS: u64 = 0x1001;
#[cfg(target_arch = "x86_64")]
const ARCH_SET_FS: u64 = 0x1002;
#[cfg(target_arch = "x86_64")]
const ARCH_GET_FS: u64 = 0x1003;
#[cfg(target_arch = "x86_64")]
const ARCH_GET_GS: u64 = 0x1004;
#[cfg(target_arch = "x86_64")]
const ARCH_GET_CPUID: u64 = 0x1011;
#[cfg(target_arch = "x86_64")]
const ARCH_SET_CPUID: u64 = 0x1012;
#[cfg(target_arch = "x86_64")]
const ENODEV: i32 = 19;

/// Handles the syscall the task in slot `i` just made.
pub fn dispatch(k: &mut Kernel, i: usize) {
    let frame = &k.task(i).frame;
    let number = frame.syscall_nr();
    let a = frame.args();
    let nr = ARCH.syscalls();
    // Kept for running the call again after a signal (`SA_RESTART`).
    k.task(i).sig.syscall = (number, a);
    let result: SysResult = match number {
        n if n == nr.write => match write(k, i, a[0], a[1], a[2]) {
            Some(r) => r,
            None => return,
        },
        n if n == nr.sched_yield => {
            k.yield_now = true;
            Ok(0)
        }
        n if n == nr.getpid => Ok(u64::from(k.task(i).tgid)),
        n if n == nr.getppid => Ok(u64::from(k.task(i).ppid)),
        n if n == nr.gettid => Ok(u64::from(k.task(i).tid)),
        n if n == nr.set_tid_address => {
            let t = k.task(i);
            t.clear_child_tid = a[0];
            Ok(u64::from(t.tid))
        }
        n if n == nr.exit => {
            k.exit_task(i, Death::Exited(a[0] as u8));
            return;
        }
        n if n == nr.exit_group => {
            k.exit_group(i, Death::Exited(a[0] as u8));
            return;
        }
        n if Some(n) == nr.wait4 || n == nr.waitid => {
            let req = if n == nr.waitid {
                wait::waitid_request(k, a[0], a[1], a[2], a[3], a[4])
            } else {
                wait::wait4_request(a[0], a[1], a[2], a[3])
            };
            match req.map(|req| (req, wait::wait(k, i, req))) {
                Err(e) if n == nr.waitid => wait::waitid_failed(a[2], e),
                Err(e) => Err(e),
                Ok((_, Some(r))) => r,
                Ok((req, None)) => {
                    k.task(i).state = State::WaitChild(req);
                    return;
                }
            }
        }
        n if n == nr.futex => match futex::futex(k, i, a) {
            Outcome::Done(r) => r,
            Outcome::Block(state) => {
                let t = k.task(i);
                t.state = state;
                t.frame.set_return(0);
                return;
            }
        },
        // fork and vfork (x86_64 57, 58) decode to `CloneCall::Fork`/`Vfork`: Linux's
        // `kernel_clone` with SIGCHLD and CLONE_VM | CLONE_VFORK | SIGCHLD.
        n if n == nr.clone || Some(n) == nr.clone3 || Some(n) == nr.fork || Some(n) == nr.vfork => {
            clone::sys_clone(k, i, number, a)
        }
        EXECVE => exec::sys_execve(k, i, a[0], a[1], a[2]),
        n if n == nr.getuid => Ok(0),
        // `close(unsigned int fd)`: the upper register half is not part of the fd.
        CLOSE => {
            if k.close_fd(a[0] as u32) {
                Ok(0)
            } else {
                Err(EBADF)
            }
        }
        ARCH_PRCTL => arch_prctl(k, i, a[0], a[1]),
        arch::sigframe::RT_SIGRETURN => crate::signal::rt_sigreturn(k, i),
        CLOCK_GETTIME => clock::clock_gettime(k, i, a[0], a[1]),
        CLOCK_GETRES => clock::clock_getres(k, i, a[0], a[1]),
        GETRUSAGE => crate::usage::getrusage(k, i, a[0], a[1]),
        TIMES => crate::usage::times(k, i, a[0]),
        _ => match crate::surface::dispatch(k, i, number, a) {
            Some(r) => r,
            None => return,
        },
    };
    // The task may be gone (a vfork parent is still there; exits returned above).
    let value = match result {
        Ok(v) => v,
        Err(e) => neg(e),
    };
    // A signal the task sent itself may have ended it (`kill`, `tgkill`).
    if k.has_task(i) {
        k.task(i).frame.set_return(value);
    }
}

/// Linux's `MAX_RW_COUNT` (`INT_MAX & PAGE_MASK`): longer writes are cut to it.
const MAX_RW_COUNT: u64 = 0x7fff_f000;
/// Bytes per console copy: the tty layer's write chunk (`iterate_tty_write`, 2048).
const TTY_CHUNK: usize = 2048;

/// `write(unsigned int fd, buf, count)` in Linux's order (`ksys_write`, `vfs_write`): EBADF
/// for a closed fd or a pipe's read end, EINVAL for a pidfd (no write method), EFAULT if
/// `access_ok` refuses the range (also for `count` 0), then the pipe write
/// (`crate::pipe::write`, which may sleep) or the console write. `None`: the write goes on in the
/// kernel ([`continue_write`]), and its result is set when it ends.
fn write(k: &mut Kernel, i: usize, fd: u64, buf: u64, count: u64) -> Option<SysResult> {
    let target = match crate::pipe::write_target(k, fd) {
        Ok(t) => t,
        Err(e) => return Some(Err(e)),
    };
    if !uaccess::range_ok(buf, count) {
        return Some(Err(EFAULT));
    }
    let count = count.min(MAX_RW_COUNT);
    if let crate::pipe::Target::Pipe(id) = target {
        let already = k.retry_done;
        return crate::pipe::write(k, i, id, &[(buf, count)], already);
    }
    if let crate::pipe::Target::Null = target {
        return Some(Ok(count));
    }
    k.task(i).state = State::Writing {
        buf,
        count,
        done: 0,
    };
    continue_write(k, i);
    None
}

/// One time slice (until the next timer tick) of the console write task `i` is in: whole 2048-byte chunks as a
/// tty writes them; a chunk that is not all readable ends the write, with the bytes written
/// so far or EFAULT if none (Linux's `iterate_tty_write`). A write longer than the slice
/// yields, so the scheduler, the other tasks and the clock move on between its slices.
pub fn continue_write(k: &mut Kernel, i: usize) {
    let State::Writing {
        buf,
        count,
        mut done,
    } = k.task(i).state
    else {
        return;
    };
    let mut chunk = [0u8; TTY_CHUNK];
    let result = loop {
        if done == count {
            break Some(Ok(count));
        }
        let n = (count - done).min(TTY_CHUNK as u64) as usize;
        if uaccess::read_bytes(buf + done, &mut chunk[..n]).is_err() {
            break Some(if done > 0 { Ok(done) } else { Err(EFAULT) });
        }
        arch::console_write(&chunk[..n]);
        done += n as u64;
        if arch::take_pending_tick() {
            break None;
        }
    };
    let t = k.task(i);
    match result {
        Some(r) => {
            t.state = State::Runnable;
            t.frame.set_return(match r {
                Ok(v) => v,
                Err(e) => neg(e),
            });
        }
        None => {
            t.state = State::Writing { buf, count, done };
            k.yield_now = true;
        }
    }
}

/// x86_64 `arch_prctl` as `do_arch_prctl_64` and `do_arch_prctl_common` have it: `ARCH_SET_FS`
/// / `ARCH_SET_GS` (EPERM at or above `TASK_SIZE_MAX`), `ARCH_GET_FS` / `ARCH_GET_GS` (EFAULT
/// for a bad pointer), `ARCH_GET_CPUID` (1: `cpuid` does not fault), `ARCH_SET_CPUID`
/// (ENODEV: no CPUID faulting), anything else EINVAL.
#[cfg(target_arch = "x86_64")]
fn arch_prctl(k: &mut Kernel, i: usize, code: u64, addr: u64) -> SysResult {
    match code {
        ARCH_SET_GS => {
            arch::check_tls(addr).map_err(errno)?;
            k.task(i).frame.set_gs(addr);
            Ok(0)
        }
        ARCH_GET_GS => {
            let gs = k.task(i).frame.gs();
            uaccess::write_bytes(addr, &gs.to_ne_bytes()).map_err(errno)?;
            Ok(0)
        }
        ARCH_GET_CPUID => Ok(1),
        ARCH_SET_CPUID => Err(ENODEV),
        ARCH_SET_FS => {
            arch::check_tls(addr).map_err(errno)?;
            k.task(i).frame.set_tls(addr);
            Ok(0)
        }
        ARCH_GET_FS => {
            let fs = k.task(i).frame.tls();
            uaccess::write_bytes(addr, &fs.to_ne_bytes()).map_err(errno)?;
            Ok(0)
        }
        _ => {
            crate::kprintln!("kernel-stub: arch_prctl({code:#x}) not supported");
            Err(EINVAL)
        }
    }
}

/// `arch_prctl` exists only on x86_64 (its number is never matched elsewhere).
#[cfg(not(target_arch = "x86_64"))]
fn arch_prctl(_: &mut Kernel, _: usize, _: u64, _: u64) -> SysResult {
    Err(ENOSYS)
}
