//! Task table and scheduler: a fixed number of slots, round robin, and the kernel's main loop.
//!
//! A task is one user thread: its saved registers ([`arch::TrapFrame`]), its ids, and whether it
//! may run. Task records live on the heap. A thread's record is freed the moment it exits (as
//! on Linux, nobody waits for threads); a process child of a live parent stays as a zombie
//! until `wait4`/`waitid` reaps it, and init (the kernel) reaps what is left when a program
//! ends. Every task drops its address space at exit (Linux's `exit_mm`): a zombie is only its
//! record. That is what lets the kernel show a balanced heap after thousands of clone/exit
//! cycles.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::vec::Vec;

use crate::addrspace::AddressSpace;
use crate::arch::{self, TrapCause, TrapFrame};
use crate::elf::Image;
use crate::{fault, futex, kprintln, syscall, uaccess};

/// Slots in the task table. A clone with every slot in use gets `EAGAIN`, like Linux's
/// `nr_threads >= max_threads` check in `copy_process`. 80: a program of 64 threads besides
/// its main thread fits (issue 8's pthread suite), and the hostile program's pool of 96
/// still finds the table full.
pub const MAX_TASKS: usize = 80;

/// Linux's default `pid_max`: tids are below it.
const PID_MAX: u32 = 32768;
/// Where Linux's pid allocation wraps to (`RESERVED_PIDS`, `kernel/pid.c`).
const RESERVED_PIDS: u32 = 300;

/// The program's pid. Pid 1 is a notional init that is never scheduled (see `clone.rs`).
pub const FIRST_PID: u32 = 2;

/// Why a task is not running.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum State {
    /// Ready to run.
    Runnable,
    /// Sleeping in `FUTEX_WAIT` on the futex key (`shared`, `uaddr`) until a wake with an
    /// overlapping `bitset`, or until `CLOCK_MONOTONIC` reaches `deadline` (ns).
    FutexWait {
        uaddr: u64,
        shared: bool,
        bitset: u32,
        deadline: Option<u64>,
    },
    /// A `CLONE_VFORK` parent waiting for child `child` to exit.
    VforkWait { child: u32 },
    /// In `wait4`/`waitid` until a matching child exits.
    WaitChild(WaitRequest),
    /// Exited, waiting to be reaped by its parent's `wait4`/`waitid`.
    Zombie(Death),
    /// In a long console `write`, `done` of `count` bytes at `buf` written: runnable, but it
    /// continues in the kernel (one time slice at a time) instead of returning to user mode.
    Writing { buf: u64, count: u64, done: u64 },
    /// In `nanosleep`/`clock_nanosleep` until `CLOCK_MONOTONIC` reaches `deadline` (ns); the
    /// return value (0) is already set.
    Sleep { deadline: u64 },
    /// In a pipe `read` or `write` (`crate::pipe`) until pipe `pipe` changes; a writer has
    /// written `done` bytes already.
    PipeWait { pipe: u32, done: u64 },
    /// Woken from `PipeWait`: runnable, and when scheduled it runs its syscall again (its
    /// registers still hold the call), with `done` bytes already written.
    Retry { done: u64 },
    /// In `rt_sigsuspend` until a signal with a handler arrives (`crate::signal`).
    SigSuspend,
    /// In `rt_sigtimedwait` until a signal of `set` is pending (then the call runs again and
    /// takes it), a handled signal interrupts it, or `CLOCK_MONOTONIC` reaches `deadline`.
    SigTimedWait { set: u64, deadline: Option<u64> },
    /// In `poll`/`ppoll` (`crate::poll`), or a console `read` waiting for input (`console`):
    /// woken (made `Retry`, its absolute `deadline` in ns or `u64::MAX` as the `done` it
    /// runs again with) by any pipe change, any task's exit (a pidfd may become readable),
    /// console input at a tick, or the deadline passing.
    PollWait {
        deadline: Option<u64>,
        console: bool,
    },
}

/// How a task ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Death {
    /// `exit`/`exit_group` with this code (the low 8 bits count).
    Exited(u8),
    /// Killed by the kernel with this signal number (a fault: SIGSEGV).
    Killed(u8),
}

impl Death {
    /// The `wait4` status word (`WIFEXITED`/`WEXITSTATUS`, `WIFSIGNALED`/`WTERMSIG`).
    pub fn wstatus(self) -> u32 {
        match self {
            Death::Exited(code) => u32::from(code) << 8,
            Death::Killed(sig) => u32::from(sig),
        }
    }
}

