//! The stub's file tree and the files opened in it: `openat`/`open`/`creat`, and
//! `read`/`readv`/`pread64`/`lseek`/`getdents64` on what they open.
//!
//! The tree is read-only, as a root file system mounted `ro` (an initramfs nobody may change):
//! `/`, `/bin` with the embedded files (`crate::exec::lookup`: the suite programs and the
//! stub's own), and `/dev` (a read-only devtmpfs) with `console` (the tty the program's
//! descriptors 0–2 already are) and `null`. Opening follows Linux's order (`do_sys_openat2`,
//! `build_open_flags`, `path_openat`, `do_open`, `may_open`): the flag checks (EINVAL), the
//! path copy (EFAULT, ENAMETOOLONG, ENOENT for an empty one), a free descriptor (EMFILE),
//! then the walk (ENOENT, ENOTDIR, ENAMETOOLONG for a missing component longer than
//! `NAME_MAX`, as `simple_lookup`), then the last component: creating anything is EROFS, an
//! existing name with `O_CREAT | O_EXCL` EEXIST, a directory with `O_CREAT` or write access
//! EISDIR, write access or `O_TRUNC` to a regular file EROFS (the mount is read-only), a
//! device opens for writing as on Linux (`sb_permission` refuses only files, directories
//! and links), `O_DIRECT` EINVAL (no direct I/O, as ramfs).
//!
//! An open file is one open file description ([`OpenFile`], in the kernel's table
//! [`Opens`]): its position and status flags are shared by the descriptors `dup` and fork
//! make of it, and it is freed with the last one.

use alloc::vec::Vec;

use crate::files::{FdKind, O_CLOEXEC};
use crate::syscall::{EAGAIN, EBADF, EFAULT, EINVAL, SysResult};
use crate::task::{Kernel, State};
use crate::uaccess;

pub const ENOENT: i32 = 2;
const ENXIO: i32 = 6;
const EEXIST: i32 = 17;
pub const ENOTDIR: i32 = 20;
const EISDIR: i32 = 21;
/// `ENFILE`: the open file table is full.
const ENFILE: i32 = 23;
const ESPIPE: i32 = 29;
const EROFS: i32 = 30;
pub const ENAMETOOLONG: i32 = 36;

/// Linux's `NAME_MAX`: the longest component a lookup accepts.
const NAME_MAX: usize = 255;

/// Open flags (`include/uapi/asm-generic/fcntl.h`; aarch64 moves four of them).
pub const O_ACCMODE: u64 = 3;
const O_CREAT: u64 = 0o100;
const O_EXCL: u64 = 0o200;
const O_NOCTTY: u64 = 0o400;
const O_TRUNC: u64 = 0o1000;
pub const O_APPEND: u64 = 0o2000;
pub const O_NONBLOCK: u64 = 0o4000;
const O_DSYNC: u64 = 0o10000;
const FASYNC: u64 = 0o20000;
#[cfg(target_arch = "aarch64")]
mod arch_flags {
    pub const O_DIRECTORY: u64 = 0o40000;
    pub const O_NOFOLLOW: u64 = 0o100000;
    pub const O_DIRECT: u64 = 0o200000;
    pub const O_LARGEFILE: u64 = 0o400000;
}
#[cfg(not(target_arch = "aarch64"))]
mod arch_flags {
    pub const O_DIRECT: u64 = 0o40000;
    pub const O_LARGEFILE: u64 = 0o100000;
    pub const O_DIRECTORY: u64 = 0o200000;
    pub const O_NOFOLLOW: u64 = 0o400000;
}
use arch_flags::{O_DIRECT, O_DIRECTORY, O_LARGEFILE, O_NOFOLLOW};
pub const O_NOATIME: u64 = 0o1000000;
const O_SYNC_BIT: u64 = 0o4000000;
const O_PATH: u64 = 0o10000000;
const O_TMPFILE_BIT: u64 = 0o20000000;
/// `VALID_OPEN_FLAGS`: `open`/`openat` drop any other bit (`build_open_how`).
const VALID_OPEN_FLAGS: u64 = O_ACCMODE
    | O_CREAT
    | O_EXCL
    | O_NOCTTY
    | O_TRUNC
    | O_APPEND
    | O_NONBLOCK
    | O_DSYNC
    | FASYNC
    | O_DIRECT
    | O_LARGEFILE
    | O_DIRECTORY
    | O_NOFOLLOW
    | O_NOATIME
    | O_CLOEXEC
    | O_PATH
    | O_TMPFILE_BIT
    | O_SYNC_BIT;
