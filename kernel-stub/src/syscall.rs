//! System call dispatch: Linux numbers for the arch, the few calls the conformance program
//! needs, `ENOSYS` for everything else.
//!
//! Errors are raw Linux errno values (positive `i32`); [`dispatch`] stores `-errno` in the
//! return register like Linux does.

use clone_core::Errno;

use crate::arch::{self, ARCH};
use crate::futex::{self, Outcome};
use crate::task::{Death, Kernel, State};
use crate::{clock, clone, kprintln, uaccess, wait};

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

const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;

/// Handles the syscall the task in slot `i` just made.
pub fn dispatch(k: &mut Kernel, i: usize) {
    let frame = &k.task(i).frame;
    let number = frame.syscall_nr();
    let a = frame.args();
    let nr = ARCH.syscalls();
    let result: SysResult = match number {
        n if n == nr.write => write(a[0], a[1], a[2]),
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
                wait::waitid_request(a[0], a[1], a[2], a[3])
            } else {
                wait::wait4_request(a[0], a[1], a[2])
            };
            match req.map(|req| (req, wait::wait(k, i, req))) {
                Err(e) => Err(e),
                Ok((_, Some(r))) => r,
                Ok((req, None)) => {
                    k.task(i).state = State::WaitChild(req);
                    return;
                }
            }
        }
        n if n == nr.futex => match futex::futex(k, a) {
            Outcome::Done(r) => r,
            Outcome::Block(state) => {
                let t = k.task(i);
                t.state = state;
                t.frame.set_return(0);
                return;
            }
        },
        n if n == nr.clone || Some(n) == nr.clone3 => clone::sys_clone(k, i, number, a),
        n if n == nr.getuid => Ok(0),
        CLOSE => {
            if u32::try_from(a[0]).is_ok_and(|fd| k.close_fd(fd)) {
                Ok(0)
            } else {
                Err(EBADF)
            }
        }
        ARCH_PRCTL => arch_prctl(k, i, a[0], a[1]),
        CLOCK_GETTIME => clock::clock_gettime(a[0], a[1]),
        CLOCK_GETRES => clock::clock_getres(a[0], a[1]),
        _ => Err(ENOSYS),
    };
    // The task may be gone (a vfork parent is still there; exits returned above).
    let value = match result {
        Ok(v) => v,
        Err(e) => neg(e),
    };
    k.task(i).frame.set_return(value);
}

/// `write(fd, buf, count)` for the console (fds 1 and 2).
fn write(fd: u64, buf: u64, count: u64) -> SysResult {
    if fd != 1 && fd != 2 {
        return Err(EBADF);
    }
    if !uaccess::access_ok(buf, count) {
        return Err(EFAULT);
    }
    let mut chunk = [0u8; 256];
    let mut done = 0u64;
    while done < count {
        let n = (count - done).min(chunk.len() as u64) as usize;
        uaccess::read_bytes(buf + done, &mut chunk[..n]).map_err(errno)?;
        arch::console_write(&chunk[..n]);
        done += n as u64;
    }
    Ok(count)
}

/// x86_64 `arch_prctl(ARCH_SET_FS / ARCH_GET_FS)`, with Linux's `EPERM` for an FS base at or
/// above `TASK_SIZE_MAX`.
fn arch_prctl(k: &mut Kernel, i: usize, code: u64, addr: u64) -> SysResult {
    match code {
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
            kprintln!("kernel-stub: arch_prctl({code:#x}) not supported");
            Err(EINVAL)
        }
    }
}