/// A pending `wait4` or `waitid`, kept so a child's exit can complete it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WaitRequest {
    /// Which child: a tid, or `None` for any.
    pub pid: Option<u32>,
    /// Linux wait option bits (`WNOHANG`, `__WCLONE`, `__WALL`, ...).
    pub options: u64,
    /// Where the result goes (0 = nowhere): a status word (`wait4`) or a `siginfo_t`
    /// (`waitid`).
    pub out: u64,
    /// `waitid` (fills a `siginfo_t`, returns 0) rather than `wait4` (status word, returns the
    /// pid).
    pub waitid: bool,
    /// Where a `struct rusage` goes (0 = nowhere).
    pub rusage: u64,
}

/// One user thread.
pub struct Task {
    /// Thread id (`gettid`).
    pub tid: u32,
    /// Thread group id (`getpid`).
    pub tgid: u32,
    /// Parent's thread group id (`getppid`).
    pub ppid: u32,
    /// The parent thread (Linux's `real_parent`): the thread that created this task (its own
    /// parent thread for `CLONE_THREAD`/`CLONE_PARENT`), 1 for init. `__WNOTHREAD` waits
    /// see only the calling thread's children; when that thread exits, its children go to a
    /// live thread of its group.
    pub parent_thread: u32,
    /// Saved user registers.
    pub frame: TrapFrame,
    /// Runnable or why not.
    pub state: State,
    /// `CLONE_CHILD_CLEARTID` / `set_tid_address` slot: written 0 and futex-woken at exit.
    pub clear_child_tid: u64,
    /// Signal for the parent at exit (0..=64; `crate::signal::notify_parent` sends it, and it
    /// decides which `wait` flavour sees the child).
    pub exit_signal: u8,
    /// The address space (shared by `CLONE_VM`, freed with its last task). `None` once the
    /// task has exited: like Linux's `exit_mm`, exit drops the memory at once, and a zombie
    /// keeps only its task record for `wait`.
    pub space: Option<Rc<AddressSpace>>,
    /// Signal mask and handlers, robust list, resource limits (`crate::signal`).
    pub sig: crate::signal::SigState,
    /// The descriptor table (shared by `CLONE_FILES`, `crate::files`).
    pub files: crate::files::Files,
    /// CPU time charged to it (and, in a leader's record, its group's: `crate::usage`).
    pub cpu: crate::usage::Cpu,
}

impl Task {
    /// The address space of a live task (every task the scheduler runs has one).
    pub fn space(&self) -> &Rc<AddressSpace> {
        self.space
            .as_ref()
            .expect("a live task has an address space")
    }

    /// Has this task exited and is waiting to be reaped?
    pub fn is_zombie(&self) -> bool {
        matches!(self.state, State::Zombie(_))
    }
}

/// The whole kernel state: tasks, time, and the exit status that decides pass or fail.
pub struct Kernel {
    tasks: Vec<Option<Box<Task>>>,
    /// When each slot's task was created (a count of tasks created so far): which thread of
    /// a group is the oldest, as Linux's thread list keeps them in creation order (tids do
    /// not: they wrap, and `set_tid` picks any).
    born: Vec<u64>,
    /// Tasks created so far, for `born`.
    created: u64,
    next_tid: u32,
    /// Index of the task that ran last (round-robin cursor).
    current: usize,
    /// When set, the scheduler moves on from `current` even if it is still runnable.
    pub yield_now: bool,
    /// Timer ticks seen so far (futex timeouts count in ticks).
    pub ticks: u64,
    /// Exit status of the program's thread group, once it has exited.
    init_status: Option<i32>,
    /// Tasks that ended (exit, exit_group, killed), for the end-of-run summary.
    pub exits: u64,
    /// Clones that created a task.
    pub clones: u64,
    /// Every pipe (`crate::pipe`); descriptors live in the tasks' tables.
    pub pipes: crate::pipe::Pipes,
    /// For a call run again after `State::Retry`: the bytes it had already written.
    pub retry_done: u64,
    /// Every open file description of the stub's tree (`crate::open`).
    pub opens: crate::open::Opens,
}

