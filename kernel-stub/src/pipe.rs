//! Pipes (`fs/pipe.c`): `pipe2`/`pipe`, and `read`/`write`/`readv`/`writev` on their ends.
//!
//! A pipe is a ring buffer of one page (4096 bytes, `PIPE_BUF`: what Linux gives a pipe when
//! its user is over `pipe-user-pages-soft` is two pages; the stub picks one page so a pipe
//! costs 4 KiB of its 1 MiB heap, and every write of up to `PIPE_BUF` bytes is atomic as on
//! Linux). The pipe lives in the kernel's pipe table ([`Pipes`]) with a count of open read
//! and write descriptors across every descriptor table; it is freed when both reach zero.
//!
//! Blocking uses the scheduler's states: a reader with nothing to read while writers exist,
//! or a writer with no room, sleeps in `State::PipeWait`; anything that changes the pipe
//! (bytes written or read, an end's last descriptor closed, by `close`, `execve`'s
//! close-on-exec or an exit) makes its sleepers `State::Retry`, and each runs its call again
//! when it is scheduled (a writer keeps the count it has already written). So a reader whose
//! last writer exits wakes and reads 0 (EOF), and a writer whose last reader exits wakes and
//! gets EPIPE and SIGPIPE. A pipe nobody can ever change leaves its sleepers in the
//! scheduler's deadlock check, which ends the run: the kernel never hangs.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::files::{FdKind, O_CLOEXEC};
use crate::syscall::{EAGAIN, EBADF, EFAULT, EINVAL, SysResult};
use crate::task::{Kernel, State};
use crate::uaccess;

/// Bytes a pipe holds (one page).
pub const PIPE_SIZE: usize = 4096;
/// Writes up to this size are atomic (`PIPE_BUF`).
const PIPE_BUF: u64 = 4096;

const EPIPE: i32 = 32;
/// `ENFILE`: the pipe table is full.
const ENFILE: i32 = 23;
/// `ENOPKG`: `O_NOTIFICATION_PIPE` on a kernel without `CONFIG_WATCH_QUEUE`.
const ENOPKG: i32 = 65;
const SIGPIPE: u64 = 13;

pub const O_NONBLOCK: u64 = 0o4000;
const O_APPEND: u64 = 0o2000;
/// `O_NOTIFICATION_PIPE` is `O_EXCL`.
const O_NOTIFICATION_PIPE: u64 = 0o200;
#[cfg(target_arch = "aarch64")]
const O_DIRECT: u64 = 0o200000;
#[cfg(not(target_arch = "aarch64"))]
const O_DIRECT: u64 = 0o40000;
const O_WRONLY: u64 = 1;
/// How many pipes can exist at once (Linux's limit is `fs.file-max`: ENFILE past it).
const MAX_PIPES: usize = 512;

/// One pipe.
struct Pipe {
    buf: Box<[u8]>,
    /// Index of the oldest byte.
    head: usize,
    /// Bytes held.
    len: usize,
    /// Open descriptors of each end, in every table.
    readers: u32,
    writers: u32,
    /// Each end's file status flags (`O_NONBLOCK`, `O_APPEND`): one open file description
    /// per end, shared by its `dup`s and by the copies a fork makes.
    read_flags: u64,
    write_flags: u64,
}

/// The kernel's pipes, by id.
#[derive(Default)]
pub struct Pipes {
    slots: Vec<Option<Pipe>>,
}

impl Pipes {
    fn get(&mut self, id: u32) -> Option<&mut Pipe> {
        self.slots.get_mut(id as usize).and_then(Option::as_mut)
    }

    /// A descriptor of `kind` is being installed: a pipe end takes one more reference.
    pub fn get_ref(&mut self, kind: FdKind) {
        if let FdKind::Pipe { id, write } = kind
            && let Some(p) = self.get(id)
        {
            if write {
                p.writers += 1;
            } else {
                p.readers += 1;
            }
        }
    }