/// `O_PATH_FLAGS`: what `O_PATH` keeps.
const O_PATH_FLAGS: u64 = O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;

/// How many open file descriptions can exist at once (Linux's `fs.file-max`: ENFILE past it).
const MAX_OPENS: usize = 1024;

/// A directory of the tree.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dir {
    Root,
    Bin,
    Dev,
}

/// What a path names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Node {
    Dir(Dir),
    /// An embedded file of `/bin` (its bytes).
    File(&'static [u8]),
    /// `/dev/console`.
    Console,
    /// `/dev/null`.
    Null,
}

impl Node {
    /// Its path components (for walking `..` and relative paths from it).
    fn dir_parts(self) -> Vec<&'static [u8]> {
        match self {
            Node::Dir(Dir::Bin) => alloc::vec![b"bin".as_slice()],
            Node::Dir(Dir::Dev) => alloc::vec![b"dev".as_slice()],
            _ => Vec::new(),
        }
    }

    /// `d_type` in a directory listing.
    fn d_type(self) -> u8 {
        match self {
            Node::Dir(_) => 4,
            Node::File(_) => 8,
            Node::Console | Node::Null => 2,
        }
    }

    /// Its inode number (as `crate::stat` reports it).
    pub fn ino(self) -> u64 {
        match self {
            Node::Dir(Dir::Root) => 2,
            Node::Dir(Dir::Bin) => 3,
            Node::Dir(Dir::Dev) => 1,
            Node::Console => 2,
            Node::Null => 3,
            Node::File(d) => 16 + d.as_ptr() as u64 % 4093,
        }
    }
}

/// The node at canonical path `parts` (no `.`/`..`), if any.
fn node_at(parts: &[&[u8]]) -> Option<Node> {
    Some(match parts {
        [] => Node::Dir(Dir::Root),
        [b"bin"] => Node::Dir(Dir::Bin),
        [b"dev"] => Node::Dir(Dir::Dev),
        [b"dev", b"console"] => Node::Console,
        [b"dev", b"null"] => Node::Null,
        [b"bin", name] => {
            let path = [b"/bin/".as_slice(), name].concat();
            Node::File(crate::exec::lookup(&path)?)
        }
        _ => return None,
    })
}

/// What a walk found.
pub enum Lookup {
    /// The path names this node.
    Found(Node),
    /// Every component but the last exists (and is a directory), the last does not:
    /// `trailing_slash` when the path ends in `/`.
    Missing { trailing_slash: bool },
}

/// Walks `path` (relative ones from `dfd`: `AT_FDCWD` is `/`, an open directory its own
/// place; any other open descriptor is ENOTDIR, a closed one EBADF). ENOENT for a missing
/// component before the last, ENOTDIR for a non-directory used as one, ENAMETOOLONG for a
/// missing component longer than `NAME_MAX`; an empty path is ENOENT.
pub fn walk(k: &Kernel, dfd: u64, path: &[u8]) -> Result<Lookup, i32> {
    if path.is_empty() {
        return Err(ENOENT);
    }
    let mut parts: Vec<&[u8]> = Vec::new();
    if path[0] != b'/' && dfd as u32 as i32 != crate::surface::AT_FDCWD as u32 as i32 {
        match k.fd_kind(dfd as u32) {
            FdKind::Free => return Err(EBADF),
            FdKind::File(id) => match k.opens.get(id).map(|f| f.node) {
                Some(n @ Node::Dir(_)) => parts = n.dir_parts(),
                _ => return Err(ENOTDIR),
            },
            _ => return Err(ENOTDIR),
        }
    }
    let mut node = node_at(&parts).ok_or(ENOENT)?;
    let comps: Vec<&[u8]> = path.split(|&b| b == b'/').collect();
    for (n, c) in comps.iter().enumerate() {
        if !matches!(node, Node::Dir(_)) {
            return Err(ENOTDIR);
        }
        match *c {
            b"" | b"." => continue,
            b".." => {
                parts.pop();
            }
            _ => parts.push(c),
        }
        node = match node_at(&parts) {
            Some(found) => found,
            None if c.len() > NAME_MAX => return Err(ENAMETOOLONG),
            None => {
                let rest = &comps[n + 1..];
                if rest.iter().all(|r| r.is_empty()) {
                    return Ok(Lookup::Missing {
                        trailing_slash: !rest.is_empty(),
                    });
                }
                return Err(ENOENT);
            }
        };
    }
    Ok(Lookup::Found(node))
}