impl Kernel {
    /// An empty table.
    pub fn new() -> Self {
        let mut tasks = Vec::with_capacity(MAX_TASKS);
        tasks.resize_with(MAX_TASKS, || None);
        Self {
            tasks,
            born: alloc::vec![0; MAX_TASKS],
            created: 0,
            next_tid: FIRST_PID,
            current: 0,
            yield_now: false,
            ticks: 0,
            init_status: None,
            pipes: crate::pipe::Pipes::default(),
            retry_done: 0,
            opens: crate::open::Opens::default(),
            exits: 0,
            clones: 0,
        }
    }

    /// Runs the program until every task has exited (zombies left over are reaped, as init
    /// would); returns the program's exit status (or -1 if it was killed, or the kernel had to
    /// kill everything, e.g. on deadlock).
    pub fn run(&mut self, image: Image, space: Rc<AddressSpace>) -> i32 {
        self.init_status = None;
        self.next_tid = FIRST_PID;
        let tid = self.alloc_tid();
        self.tasks[0] = Some(Box::new(Task {
            tid,
            tgid: tid,
            ppid: 1,
            parent_thread: 1,
            frame: TrapFrame::new_user(image.entry, image.sp),
            state: State::Runnable,
            clear_child_tid: 0,
            exit_signal: crate::wait::SIGCHLD,
            space: Some(space),
            sig: crate::signal::SigState::new(),
            files: crate::files::FdTable::console(),
            cpu: crate::usage::Cpu::default(),
        }));
        self.note_born(0);
        self.current = 0;
        loop {
            // The run ends when the program's thread group has exited: whatever it left
            // behind is killed and reaped, as Linux kills a pid namespace's tasks when its init
            // exits (`zap_pid_ns_processes`), so no orphan can keep the run alive or hold a pid
            // of the program's.
            if self.init_status.is_some() || !self.tasks.iter().flatten().any(|t| !t.is_zombie()) {
                self.kill_all();
                break;
            }
            let Some(i) = self.pick() else {
                if self.any_deadline() {
                    arch::idle();
                    self.tick();
                    continue;
                }
                kprintln!("kernel-stub: deadlock: every task is blocked with no timeout");
                self.dump_tasks();
                self.kill_all();
                return -1;
            };
            // A runnable task that loses the CPU (preempted or yielding) has made an
            // involuntary context switch (Linux's `nivcsw`).
            if i != self.current && self.runnable(self.current) {
                crate::usage::switched(self, self.current, false);
            }
            self.current = i;
            self.yield_now = false;
            let Some(task) = self.tasks[i].as_mut() else {
                continue;
            };
            // The task's memory is what its syscalls (and a write in progress) refer to.
            task.space().activate();
            let tid = task.tid;
            // CPU time (`crate::usage`): user mode until the trap, then the kernel's work on
            // it, both charged to this task.
            let entered = crate::clock::monotonic_ns();
            if matches!(task.state, State::Writing { .. }) {
                syscall::continue_write(self, i);
                self.tick();
                self.charge(i, tid, entered, entered);
                continue;
            }
            if let State::Retry { done } = task.state {
                task.state = State::Runnable;
                self.retry_done = done;
                syscall::dispatch(self, i);
                self.retry_done = 0;
                self.charge(i, tid, entered, entered);
                continue;
            }
            // Signals are taken on the way back to user mode (handler frames, default
            // actions, interrupted calls): kernel work for this task.
            let delivered = crate::signal::deliver_pending(self, i);
            crate::usage::charge(
                self,
                i,
                tid,
                0,
                crate::clock::monotonic_ns().saturating_sub(entered),
            );
            if !delivered {
                continue;
            }
            let Some(task) = self.tasks[i].as_mut() else {
                continue;
            };
            let entered = crate::clock::monotonic_ns();
            let cause = arch::run_user(&mut task.frame);
            let trapped = crate::clock::monotonic_ns();
            match cause {
                TrapCause::Syscall => syscall::dispatch(self, i),
                TrapCause::Timer => {
                    self.tick();
                    self.yield_now = true;
                }
                TrapCause::Fault {
                    signal,
                    pc,
                    addr,
                    access,
                    what,
                } => fault::user_fault(self, i, signal, pc, addr, access, what),
            }
            self.charge(i, tid, entered, trapped);
        }
        self.init_status.unwrap_or(-1)
    }