    /// A descriptor of pipe `id`'s end closed; `true` when it was that end's last one (the
    /// other side's sleepers must see it). The pipe is freed with its last descriptor.
    pub fn put(&mut self, id: u32, write: bool) -> bool {
        let Some(p) = self.get(id) else {
            return false;
        };
        let count = if write {
            &mut p.writers
        } else {
            &mut p.readers
        };
        *count = count.saturating_sub(1);
        let last = *count == 0;
        if p.readers == 0 && p.writers == 0 {
            self.slots[id as usize] = None;
            while self.slots.last().is_some_and(Option::is_none) {
                self.slots.pop();
            }
            if self.slots.is_empty() {
                self.slots = Vec::new();
            }
        }
        last
    }

    /// An end's `F_GETFL` flags: its access mode and status flags.
    pub fn flags(&mut self, id: u32, write: bool) -> u64 {
        match self.get(id) {
            Some(p) if write => O_WRONLY | p.write_flags,
            Some(p) => p.read_flags,
            None => 0,
        }
    }

    /// `F_SETFL` on an end (`setfl`): `O_NONBLOCK` and `O_APPEND` change, the other bits
    /// are ignored; `O_DIRECT` (packet mode) is EINVAL, as the stub's pipes have none.
    pub fn set_flags(&mut self, id: u32, write: bool, arg: u64) -> Result<(), i32> {
        if arg & O_DIRECT != 0 {
            return Err(EINVAL);
        }
        if let Some(p) = self.get(id) {
            let f = if write {
                &mut p.write_flags
            } else {
                &mut p.read_flags
            };
            *f = arg & (O_NONBLOCK | O_APPEND);
        }
        Ok(())
    }

    /// Bytes pipe `id` holds (`FIONREAD`).
    pub fn held(&mut self, id: u32) -> u32 {
        self.get(id).map_or(0, |p| p.len as u32)
    }

    /// Pipe `id`'s bytes held, readers and writers (for `poll`); a freed pipe has none.
    pub fn state(&self, id: u32) -> (usize, u32, u32) {
        self.slots
            .get(id as usize)
            .and_then(Option::as_ref)
            .map_or((0, 0, 0), |p| (p.len, p.readers, p.writers))
    }

    /// Forgets every pipe (the end of a run: their tasks are gone).
    pub fn clear(&mut self) {
        self.slots = Vec::new();
    }
}

impl Kernel {
    /// Makes every task sleeping on pipe `id` run its call again.
    pub fn wake_pipe(&mut self, id: u32) {
        for t in self.tasks_mut() {
            if let State::PipeWait { pipe, done } = t.state
                && pipe == id
            {
                t.state = State::Retry { done };
            }
        }
        // Pollers look at every pipe they watch again.
        self.wake_pollers();
    }
}

