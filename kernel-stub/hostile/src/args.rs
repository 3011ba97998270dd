//! Syscall argument widths and `write`/`close` details: the syscall number is an `int` on
//! x86_64 and arm64 (a `long` on riscv64), fds are `unsigned int`, a zero-length `write` to a
//! kernel address is EFAULT, a `write` that runs off the end of user memory is partial (a
//! tty stops at the first 2048-byte chunk it cannot read, a pipe at the fault), and
//! `close(0)` closes the descriptor.

use clone_core::user::{self, ARCH};

use crate::{CaseResult, KERNEL_HIGH, NULLISH, ON_LINUX, expect};
use core::sync::atomic::Ordering;

const EBADF: isize = 9;
const EFAULT: isize = 14;
const ENOSYS: isize = 38;

fn write_raw(fd: usize, buf: usize, count: usize) -> isize {
    // SAFETY: the kernel only reads `count` bytes at `buf` (or refuses the range).
    unsafe { user::syscall3(ARCH.syscalls().write as usize, fd, buf, count) }
}

/// The syscall number with bit 32 set: getpid on x86_64 and aarch64 (an int), ENOSYS on
/// riscv64 (a long).
pub fn syscall_number_width() -> CaseResult {
    let nr = ARCH.syscalls().getpid as usize | (1 << 32);
    // SAFETY: getpid (or nothing) with no arguments.
    let r = unsafe { user::syscall0(nr) };
    if cfg!(target_arch = "riscv64") {
        expect("syscall((1 << 32) | getpid)", r, ENOSYS)
    } else if r != user::getpid() as isize {
        fail!("syscall((1 << 32) | getpid) returned {r}")
    } else {
        Ok(())
    }
}

unsafe extern "C" {
    /// End of this program's image (lld defines it).
    static _end: u8;
}

/// The end of the user memory this program can read above its image: on Linux the page
/// after `.bss` (the heap is not set up); on the stub the end of its user region (1 GiB on
/// every arch, 992 MiB above the 32 MiB where the stub's own programs start).
fn user_memory_end() -> usize {
    if ON_LINUX.load(Ordering::Relaxed) {
        ((&raw const _end) as usize + 0xfff) & !0xfff
    } else {
        crate::region_start() + (992 << 20)
    }
}

/// Is fd 1 a terminal? On Linux `ioctl(1, TCGETS)` says; the stub's console is one.
fn stdout_is_tty() -> bool {
    if !ON_LINUX.load(Ordering::Relaxed) {
        return true;
    }
    let ioctl = if cfg!(target_arch = "x86_64") { 16 } else { 29 };
    let mut termios = [0u8; 64];
    // SAFETY: TCGETS (0x5401) writes a `struct termios` (60 bytes) into the buffer.
    unsafe { user::syscall3(ioctl, 1, 0x5401, termios.as_mut_ptr() as usize) == 0 }
}

/// write: fd is an unsigned int; an unknown fd is EBADF; count 0 is 0 at any user address
/// but EFAULT at a kernel address; 8192 bytes starting 5000 bytes before the end of user
/// memory are a partial write: 4096 on a tty (two whole chunks), 5000 on a pipe.
pub fn write_args() -> CaseResult {
    let line = b"stub: write to fd (1 << 32) | 1\n";
    let r = write_raw((1 << 32) | 1, line.as_ptr() as usize, line.len());
    if r != line.len() as isize {
        fail!("write((1 << 32) | 1): got {r}, expected {}", line.len());
    }
    expect("write(77)", write_raw(77, line.as_ptr() as usize, 1), EBADF)?;
    expect(
        "write(1, kernel address, 0)",
        write_raw(1, KERNEL_HIGH, 0),
        EFAULT,
    )?;
    for addr in [0, NULLISH] {
        let r = write_raw(1, addr, 0);
        if r != 0 {
            fail!("write(1, {addr:#x}, 0): got {r}, expected 0");
        }
    }
    // A tty copies 2048-byte chunks and stops at the first one it cannot read whole
    // (`iterate_tty_write`): 4096. A pipe (stdout natively under the xtask) copies up to the
    // fault: 5000. The stub's console is a tty.
    let want = if stdout_is_tty() { 4096 } else { 5000 };
    let r = write_raw(1, user_memory_end() - 5000, 8192);
    let _ = user::write(1, b"\n");
    if r != want {
        fail!("write of 8192 bytes 5000 before the end of user memory: got {r}, expected {want}");
    }
    Ok(())
}

/// `close(0)` closes descriptor 0 (0, then EBADF the second time); the fd is an unsigned int.
pub fn close_stdin() -> CaseResult {
    let close = if cfg!(target_arch = "x86_64") { 3 } else { 57 };
    // SAFETY: closes descriptor 0, which this program never uses.
    let r = unsafe { user::syscall1(close, 1 << 32) };
    if r != 0 {
        fail!("close((1 << 32) | 0): got {r}, expected 0");
    }
    // SAFETY: as above.
    let r = unsafe { user::syscall1(close, 0) };
    expect("close(0) again", r, EBADF)
}

/// Size of the long write: 256 KiB, about 30 timer ticks of console output on the stub.
const LONG: usize = 256 << 10;
static LONG_BUF: crate::Stack<LONG> = crate::Stack::new();
static SPINS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
static STOP: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);

extern "C" fn spin(_: usize) -> i32 {
    while STOP.load(Ordering::Acquire) == 0 {
        SPINS.fetch_add(1, Ordering::Relaxed);
    }
    0
}

/// A 256 KiB `write` completes in full, and if it lasts longer than 30 ms (three ticks),
/// another thread ran meanwhile: the kernel does not stall the other tasks for the length of
/// one syscall. (A console fast enough to take it all within a tick needs no preemption.)
pub fn long_write_preemptible() -> CaseResult {
    let buf = LONG_BUF.0.get() as *mut u8;
    // SAFETY: LONG_BUF is this case's own buffer, used by no thread while it is filled.
    unsafe {
        core::ptr::write_bytes(buf, b' ', LONG);
        buf.add(LONG - 1).write(b'\n');
    }
    STOP.store(0, Ordering::Relaxed);
    SPINS.store(0, Ordering::Relaxed);
    if let Err(e) = crate::spawn(crate::STACK.region(), &crate::CTID, spin, 0) {
        fail!("clone failed: {e}");
    }
    while SPINS.load(Ordering::Relaxed) == 0 {
        user::sched_yield();
    }
    let before = SPINS.load(Ordering::Relaxed);
    let t0 = crate::time::monotonic_ns()?;
    let r = write_raw(1, buf as usize, LONG);
    let after = SPINS.load(Ordering::Relaxed);
    let took = crate::time::monotonic_ns()?.wrapping_sub(t0);
    STOP.store(1, Ordering::Release);
    crate::join(&crate::CTID);
    if r != LONG as isize {
        fail!("write of {LONG} bytes returned {r}");
    }
    if after == before && took > 30_000_000 {
        fail!("the spinning thread never ran during the {took} ns write");
    }
    Ok(())
}
