//! The rest of the Linux syscall surface a static libc's start-up and thread code use
//! (issue 8): memory (`crate::mman`), vectored console I/O, tty ioctls, signal masks and
//! handlers (`crate::signal`), identity (`uname`, the uid/gid getters, `prlimit64`,
//! `sched_getaffinity`), `getrandom`, `membarrier`, `set_robust_list`, `gettimeofday`.
//!
//! [`dispatch`] is called for every number `crate::syscall` does not handle itself. A number
//! that is not here either is ENOSYS, what Linux answers for a syscall it was built without,
//! and is logged once per run by name (`kernel-stub: syscall <name> (<nr>) is not
//! implemented: ENOSYS`; the names come from the build machine's kernel headers, see
//! `build.rs`).
//!
//! Checks follow Linux's order for each call (the function docs name the kernel function).

use crate::arch::{self, ARCH};
use crate::files::FdKind;
use crate::syscall::{EBADF, EFAULT, EINVAL, ENOSYS, SysResult};
use crate::task::Kernel;
use crate::{clock, mman, signal, uaccess};

const EPERM: i32 = 1;
const ESRCH: i32 = 3;
const ENOTTY: i32 = 25;

/// Syscall numbers: the x86_64 table (`arch/x86/entry/syscalls/syscall_64.tbl`) or the generic
/// one aarch64 and riscv64 share (`include/uapi/asm-generic/unistd.h`).
#[cfg(target_arch = "x86_64")]
mod nr {
    pub const IOCTL: u64 = 16;
    pub const WRITEV: u64 = 20;
    pub const MMAP: u64 = 9;
    pub const MPROTECT: u64 = 10;
    pub const MUNMAP: u64 = 11;
    pub const BRK: u64 = 12;
    pub const RT_SIGACTION: u64 = 13;
    pub const RT_SIGPROCMASK: u64 = 14;
    pub const MADVISE: u64 = 28;
    pub const UNAME: u64 = 63;
    pub const GETTIMEOFDAY: u64 = 96;
    pub const GETRLIMIT: u64 = 97;
    pub const GETGID: u64 = 104;
    pub const GETEUID: u64 = 107;
    pub const GETEGID: u64 = 108;
    pub const GETRESUID: u64 = 118;
    pub const GETRESGID: u64 = 120;
    pub const SIGALTSTACK: u64 = 131;
    pub const RT_SIGPENDING: u64 = 127;
    pub const RT_SIGTIMEDWAIT: u64 = 128;
    pub const RT_SIGSUSPEND: u64 = 130;
    pub const RT_SIGQUEUEINFO: u64 = 129;
    pub const RT_TGSIGQUEUEINFO: u64 = 297;
    pub const SCHED_GETAFFINITY: u64 = 204;
    pub const SET_ROBUST_LIST: u64 = 273;
    pub const GET_ROBUST_LIST: u64 = 274;
    pub const PRLIMIT64: u64 = 302;
    pub const GETRANDOM: u64 = 318;
    pub const MEMBARRIER: u64 = 324;
    pub const READLINK: u64 = 89;
    pub const READLINKAT: u64 = 267;
    pub const STAT: u64 = 4;
    pub const FSTAT: u64 = 5;
    pub const LSTAT: u64 = 6;
    pub const NEWFSTATAT: u64 = 262;
    pub const NANOSLEEP: u64 = 35;
    pub const CLOCK_NANOSLEEP: u64 = 230;
    pub const KILL: u64 = 62;
    pub const TKILL: u64 = 200;
    pub const TGKILL: u64 = 234;
    pub const READ: u64 = 0;
    pub const READV: u64 = 19;
    pub const PIPE: u64 = 22;
    pub const PIPE2: u64 = 293;
    pub const DUP: u64 = 32;
    pub const DUP2: u64 = 33;
    pub const DUP3: u64 = 292;
    pub const FCNTL: u64 = 72;
    pub const ACCESS: u64 = 21;
    pub const FACCESSAT: u64 = 269;
    pub const FACCESSAT2: u64 = 439;
    pub const OPEN: u64 = 2;
    pub const CREAT: u64 = 85;
    pub const OPENAT: u64 = 257;
    pub const PREAD64: u64 = 17;
    pub const LSEEK: u64 = 8;
    pub const GETDENTS64: u64 = 217;
    pub const POLL: u64 = 7;
    pub const PPOLL: u64 = 271;
    pub const PIDFD_OPEN: u64 = 434;
}
#[cfg(not(target_arch = "x86_64"))]
mod nr {
    pub const IOCTL: u64 = 29;
    pub const WRITEV: u64 = 66;
    pub const MMAP: u64 = 222;
    pub const MPROTECT: u64 = 226;
    pub const MUNMAP: u64 = 215;
    pub const BRK: u64 = 214;
    pub const RT_SIGACTION: u64 = 134;
    pub const RT_SIGPROCMASK: u64 = 135;
    pub const MADVISE: u64 = 233;
    pub const UNAME: u64 = 160;
    pub const GETTIMEOFDAY: u64 = 169;
    pub const GETRLIMIT: u64 = 163;
    pub const GETGID: u64 = 176;
    pub const GETEUID: u64 = 175;
    pub const GETEGID: u64 = 177;
    pub const GETRESUID: u64 = 148;
    pub const GETRESGID: u64 = 150;
    pub const SIGALTSTACK: u64 = 132;
    pub const RT_SIGSUSPEND: u64 = 133;
    pub const RT_SIGPENDING: u64 = 136;
    pub const RT_SIGTIMEDWAIT: u64 = 137;
    pub const RT_SIGQUEUEINFO: u64 = 138;
    pub const RT_TGSIGQUEUEINFO: u64 = 240;
    pub const SCHED_GETAFFINITY: u64 = 123;
    pub const SET_ROBUST_LIST: u64 = 99;
    pub const GET_ROBUST_LIST: u64 = 100;
    pub const PRLIMIT64: u64 = 261;
    pub const GETRANDOM: u64 = 278;
    pub const MEMBARRIER: u64 = 283;
    /// The generic table has only `readlinkat`.
    pub const READLINK: u64 = u64::MAX;
    pub const READLINKAT: u64 = 78;
    /// The generic table has only `newfstatat` and `fstat`.
    pub const STAT: u64 = u64::MAX - 1;
    pub const LSTAT: u64 = u64::MAX - 2;
    pub const FSTAT: u64 = 80;
    pub const NEWFSTATAT: u64 = 79;
    pub const NANOSLEEP: u64 = 101;
    pub const CLOCK_NANOSLEEP: u64 = 115;
    pub const KILL: u64 = 129;
    pub const TKILL: u64 = 130;
    pub const TGKILL: u64 = 131;
    pub const READ: u64 = 63;
    pub const READV: u64 = 65;
    /// The generic table has only `pipe2` and `dup3`.
    pub const PIPE: u64 = u64::MAX - 3;
    pub const PIPE2: u64 = 59;
    pub const DUP: u64 = 23;
    pub const DUP2: u64 = u64::MAX - 4;
    pub const DUP3: u64 = 24;
    pub const FCNTL: u64 = 25;
    /// The generic table has only `faccessat` and `faccessat2`.
    pub const ACCESS: u64 = u64::MAX - 5;
    pub const FACCESSAT: u64 = 48;
    pub const FACCESSAT2: u64 = 439;
    /// The generic table has only `openat` and `ppoll`.
    pub const OPEN: u64 = u64::MAX - 10;
    pub const CREAT: u64 = u64::MAX - 11;
    pub const POLL: u64 = u64::MAX - 12;
    pub const OPENAT: u64 = 56;
    pub const PREAD64: u64 = 67;
    pub const LSEEK: u64 = 62;
    pub const GETDENTS64: u64 = 61;
    pub const PPOLL: u64 = 73;
    pub const PIDFD_OPEN: u64 = 434;
}