/// Resolves `path` to an existing node (`walk`, with a missing last component ENOENT).
pub fn resolve(k: &Kernel, dfd: u64, path: &[u8]) -> Result<Node, i32> {
    match walk(k, dfd, path)? {
        Lookup::Found(n) => Ok(n),
        Lookup::Missing { .. } => Err(ENOENT),
    }
}

/// One open file description.
#[derive(Clone, Copy, Debug)]
pub struct OpenFile {
    pub node: Node,
    /// `f_pos`: a byte offset in a file, an entry index in a directory.
    pos: u64,
    /// `f_flags`: the access mode and status flags as `F_GETFL` reports them.
    pub flags: u64,
    /// Descriptors referring to it, in every table.
    refs: u32,
}

impl OpenFile {
    /// `FMODE_READ` (`OPEN_FMODE`: access mode 0 or 2; `O_PATH` has neither mode).
    fn can_read(&self) -> bool {
        self.flags & O_PATH == 0 && matches!(self.flags & O_ACCMODE, 0 | 2)
    }

    /// `FMODE_WRITE` (access mode 1 or 2).
    pub fn can_write(&self) -> bool {
        self.flags & O_PATH == 0 && matches!(self.flags & O_ACCMODE, 1 | 2)
    }
}

/// The kernel's open file descriptions, by id; and the status flags of the console's own
/// description (descriptors 0–2 of a run, one description as init's `/dev/console`).
#[derive(Default)]
pub struct Opens {
    slots: Vec<Option<OpenFile>>,
    /// `O_NONBLOCK`/`O_APPEND` set with `F_SETFL` on descriptors 0–2.
    pub console_flags: u64,
}

impl Opens {
    pub fn get(&self, id: u32) -> Option<&OpenFile> {
        self.slots.get(id as usize).and_then(Option::as_ref)
    }

    fn get_mut(&mut self, id: u32) -> Option<&mut OpenFile> {
        self.slots.get_mut(id as usize).and_then(Option::as_mut)
    }

    /// A descriptor of `kind` is being installed: an open file takes one more reference.
    pub fn get_ref(&mut self, kind: FdKind) {
        if let FdKind::File(id) = kind
            && let Some(f) = self.get_mut(id)
        {
            f.refs += 1;
        }
    }

    /// A descriptor of open file `id` closed: the last one frees it.
    pub fn put(&mut self, id: u32) {
        let Some(f) = self.get_mut(id) else { return };
        f.refs = f.refs.saturating_sub(1);
        if f.refs == 0 {
            self.slots[id as usize] = None;
            while self.slots.last().is_some_and(Option::is_none) {
                self.slots.pop();
            }
            if self.slots.is_empty() {
                self.slots = Vec::new();
            }
        }
    }

