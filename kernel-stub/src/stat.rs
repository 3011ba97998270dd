//! `fstat`, `newfstatat`, `stat` and `lstat` over what the stub has: the console (a character
//! device, as `/dev/console` is for Linux's init: 5:1, `crw-------`, root), `/dev/null`
//! (1:3, `crw-rw-rw-`), the directories `/`, `/bin` and `/dev` and the embedded files of
//! `/bin` (regular, read-only, executable; `crate::open` has the tree), a pipe
//! end (a FIFO, `prw-------`, on the stub's pipefs device 13, as `pipefs` is). A pidfd
//! is not described yet (ENOSYS, logged on the console).
//!
//! Checks in `vfs_fstatat`/`vfs_statx` order: unknown flags EINVAL, the path's EFAULT/
//! ENAMETOOLONG, an empty path without `AT_EMPTY_PATH` ENOENT, the lookup's errors, then the
//! copy to user memory (EFAULT). `st_dev`/`st_ino` are the stub's own numbers; the times are
//! the boot time (the stub has no file system that records any).

use crate::files::FdKind;
use crate::open::Dir;
use crate::surface::{self, Node};
use crate::syscall::{EBADF, EFAULT, EINVAL, ENOSYS, SysResult};
use crate::task::Kernel;
use crate::{clock, uaccess};

const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
const AT_EACCESS: u64 = 0x200;
const AT_NO_AUTOMOUNT: u64 = 0x800;
const AT_EMPTY_PATH: u64 = 0x1000;
const AT_STATX_SYNC_TYPE: u64 = 0x6000;

const S_IFIFO: u32 = 0o010000;
const S_IFCHR: u32 = 0o020000;
const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;

/// What `struct stat` says about one object.
struct Stat {
    dev: u64,
    ino: u64,
    mode: u32,
    nlink: u32,
    rdev: u64,
    size: u64,
    blksize: u32,
}

/// The console: `/dev/console` (char 5:1) on devtmpfs.
fn console() -> Stat {
    Stat {
        dev: 6,
        ino: 2,
        mode: S_IFCHR | 0o600,
        nlink: 1,
        rdev: (5 << 8) | 1,
        size: 0,
        blksize: 4096,
    }
}

fn node(n: Node) -> Stat {
    match n {
        Node::Dir(d) => Stat {
            dev: if d == Dir::Dev { 6 } else { 1 },
            ino: n.ino(),
            mode: S_IFDIR | 0o755,
            nlink: 2,
            rdev: 0,
            size: 4096,
            blksize: 4096,
        },
        Node::File(data) => Stat {
            dev: 1,
            ino: n.ino(),
            mode: S_IFREG | 0o555,
            nlink: 1,
            rdev: 0,
            size: data.len() as u64,
            blksize: 4096,
        },
        Node::Console => console(),
        // `/dev/null`: char 1:3, `crw-rw-rw-`.
        Node::Null => Stat {
            dev: 6,
            ino: n.ino(),
            mode: S_IFCHR | 0o666,
            nlink: 1,
            rdev: (1 << 8) | 3,
            size: 0,
            blksize: 4096,
        },
    }
}

/// The arch's `struct stat`: x86_64's own layout (144 bytes) or asm-generic's (128 bytes).
fn encode(s: &Stat) -> alloc::vec::Vec<u8> {
    let boot = clock::realtime_offset_ns();
    let (sec, nsec) = (boot / 1_000_000_000, boot % 1_000_000_000);
    let mut b = alloc::vec::Vec::new();
    let mut put = |v: u64, width: usize| b.extend_from_slice(&v.to_ne_bytes()[..width]);
    if cfg!(target_arch = "x86_64") {
        put(s.dev, 8);
        put(s.ino, 8);
        put(u64::from(s.nlink), 8);
        put(u64::from(s.mode), 4);
        put(0, 4); // uid
        put(0, 4); // gid
        put(0, 4); // pad
        put(s.rdev, 8);
        put(s.size, 8);
        put(u64::from(s.blksize), 8);
        put(s.size.div_ceil(512), 8);
    } else {
        put(s.dev, 8);
        put(s.ino, 8);
        put(u64::from(s.mode), 4);
        put(u64::from(s.nlink), 4);
        put(0, 4); // uid
        put(0, 4); // gid
        put(s.rdev, 8);
        put(0, 8); // pad
        put(s.size, 8);
        put(u64::from(s.blksize), 4);
        put(0, 4); // pad
        put(s.size.div_ceil(512), 8);
    }
    for _ in 0..3 {
        put(sec, 8);
        put(nsec, 8);
    }
    let total = if cfg!(target_arch = "x86_64") {
        144
    } else {
        128
    };
    b.resize(total, 0);
    b
}