/// Syscall names by number, generated by `build.rs` from the build machine's kernel headers
/// (empty when they are missing: the log then shows only the number).
mod names {
    include!(concat!(env!("OUT_DIR"), "/syscall_names.rs"));
}

/// One bit per syscall number already logged as not implemented (numbers up to 1023).
static mut LOGGED: [u64; 16] = [0; 16];

/// Logs an unimplemented syscall the first time it is seen.
fn log_enosys(number: u64) {
    let (w, b) = ((number / 64) as usize, number % 64);
    // SAFETY: single core, no re-entry: a plain read-modify-write of the bitmap.
    let first = unsafe {
        let logged = &mut *core::ptr::addr_of_mut!(LOGGED);
        match logged.get_mut(w) {
            Some(word) if *word & (1 << b) == 0 => {
                *word |= 1 << b;
                true
            }
            Some(_) => false,
            None => true,
        }
    };
    if first {
        let name = names::NAMES
            .iter()
            .find(|(n, _)| *n == number)
            .map_or("?", |(_, s)| s);
        crate::kprintln!("kernel-stub: syscall {name} ({number}) is not implemented: ENOSYS");
    }
}

/// Forgets what was logged (a new program starts).
pub fn reset_log() {
    // SAFETY: as in `log_enosys`.
    unsafe { *core::ptr::addr_of_mut!(LOGGED) = [0; 16] };
}