    /// Charges task `tid` in slot `i` user time from `entered` to `trapped` and system time
    /// from then to now (nothing if the task ended meanwhile).
    fn charge(&mut self, i: usize, tid: u32, entered: u64, trapped: u64) {
        let now = crate::clock::monotonic_ns();
        let (user, sys) = (trapped.saturating_sub(entered), now.saturating_sub(trapped));
        crate::usage::charge(self, i, tid, user, sys);
        // A task the trap left blocked has made a voluntary context switch (`nvcsw`).
        if self.has_task(i)
            && self.tasks[i]
                .as_ref()
                .is_some_and(|t| t.tid == tid && !t.is_zombie())
            && !self.runnable(i)
        {
            crate::usage::switched(self, i, true);
        }
    }

    /// Does slot `i` hold a task that may run?
    fn runnable(&self, i: usize) -> bool {
        self.tasks[i].as_ref().is_some_and(|t| {
            matches!(
                t.state,
                State::Runnable | State::Writing { .. } | State::Retry { .. }
            )
        })
    }

    /// Round robin: the current task keeps the CPU until it blocks, yields or is preempted.
    fn pick(&self) -> Option<usize> {
        let n = self.tasks.len();
        let runnable = |i: usize| self.runnable(i);
        if !self.yield_now && runnable(self.current) {
            return Some(self.current);
        }
        (1..=n)
            .map(|k| (self.current + k) % n)
            .find(|&i| runnable(i))
    }

    fn any_deadline(&self) -> bool {
        self.tasks.iter().flatten().any(|t| {
            matches!(
                t.state,
                State::FutexWait {
                    deadline: Some(_),
                    ..
                } | State::Sleep { .. }
                    | State::SigTimedWait {
                        deadline: Some(_),
                        ..
                    }
                    | State::PollWait {
                        deadline: Some(_),
                        ..
                    }
                    | State::PollWait { console: true, .. }
            )
        })
    }

    /// On a timer tick (and between slices of a long write): the tick count is the number of
    /// 10 ms periods since boot, from the clock, so ticks the kernel spent with interrupts off
    /// still count; futex waiters whose deadline passed wake with `ETIMEDOUT`, sleepers
    /// whose time is up with 0.
    fn tick(&mut self) {
        let now = crate::clock::monotonic_ns();
        self.ticks = now / crate::clock::TICK_NS;
        for t in self.tasks.iter_mut().flatten() {
            if let State::Sleep { deadline } = t.state
                && deadline <= now
            {
                t.state = State::Runnable;
            }
            if let State::FutexWait {
                deadline: Some(d), ..
            } = t.state
                && d <= now
            {
                t.state = State::Runnable;
                t.frame.set_return(syscall::neg(syscall::ETIMEDOUT));
            }
            crate::signal::timed_wait_expired(t, now);
            if let State::PollWait { deadline, console } = t.state
                && (deadline.is_some_and(|d| d <= now) || (console && arch::console_pending()))
            {
                t.state = State::Retry {
                    done: deadline.unwrap_or(u64::MAX),
                };
            }
        }
    }

    /// A free tid (Linux hands out increasing pids below `pid_max`, then wraps to
    /// `RESERVED_PIDS`).
    fn alloc_tid(&mut self) -> u32 {
        loop {
            let tid = self.next_tid;
            self.next_tid = if tid + 1 >= PID_MAX {
                RESERVED_PIDS
            } else {
                tid + 1
            };
            if !self.tasks.iter().flatten().any(|t| t.tid == tid) {
                return tid;
            }
        }
    }

    /// The task in slot `i` (the caller got `i` from the scheduler, so it exists).
    pub fn task(&mut self, i: usize) -> &mut Task {
        self.tasks[i].as_mut().expect("scheduled slot holds a task")
    }

    /// Inserts a new task with tid `tid` (or the next free one); `None` when every slot is
    /// taken.
    pub fn spawn(&mut self, tid: Option<u32>, make: impl FnOnce(u32) -> Task) -> Option<u32> {
        let slot = self.tasks.iter().position(Option::is_none)?;
        let tid = match tid {
            Some(tid) => tid,
            None => self.alloc_tid(),
        };
        self.tasks[slot] = Some(Box::new(make(tid)));
        self.note_born(slot);
        Some(tid)
    }

    fn note_born(&mut self, slot: usize) {
        self.created += 1;
        self.born[slot] = self.created;
    }