    /// `F_SETFL` (`setfl`): `O_APPEND`, `O_NONBLOCK` and `O_NOATIME` change; `O_DIRECT` is
    /// EINVAL (no direct I/O); the console's description when `id` is `None`.
    pub fn set_flags(&mut self, id: Option<u32>, arg: u64) -> Result<(), i32> {
        if arg & O_DIRECT != 0 {
            return Err(EINVAL);
        }
        const SETFL: u64 = O_APPEND | O_NONBLOCK | O_NOATIME;
        match id {
            None => self.console_flags = arg & SETFL,
            Some(id) => {
                if let Some(f) = self.get_mut(id) {
                    f.flags = (f.flags & !SETFL) | (arg & SETFL);
                }
            }
        }
        Ok(())
    }

    /// Forgets everything (the end of a run: every table is gone).
    pub fn clear(&mut self) {
        self.slots = Vec::new();
        self.console_flags = 0;
    }
}

/// `openat(dfd, path, flags, mode)` (`do_sys_openat2` with `build_open_how`'s masking);
/// `open(path, flags, mode)` is it with `AT_FDCWD`, `creat(path, mode)` with
/// `O_CREAT | O_WRONLY | O_TRUNC`. The mode only matters for a file created, and the stub
/// creates none.
pub fn openat(k: &mut Kernel, dfd: u64, path: u64, flags: u64) -> SysResult {
    let mut flags = u64::from(flags as u32) & VALID_OPEN_FLAGS;
    if flags & O_PATH != 0 {
        flags &= O_PATH_FLAGS;
    }
    // `force_o_largefile()` on 64-bit.
    flags |= O_LARGEFILE;
    // build_open_flags.
    if flags & O_CREAT != 0 && flags & O_DIRECTORY != 0 {
        return Err(EINVAL);
    }
    let tmpfile = flags & O_TMPFILE_BIT != 0;
    if tmpfile
        && (flags & (O_TMPFILE_BIT | O_DIRECTORY | O_CREAT) != O_TMPFILE_BIT | O_DIRECTORY
            || flags & O_ACCMODE == 0)
    {
        return Err(EINVAL);
    }
    if flags & O_SYNC_BIT != 0 {
        flags |= O_DSYNC;
    }
    let write = flags & O_PATH == 0 && (flags & O_ACCMODE != 0 || flags & O_TRUNC != 0);
    // getname, then get_unused_fd_flags.
    let name = crate::exec::user_string(path, crate::exec::PATH_MAX, ENAMETOOLONG)?;
    if name.is_empty() {
        return Err(ENOENT);
    }
    if k.files().borrow().lowest_free_fd().is_none() {
        return Err(crate::files::EMFILE);
    }
    // path_openat.
    let found = walk(k, dfd, &name);
    let node = if tmpfile {
        // do_tmpfile: the directory is looked up, then `mnt_want_write` fails.
        match found? {
            Lookup::Found(Node::Dir(_)) => return Err(EROFS),
            Lookup::Found(_) => return Err(ENOTDIR),
            Lookup::Missing { .. } => return Err(ENOENT),
        }
    } else {
        match found? {
            Lookup::Missing { trailing_slash } => {
                return Err(if flags & O_CREAT == 0 {
                    ENOENT
                } else if trailing_slash {
                    EISDIR
                } else {
                    EROFS
                });
            }
            Lookup::Found(n) => n,
        }
    };
    if flags & O_PATH == 0 {
        // do_open.
        if flags & O_CREAT != 0 && flags & O_EXCL != 0 {
            return Err(EEXIST);
        }
        let is_dir = matches!(node, Node::Dir(_));
        if flags & O_DIRECTORY != 0 && !is_dir {
            return Err(ENOTDIR);
        }
        if flags & O_CREAT != 0 && is_dir {
            return Err(EISDIR);
        }
        if matches!(node, Node::File(_)) && flags & O_TRUNC != 0 {
            return Err(EROFS);
        }
        // may_open.
        if is_dir && write {
            return Err(EISDIR);
        }
        if matches!(node, Node::File(_)) && write {
            return Err(EROFS);
        }
        // vfs_open: no direct I/O.
        if flags & O_DIRECT != 0 {
            return Err(EINVAL);
        }
    } else if flags & O_DIRECTORY != 0 && !matches!(node, Node::Dir(_)) {
        return Err(ENOTDIR);
    }
    let id = match k.opens.slots.iter().position(Option::is_none) {
        Some(n) => n,
        None if k.opens.slots.len() < MAX_OPENS => {
            k.opens.slots.push(None);
            k.opens.slots.len() - 1
        }
        None => return Err(ENFILE),
    };
    k.opens.slots[id] = Some(OpenFile {
        node,
        pos: 0,
        // do_dentry_open drops the open-time flags.
        flags: flags & !(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC),
        refs: 0,
    });
    let fd = k.install_fd(FdKind::File(id as u32), flags & O_CLOEXEC != 0, 0);
    if fd.is_err() {
        k.opens.slots[id] = None;
    }
    fd.map(u64::from)
}

