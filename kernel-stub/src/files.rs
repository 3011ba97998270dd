//! Per-process descriptor tables (Linux's `files_struct`), and the calls that work on
//! descriptors of any kind: `close`, `dup`, `dup2`, `dup3`, `fcntl`.
//!
//! A table is shared by tasks created with `CLONE_FILES` (threads) and copied at a clone
//! without it (fork, vfork, musl's `posix_spawn` `clone(CLONE_VM | CLONE_VFORK)`), as
//! `copy_files`/`dup_fd` do. `execve` unshares it and closes the close-on-exec descriptors;
//! the last task using a table closes everything in it when it exits. What a descriptor
//! refers to ([`FdKind`]) is a small value; a pipe end holds a reference on its pipe
//! (`crate::pipe`), taken when it is installed and dropped when it is closed
//! ([`Kernel::install_fd`], [`Kernel::release`]).

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::syscall::{EBADF, EINVAL, SysResult};
use crate::task::Kernel;

/// Size of a table: Linux's default `RLIMIT_NOFILE` soft limit (1024), so descriptors are
/// 0..=1023 and the 1022nd pidfd (with the console on 0..=2) is EMFILE.
pub const MAX_FDS: usize = 1024;

/// `EMFILE`: no free descriptor.
pub const EMFILE: i32 = 24;

/// `O_CLOEXEC` (the same on the three arches).
pub const O_CLOEXEC: u64 = 0o2000000;

/// What a descriptor refers to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FdKind {
    /// Not open.
    Free,
    /// The console (0, 1 and 2 at the start of a run).
    Console,
    /// A pidfd from `CLONE_PIDFD`, for the task with this tid.
    Pidfd(u32),
    /// One end of pipe `id` (`crate::pipe`): the write end when `write`.
    Pipe { id: u32, write: bool },
    /// Open file description `id` of the stub's tree (`crate::open`).
    File(u32),
}

/// One slot of a table.
#[derive(Clone, Copy, Debug)]
struct Fd {
    kind: FdKind,
    /// `FD_CLOEXEC`.
    cloexec: bool,
}

const FREE: Fd = Fd {
    kind: FdKind::Free,
    cloexec: false,
};

/// A descriptor table: slot `n` is descriptor `n`. It holds only up to the highest open
/// descriptor (a fork copies a few entries, not 1024).
#[derive(Clone, Default)]
pub struct FdTable {
    fds: Vec<Fd>,
}

/// A table as tasks hold it (shared by `CLONE_FILES`).
pub type Files = Rc<RefCell<FdTable>>;

impl FdTable {
    /// An empty table.
    pub fn empty() -> Files {
        Rc::new(RefCell::new(FdTable::default()))
    }

    /// The first program's table: the console on 0, 1 and 2.
    pub fn console() -> Files {
        let t = FdTable {
            fds: alloc::vec![
                Fd {
                    kind: FdKind::Console,
                    cloexec: false,
                };
                3
            ],
        };
        Rc::new(RefCell::new(t))
    }

    /// What `fd` refers to.
    pub fn get(&self, fd: u32) -> FdKind {
        self.fds.get(fd as usize).map_or(FdKind::Free, |f| f.kind)
    }

    /// `FD_CLOEXEC` of an open `fd`.
    fn cloexec(&self, fd: u32) -> Option<bool> {
        self.fds
            .get(fd as usize)
            .filter(|f| f.kind != FdKind::Free)
            .map(|f| f.cloexec)
    }

    /// The lowest free descriptor at or above `from` (`alloc_fd`).
    fn lowest_free(&self, from: usize) -> Option<usize> {
        (from..MAX_FDS).find(|&n| self.fds.get(n).is_none_or(|f| f.kind == FdKind::Free))
    }

    /// The descriptor `open` would get (`get_unused_fd_flags`), if any is free.
    pub fn lowest_free_fd(&self) -> Option<usize> {
        self.lowest_free(0)
    }

    /// Puts `kind` in slot `fd` (below `MAX_FDS`); returns what was there.
    fn set(&mut self, fd: usize, kind: FdKind, cloexec: bool) -> FdKind {
        if self.fds.len() <= fd {
            self.fds.resize(fd + 1, FREE);
        }
        core::mem::replace(&mut self.fds[fd], Fd { kind, cloexec }).kind
    }

    /// Empties slot `fd`; returns what was there.
    fn take(&mut self, fd: u32) -> FdKind {
        let Some(slot) = self.fds.get_mut(fd as usize) else {
            return FdKind::Free;
        };
        let kind = core::mem::replace(slot, FREE).kind;
        while self.fds.last().is_some_and(|f| f.kind == FdKind::Free) {
            self.fds.pop();
        }
        if self.fds.is_empty() {
            self.fds = Vec::new();
        }
        kind
    }