    /// Is `tid` a live task (or the notional init)?
    pub fn tid_in_use(&self, tid: u32) -> bool {
        tid == 1 || self.tasks.iter().flatten().any(|t| t.tid == tid)
    }

    /// The task the scheduler runs now: the caller of the syscall being handled.
    pub fn current_task(&self) -> &Task {
        self.tasks[self.current]
            .as_deref()
            .expect("the current slot holds the calling task")
    }

    /// Is every slot taken?
    pub fn full(&self) -> bool {
        self.tasks.iter().all(Option::is_some)
    }

    /// Ends task `i`: the `clear_child_tid` protocol (write 0, wake one waiter; failures are
    /// ignored like Linux's `mm_release`), wakes a vfork parent, then either frees the slot or,
    /// for a process child whose parent is alive, leaves a zombie for `wait4`/`waitid`.
    pub fn exit_task(&mut self, i: usize, death: Death) {
        if self.tasks[i].as_ref().is_none_or(|t| t.is_zombie()) {
            return;
        }
        let Some(mut task) = self.tasks[i].take() else {
            return;
        };
        // Linux's `mm_release` order: the robust list, then the clear_child_tid slot.
        crate::robust::exit_robust_list(self, &task);
        let mut woken = 0;
        if task.clear_child_tid != 0
            && AddressSpace::with_active(task.space(), || {
                uaccess::write_u32(task.clear_child_tid, 0)
            })
            .is_ok()
        {
            let mm = futex::mm_of(&task);
            woken = futex::wake(self, mm, task.clear_child_tid, 1, u32::MAX);
        }
        // `exit_files` (after `exit_mm`, as in `do_exit`): the table is closed if this was its last task (pipe ends wake their
        // other side). A zombie keeps an empty table.
        let files = core::mem::replace(&mut task.files, crate::files::FdTable::empty());
        self.drop_files(files);
        crate::usage::exited(self, &task);
        self.exits += 1;
        // A pidfd of this task may have become readable.
        self.wake_pollers();
        if crate::trace::event() {
            let how = match death {
                Death::Exited(code) => alloc::format!("status {code}"),
                Death::Killed(sig) => alloc::format!("killed by signal {sig}"),
            };
            kprintln!(
                "exit:  tid {} {how}, futex wake {woken} at {:#x}",
                task.tid,
                task.clear_child_tid
            );
        }
        for t in self.tasks.iter_mut().flatten() {
            if t.state == (State::VforkWait { child: task.tid }) {
                t.state = State::Runnable;
            }
        }
        // `exit_mm`: the memory goes now (its frames, if this was its last user), before the
        // parent hears of the exit; a zombie keeps only this record.
        task.space = None;
        let (tid, tgid, ppid) = (task.tid, task.tgid, task.ppid);
        let group_gone = !self
            .tasks
            .iter()
            .flatten()
            .any(|t| t.tgid == tgid && !t.is_zombie());
        if tgid == FIRST_PID && group_gone {
            self.init_status = Some(match death {
                Death::Exited(code) => i32::from(code),
                Death::Killed(_) => -1,
            });
        }
        // A process child (its group's leader) of a live parent other than init stays as a
        // zombie until waited for; threads and init's children are reaped at once.
        let parent_alive = ppid != 1
            && self
                .tasks
                .iter()
                .flatten()
                .any(|t| t.tgid == ppid && !t.is_zombie());
        if tid == tgid && !group_gone {
            // `delay_group_leader`: a leader that exits before its threads stays a zombie
            // (its tid stays taken) that no wait reaps and the parent is not told of, until
            // the last thread exits (below).
            task.state = State::Zombie(death);
            self.tasks[i] = Some(task);
        } else if tid == tgid && parent_alive {
            task.state = State::Zombie(death);
            self.tasks[i] = Some(task);
            let note = crate::signal::parent_note(self, i);
            crate::wait::child_exited(self, ppid);
            crate::signal::notify_parent(self, note, ppid);
        } else {
            drop(task);
        }
        if group_gone && tid != tgid {
            self.group_ended(tgid, ppid, death);
        }
        if group_gone {
            // Init adopts the group's children: its zombies are reaped (a leader still waiting
            // for its threads only when they are done), the living ones will be reaped when
            // they exit.
            for j in 0..self.tasks.len() {
                let delayed = self.tasks[j]
                    .as_ref()
                    .is_some_and(|t| t.tid == t.tgid && self.delayed(t.tgid));
                if let Some(t) = self.tasks[j].as_mut()
                    && t.ppid == tgid
                    && t.tid != tid
                {
                    if t.is_zombie() && !delayed {
                        self.tasks[j] = None;
                    } else {
                        t.ppid = 1;
                        t.parent_thread = 1;
                    }
                }
            }
        } else {
            // `forget_original_parent`: the thread's children (zombies too) go to a live
            // thread of its group (`find_alive_thread`: the first of the thread list, the
            // oldest), with no notification for a reparent within the group.
            let heir = self
                .tasks
                .iter()
                .zip(&self.born)
                .filter_map(|(t, &born)| t.as_ref().map(|t| (born, t)))
                .filter(|(_, t)| t.tgid == tgid && !t.is_zombie())
                .min_by_key(|&(born, _)| born)
                .map(|(_, t)| t.tid);
            if let Some(heir) = heir {
                for t in self.tasks.iter_mut().flatten() {
                    if t.ppid == tgid && t.parent_thread == tid && t.tgid != tgid {
                        t.parent_thread = heir;
                    }
                }
            }
        }
    }