/// Where a `read` on a descriptor that is neither a pipe nor a pidfd goes.
#[derive(Clone, Copy)]
pub enum Source {
    /// The console, `O_NONBLOCK` or not.
    Console {
        nonblock: bool,
    },
    Null,
    /// A file of `/bin` (open file `id`).
    File(u32),
    Dir,
}

/// `read`'s descriptor checks (`fdget_pos`, `FMODE_READ`): EBADF for a closed fd, one not
/// open for reading, or an `O_PATH` one.
pub fn source(k: &Kernel, fd: u64) -> Result<Source, i32> {
    match k.fd_kind(fd as u32) {
        FdKind::Console => Ok(Source::Console {
            nonblock: k.opens.console_flags & O_NONBLOCK != 0,
        }),
        FdKind::File(id) => {
            let f = k.opens.get(id).ok_or(EBADF)?;
            if !f.can_read() {
                return Err(EBADF);
            }
            Ok(match f.node {
                Node::Console => Source::Console {
                    nonblock: f.flags & O_NONBLOCK != 0,
                },
                Node::Null => Source::Null,
                Node::File(_) => Source::File(id),
                Node::Dir(_) => Source::Dir,
            })
        }
        _ => Err(EBADF),
    }
}

/// The read itself, into `vecs` (checked by the caller), at the description's position
/// (advanced) or at `at` (`pread64`): a file gives its bytes up to its end (EFAULT if
/// nothing could be copied), `/dev/null` 0, a directory EISDIR (`generic_read_dir`), the
/// console what input has arrived (`n_tty_read`: if none, EAGAIN for `O_NONBLOCK`, else the
/// task sleeps until some arrives, `None`). 0 asked is 0.
pub fn read(
    k: &mut Kernel,
    i: usize,
    src: Source,
    vecs: &[(u64, u64)],
    at: Option<u64>,
) -> Option<SysResult> {
    let total: u64 = vecs.iter().map(|v| v.1).sum();
    match src {
        Source::Dir => Some(Err(EISDIR)),
        Source::Null => Some(Ok(0)),
        _ if total == 0 => Some(Ok(0)),
        Source::Console { nonblock } => {
            let mut done = 0u64;
            for &(base, len) in vecs {
                let mut off = 0;
                while off < len {
                    let mut chunk = [0u8; 64];
                    let want = (len - off).min(chunk.len() as u64) as usize;
                    let n = crate::arch::console_read(&mut chunk[..want]);
                    if n == 0 {
                        break;
                    }
                    // ICRNL: the terminal's Enter (CR) reads as a newline.
                    for b in &mut chunk[..n] {
                        if *b == b'\r' {
                            *b = b'\n';
                        }
                    }
                    if uaccess::write_bytes(base + off, &chunk[..n]).is_err() {
                        return Some(if done > 0 { Ok(done) } else { Err(EFAULT) });
                    }
                    off += n as u64;
                    done += n as u64;
                }
                if off < len {
                    break;
                }
            }
            if done > 0 {
                return Some(Ok(done));
            }
            if nonblock {
                return Some(Err(EAGAIN));
            }
            k.task(i).state = State::PollWait {
                deadline: None,
                console: true,
            };
            None
        }
        Source::File(id) => {
            let Some(f) = k.opens.get_mut(id) else {
                return Some(Err(EBADF));
            };
            let Node::File(data) = f.node else {
                return Some(Err(EBADF));
            };
            let mut pos = at.unwrap_or(f.pos);
            let mut done = 0u64;
            for &(base, len) in vecs {
                let start = pos.min(data.len() as u64) as usize;
                let n = (data.len() - start).min(len as usize);
                if n == 0 {
                    break;
                }
                if uaccess::write_bytes(base, &data[start..start + n]).is_err() {
                    if done == 0 {
                        return Some(Err(EFAULT));
                    }
                    break;
                }
                pos += n as u64;
                done += n as u64;
                if (n as u64) < len {
                    break;
                }
            }
            if at.is_none() {
                f.pos = pos;
            }
            Some(Ok(done))
        }
    }
}