/// The calls of this module; ENOSYS (logged once) for any other number. `None`: the task
/// sleeps (a pipe `read`/`write`), and its result is set when it runs the call again.
pub fn dispatch(k: &mut Kernel, i: usize, number: u64, a: [u64; 6]) -> Option<SysResult> {
    match number {
        nr::READ => return read(k, i, a[0], a[1], a[2]),
        nr::READV => return readv(k, i, a[0], a[1], a[2]),
        nr::WRITEV => return writev(k, i, a[0], a[1], a[2]),
        nr::RT_SIGSUSPEND => return signal::rt_sigsuspend(k, i, a[0], a[1]),
        nr::RT_SIGTIMEDWAIT => return signal::rt_sigtimedwait(k, i, a[0], a[1], a[2], a[3]),
        nr::POLL => return crate::poll::poll(k, i, a[0], a[1], a[2]),
        nr::PPOLL => return crate::poll::ppoll(k, i, a[0], a[1], a[2], a[3], a[4]),
        _ => {}
    }
    Some(match number {
        nr::PIPE => crate::pipe::pipe2(k, a[0], 0),
        nr::PIPE2 => crate::pipe::pipe2(k, a[0], a[1]),
        nr::DUP => crate::files::dup(k, a[0]),
        nr::DUP2 => crate::files::dup2(k, a[0], a[1]),
        nr::DUP3 => crate::files::dup3(k, a[0], a[1], a[2]),
        nr::FCNTL => crate::files::fcntl(k, a[0], a[1], a[2]),
        nr::OPEN => crate::open::openat(k, AT_FDCWD, a[0], a[1]),
        nr::CREAT => crate::open::openat(k, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC),
        nr::OPENAT => crate::open::openat(k, a[0], a[1], a[2]),
        nr::PREAD64 => crate::open::pread64(k, i, a[0], a[1], a[2], a[3]),
        nr::LSEEK => crate::open::lseek(k, a[0], a[1], a[2]),
        nr::GETDENTS64 => crate::open::getdents64(k, a[0], a[1], a[2]),
        nr::PIDFD_OPEN => crate::poll::pidfd_open(k, a[0], a[1]),
        nr::MMAP => mman::sys_mmap(k, i, a),
        nr::MUNMAP => mman::sys_munmap(k, i, a[0], a[1]),
        nr::MPROTECT => mman::sys_mprotect(k, i, a[0], a[1], a[2]),
        nr::BRK => mman::sys_brk(k, i, a[0]),
        nr::MADVISE => mman::sys_madvise(k, i, a[0], a[1], a[2]),
        nr::IOCTL => ioctl(k, a[0], a[1] as u32, a[2]),
        nr::RT_SIGACTION => signal::rt_sigaction(k, i, a[0], a[1], a[2], a[3]),
        nr::RT_SIGPROCMASK => signal::rt_sigprocmask(k, i, a[0], a[1], a[2], a[3]),
        nr::SIGALTSTACK => signal::sigaltstack(k, i, a[0], a[1]),
        nr::RT_SIGPENDING => signal::rt_sigpending(k, i, a[0], a[1]),
        nr::RT_SIGQUEUEINFO => signal::rt_sigqueueinfo(k, i, None, a[0], a[1], a[2]),
        nr::RT_TGSIGQUEUEINFO => signal::rt_sigqueueinfo(k, i, Some(a[0]), a[1], a[2], a[3]),
        nr::UNAME => uname(a[0]),
        nr::GETTIMEOFDAY => gettimeofday(a[0], a[1]),
        nr::GETEUID | nr::GETGID | nr::GETEGID => Ok(0),
        nr::GETRESUID | nr::GETRESGID => getres(a[0], a[1], a[2]),
        nr::GETRLIMIT => prlimit(k, i, 0, a[0], 0, a[1]),
        nr::PRLIMIT64 => prlimit(k, i, a[0], a[1], a[2], a[3]),
        nr::SCHED_GETAFFINITY => sched_getaffinity(k, a[0], a[1], a[2]),
        nr::SET_ROBUST_LIST => set_robust_list(k, i, a[0], a[1]),
        nr::GET_ROBUST_LIST => get_robust_list(k, i, a[0], a[1], a[2]),
        nr::GETRANDOM => getrandom(a[0], a[1], a[2]),
        nr::MEMBARRIER => membarrier(k, i, a[0], a[1]),
        nr::READLINK => readlinkat(k, AT_FDCWD, a[0], a[2]),
        nr::READLINKAT => readlinkat(k, a[0], a[1], a[3]),
        nr::FSTAT => crate::stat::fstat(k, a[0], a[1]),
        nr::NANOSLEEP => crate::sleep::nanosleep(k, i, a[0]),
        nr::KILL => signal::kill(k, i, a[0], a[1]),
        nr::TKILL => signal::tgkill(k, None, a[0], a[1]),
        nr::TGKILL => signal::tgkill(k, Some(a[0]), a[1], a[2]),
        nr::CLOCK_NANOSLEEP => crate::sleep::clock_nanosleep(k, i, a[0], a[1], a[2]),
        nr::NEWFSTATAT => crate::stat::fstatat(k, a[0], a[1], a[2], a[3]),
        nr::STAT | nr::LSTAT => crate::stat::fstatat(k, AT_FDCWD, a[0], a[1], 0),
        nr::ACCESS => crate::stat::faccessat(k, AT_FDCWD, a[0], a[1], 0),
        nr::FACCESSAT => crate::stat::faccessat(k, a[0], a[1], a[2], 0),
        nr::FACCESSAT2 => crate::stat::faccessat(k, a[0], a[1], a[2], a[3]),
        _ => {
            log_enosys(number);
            Err(ENOSYS)
        }
    })
}