    /// The last thread of group `tgid` (not its leader) exited with `death` while the leader
    /// waited as a zombie: the leader's status becomes the group's, which is this last
    /// thread's (Linux's `synchronize_group_exit` sets `group_exit_code` from the last thread
    /// to exit, and `wait_task_zombie` reports it), and the parent is told now (the
    /// `release_task` of the last thread notifies for the leader); with no live parent the
    /// leader is released.
    fn group_ended(&mut self, tgid: u32, ppid: u32, death: Death) {
        let Some(j) = self
            .tasks
            .iter()
            .position(|t| t.as_ref().is_some_and(|t| t.tid == tgid && t.is_zombie()))
        else {
            return;
        };
        let parent_alive = ppid != 1
            && self
                .tasks
                .iter()
                .flatten()
                .any(|t| t.tgid == ppid && !t.is_zombie());
        if parent_alive {
            self.task(j).state = State::Zombie(death);
            let note = crate::signal::parent_note(self, j);
            crate::wait::child_exited(self, ppid);
            crate::signal::notify_parent(self, note, ppid);
        } else {
            self.tasks[j] = None;
        }
    }

    /// Is group `tgid`'s leader a zombie whose threads still run (Linux's
    /// `delay_group_leader`: no wait reaps it yet)?
    pub fn delayed(&self, tgid: u32) -> bool {
        self.tasks
            .iter()
            .flatten()
            .any(|t| t.tgid == tgid && t.tid != tgid && !t.is_zombie())
    }

    /// Frees the slot of a reaped zombie.
    pub fn reap(&mut self, i: usize) {
        self.tasks[i] = None;
    }

    /// Slot index and record of every task, for `wait`.
    pub fn slots(&self) -> impl Iterator<Item = (usize, &Task)> {
        self.tasks
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.as_deref().map(|t| (i, t)))
    }

    /// Does slot `i` hold a task?
    pub fn has_task(&self, i: usize) -> bool {
        self.tasks[i].is_some()
    }

    /// `exit_group`: ends every thread of `i`'s group.
    pub fn exit_group(&mut self, i: usize, death: Death) {
        let tgid = self.task(i).tgid;
        for j in 0..self.tasks.len() {
            if j != i && self.tasks[j].as_ref().is_some_and(|t| t.tgid == tgid) {
                self.exit_task(j, death);
            }
        }
        self.exit_task(i, death);
    }

    /// Every live task, for futex and vfork bookkeeping.
    pub fn tasks_mut(&mut self) -> impl Iterator<Item = &mut Task> {
        self.tasks.iter_mut().flatten().map(|b| &mut **b)
    }

    fn kill_all(&mut self) {
        for j in 0..self.tasks.len() {
            self.tasks[j] = None;
        }
        // Their tables are gone with them, and so is every pipe and open file.
        self.pipes.clear();
        self.opens.clear();
    }

    fn dump_tasks(&self) {
        for t in self.tasks.iter().flatten() {
            kprintln!(
                "kernel-stub:   tid {} tgid {} state {:?} pc={:#x}",
                t.tid,
                t.tgid,
                t.state,
                t.frame.pc()
            );
        }
    }
}
