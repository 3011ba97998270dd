//! Process-level hostile input (issue 7): a fork bomb against the task table, and a tree of
//! processes that uses up every frame.
//!
//! * **Fork bomb** (`fork_bomb`): every process forks until `fork` fails, then reaps its
//!   children. The stub's task table bounds it: forks get EAGAIN (Linux's answer at
//!   `max_threads`, and at `RLIMIT_NPROC`), nothing dies, and afterwards every process has been
//!   reaped and the table holds as many threads as before. On Linux the same bomb runs in a
//!   child that first limits itself (`RLIMIT_NPROC` 12, as uid 65534 when run as root, since
//!   the limit does not bind root) and forks at most 4 children per process, 3 generations
//!   deep: at most 84 processes even if the limit did not hold.
//! * **Out of frames** (`out_of_frames`, stub-only: on Linux it would be the host's OOM
//!   killer): a chain of fork children, each dirtying every free page of its own copy of the
//!   user region (the kernel writes a `timespec` into each page, so running out shows as
//!   EFAULT, Linux's answer when `copy_to_user` cannot get memory) and forking the next one,
//!   until the frames are gone. Then `fork` is ENOMEM (no frames for the child's page
//!   tables: Linux's `dup_mm` failure), `execve` is ENOMEM, and a vfork child that stores to
//!   a fresh page is killed with SIGKILL (the stub's stand-in for Linux's OOM killer: it kills
//!   the faulting process, where Linux would pick the largest). The chain runs twice: the
//!   same number of pages must be dirtied the second time, so every frame of the first run
//!   came back; and the second run has a zombie beside it that had dirtied pages of its
//!   own, so a zombie keeps no memory (it is freed at exit, as Linux's `exit_mm` frees it).

use core::sync::atomic::Ordering;

use clone_core::CloneFlags;
use clone_core::user::{self, ARCH, CloneRequest, SpawnError};

use crate::{CaseResult, ON_LINUX};

const EAGAIN: i32 = 11;
const ENOMEM: i32 = 12;
const ECHILD: isize = 10;
const EFAULT: isize = 14;
const SIGCHLD: u8 = 17;
const SIGKILL: i32 = 9;

/// How a waited-for child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Exited(i32),
    Killed(i32),
}

/// `fork()` as `clone(SIGCHLD)`: the child runs `entry(arg)` on its copy of this stack and
/// exits with its result. `Err(errno)` when refused.
fn fork(entry: extern "C" fn(usize) -> i32, arg: usize) -> Result<u32, i32> {
    let req = CloneRequest::new(CloneFlags::empty(), SIGCHLD);
    // SAFETY: a fork child has its own copy of this memory and stack; it only runs `entry`.
    match unsafe { user::clone(&req, entry, arg) } {
        Ok(pid) => Ok(pid),
        Err(SpawnError::Kernel { raw, .. }) => Err(raw),
        Err(_) => Err(-1),
    }
}

/// `waitid(P_PID pid, or P_ALL for 0, WEXITED | options)`: `Ok(None)` when WNOHANG found
/// nothing, `Err(-errno)` on failure.
fn wait(pid: u32, options: usize) -> Result<Option<(u32, End)>, isize> {
    const P_ALL: usize = 0;
    const P_PID: usize = 1;
    const WEXITED: usize = 4;
    const CLD_EXITED: u32 = 1;
    let mut info = [0u32; 32];
    let idtype = if pid == 0 { P_ALL } else { P_PID };
    // SAFETY: the kernel writes at most a 128-byte siginfo_t into `info`.
    let r = unsafe {
        user::syscall5(
            ARCH.syscalls().waitid as usize,
            idtype,
            pid as usize,
            info.as_mut_ptr() as usize,
            WEXITED | options,
            0,
        )
    };
    if r < 0 {
        return Err(r);
    }
    // 64-bit siginfo: si_code at word 2, si_pid at 4, si_status at 6.
    if info[4] == 0 {
        return Ok(None);
    }
    let status = info[6] as i32;
    let end = if info[2] == CLD_EXITED {
        End::Exited(status)
    } else {
        End::Killed(status)
    };
    Ok(Some((info[4], end)))
}