    /// Every open descriptor's object.
    pub fn kinds(&self) -> impl Iterator<Item = FdKind> + '_ {
        self.fds
            .iter()
            .map(|f| f.kind)
            .filter(|&k| k != FdKind::Free)
    }
}

impl Kernel {
    /// The calling task's table (the scheduler's current task: syscalls run for it).
    pub fn files(&self) -> Files {
        self.current_task().files.clone()
    }

    /// What descriptor `fd` of the calling task refers to.
    pub fn fd_kind(&self, fd: u32) -> FdKind {
        self.current_task().files.borrow().get(fd)
    }

    /// Installs `kind` at the lowest free descriptor at or above `from` of the calling task
    /// (taking a reference on a pipe end); EMFILE when there is none.
    pub fn install_fd(&mut self, kind: FdKind, cloexec: bool, from: usize) -> Result<u32, i32> {
        let files = self.files();
        let mut t = files.borrow_mut();
        let fd = t.lowest_free(from).ok_or(EMFILE)?;
        self.hold(kind);
        t.set(fd, kind, cloexec);
        Ok(fd as u32)
    }

    /// A pidfd placeholder at the lowest free descriptor (Linux's `get_unused_fd_flags`;
    /// pidfds are always `O_CLOEXEC`); [`Kernel::set_pidfd_pid`] fills in the task.
    pub fn alloc_fd(&mut self) -> Option<u32> {
        self.install_fd(FdKind::Pidfd(0), true, 0).ok()
    }

    /// Records which task pidfd `fd` refers to (once its tid is known).
    pub fn set_pidfd_pid(&mut self, fd: u32, tid: u32) {
        let files = self.files();
        let mut t = files.borrow_mut();
        if let Some(c) = t.cloexec(fd) {
            t.set(fd as usize, FdKind::Pidfd(tid), c);
        }
    }

    /// Closes `fd` of the calling task; `false` if it is not open.
    pub fn close_fd(&mut self, fd: u32) -> bool {
        let kind = self.files().borrow_mut().take(fd);
        if kind == FdKind::Free {
            return false;
        }
        self.release(kind);
        true
    }

    /// Takes the reference a new descriptor of `kind` holds (a pipe end, an open file).
    pub fn hold(&mut self, kind: FdKind) {
        self.pipes.get_ref(kind);
        self.opens.get_ref(kind);
    }

    /// Drops the reference a closed descriptor held (a pipe end: wakes the other side when
    /// it was the last one, frees the pipe when both ends are gone).
    pub fn release(&mut self, kind: FdKind) {
        if let FdKind::Pipe { id, write } = kind
            && self.pipes.put(id, write)
        {
            self.wake_pipe(id);
        }
        if let FdKind::File(id) = kind {
            self.opens.put(id);
        }
    }

    /// A copy of `files` for a clone without `CLONE_FILES` (`dup_fd`): every descriptor
    /// with its close-on-exec bit, each pipe end one more reference.
    pub fn copy_files(&mut self, files: &Files) -> Files {
        let copy = files.borrow().clone();
        for kind in copy.kinds() {
            self.hold(kind);
        }
        Rc::new(RefCell::new(copy))
    }

    /// A task is done with `files` (exit): if no other task uses the table, everything in
    /// it is closed (`exit_files`, `put_files_struct`).
    pub fn drop_files(&mut self, files: Files) {
        if let Ok(t) = Rc::try_unwrap(files) {
            for kind in t.into_inner().kinds() {
                self.release(kind);
            }
        }
    }

    /// `execve`'s `unshare_files` and `do_close_on_exec` for task `i`: a table shared with
    /// another task is copied first, then the close-on-exec descriptors are closed.
    pub fn exec_files(&mut self, i: usize) {
        let files = self.task(i).files.clone();
        // Held by the task and by `files` here: more is another task.
        if Rc::strong_count(&files) > 2 {
            let copy = self.copy_files(&files);
            self.task(i).files = copy;
        }
        drop(files);
        let own = self.task(i).files.clone();
        let closing: Vec<u32> = own
            .borrow()
            .fds
            .iter()
            .enumerate()
            .filter(|(_, f)| f.kind != FdKind::Free && f.cloexec)
            .map(|(n, _)| n as u32)
            .collect();
        for fd in closing {
            let kind = own.borrow_mut().take(fd);
            self.release(kind);
        }
    }
}

/// `dup(fildes)` (`ksys_dup`): EBADF for a closed fd, EMFILE when the table is full; the new
/// descriptor is not close-on-exec.
pub fn dup(k: &mut Kernel, fd: u64) -> SysResult {
    let kind = k.fd_kind(fd as u32);
    if kind == FdKind::Free {
        return Err(EBADF);
    }
    k.install_fd(kind, false, 0).map(u64::from)
}