/// The object open as `fd`.
fn of_fd(k: &Kernel, fd: u64) -> Result<Stat, i32> {
    match k.fd_kind(fd as u32) {
        FdKind::Free => Err(EBADF),
        FdKind::Console => Ok(console()),
        FdKind::Pipe { id, .. } => Ok(Stat {
            dev: 13,
            ino: 1000 + u64::from(id),
            mode: S_IFIFO | 0o600,
            nlink: 1,
            rdev: 0,
            size: 0,
            blksize: 4096,
        }),
        FdKind::File(id) => k.opens.get(id).map(|f| node(f.node)).ok_or(EBADF),
        FdKind::Pidfd(_) => {
            crate::kprintln!("kernel-stub: stat of a pidfd is not implemented: ENOSYS");
            Err(ENOSYS)
        }
    }
}

fn put(buf: u64, s: &Stat) -> SysResult {
    uaccess::write_bytes(buf, &encode(s))
        .map(|()| 0)
        .map_err(|_| EFAULT)
}

/// `fstat(fd, buf)`.
pub fn fstat(k: &Kernel, fd: u64, buf: u64) -> SysResult {
    put(buf, &of_fd(k, fd)?)
}

/// `newfstatat(dfd, path, buf, flags)`; `stat`/`lstat` are it with `AT_FDCWD` (the stub has
/// no symbolic links, so both say the same).
pub fn fstatat(k: &Kernel, dfd: u64, path: u64, buf: u64, flags: u64) -> SysResult {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE) != 0 {
        return Err(EINVAL);
    }
    let name = crate::exec::user_string(path, crate::exec::PATH_MAX, 36)?;
    if name.is_empty() && flags & AT_EMPTY_PATH != 0 {
        if dfd as u32 as i32 == surface::AT_FDCWD as u32 as i32 {
            return put(buf, &node(Node::Dir(Dir::Root)));
        }
        return put(buf, &of_fd(k, dfd)?);
    }
    let n = surface::resolve(k, dfd, &name)?;
    put(buf, &node(n))
}

/// `faccessat2(dfd, path, mode, flags)`; `faccessat` is it with no flags and `access` with
/// `AT_FDCWD` (`do_faccessat`): EINVAL for a mode outside `S_IRWXO` or an unknown flag, the
/// path's errors as for `newfstatat`, then the permission check of uid 0, which may read
/// everything the stub has and execute its files and directories (all have execute bits);
/// `W_OK` is EROFS, as on a read-only mount: nothing the stub has can be written.
pub fn faccessat(k: &Kernel, dfd: u64, path: u64, mode: u64, flags: u64) -> SysResult {
    const S_IRWXO: u64 = 7;
    const W_OK: u64 = 2;
    const EROFS: i32 = 30;
    // `mode` is an int: the upper register half is not part of it.
    if mode as u32 as u64 & !S_IRWXO != 0 {
        return Err(EINVAL);
    }
    if flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(EINVAL);
    }
    let name = crate::exec::user_string(path, crate::exec::PATH_MAX, 36)?;
    if name.is_empty() && flags & AT_EMPTY_PATH != 0 {
        if dfd as u32 as i32 != surface::AT_FDCWD as u32 as i32 {
            // The console or a pipe: a special file, which `W_OK` may write.
            of_fd(k, dfd)?;
            return Ok(0);
        }
    } else {
        surface::resolve(k, dfd, &name)?;
    }
    if mode & W_OK != 0 {
        return Err(EROFS);
    }
    Ok(0)
}
