//! `clone`, `clone3`, `fork` and `vfork` through clone-core's kernel face in one call
//! ([`clone_core::entry::clone_syscall`]: decode the raw registers, validate with Linux's
//! errno in Linux's order, configured by [`policy`], and compute the child's stack pointer),
//! then create the task.
//!
//! What the stub cannot do is refused the way Linux refuses it when the feature is missing,
//! never with a silent success:
//!
//! * namespaces: none configured (`Policy::namespaces_configured` empty) → **EINVAL**, as
//!   `create_new_namespaces`/`create_user_ns` answer on a kernel built without them;
//! * `CLONE_INTO_CGROUP`: the stub has no cgroup file descriptors, so every `cgroup` fd is
//!   **EBADF** (`cgroup_css_set_fork`'s answer for a descriptor that is not open);
//! * no frames for a fork child's page tables → **ENOMEM** (Linux's `dup_mm` failure);
//! * task table full → **EAGAIN** (Linux's `max_threads` check). It runs after the whole
//!   validator, so a request that is also invalid in a later Linux check (x86_64 TLS,
//!   `set_tid`) gets that check's errno instead; Linux would say EAGAIN first;
//! * a `set_tid` pid in use → **EEXIST**, answered to the validator's `alloc_pid` step
//!   ([`UserMemory::set_tid_taken`]), so earlier checks keep their errno.
//!
//! The caller is not the pid-namespace init: the stub keeps pid 1 as a notional init (never
//! scheduled) and starts the program at pid 2 with parent 1, the situation the same program
//! is in when it runs on Linux. `getppid` of the program therefore returns 1.

use clone_core::entry::{self, Accepted};
use clone_core::flags::CloneFlags;
use clone_core::policy::LinuxVersion;
use clone_core::syscall::RawSyscall;
use clone_core::validate::{Fault, KernelCloneArgs, UserMemory};
use clone_core::{Errno, Policy};

use crate::addrspace::AddressSpace;
use crate::arch::{self, ARCH};
use crate::syscall::{SysResult, errno};
use crate::task::{Kernel, State, Task};
use crate::{kprintln, uaccess};

/// `EMFILE`: no free descriptor for a pidfd.
const EMFILE: i32 = 24;
/// `EAGAIN`.
const EAGAIN: i32 = 11;

/// The Linux behaviour the stub claims: 6.18 (the kernel the conformance program is compared
/// against), a privileged caller, no namespaces configured, no cgroup fds.
pub fn policy() -> Policy {
    Policy::linux(ARCH, LinuxVersion::V6_18)
        .with_namespaces_configured(CloneFlags::empty())
        .with_into_cgroup_error(Some(Errno::EBADF))
}

/// The user memory clone-core's validator reads (`clone_args`, `set_tid`) and checks for the
/// pidfd `put_user` (the stub's user region), and the pid table it asks about `set_tid`.
struct StubMemory<'a>(&'a Kernel);

impl UserMemory for StubMemory<'_> {
    fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault> {
        uaccess::read_bytes(addr, out).map_err(|_| Fault)
    }
    fn writable(&self, addr: u64, len: u64) -> bool {
        uaccess::writable(addr, len)
    }
    fn set_tid_taken(&self, _level: usize, pid: i32) -> bool {
        // One pid namespace: every level is the stub's pid table.
        self.0.tid_in_use(pid as u32)
    }
}

/// Handles `clone` or `clone3` (`number`) for the task in slot `i`.
pub fn sys_clone(k: &mut Kernel, i: usize, number: u64, args: [u64; 6]) -> SysResult {
    let raw = RawSyscall { nr: number, args };
    match entry::clone_syscall(&raw, &StubMemory(k), &policy()) {
        Ok(accepted) => create(k, i, &accepted),
        Err(e) => {
            if crate::trace::event() {
                kprintln!("clone: tid {} refused: {e}", k.task(i).tid);
            }
            Err(errno(e.errno()))
        }
    }
}