/// Linux's `UIO_MAXIOV`.
const UIO_MAXIOV: u64 = 1024;
/// Linux's `MAX_RW_COUNT`.
const MAX_RW_COUNT: u64 = 0x7fff_f000;

/// `O_CREAT | O_WRONLY | O_TRUNC`: what `creat` opens with.
const O_CREAT: u64 = 0o100;
const O_WRONLY: u64 = 1;
const O_TRUNC: u64 = 0o1000;

/// `read(fd, buf, count)` (`ksys_read`, `vfs_read`): EBADF for a closed fd, a pipe's write
/// end or a file not open for reading, EINVAL for a pidfd (no read method), EFAULT if
/// `access_ok` refuses the range, then the pipe read (`crate::pipe::read`, which may sleep)
/// or the read of the console or an open file (`crate::open::read`: the console may
/// sleep); `count` is cut to `MAX_RW_COUNT`.
fn read(k: &mut Kernel, i: usize, fd: u64, buf: u64, count: u64) -> Option<SysResult> {
    let target = match read_source(k, fd) {
        Ok(t) => t,
        Err(e) => return Some(Err(e)),
    };
    if !uaccess::range_ok(buf, count) {
        return Some(Err(EFAULT));
    }
    let vecs = [(buf, count.min(MAX_RW_COUNT))];
    match target {
        Ok(id) => crate::pipe::read(k, i, id, &vecs),
        Err(src) => crate::open::read(k, i, src, &vecs, None),
    }
}

/// `read`'s descriptor checks: a pipe's read end (`Ok`) or another readable object (`Err`).
fn read_source(k: &Kernel, fd: u64) -> Result<Result<u32, crate::open::Source>, i32> {
    match k.fd_kind(fd as u32) {
        FdKind::Console | FdKind::File(_) => crate::open::source(k, fd).map(Err),
        _ => match crate::pipe::read_target(k, fd)? {
            crate::pipe::Target::Pipe(id) => Ok(Ok(id)),
            _ => Err(EBADF),
        },
    }
}

/// `readv(fd, iov, iovcnt)` (`do_readv`, `vfs_readv`): the fd checks of `read`, then the
/// vector checks of `writev`, then the read.
fn readv(k: &mut Kernel, i: usize, fd: u64, iov: u64, count: u64) -> Option<SysResult> {
    let target = match read_source(k, fd) {
        Ok(t) => t,
        Err(e) => return Some(Err(e)),
    };
    let vecs = match iovecs(iov, count) {
        Ok(v) => v,
        Err(e) => return Some(Err(e)),
    };
    match target {
        Ok(id) => crate::pipe::read(k, i, id, &vecs),
        Err(src) => crate::open::read(k, i, src, &vecs, None),
    }
}

/// `writev(fd, iov, iovcnt)` (`do_writev`, `vfs_writev`, `import_iovec`): EBADF for a closed
/// fd or a pipe's read end, EINVAL for a pidfd (no write method), EINVAL for more than
/// `UIO_MAXIOV` vectors, EFAULT for an unreadable vector array or a buffer `access_ok`
/// refuses, EINVAL for a length that is negative as `ssize_t`; the total is cut to
/// `MAX_RW_COUNT`. A pipe gets `crate::pipe::write` (which may sleep). On the console the
/// bytes are written in order; a buffer that cannot be read part-way ends the write with
/// what was written (EFAULT if nothing was), as the tty's copy does.
fn writev(k: &mut Kernel, i: usize, fd: u64, iov: u64, count: u64) -> Option<SysResult> {
    let target = match crate::pipe::write_target(k, fd) {
        Ok(t) => t,
        Err(e) => return Some(Err(e)),
    };
    let vecs = match iovecs(iov, count) {
        Ok(v) => v,
        Err(e) => return Some(Err(e)),
    };
    if let crate::pipe::Target::Pipe(id) = target {
        let already = k.retry_done;
        return crate::pipe::write(k, i, id, &vecs, already);
    }
    if let crate::pipe::Target::Null = target {
        return Some(Ok(vecs.iter().map(|v| v.1).sum()));
    }
    let mut done = 0u64;
    let mut chunk = [0u8; 2048];
    for (base, len) in vecs {
        let mut off = 0;
        while off < len {
            let n = (len - off).min(chunk.len() as u64) as usize;
            if uaccess::read_bytes(base + off, &mut chunk[..n]).is_err() {
                return Some(if done > 0 { Ok(done) } else { Err(EFAULT) });
            }
            arch::console_write(&chunk[..n]);
            off += n as u64;
            done += n as u64;
        }
    }
    Some(Ok(done))
}

