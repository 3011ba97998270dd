//! Pipes at the syscall level, on the stub and on Linux: `pipe2`'s flag check and EFAULT
//! (which leaves no descriptor behind), `O_NONBLOCK`'s EAGAIN, a read into an unwritable
//! buffer (EFAULT, the bytes stay), EOF once the write end is closed, the wrong end
//! (EBADF), `dup3`'s EINVAL and EBADF, `fcntl` on a closed fd and `F_DUPFD` past
//! `RLIMIT_NOFILE`.

use clone_core::user;

use crate::{CaseResult, KERNEL_HIGH, expect};

const EBADF: isize = 9;
const EAGAIN: isize = 11;
const EFAULT: isize = 14;
const EINVAL: isize = 22;
const O_NONBLOCK: usize = 0o4000;

#[cfg(target_arch = "x86_64")]
mod nr {
    pub const READ: usize = 0;
    pub const WRITE: usize = 1;
    pub const CLOSE: usize = 3;
    pub const FCNTL: usize = 72;
    pub const DUP3: usize = 292;
    pub const PIPE2: usize = 293;
}
#[cfg(not(target_arch = "x86_64"))]
mod nr {
    pub const READ: usize = 63;
    pub const WRITE: usize = 64;
    pub const CLOSE: usize = 57;
    pub const FCNTL: usize = 25;
    pub const DUP3: usize = 24;
    pub const PIPE2: usize = 59;
}

fn sys3(n: usize, a: usize, b: usize, c: usize) -> isize {
    // SAFETY: every call here is on descriptors this case opened, with buffers it owns or
    // addresses the kernel must refuse.
    unsafe { user::syscall3(n, a, b, c) }
}

/// The errors and the plain path of one pipe.
pub fn pipe_errors() -> CaseResult {
    let mut fds = [0i32; 2];
    let at = fds.as_mut_ptr() as usize;
    // The lowest free descriptor now (a dup of stdout, closed again).
    let before = sys3(nr::FCNTL, 1, 0, 0);
    if before < 0 {
        fail!("fcntl(1, F_DUPFD, 0): got {before}");
    }
    expect("close(the dup)", sys3(nr::CLOSE, before as usize, 0, 0), 0)?;
    expect("pipe2(flags 1)", sys3(nr::PIPE2, at, 1, 0), EINVAL)?;
    expect(
        "pipe2(kernel address)",
        sys3(nr::PIPE2, KERNEL_HIGH, 0, 0),
        EFAULT,
    )?;
    let r = sys3(nr::PIPE2, at, O_NONBLOCK, 0);
    if r != 0 {
        fail!("pipe2(O_NONBLOCK): got {r}");
    }
    let (rd, wr) = (fds[0] as usize, fds[1] as usize);
    // The failed pipe2 left nothing open: the read end is the descriptor that was free.
    if rd != before as usize {
        fail!("pipe2 gave {rd}, {wr}; {before} was the lowest free before");
    }
    let mut b = [0u8; 8];
    let buf = b.as_mut_ptr() as usize;
    expect(
        "read of an empty O_NONBLOCK pipe",
        sys3(nr::READ, rd, buf, 8),
        EAGAIN,
    )?;
    expect("write to the read end", sys3(nr::WRITE, rd, buf, 1), EBADF)?;
    expect("read of the write end", sys3(nr::READ, wr, buf, 1), EBADF)?;
    let r = sys3(nr::WRITE, wr, b"abc".as_ptr() as usize, 3);
    if r != 3 {
        fail!("write of 3 bytes: got {r}");
    }
    expect(
        "read into a kernel address",
        sys3(nr::READ, rd, KERNEL_HIGH, 3),
        EFAULT,
    )?;
    let r = sys3(nr::READ, rd, buf, 8);
    if r != 3 || &b[..3] != b"abc" {
        fail!("read after the EFAULT: got {r}");
    }
    expect("dup3(fd, fd)", sys3(nr::DUP3, rd, rd, 0), EINVAL)?;
    expect("dup3 to 1 << 20", sys3(nr::DUP3, rd, 1 << 20, 0), EBADF)?;
    expect("dup3 flags 1", sys3(nr::DUP3, rd, 100, 1), EINVAL)?;
    expect(
        "fcntl(F_DUPFD, 1 << 20)",
        sys3(nr::FCNTL, rd, 0, 1 << 20),
        EINVAL,
    )?;
    expect("close(write end)", sys3(nr::CLOSE, wr, 0, 0), 0)?;
    expect("fcntl of the closed fd", sys3(nr::FCNTL, wr, 1, 0), EBADF)?;
    let r = sys3(nr::READ, rd, buf, 8);
    if r != 0 {
        fail!("read after the last writer closed: got {r}, expected 0");
    }
    expect("close(read end)", sys3(nr::CLOSE, rd, 0, 0), 0)
}