/// Waits for `pid` (0: any child) to end.
fn reap(pid: u32) -> Result<(u32, End), isize> {
    match wait(pid, 0) {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(0),
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Fork bomb.

/// Bits of a bomb process's exit code: someone in its subtree got EAGAIN; something went
/// wrong in its subtree (another errno, a failed wait, a child killed).
const BOMB_EAGAIN: i32 = 1;
const BOMB_ERROR: i32 = 2;

/// Children per process and generations: the stub's table is the bound there (a process
/// forks until EAGAIN); on Linux the caps bound the bomb even if `RLIMIT_NPROC` did not.
fn bomb_limits() -> (usize, usize) {
    if ON_LINUX.load(Ordering::Relaxed) {
        (4, 3)
    } else {
        (usize::MAX, 3)
    }
}

extern "C" fn bomb(depth: usize) -> i32 {
    let (per_process, generations) = bomb_limits();
    let mut code = 0;
    let mut children = 0;
    while depth < generations && children < per_process {
        match fork(bomb, depth + 1) {
            Ok(_) => children += 1,
            Err(EAGAIN) => {
                code |= BOMB_EAGAIN;
                break;
            }
            Err(_) => {
                code |= BOMB_ERROR;
                break;
            }
        }
    }
    for _ in 0..children {
        match reap(0) {
            Ok((_, End::Exited(c))) => code |= c & (BOMB_EAGAIN | BOMB_ERROR),
            _ => code |= BOMB_ERROR,
        }
    }
    code
}

/// The bomb's first process: on Linux it first limits itself (see the module docs).
extern "C" fn bomb_root(_: usize) -> i32 {
    if ON_LINUX.load(Ordering::Relaxed) {
        let generic = !cfg!(target_arch = "x86_64");
        let (setrlimit, setuid, geteuid) = if generic {
            (164, 146, 175)
        } else {
            (160, 105, 107)
        };
        const RLIMIT_NPROC: usize = 6;
        let limit: [u64; 2] = [12, 12];
        // SAFETY: setrlimit reads two words; it lowers this process's own limit.
        if unsafe { user::syscall2(setrlimit, RLIMIT_NPROC, limit.as_ptr() as usize) } != 0 {
            return 4;
        }
        // SAFETY: geteuid and setuid change nothing but this process's ids.
        if unsafe { user::syscall0(geteuid) } == 0 && unsafe { user::syscall1(setuid, 65534) } != 0
        {
            return 8;
        }
    }
    bomb(0)
}

/// Threads this process can start before the task table is full (the stub only).
fn table_room() -> Result<usize, crate::Fail> {
    crate::fill_task_table()
}

/// A fork bomb gets EAGAIN and leaves nothing behind (see the module docs).
pub fn fork_bomb() -> CaseResult {
    let on_linux = ON_LINUX.load(Ordering::Relaxed);
    let before = if on_linux { 0 } else { table_room()? };
    let pid = match fork(bomb_root, 0) {
        Ok(pid) => pid,
        Err(e) => fail!("fork of the bomb's first process: errno {e}"),
    };
    match reap(pid) {
        Ok((_, End::Exited(BOMB_EAGAIN))) => {}
        Ok((_, End::Exited(4))) => fail!("setrlimit(RLIMIT_NPROC) failed"),
        Ok((_, End::Exited(8))) => fail!("cannot drop root for RLIMIT_NPROC to bind"),
        Ok((_, End::Exited(0))) => fail!("no fork of the bomb got EAGAIN"),
        Ok((_, end)) => fail!("the bomb ended with {end:?}, expected exit {BOMB_EAGAIN}"),
        Err(e) => fail!("wait for the bomb: {e}"),
    }
    const WNOHANG: usize = 1;
    match wait(0, WNOHANG) {
        Err(e) if e == -ECHILD => {}
        other => fail!("after the bomb, waitid(P_ALL, WNOHANG) gave {other:?}, expected ECHILD"),
    }
    if !on_linux {
        let after = table_room()?;
        if after != before {
            fail!("the task table held {before} threads before the bomb and {after} after");
        }
        outln!("stub: fork bomb bounded by the task table ({before} free slots, EAGAIN)");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Out of frames.

/// Results of an exhaustion level: 100 + pages dirtied by the last level (mod 100) when every
/// check held; otherwise one of these.
const OOF_NEVER_RAN_OUT: i32 = 201;
const OOF_FORK_SUCCEEDED: i32 = 202;
const OOF_FORK_ERRNO: i32 = 203;
const OOF_EXEC_ERRNO: i32 = 204;
const OOF_VFORK: i32 = 205;
const OOF_TOUCH_NOT_KILLED: i32 = 206;
const OOF_WAIT: i32 = 207;
const OOF_LEVEL_KILLED: i32 = 208;
const OOF_WRONG_ERRNO: i32 = 209;
const OOF_POPULATE: i32 = 210;

/// Levels at most (well below the task table).
const OOF_LEVELS: usize = 40;

unsafe extern "C" {
    /// End of this program's image (lld defines it).
    static _end: u8;
}

/// The pages a level dirties: from a page above this image to a page below the initial
/// thread's stack area (the stub puts the stack in the top 256 KiB of the user region, with
/// the first stack pointer 64 bytes below its end).
fn fill_range() -> (usize, usize) {
    let end = (&raw const _end) as usize;
    let lo = ((end + 0xfff) & !0xfff) + 0x1000;
    (lo, stack_top() - 256 * 1024 - 0x1000)
}

/// The end of the page holding the initial stack pointer: the top of this program's stack.
fn stack_top() -> usize {
    (crate::INITIAL_SP.load(Ordering::Relaxed) + 0xfff) & !0xfff
}

/// Makes this process's whole stack its own, from 32 KiB below the caller's frame to the top
/// (`madvise(MADV_POPULATE_WRITE)`: every page gets a frame of its own, copied out of
/// copy-on-write where it is shared with the parent), so that once the frames are gone
/// neither this process nor its waiting parent needs one for a stack store. Only part of the
/// stack made private leaves the pages above it shared: whichever of parent and child stores
/// there first takes the copy, and whether that happens before or during the count changed
/// the count by one from run to run.
#[inline(never)]
fn own_stack() {
    const MADV_POPULATE_WRITE: usize = 23;
    let nr = if cfg!(target_arch = "x86_64") {
        28
    } else {
        233
    };
    let here = core::hint::black_box(&raw const nr) as usize;
    let start = (here - 32 * 1024) & !0xfff;
    let top = stack_top();
    // SAFETY: madvise only faults pages of this process's own stack mapping in; it changes
    // no contents.
    let r = unsafe { user::syscall3(nr, start, top - start, MADV_POPULATE_WRITE) };
    if r != 0 {
        user::exit_group(OOF_POPULATE);
    }
}

/// The kernel writes a `timespec` at `at` (a write the kernel makes for the process, which
/// allocates the page or copies it out of copy-on-write).
/// (`clock_gettime(CLOCK_MONOTONIC, at)`.)
fn kernel_touch(at: usize) -> isize {
    const CLOCK_MONOTONIC: usize = 1;
    let nr = if cfg!(target_arch = "x86_64") {
        228
    } else {
        113
    };
    // SAFETY: the kernel writes 16 bytes at `at`: free user memory of this process, or a
    // local.
    unsafe { user::syscall2(nr, CLOCK_MONOTONIC, at) }
}

/// `CLOCK_MONOTONIC` in ms.
fn monotonic_ms() -> u64 {
    let mut ts = [0u64; 2];
    let _ = kernel_touch(ts.as_mut_ptr() as usize);
    ts[0] * 1000 + ts[1] / 1_000_000
}

extern "C" fn store_to(addr: usize) -> i32 {
    // SAFETY: a store into free user memory of this (vfork) process: a fresh page.
    unsafe { core::ptr::write_volatile(addr as *mut u8, 1) };
    0
}

/// Bit of `exhaust`'s argument (above the level) that asks the last level for the vfork
/// probe.
const PROBE: usize = 1 << 32;

extern "C" fn exhaust(level: usize) -> i32 {
    own_stack();
    let (lo, hi) = fill_range();
    let mut pages = 0usize;
    let mut page = lo;
    let mut ran_out = false;
    while page < hi {
        match kernel_touch(page) {
            0 => {}
            r if r == -EFAULT => {
                ran_out = true;
                break;
            }
            _ => return OOF_WRONG_ERRNO,
        }
        pages += 1;
        page += 0x1000;
    }
    // Everything from here on runs in `finish`'s frame, inside the stack `own_stack` made this
    // process's own (this frame may have parts still shared copy-on-write with the parent, and
    // a store there needs a frame once they are gone), and ends with `exit_group` rather than
    // a return through the frames above.
    user::exit_group(finish(level, page, pages, ran_out))
}

/// The rest of an exhaustion level, after its pages (see `exhaust`).
#[inline(never)]
fn finish(level: usize, page: usize, pages: usize, ran_out: bool) -> i32 {
    let probe = level & PROBE != 0;
    match fork(exhaust, level + 1) {
        Ok(pid) if !ran_out && level & !PROBE < OOF_LEVELS => {
            // Not out yet: the next level goes on; its result is this level's.
            return match reap(pid) {
                Ok((_, End::Exited(c))) => c,
                Ok((_, End::Killed(_))) => OOF_LEVEL_KILLED,
                Err(_) => OOF_WAIT,
            };
        }
        Ok(pid) => {
            let _ = reap(pid);
            return if ran_out {
                OOF_FORK_SUCCEEDED
            } else {
                OOF_NEVER_RAN_OUT
            };
        }
        Err(ENOMEM) => {}
        Err(_) => return OOF_FORK_ERRNO,
    }
    // Out of frames. execve needs a new address space: ENOMEM (a wrong success runs the
    // conformance program's exit-at-once probe: exit 57).
    let path = b"/bin/conformance\0";
    let arg = b"exit-with-status-57\0";
    let argv = [path.as_ptr() as usize, arg.as_ptr() as usize, 0];
    let envp = [0usize];
    let nr = if cfg!(target_arch = "x86_64") {
        59
    } else {
        221
    };
    // SAFETY: the kernel reads the path and the two arrays; it cannot replace this process
    // without frames.
    let r = unsafe {
        user::syscall3(
            nr,
            path.as_ptr() as usize,
            argv.as_ptr() as usize,
            envp.as_ptr() as usize,
        )
    };
    if r != -(ENOMEM as isize) {
        return OOF_EXEC_ERRNO;
    }
    if ran_out && probe {
        // A vfork child shares this memory and needs no frame to exist; its store to the page
        // the kernel could not get is a user fault with no frame to give.
        let req = CloneRequest::new(CloneFlags::VM | CloneFlags::VFORK, SIGCHLD);
        // SAFETY: the vfork child runs on this stack below this frame (made this process's
        // own by `own_stack`) until it dies or returns; this thread waits meanwhile.
        let pid = match unsafe { user::clone(&req, store_to, page) } {
            Ok(pid) => pid,
            Err(_) => return OOF_VFORK,
        };
        match reap(pid) {
            Ok((_, End::Killed(SIGKILL))) => {}
            Ok(_) => return OOF_TOUCH_NOT_KILLED,
            Err(_) => return OOF_WAIT,
        }
    }
    100 + (pages % 100) as i32
}

/// Runs the exhaustion chain once; its result code.
fn exhaust_once(probe: bool) -> Result<i32, crate::Fail> {
    let pid = match fork(exhaust, 1 | if probe { PROBE } else { 0 }) {
        Ok(pid) => pid,
        Err(e) => fail!("fork of the first level: errno {e}"),
    };
    match reap(pid) {
        Ok((_, End::Exited(c))) if (100..200).contains(&c) => Ok(c),
        Ok((_, End::Exited(c))) => {
            let why = match c {
                OOF_NEVER_RAN_OUT => "the frames never ran out",
                OOF_FORK_SUCCEEDED => "fork succeeded with no frames left",
                OOF_FORK_ERRNO => "fork failed with an errno other than ENOMEM",
                OOF_EXEC_ERRNO => "execve without frames was not ENOMEM",
                OOF_VFORK => "vfork failed",
                OOF_TOUCH_NOT_KILLED => "a store with no frame left did not kill with SIGKILL",
                OOF_WAIT => "a wait failed",
                OOF_LEVEL_KILLED => "a level was killed",
                OOF_WRONG_ERRNO => "clock_gettime into free memory failed with another errno",
                OOF_POPULATE => "madvise(MADV_POPULATE_WRITE) of the stack failed",
                57 => "execve without frames ran the program",
                _ => "unexpected exit code",
            };
            fail!("{why} (exit {c})")
        }
        Ok((_, end)) => fail!("the first level ended with {end:?}"),
        Err(e) => fail!("wait for the first level: {e}"),
    }
}

/// Frames run out: fork and execve are ENOMEM, a fault is SIGKILL, and everything comes back
/// (see the module docs).
pub fn out_of_frames() -> CaseResult {
    let start = monotonic_ms();
    let first = exhaust_once(true)?;
    // A zombie holds no memory (Linux's `exit_mm` runs at exit, not at reap): the second run,
    // with an unreaped child that had dirtied pages of its own, must find as many frames.
    let zombie = match fork(dirty_and_exit, ZOMBIE_PAGES) {
        Ok(pid) => pid,
        Err(e) => fail!("fork of the zombie-to-be: errno {e}"),
    };
    const WNOWAIT: usize = 0x0100_0000;
    match wait(zombie, WNOWAIT) {
        Ok(Some((_, End::Exited(0)))) => {}
        other => fail!("waitid(WNOWAIT) for the zombie-to-be gave {other:?}"),
    }
    // (Without the vfork probe: the exhausted level's return from vfork has been seen to store
    // into a stack page still shared with its parent, which then needs a frame.)
    let second = exhaust_once(false);
    let reaped = reap(zombie);
    let second = second?;
    if reaped.is_err() {
        fail!("the zombie could not be reaped: {reaped:?}");
    }
    outln!(
        "stub: out of frames twice (fork and execve ENOMEM; the first time also a faulting store SIGKILL) in {} ms",
        monotonic_ms() - start
    );
    if first != second {
        fail!(
            "the last level dirtied {} pages (mod 100) the first time and {} the second, with a \
             zombie of {ZOMBIE_PAGES} pages: the zombie kept its frames, or the first run leaked",
            first - 100,
            second - 100
        );
    }
    Ok(())
}

/// Pages the zombie dirties before it exits (with its page tables, not a multiple of 100).
const ZOMBIE_PAGES: usize = 50;

extern "C" fn dirty_and_exit(pages: usize) -> i32 {
    let (lo, _) = fill_range();
    for p in 0..pages {
        // SAFETY: a store into free user memory of this (forked) process.
        unsafe { core::ptr::write_volatile((lo + p * 4096) as *mut u8, 1) };
    }
    0
}