/// Reads and checks an iovec array (`iovec_from_user` + `__import_iovec`): the (base, len)
/// pairs with the total cut to `MAX_RW_COUNT`.
fn iovecs(iov: u64, count: u64) -> Result<alloc::vec::Vec<(u64, u64)>, i32> {
    if count > UIO_MAXIOV {
        return Err(EINVAL);
    }
    let mut out = alloc::vec::Vec::with_capacity(count as usize);
    let mut total = 0u64;
    for n in 0..count {
        let at = iov.wrapping_add(16 * n);
        let base = uaccess::read_u64(at).map_err(|_| EFAULT)?;
        let len = uaccess::read_u64(at.wrapping_add(8)).map_err(|_| EFAULT)?;
        if (len as i64) < 0 {
            return Err(EINVAL);
        }
        if !uaccess::range_ok(base, len) {
            return Err(EFAULT);
        }
        let len = len.min(MAX_RW_COUNT - total);
        total += len;
        out.push((base, len));
    }
    Ok(out)
}

const TCGETS: u32 = 0x5401;
const TIOCGWINSZ: u32 = 0x5413;
const FIONREAD: u32 = 0x541B;
/// The generic commands (`do_vfs_ioctl`): `FIONBIO` sets `O_NONBLOCK` from an `int`,
/// `FIOCLEX`/`FIONCLEX` the close-on-exec bit, on any open file.
const FIONBIO: u32 = 0x5421;
const FIONCLEX: u32 = 0x5450;
const FIOCLEX: u32 = 0x5451;
const F_GETFL: u64 = 3;
const F_SETFL: u64 = 4;
const F_SETFD: u64 = 2;
const O_NONBLOCK: u64 = 0o4000;

/// `ioctl(fd, cmd, arg)`: the console is a tty (Linux's serial console, `ttyS0`): `TIOCGWINSZ`
/// gives its window size, all zero as on a serial line nobody resized; `TCGETS` the termios
/// Linux gives a tty at first open (`tty_std_termios`); any other command is ENOTTY (the tty
/// layer's answer to a command it does not know). A pidfd has no such command either
/// (ENOTTY), a pipe only `FIONREAD` (the bytes it holds, `pipe_ioctl`); a closed fd is EBADF.
/// `FIONBIO`, `FIOCLEX` and `FIONCLEX` work on every open descriptor (`do_vfs_ioctl`).
fn ioctl(k: &mut Kernel, fd: u64, cmd: u32, arg: u64) -> SysResult {
    let mut kind = k.fd_kind(fd as u32);
    if let FdKind::File(id) = kind {
        kind = match k.opens.get(id).map(|f| (f.node, f.flags)) {
            // An `O_PATH` descriptor has no ioctls (`fdget` refuses it).
            Some((_, fl)) if fl & 0o10000000 != 0 => FdKind::Free,
            Some((crate::open::Node::Console, _)) => FdKind::Console,
            // Files, directories and `/dev/null` have none of these commands.
            _ => FdKind::Pidfd(0),
        };
    }
    // `do_vfs_ioctl`'s commands for every open file, before the file's own.
    if kind != FdKind::Free {
        match cmd {
            FIOCLEX | FIONCLEX => {
                return crate::files::fcntl(k, fd, F_SETFD, u64::from(cmd == FIOCLEX));
            }
            FIONBIO => {
                let on = uaccess::read_u32(arg).map_err(|_| EFAULT)? != 0;
                let fl = crate::files::fcntl(k, fd, F_GETFL, 0)?;
                let fl = if on {
                    fl | O_NONBLOCK
                } else {
                    fl & !O_NONBLOCK
                };
                return crate::files::fcntl(k, fd, F_SETFL, fl);
            }
            _ => {}
        }
    }
    match kind {
        FdKind::Free => Err(EBADF),
        FdKind::Pidfd(_) | FdKind::File(_) => Err(ENOTTY),
        FdKind::Pipe { id, .. } => match cmd {
            FIONREAD => uaccess::write_u32(arg, k.pipes.held(id))
                .map(|()| 0)
                .map_err(|_| EFAULT),
            _ => Err(ENOTTY),
        },
        FdKind::Console => match cmd {
            TIOCGWINSZ => uaccess::write_bytes(arg, &[0u8; 8])
                .map(|()| 0)
                .map_err(|_| EFAULT),
            TCGETS => uaccess::write_bytes(arg, &std_termios())
                .map(|()| 0)
                .map_err(|_| EFAULT),
            _ => Err(ENOTTY),
        },
    }
}

