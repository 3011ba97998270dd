//! A joinable thread on clone-core's user face, without libc's pthread: a small handle over
//! `CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID` whose `join` is a futex wait, on a stack the
//! caller owns.
//!
//! The kernel writes the child's tid into the handle's word (`CLONE_PARENT_SETTID` before
//! `clone` returns, `CLONE_CHILD_SETTID` in the child) and, when the child exits, writes 0 there
//! and futex-wakes it (`CLONE_CHILD_CLEARTID`). `join` sleeps on that word until it reads 0;
//! only then may the stack be reused, so the handle borrows the stack and joins on drop.
//!
//! Run it with `cargo run -p clone-core --example thread` (x86_64 Linux and the other arches
//! of the user face); `cargo xtask test` runs it.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use clone_core::CloneFlags;
use clone_core::flags::THREAD_FLAGS;
use clone_core::stack::StackRegion;
use clone_core::user::{self, ChildEntry, CloneRequest, SpawnError};

/// A thread's stack and tid word, owned by the caller (on the heap here: a thread stack is
/// too big for the caller's own stack).
#[repr(C)]
pub struct ThreadStack<const N: usize> {
    tid: AtomicU32,
    bytes: [u8; N],
}

impl<const N: usize> ThreadStack<N> {
    /// A zeroed stack of `N` bytes.
    pub fn boxed() -> Box<Self> {
        Box::new(Self {
            tid: AtomicU32::new(0),
            bytes: [0; N],
        })
    }
}

/// A running thread. Dropping it joins it, so the stack it borrows cannot be reused while the
/// thread runs.
pub struct Thread<'s> {
    tid: u32,
    word: &'s AtomicU32,
}

impl<'s> Thread<'s> {
    /// A pthread's flags ([`THREAD_FLAGS`]: the tid-word protocol `join` relies on included)
    /// without `CLONE_SETTLS` (this thread has no TLS block), plus `CLONE_CHILD_SETTID`.
    pub const FLAGS: CloneFlags = THREAD_FLAGS
        .difference(CloneFlags::SETTLS)
        .union(CloneFlags::CHILD_SETTID);

    /// Starts `entry(arg)` on `stack`.
    ///
    /// # Safety
    ///
    /// `entry` runs concurrently with the caller in the same memory, on a thread with no
    /// thread-local storage of its own (no `CLONE_SETTLS`): everything it reaches through `arg`
    /// must be safe to share ([`Sync`]) and live until the thread is joined, and it must not
    /// use thread-locals (so no `std` I/O, allocation or panics) and must not unwind. The
    /// handle must be joined or dropped, not leaked with `mem::forget`, before `stack` is
    /// used again.
    pub unsafe fn spawn<const N: usize>(
        stack: &'s mut ThreadStack<N>,
        entry: ChildEntry,
        arg: usize,
    ) -> Result<Self, SpawnError> {
        let ThreadStack { tid, bytes } = stack;
        let word: &'s AtomicU32 = tid;
        let mut req = CloneRequest::new(Self::FLAGS, 0);
        req.stack = Some(StackRegion {
            base: bytes.as_mut_ptr() as u64,
            size: bytes.len() as u64,
        });
        req.parent_tid = Some(word);
        req.child_tid = Some(word);
        // SAFETY: the stack and the tid word are borrowed by the returned handle, which joins
        // (waits for CLONE_CHILD_CLEARTID's 0) before the borrow can end; the caller promises
        // the rest (see `# Safety`).
        let tid = unsafe { user::clone(&req, entry, arg) }?;
        Ok(Self { tid, word })
    }

    /// The thread's tid.
    pub fn tid(&self) -> u32 {
        self.tid
    }

    /// Whether the thread has exited (the kernel cleared its tid word).
    pub fn is_finished(&self) -> bool {
        self.word.load(Ordering::Acquire) == 0
    }

    /// Waits until the thread has exited.
    pub fn join(self) {
        // Drop does the waiting.
    }

    fn wait(&self) {
        loop {
            let seen = self.word.load(Ordering::Acquire);
            if seen == 0 {
                return;
            }
            // EAGAIN (the word changed) and EINTR both mean: look again.
            let _ = user::futex_wait(self.word, seen);
        }
    }
}

impl Drop for Thread<'_> {
    fn drop(&mut self) {
        self.wait();
    }
}

/// What one thread sums, and where it puts the result.
struct Job<'a> {
    numbers: &'a [u64],
    sum: &'a AtomicU64,
}

extern "C" fn sum_job(arg: usize) -> i32 {
    // SAFETY: `arg` is the address of a `Job` that main keeps alive until the join.
    let job = unsafe { &*(arg as *const Job<'_>) };
    let total = job.numbers.iter().sum::<u64>();
    job.sum.store(total, Ordering::Release);
    0
}

fn main() -> Result<(), SpawnError> {
    let numbers: Vec<u64> = (1..=4000).collect();
    let sums: Vec<AtomicU64> = (0..4).map(|_| AtomicU64::new(0)).collect();
    let jobs: Vec<Job<'_>> = numbers
        .chunks(1000)
        .zip(&sums)
        .map(|(numbers, sum)| Job { numbers, sum })
        .collect();
    let mut stacks: Vec<Box<ThreadStack<{ 64 * 1024 }>>> =
        (0..4).map(|_| ThreadStack::boxed()).collect();

    let mut threads = Vec::new();
    for (stack, job) in stacks.iter_mut().zip(&jobs) {
        // SAFETY: `sum_job` only reads its job's numbers and stores one atomic, both alive
        // until the joins below; it uses no thread-locals and cannot unwind.
        let t = unsafe { Thread::spawn(stack, sum_job, job as *const Job<'_> as usize) }?;
        println!("started thread {}", t.tid());
        threads.push(t);
    }
    for t in threads {
        t.join();
    }
    let parts: Vec<u64> = sums.iter().map(|s| s.load(Ordering::Acquire)).collect();
    let total: u64 = parts.iter().sum();
    println!("joined 4 threads: partial sums {parts:?}, total {total}");
    // 1 + 2 + ... + 4000, and each quarter separately: a wrong join shows up here.
    assert_eq!(parts, [500_500, 1_500_500, 2_500_500, 3_500_500]);
    assert_eq!(total, 4000 * 4001 / 2);
    assert!(stacks.iter().all(|s| s.tid.load(Ordering::Relaxed) == 0));
    Ok(())
}