/// `dup3(oldfd, newfd, flags)` (`ksys_dup3`): EINVAL for flags other than `O_CLOEXEC` and
/// for `oldfd == newfd`, EBADF for `newfd` at or above `RLIMIT_NOFILE` and for a closed
/// `oldfd`; whatever `newfd` held is closed.
pub fn dup3(k: &mut Kernel, old: u64, new: u64, flags: u64) -> SysResult {
    let flags = u64::from(flags as u32);
    if flags & !O_CLOEXEC != 0 {
        return Err(EINVAL);
    }
    let (old, new) = (old as u32, new as u32);
    if old == new {
        return Err(EINVAL);
    }
    if new as usize >= MAX_FDS {
        return Err(EBADF);
    }
    let kind = k.fd_kind(old);
    if kind == FdKind::Free {
        return Err(EBADF);
    }
    k.hold(kind);
    let previous = k
        .files()
        .borrow_mut()
        .set(new as usize, kind, flags & O_CLOEXEC != 0);
    k.release(previous);
    Ok(u64::from(new))
}

/// `dup2(oldfd, newfd)` (x86_64): the same fd is `newfd` if open (EBADF if not), anything
/// else is `dup3` without flags.
pub fn dup2(k: &mut Kernel, old: u64, new: u64) -> SysResult {
    if old as u32 == new as u32 {
        return if k.fd_kind(old as u32) == FdKind::Free {
            Err(EBADF)
        } else {
            Ok(u64::from(new as u32))
        };
    }
    dup3(k, old, new, 0)
}

const F_DUPFD: u64 = 0;
const F_GETFD: u64 = 1;
const F_SETFD: u64 = 2;
const F_GETFL: u64 = 3;
const F_SETFL: u64 = 4;
const F_DUPFD_CLOEXEC: u64 = 1030;
const FD_CLOEXEC: u64 = 1;
const O_RDWR: u64 = 2;
/// `O_LARGEFILE` as the console's `f_flags` carry it (init opens `/dev/console` with it).
#[cfg(target_arch = "aarch64")]
const O_LARGEFILE: u64 = 0o400000;
#[cfg(not(target_arch = "aarch64"))]
const O_LARGEFILE: u64 = 0o100000;

/// `fcntl(fd, cmd, arg)` (`do_fcntl`): EBADF for a closed fd; `F_DUPFD`/`F_DUPFD_CLOEXEC`
/// (EINVAL for a start at or above `RLIMIT_NOFILE`, EMFILE), `F_GETFD`/`F_SETFD` (the
/// close-on-exec bit), `F_GETFL`/`F_SETFL` (a pipe end's `O_NONBLOCK` and `O_APPEND`: see
/// `crate::pipe`; the console's flags are `O_RDWR | O_LARGEFILE`, a pidfd's `O_RDWR`, and
/// `F_SETFL` on them changes nothing the stub can show: its console never blocks). Any other
/// command is EINVAL, logged once by number when Linux has it.
pub fn fcntl(k: &mut Kernel, fd: u64, cmd: u64, arg: u64) -> SysResult {
    let fd = fd as u32;
    let cmd = u64::from(cmd as u32);
    let kind = k.fd_kind(fd);
    if kind == FdKind::Free {
        return Err(EBADF);
    }
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let from = u64::from(arg as u32);
            if from >= MAX_FDS as u64 {
                return Err(EINVAL);
            }
            k.install_fd(kind, cmd == F_DUPFD_CLOEXEC, from as usize)
                .map(u64::from)
        }
        F_GETFD => Ok(u64::from(k.files().borrow().cloexec(fd).unwrap_or(false))),
        F_SETFD => {
            let files = k.files();
            let mut t = files.borrow_mut();
            t.set(fd as usize, kind, arg & FD_CLOEXEC != 0);
            Ok(0)
        }
        F_GETFL => Ok(match kind {
            FdKind::Pipe { id, write } => k.pipes.flags(id, write),
            FdKind::Console => O_RDWR | O_LARGEFILE | k.opens.console_flags,
            FdKind::File(id) => k.opens.get(id).map_or(0, |f| f.flags),
            _ => O_RDWR,
        }),
        F_SETFL => {
            match kind {
                FdKind::Pipe { id, write } => k.pipes.set_flags(id, write, arg)?,
                FdKind::Console => k.opens.set_flags(None, arg)?,
                FdKind::File(id) => k.opens.set_flags(Some(id), arg)?,
                _ => {}
            }
            Ok(0)
        }
        _ => {
            crate::kprintln!("kernel-stub: fcntl command {cmd} is not implemented: EINVAL");
            Err(EINVAL)
        }
    }
}