/// `pipe2(fildes, flags)` (`do_pipe2`, `__do_pipe_flags`): EINVAL for flags other than
/// `O_CLOEXEC`, `O_NONBLOCK`, `O_DIRECT` and `O_NOTIFICATION_PIPE`; `O_NOTIFICATION_PIPE` is
/// ENOPKG (no `CONFIG_WATCH_QUEUE`) and `O_DIRECT` EINVAL (the stub has no packet mode: see
/// the README); ENFILE when the pipe table is full, EMFILE without two free descriptors,
/// then EFAULT if the two ints cannot be written (the descriptors are closed again).
/// `pipe(fildes)` is `pipe2(fildes, 0)`.
pub fn pipe2(k: &mut Kernel, fildes: u64, flags: u64) -> SysResult {
    let flags = u64::from(flags as u32);
    if flags & !(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE) != 0 {
        return Err(EINVAL);
    }
    if flags & O_NOTIFICATION_PIPE != 0 {
        return Err(ENOPKG);
    }
    if flags & O_DIRECT != 0 {
        return Err(EINVAL);
    }
    let id = match k.pipes.slots.iter().position(Option::is_none) {
        Some(n) => n,
        None if k.pipes.slots.len() < MAX_PIPES => {
            k.pipes.slots.push(None);
            k.pipes.slots.len() - 1
        }
        None => return Err(ENFILE),
    };
    let status = flags & O_NONBLOCK;
    k.pipes.slots[id] = Some(Pipe {
        buf: alloc::vec![0u8; PIPE_SIZE].into_boxed_slice(),
        head: 0,
        len: 0,
        readers: 0,
        writers: 0,
        read_flags: status,
        write_flags: status,
    });
    let id = id as u32;
    let cloexec = flags & O_CLOEXEC != 0;
    let read = FdKind::Pipe { id, write: false };
    let write = FdKind::Pipe { id, write: true };
    let rfd = match k.install_fd(read, cloexec, 0) {
        Ok(fd) => fd,
        Err(e) => {
            k.pipes.slots[id as usize] = None;
            return Err(e);
        }
    };
    let wfd = match k.install_fd(write, cloexec, 0) {
        Ok(fd) => fd,
        Err(e) => {
            k.close_fd(rfd);
            return Err(e);
        }
    };
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&(rfd as i32).to_ne_bytes());
    out[4..].copy_from_slice(&(wfd as i32).to_ne_bytes());
    if uaccess::write_bytes(fildes, &out).is_err() {
        k.close_fd(rfd);
        k.close_fd(wfd);
        return Err(EFAULT);
    }
    Ok(0)
}

/// Which object a `read`/`write` on `fd` goes to, after `ksys_read`/`vfs_read`'s checks
/// (EBADF for a closed fd or the wrong end, EINVAL for a pidfd, which has neither method).
pub enum Target {
    Console,
    Pipe(u32),
    /// `/dev/null` (`write_null`: everything is taken).
    Null,
}

/// `fd` as a `read` target: a pipe's read end, or the console (`crate::open` reads it and
/// the files of the tree).
pub fn read_target(k: &Kernel, fd: u64) -> Result<Target, i32> {
    match k.fd_kind(fd as u32) {
        FdKind::Free | FdKind::Pipe { write: true, .. } | FdKind::File(_) => Err(EBADF),
        FdKind::Pidfd(_) => Err(EINVAL),
        FdKind::Pipe { id, write: false } => Ok(Target::Pipe(id)),
        FdKind::Console => Ok(Target::Console),
    }
}

/// `fd` as a `write` target: the console, a pipe's write end, or an open `/dev/console` or
/// `/dev/null` (the tree's files and directories never open for writing: EBADF).
pub fn write_target(k: &Kernel, fd: u64) -> Result<Target, i32> {
    match k.fd_kind(fd as u32) {
        FdKind::Free | FdKind::Pipe { write: false, .. } => Err(EBADF),
        FdKind::Pidfd(_) => Err(EINVAL),
        FdKind::Pipe { id, write: true } => Ok(Target::Pipe(id)),
        FdKind::Console => Ok(Target::Console),
        FdKind::File(id) => match k.opens.get(id) {
            Some(f) if f.can_write() => match f.node {
                crate::open::Node::Console => Ok(Target::Console),
                crate::open::Node::Null => Ok(Target::Null),
                _ => Err(EBADF),
            },
            _ => Err(EBADF),
        },
    }
}