/// `copy_process` for an accepted request.
fn create(k: &mut Kernel, i: usize, accepted: &Accepted) -> SysResult {
    let a: &KernelCloneArgs = &accepted.args;
    let flags = a.flags;
    if k.full() {
        return Err(EAGAIN);
    }
    // The validator asked `StubMemory::set_tid_taken`: the pid is free.
    let requested_tid = (a.set_tid_len > 0).then(|| a.set_tid[0] as u32);

    let parent = k.task(i);
    let (parent_tid, parent_tgid, parent_ppid) = (parent.tid, parent.tgid, parent.ppid);
    let grandparent_thread = parent.parent_thread;
    let mut frame = parent.frame;
    frame.set_return(0);
    if let Some(sp) = accepted.child_sp {
        frame.set_sp(sp.sp);
    }
    if let Some(tls) = accepted.tls {
        arch::check_tls(tls).map_err(errno)?;
        frame.set_tls(tls);
    }
    // `copy_mm`: share the space, or a copy-on-write copy of it.
    let space = if flags.contains(CloneFlags::VM) {
        k.task(i).space().clone()
    } else {
        k.task(i).space().fork().map_err(errno)?
    };
    // `copy_files`: share the table or copy it (before the pidfd is installed, so a copy
    // does not hold it, as in `copy_process`).
    let files = if flags.contains(CloneFlags::FILES) {
        k.task(i).files.clone()
    } else {
        let parent_files = k.task(i).files.clone();
        k.copy_files(&parent_files)
    };
    let pidfd = if flags.contains(CloneFlags::PIDFD) {
        match k.alloc_fd() {
            Some(fd) => Some(fd),
            None => {
                k.drop_files(files);
                return Err(EMFILE);
            }
        }
    } else {
        None
    };

    let thread = flags.contains(CloneFlags::THREAD);
    let mut sig = k.task(i).sig.for_child(
        flags.contains(CloneFlags::SIGHAND),
        flags.contains(CloneFlags::VM),
        flags.contains(CloneFlags::VFORK),
        thread,
    );
    // clone3's CLONE_CLEAR_SIGHAND (clone-core's checks refuse it with CLONE_SIGHAND): the
    // child's copied table starts flushed, as `copy_sighand` does.
    if flags.contains(CloneFlags::CLEAR_SIGHAND) {
        sig.flush_handlers();
    }
    let spawned = k.spawn(requested_tid, |tid| Task {
        tid,
        tgid: if thread { parent_tgid } else { tid },
        ppid: if thread || flags.contains(CloneFlags::PARENT) {
            parent_ppid
        } else {
            parent_tgid
        },
        parent_thread: if thread || flags.contains(CloneFlags::PARENT) {
            grandparent_thread
        } else {
            parent_tid
        },
        frame,
        state: State::Runnable,
        clear_child_tid: if flags.contains(CloneFlags::CHILD_CLEARTID) {
            a.child_tid
        } else {
            0
        },
        exit_signal: if thread { 0 } else { a.exit_signal },
        space: Some(space.clone()),
        sig,
        files,
        cpu: crate::usage::Cpu::default(),
    });
    let Some(tid) = spawned else {
        if let Some(fd) = pidfd {
            k.close_fd(fd);
        }
        return Err(EAGAIN);
    };

    crate::heap::note_peak();
    // Linux ignores failures of these two `put_user`s (facts §1.4/§1.5).
    // The child's slot is in the child's memory (a fork child's own copy).
    if flags.contains(CloneFlags::CHILD_SETTID) {
        let _ = AddressSpace::with_active(&space, || uaccess::write_u32(a.child_tid, tid));
    }
    if flags.contains(CloneFlags::PARENT_SETTID) {
        let _ = uaccess::write_u32(a.parent_tid, tid);
    }
    if let Some(fd) = pidfd {
        k.set_pidfd_pid(fd, tid);
        // The validator proved the slot writable (else EFAULT), so this cannot fail.
        let _ = uaccess::write_u32(a.pidfd, fd);
    }
    k.clones += 1;
    if crate::trace::event() {
        let (pid, kind) = if thread {
            (parent_tgid, "thread")
        } else if flags.contains(CloneFlags::VM) {
            (tid, "process sharing memory")
        } else {
            (tid, "process, copy-on-write memory")
        };
        kprintln!(
            "clone: parent tid {parent_tid} (pid {parent_tgid}) -> child tid {tid} (pid {pid}, {kind}), flags {}, sp={:#x}, tls={:#x}",
            flags,
            frame.sp(),
            frame.tls()
        );
    }
    if flags.contains(CloneFlags::VFORK) {
        k.task(i).state = State::VforkWait { child: tid };
    }
    Ok(u64::from(tid))
}