/// `pread64(fd, buf, count, pos)` (`ksys_pread64`, `vfs_read`, `rw_verify_area`): EINVAL
/// for a negative position, EBADF, ESPIPE for what has no position (the console, a pipe),
/// EINVAL for a pidfd (no read method), EFAULT if `access_ok` refuses the buffer, EINVAL
/// when position + count overflows, then the read at `pos` (the position is not moved).
pub fn pread64(k: &mut Kernel, i: usize, fd: u64, buf: u64, count: u64, pos: u64) -> SysResult {
    if (pos as i64) < 0 {
        return Err(EINVAL);
    }
    let src = match k.fd_kind(fd as u32) {
        FdKind::Free => return Err(EBADF),
        FdKind::Pipe { .. } | FdKind::Console => return Err(ESPIPE),
        FdKind::Pidfd(_) => return Err(ESPIPE),
        FdKind::File(_) => source(k, fd)?,
    };
    if matches!(src, Source::Console { .. }) {
        return Err(ESPIPE);
    }
    if !uaccess::range_ok(buf, count) {
        return Err(EFAULT);
    }
    if (count as i64) < 0 || (pos.wrapping_add(count) as i64) < 0 {
        return Err(EINVAL);
    }
    let count = count.min(MAX_RW_COUNT);
    read(k, i, src, &[(buf, count)], Some(pos)).unwrap_or(Err(EAGAIN))
}

/// Linux's `MAX_RW_COUNT`.
const MAX_RW_COUNT: u64 = 0x7fff_f000;

const SEEK_SET: u64 = 0;
const SEEK_CUR: u64 = 1;
const SEEK_END: u64 = 2;
const SEEK_DATA: u64 = 3;
const SEEK_HOLE: u64 = 4;

/// `lseek(fd, offset, whence)` (`ksys_lseek`): EBADF (an `O_PATH` descriptor too), EINVAL
/// for `whence` past `SEEK_HOLE`, ESPIPE for what cannot seek (the console, pipes, pidfds),
/// then the object's own `llseek`: a file's `generic_file_llseek` (EINVAL for a negative
/// result, ENXIO for `SEEK_DATA`/`SEEK_HOLE` at or past the end), a directory's
/// `dcache_dir_lseek` (`SEEK_SET`/`SEEK_CUR` only), `/dev/null`'s `null_lseek` (always 0).
pub fn lseek(k: &mut Kernel, fd: u64, offset: u64, whence: u64) -> SysResult {
    let whence = u64::from(whence as u32);
    let id = match k.fd_kind(fd as u32) {
        FdKind::Free => return Err(EBADF),
        FdKind::File(id) => id,
        _ if whence > SEEK_HOLE => return Err(EINVAL),
        _ => return Err(ESPIPE),
    };
    let f = k.opens.get_mut(id).ok_or(EBADF)?;
    if f.flags & O_PATH != 0 {
        return Err(EBADF);
    }
    if whence > SEEK_HOLE {
        return Err(EINVAL);
    }
    let off = offset as i64;
    let cur = f.pos as i64;
    let new = match f.node {
        Node::Console => return Err(ESPIPE),
        Node::Null => 0,
        Node::Dir(_) => match whence {
            SEEK_SET => off,
            SEEK_CUR => off.wrapping_add(cur),
            _ => return Err(EINVAL),
        },
        Node::File(data) => {
            let eof = data.len() as i64;
            match whence {
                SEEK_SET => off,
                SEEK_CUR => off.wrapping_add(cur),
                SEEK_END => off.wrapping_add(eof),
                SEEK_DATA if off < 0 || off >= eof => return Err(ENXIO),
                SEEK_DATA => off,
                SEEK_HOLE if off < 0 || off >= eof => return Err(ENXIO),
                _ => eof,
            }
        }
    };
    if new < 0 {
        return Err(EINVAL);
    }
    f.pos = new as u64;
    Ok(new as u64)
}