/// `pipe_read` for task `i` into the buffers `vecs` (checked by the caller): what is in the
/// pipe, up to the total asked (0 asked: 0); an empty pipe is EOF (0) without writers,
/// EAGAIN for `O_NONBLOCK`, else the task sleeps (`None`). EFAULT when nothing could be
/// copied out.
pub fn read(k: &mut Kernel, i: usize, id: u32, vecs: &[(u64, u64)]) -> Option<SysResult> {
    let total: u64 = vecs.iter().map(|v| v.1).sum();
    if total == 0 {
        return Some(Ok(0));
    }
    let Some(p) = k.pipes.get(id) else {
        return Some(Err(EBADF));
    };
    if p.len == 0 {
        if p.writers == 0 {
            return Some(Ok(0));
        }
        if p.read_flags & O_NONBLOCK != 0 {
            return Some(Err(EAGAIN));
        }
        k.task(i).state = State::PipeWait { pipe: id, done: 0 };
        return None;
    }
    let mut done = 0u64;
    'outer: for &(base, len) in vecs {
        let mut off = 0u64;
        while off < len && p.len > 0 {
            let run = (PIPE_SIZE - p.head).min(p.len).min((len - off) as usize);
            if uaccess::write_bytes(base + off, &p.buf[p.head..p.head + run]).is_err() {
                break 'outer;
            }
            p.head = (p.head + run) % PIPE_SIZE;
            p.len -= run;
            off += run as u64;
            done += run as u64;
        }
        if p.len == 0 {
            break;
        }
    }
    if p.len == 0 {
        p.head = 0;
    }
    if done == 0 {
        return Some(Err(EFAULT));
    }
    k.wake_pipe(id);
    Some(Ok(done))
}

/// `pipe_write` for task `i` from the buffers `vecs` (checked by the caller), `already`
/// bytes of them written before it slept: 0 asked is 0; no readers is SIGPIPE for the task
/// and EPIPE (or the count written so far); a write of up to `PIPE_BUF` bytes waits until
/// it fits whole, a longer one writes what fits and waits for the rest; `O_NONBLOCK`
/// returns what was written, or EAGAIN if nothing. EFAULT when nothing could be copied in.
pub fn write(
    k: &mut Kernel,
    i: usize,
    id: u32,
    vecs: &[(u64, u64)],
    already: u64,
) -> Option<SysResult> {
    let total: u64 = vecs.iter().map(|v| v.1).sum();
    if total == 0 {
        return Some(Ok(0));
    }
    let mut done = already;
    let result = loop {
        let Some(p) = k.pipes.get(id) else {
            break Err(EBADF);
        };
        if p.readers == 0 {
            crate::signal::send_sig(k, i, SIGPIPE);
            break if done > 0 { Ok(done) } else { Err(EPIPE) };
        }
        let left = total - done;
        let room = (PIPE_SIZE - p.len) as u64;
        if room == 0 || (left <= PIPE_BUF && room < left) {
            if p.write_flags & O_NONBLOCK != 0 {
                break if done > 0 { Ok(done) } else { Err(EAGAIN) };
            }
            // What was written so far is for the readers to take.
            k.wake_pipe(id);
            k.task(i).state = State::PipeWait { pipe: id, done };
            return None;
        }
        // Copy `room` bytes (or what is left) from the vectors, starting `done` bytes in.
        let mut want = left.min(room);
        let mut skip = done;
        let mut copied = 0u64;
        let mut fault = false;
        let mut chunk = [0u8; 512];
        for &(base, len) in vecs {
            if want == 0 {
                break;
            }
            if skip >= len {
                skip -= len;
                continue;
            }
            let mut off = skip;
            skip = 0;
            while off < len && want > 0 {
                let n = (len - off).min(want).min(chunk.len() as u64) as usize;
                if uaccess::read_bytes(base + off, &mut chunk[..n]).is_err() {
                    fault = true;
                    break;
                }
                for &b in &chunk[..n] {
                    let tail = (p.head + p.len) % PIPE_SIZE;
                    p.buf[tail] = b;
                    p.len += 1;
                }
                off += n as u64;
                want -= n as u64;
                copied += n as u64;
            }
            if fault {
                break;
            }
        }
        done += copied;
        if fault {
            break if done > 0 { Ok(done) } else { Err(EFAULT) };
        }
        if done == total {
            break Ok(done);
        }
    };
    k.wake_pipe(id);
    Some(result)
}