/// The `struct termios` (asm-generic layout: four flag words, the line discipline, 19 control
/// characters) of Linux's `tty_std_termios`: ICRNL|IXON, OPOST|ONLCR, B38400|CS8|CREAD|HUPCL,
/// ISIG|ICANON|ECHO|ECHOE|ECHOK|ECHOCTL|ECHOKE|IEXTEN, and `INIT_C_CC`.
fn std_termios() -> [u8; 36] {
    let mut t = [0u8; 36];
    t[0..4].copy_from_slice(&0o2400u32.to_ne_bytes());
    t[4..8].copy_from_slice(&0o5u32.to_ne_bytes());
    t[8..12].copy_from_slice(&0o2277u32.to_ne_bytes());
    t[12..16].copy_from_slice(&0o105073u32.to_ne_bytes());
    // c_line 0, then c_cc: ^C ^\ DEL ^U ^D time=0 min=1 swtc=0 ^Q ^S ^Z eol=0 ^R ^O ^W ^V eol2=0.
    let cc: [u8; 17] = [
        3, 0o34, 0o177, 0o25, 4, 0, 1, 0, 0o21, 0o23, 0o32, 0, 0o22, 0o17, 0o27, 0o26, 0,
    ];
    t[17..17 + cc.len()].copy_from_slice(&cc);
    t
}

/// `uname(buf)`: six 65-byte fields. The release is the `Policy` version the stub claims;
/// the node and domain names are Linux's defaults for a kernel nobody named (`(none)`).
fn uname(buf: u64) -> SysResult {
    let v = crate::clone::policy().linux;
    let release = alloc::format!("{}.{}.{}", v.major, v.minor, v.patch);
    let machine = ARCH.name();
    let fields: [&str; 6] = [
        "Linux",
        "(none)",
        &release,
        "#1 SMP PREEMPT_NONE kernel-stub",
        machine,
        "(none)",
    ];
    let mut out = [0u8; 6 * 65];
    for (k, f) in fields.iter().enumerate() {
        let b = f.as_bytes();
        let n = b.len().min(64);
        out[k * 65..k * 65 + n].copy_from_slice(&b[..n]);
    }
    uaccess::write_bytes(buf, &out)
        .map(|()| 0)
        .map_err(|_| EFAULT)
}

/// `gettimeofday(tv, tz)`: `CLOCK_REALTIME` in microseconds; the timezone is zero (Linux's
/// `sys_tz` until someone sets it).
fn gettimeofday(tv: u64, tz: u64) -> SysResult {
    if tv != 0 {
        let ns = clock::monotonic_ns() + clock::realtime_offset_ns();
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&(ns / 1_000_000_000).to_ne_bytes());
        b[8..].copy_from_slice(&((ns % 1_000_000_000) / 1000).to_ne_bytes());
        uaccess::write_bytes(tv, &b).map_err(|_| EFAULT)?;
    }
    if tz != 0 {
        uaccess::write_bytes(tz, &[0u8; 8]).map_err(|_| EFAULT)?;
    }
    Ok(0)
}

/// `getresuid`/`getresgid`: the stub's caller is root (0, 0, 0); each slot is a `put_user`.
fn getres(r: u64, e: u64, s: u64) -> SysResult {
    for p in [r, e, s] {
        uaccess::write_u32(p, 0).map_err(|_| EFAULT)?;
    }
    Ok(0)
}

/// `RLIMIT_*` count (`RLIM_NLIMITS`).
const RLIM_NLIMITS: u64 = 16;
const RLIM_INFINITY: u64 = u64::MAX;