/// The entries of directory `d`: `.`, `..`, then its children (`dcache_readdir` order).
fn entries(d: Dir) -> Vec<(Vec<u8>, Node)> {
    let mut v: Vec<(Vec<u8>, Node)> = alloc::vec![
        (b".".to_vec(), Node::Dir(d)),
        (
            b"..".to_vec(),
            Node::Dir(if d == Dir::Dev || d == Dir::Bin {
                Dir::Root
            } else {
                d
            })
        ),
    ];
    match d {
        Dir::Root => {
            v.push((b"bin".to_vec(), Node::Dir(Dir::Bin)));
            v.push((b"dev".to_vec(), Node::Dir(Dir::Dev)));
        }
        Dir::Dev => {
            v.push((b"console".to_vec(), Node::Console));
            v.push((b"null".to_vec(), Node::Null));
        }
        Dir::Bin => {
            let mut names: Vec<Vec<u8>> = crate::exec::files()
                .iter()
                .filter(|f| !f.data.is_empty())
                .filter_map(|f| f.path.as_bytes().strip_prefix(b"/bin/").map(<[u8]>::to_vec))
                .collect();
            for (n, _) in crate::programs::PROGRAMS {
                if !names.iter().any(|m| m == n.as_bytes()) {
                    names.push(n.as_bytes().to_vec());
                }
            }
            for n in names {
                if let Some(node) = node_at(&[b"bin", &n]) {
                    v.push((n, node));
                }
            }
        }
    }
    v
}

/// `getdents64(fd, dirent, count)` (`iterate_dir`, `filldir64`): EBADF for a closed fd (or an
/// `O_PATH` one), ENOTDIR for anything but a directory, then `struct linux_dirent64` records
/// from the description's position on, as many as fit; EINVAL if the first does not fit,
/// EFAULT if it cannot be written. 0 at the end.
pub fn getdents64(k: &mut Kernel, fd: u64, dirent: u64, count: u64) -> SysResult {
    let count = u64::from(count as u32);
    let id = match k.fd_kind(fd as u32) {
        FdKind::Free => return Err(EBADF),
        FdKind::File(id) => id,
        _ => return Err(ENOTDIR),
    };
    let f = k.opens.get_mut(id).ok_or(EBADF)?;
    if f.flags & O_PATH != 0 {
        return Err(EBADF);
    }
    let Node::Dir(d) = f.node else {
        return Err(ENOTDIR);
    };
    let all = entries(d);
    let mut out: Vec<u8> = Vec::new();
    let mut pos = f.pos;
    while let Some((name, node)) = all.get(pos as usize) {
        let reclen = (19 + name.len() + 1).next_multiple_of(8);
        if out.len() + reclen > count as usize {
            if out.is_empty() {
                return Err(EINVAL);
            }
            break;
        }
        let start = out.len();
        out.extend_from_slice(&node.ino().to_ne_bytes());
        out.extend_from_slice(&(pos + 1).to_ne_bytes());
        out.extend_from_slice(&(reclen as u16).to_ne_bytes());
        out.push(node.d_type());
        out.extend_from_slice(name);
        out.resize(start + reclen, 0);
        pos += 1;
    }
    if !out.is_empty() {
        uaccess::write_bytes(dirent, &out).map_err(|_| EFAULT)?;
    }
    f.pos = pos;
    Ok(out.len() as u64)
}