/// The limits Linux starts init with (`INIT_RLIMITS`), with the stub's own sizes where it has
/// them: `RLIMIT_NPROC`/`RLIMIT_SIGPENDING` the task table's size (Linux: `max_threads / 2`),
/// `RLIMIT_NOFILE` its 1024 descriptors (soft and hard: it has no more), `RLIMIT_STACK` 8 MiB.
pub fn default_rlimits() -> [(u64, u64); RLIM_NLIMITS as usize] {
    let inf = (RLIM_INFINITY, RLIM_INFINITY);
    let nproc = crate::task::MAX_TASKS as u64;
    [
        inf,                               // CPU
        inf,                               // FSIZE
        inf,                               // DATA
        (mman::STACK_SIZE, RLIM_INFINITY), // STACK
        (0, RLIM_INFINITY),                // CORE
        inf,                               // RSS
        (nproc, nproc),                    // NPROC
        (1024, 1024),                      // NOFILE
        (8 << 20, 8 << 20),                // MEMLOCK
        inf,                               // AS
        inf,                               // LOCKS
        (nproc, nproc),                    // SIGPENDING
        (819_200, 819_200),                // MSGQUEUE
        (0, 0),                            // NICE
        (0, 0),                            // RTPRIO
        inf,                               // RTTIME
    ]
}

/// `prlimit64(pid, resource, new, old)` (`kernel/sys.c`): ESRCH for a pid that is no task,
/// EINVAL for an unknown resource, EFAULT for an unreadable `new`, EINVAL when its soft
/// limit exceeds the hard one (raising the hard limit is allowed: the caller is privileged),
/// then `old` is written (EFAULT). The limits are the process's (shared by its threads,
/// kept with its signal state); the stub enforces none of them.
fn prlimit(k: &mut Kernel, i: usize, pid: u64, resource: u64, new: u64, old: u64) -> SysResult {
    let pid = pid as u32;
    let target = if pid == 0 {
        i
    } else {
        k.slots()
            .find(|(_, t)| t.tid == pid && !t.is_zombie())
            .map(|(j, _)| j)
            .ok_or(ESRCH)?
    };
    if resource >= RLIM_NLIMITS {
        return Err(EINVAL);
    }
    let new_value = if new != 0 {
        let cur = uaccess::read_u64(new).map_err(|_| EFAULT)?;
        let max = uaccess::read_u64(new + 8).map_err(|_| EFAULT)?;
        if cur > max {
            return Err(EINVAL);
        }
        Some((cur, max))
    } else {
        None
    };
    let limits = k.task(target).sig.limits.clone();
    let before = limits.borrow()[resource as usize];
    if let Some(v) = new_value {
        limits.borrow_mut()[resource as usize] = v;
    }
    if old != 0 {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&before.0.to_ne_bytes());
        b[8..].copy_from_slice(&before.1.to_ne_bytes());
        uaccess::write_bytes(old, &b).map_err(|_| EFAULT)?;
    }
    Ok(0)
}

/// `sched_getaffinity(pid, len, mask)`: one CPU, so the mask is CPU 0 and the size written is
/// one `unsigned long` (`cpumask_size()` for `nr_cpu_ids` = 1). EINVAL for a length shorter
/// than that or not a multiple of it, ESRCH for a pid that is no task, EFAULT for the mask.
fn sched_getaffinity(k: &Kernel, pid: u64, len: u64, mask: u64) -> SysResult {
    if len < 8 || len % 8 != 0 {
        return Err(EINVAL);
    }
    let pid = pid as u32;
    if pid != 0 && !k.slots().any(|(_, t)| t.tid == pid) {
        return Err(ESRCH);
    }
    uaccess::write_bytes(mask, &1u64.to_ne_bytes()).map_err(|_| EFAULT)?;
    Ok(8)
}

/// `struct robust_list_head`: three words.
const ROBUST_HEAD_SIZE: u64 = 24;

/// `set_robust_list(head, len)`: EINVAL unless `len` is the size of `struct robust_list_head`;
/// the head is recorded (not walked at exit yet: see the README).
fn set_robust_list(k: &mut Kernel, i: usize, head: u64, len: u64) -> SysResult {
    if len != ROBUST_HEAD_SIZE {
        return Err(EINVAL);
    }
    k.task(i).sig.robust_list = head;
    Ok(0)
}

/// `get_robust_list(pid, head_ptr, len_ptr)`: ESRCH for a pid that is no task; the head and
/// its size are written (EFAULT). (The caller is privileged, so another task's is readable.)
fn get_robust_list(k: &mut Kernel, i: usize, pid: u64, head_ptr: u64, len_ptr: u64) -> SysResult {
    let pid = pid as u32;
    let head = if pid == 0 {
        k.task(i).sig.robust_list
    } else {
        k.slots()
            .find(|(_, t)| t.tid == pid)
            .map(|(_, t)| t.sig.robust_list)
            .ok_or(ESRCH)?
    };
    uaccess::write_bytes(len_ptr, &ROBUST_HEAD_SIZE.to_ne_bytes()).map_err(|_| EFAULT)?;
    uaccess::write_bytes(head_ptr, &head.to_ne_bytes()).map_err(|_| EFAULT)?;
    Ok(0)
}

const GRND_NONBLOCK: u64 = 1;
const GRND_RANDOM: u64 = 2;
const GRND_INSECURE: u64 = 4;

/// `getrandom(buf, len, flags)`: EINVAL for unknown flags or `GRND_INSECURE` with
/// `GRND_RANDOM`; `len` is cut to `MAX_RW_COUNT`; EFAULT if nothing could be written. The
/// bytes come from a 64-bit mixing generator seeded with the monotonic clock and the RTC at
/// each call: the stub has no entropy source, so they are not fit for cryptography.
fn getrandom(buf: u64, len: u64, flags: u64) -> SysResult {
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || flags & (GRND_INSECURE | GRND_RANDOM) == GRND_INSECURE | GRND_RANDOM
    {
        return Err(EINVAL);
    }
    let len = len.min(MAX_RW_COUNT);
    let mut state = clock::monotonic_ns() ^ arch::rtc_unix_ns().rotate_left(32);
    let mut done = 0u64;
    while done < len {
        // splitmix64 step.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let bytes = z.to_ne_bytes();
        let n = (len - done).min(8) as usize;
        if uaccess::write_bytes(buf.wrapping_add(done), &bytes[..n]).is_err() {
            return if done > 0 { Ok(done) } else { Err(EFAULT) };
        }
        done += n as u64;
    }
    Ok(done)
}

/// `membarrier(cmd, flags, cpu_id)` (`kernel/sched/membarrier.c`) on a kernel with one CPU and
/// without `CONFIG_RSEQ`: `MEMBARRIER_CMD_QUERY` lists the commands, the barriers themselves
/// have nothing to wait for (one CPU: every other thread is already past a context switch),
/// the private-expedited ones are EPERM until the process registered for them, the RSEQ
/// ones are EINVAL (not in the supported set), as is any unknown command or nonzero flags.
fn membarrier(k: &mut Kernel, i: usize, cmd: u64, flags: u64) -> SysResult {
    const QUERY: u64 = 0;
    const GLOBAL: u64 = 1;
    const GLOBAL_EXPEDITED: u64 = 2;
    const REGISTER_GLOBAL_EXPEDITED: u64 = 4;
    const PRIVATE_EXPEDITED: u64 = 8;
    const REGISTER_PRIVATE_EXPEDITED: u64 = 16;
    const PRIVATE_EXPEDITED_SYNC_CORE: u64 = 32;
    const REGISTER_PRIVATE_EXPEDITED_SYNC_CORE: u64 = 64;
    const GET_REGISTRATIONS: u64 = 512;
    const SUPPORTED: u64 = GLOBAL
        | GLOBAL_EXPEDITED
        | REGISTER_GLOBAL_EXPEDITED
        | PRIVATE_EXPEDITED
        | REGISTER_PRIVATE_EXPEDITED
        | PRIVATE_EXPEDITED_SYNC_CORE
        | REGISTER_PRIVATE_EXPEDITED_SYNC_CORE
        | GET_REGISTRATIONS;
    if flags != 0 {
        return Err(EINVAL);
    }
    let space = k.task(i).space().clone();
    let mut mm = space.mm.borrow_mut();
    match cmd {
        QUERY => Ok(SUPPORTED),
        GLOBAL | GLOBAL_EXPEDITED => Ok(0),
        REGISTER_GLOBAL_EXPEDITED
        | REGISTER_PRIVATE_EXPEDITED
        | REGISTER_PRIVATE_EXPEDITED_SYNC_CORE => {
            mm.membarrier |= cmd;
            Ok(0)
        }
        PRIVATE_EXPEDITED | PRIVATE_EXPEDITED_SYNC_CORE => {
            if mm.membarrier & (cmd << 1) == 0 {
                Err(EPERM)
            } else {
                Ok(0)
            }
        }
        GET_REGISTRATIONS => Ok(mm.membarrier),
        _ => Err(EINVAL),
    }
}

/// `AT_FDCWD` as the register holds it (an `int` -100).
pub const AT_FDCWD: u64 = (-100i64) as u64;

pub use crate::open::{Node, resolve};

/// `readlinkat(dfd, path, buf, bufsiz)` and `readlink(path, buf, bufsiz)` (`do_readlinkat`):
/// EINVAL for a size that is not positive as an `int`, the path's EFAULT/ENAMETOOLONG, then
/// the lookup's ENOENT/ENOTDIR/EBADF; the stub has no symbolic links, so anything found is
/// EINVAL.
fn readlinkat(k: &Kernel, dfd: u64, path: u64, bufsiz: u64) -> SysResult {
    if bufsiz as u32 as i32 <= 0 {
        return Err(EINVAL);
    }
    let name = crate::exec::user_string(path, crate::exec::PATH_MAX, 36)?;
    resolve(k, dfd, &name)?;
    Err(EINVAL)
}
