//! futex classes where the stub used to differ from Linux: wake counts, private vs shared
//! keys, EFAULT for addresses `access_ok` refuses or nothing maps, check order and `op`
//! truncated to an `int`, and `FUTEX_REQUEUE`/`FUTEX_CMP_REQUEUE`/`FUTEX_WAKE_OP`.
//!
//! Waiters are threads that loop `while GATE == 0 { futex_wait(word, 0) }`: a woken waiter
//! waits again, so while the gate is shut every word keeps its waiters, and a wake's return
//! value is exactly what the kernel's counting rules give. Before counting, the main thread
//! sleeps 50 ms (a futex timeout) so that on Linux every waiter is inside `futex_wait`.

use core::sync::atomic::{AtomicU32, Ordering};

use clone_core::user::{self, ARCH};

use crate::{CaseResult, KERNEL_HIGH, NULLISH, POOL_CTID, POOL_STACKS, expect, join, kernel_low};

const EINVAL: isize = 22;
const EFAULT: isize = 14;
const EAGAIN: isize = 11;
const ENOSYS: isize = 38;
const FUTEX_WAIT: usize = 0;
const FUTEX_WAKE: usize = 1;
const FUTEX_REQUEUE: usize = 3;
const FUTEX_CMP_REQUEUE: usize = 4;
const FUTEX_WAKE_OP: usize = 5;
const FUTEX_WAKE_BITSET: usize = 10;
const FUTEX_PRIVATE: usize = 128;
const FUTEX_CLOCK_REALTIME: usize = 256;

/// Raw `futex(uaddr, op, val, timeout/val2, uaddr2, val3)`.
fn futex(uaddr: usize, op: usize, val: usize, val2: usize, uaddr2: usize, val3: usize) -> isize {
    // SAFETY: every call here passes words this program owns, or addresses the kernel must
    // refuse; WAKE_OP writes only the `uaddr2` word the case owns.
    unsafe {
        user::syscall6(
            ARCH.syscalls().futex as usize,
            uaddr,
            op,
            val,
            val2,
            uaddr2,
            val3,
        )
    }
}

static GATE: AtomicU32 = AtomicU32::new(0);
static WORD_A: AtomicU32 = AtomicU32::new(0);
static WORD_B: AtomicU32 = AtomicU32::new(0);
static WORD_P: AtomicU32 = AtomicU32::new(0);

/// Waiter body: `arg` = address of the word | 1 for a private wait.
extern "C" fn waiter(arg: usize) -> i32 {
    let op = if arg & 1 != 0 {
        FUTEX_WAIT | FUTEX_PRIVATE
    } else {
        FUTEX_WAIT
    };
    let word = arg & !1;
    while GATE.load(Ordering::Acquire) == 0 {
        futex(word, op, 0, 0, 0, 0);
    }
    0
}

/// Lets waiters reach the kernel: a 50 ms futex timeout on a private word.
fn settle() {
    let w = AtomicU32::new(0);
    let ts: [i64; 2] = [0, 50_000_000];
    futex(
        w.as_ptr() as usize,
        FUTEX_WAIT | FUTEX_PRIVATE,
        0,
        ts.as_ptr() as usize,
        0,
        0,
    );
}

/// Starts one waiter per entry of `args` (see [`waiter`]), runs `body`, then opens the gate,
/// wakes every word and joins them all.
fn with_waiters(args: &[usize], body: impl FnOnce() -> CaseResult) -> CaseResult {
    GATE.store(0, Ordering::Relaxed);
    for (i, &arg) in args.iter().enumerate() {
        if let Err(e) = crate::spawn(POOL_STACKS[i].region(), &POOL_CTID[i], waiter, arg) {
            fail!("clone failed: {e}");
        }
    }
    settle();
    let result = body();
    GATE.store(1, Ordering::Release);
    for w in [&WORD_A, &WORD_B, &WORD_P] {
        let a = w.as_ptr() as usize;
        futex(a, FUTEX_WAKE, i32::MAX as usize, 0, 0, 0);
        futex(a, FUTEX_WAKE | FUTEX_PRIVATE, i32::MAX as usize, 0, 0, 0);
    }
    for c in &POOL_CTID[..args.len()] {
        join(c);
    }
    result
}

fn expect_count(what: &str, got: isize, want: isize) -> CaseResult {
    if got != want {
        fail!("{what}: got {got}, expected {want}");
    }
    Ok(())
}

/// `FUTEX_WAKE` with 0, 0x80000000 or 0xffffffff wakes one of three waiters (the count is an
/// int, and the first waiter is woken before it is compared); 2 wakes two.
pub fn wake_counts() -> CaseResult {
    let a = WORD_A.as_ptr() as usize;
    with_waiters(&[a, a, a], || {
        for count in [0usize, 0x8000_0000, 0xffff_ffff, 2] {
            let want = if count == 2 { 2 } else { 1 };
            expect_count("FUTEX_WAKE", futex(a, FUTEX_WAKE, count, 0, 0, 0), want)?;
            settle();
        }
        Ok(())
    })
}

/// A private waiter is not woken by a shared wake of the same word, and the other way round.
pub fn private_shared_keys() -> CaseResult {
    let p = WORD_P.as_ptr() as usize;
    with_waiters(&[p | 1, p], || {
        let shared = futex(p, FUTEX_WAKE, 5, 0, 0, 0);
        expect_count("shared FUTEX_WAKE (one shared waiter)", shared, 1)?;
        settle();
        let private = futex(p, FUTEX_WAKE | FUTEX_PRIVATE, 5, 0, 0, 0);
        expect_count("private FUTEX_WAKE (one private waiter)", private, 1)
    })
}

/// Addresses: a shared wake needs a mapped page (EFAULT for page 0 and for memory the
/// kernel keeps), a private wake only `access_ok` (0 for page 0, EFAULT for the kernel half
/// and a non-canonical or beyond-user address); misaligned is EINVAL.
///
/// `kernel_low()` is the page below the program's 64 KiB gap: stub kernel memory, and on
/// Linux an unmapped user page where the program is linked at 2 MiB (x86_64, aarch64: lld's
/// default image base there). On riscv64 lld links at 0x10000, so on Linux the page wraps to
/// `0xffff_ffff_ffff_f000`, the kernel half, where a private wake is EFAULT too
/// (`get_futex_key`'s `access_ok`): the expectation follows the address, as Linux's does.
pub fn wake_addresses() -> CaseResult {
    let beyond = 0x8000_0000_0000_0000usize;
    for addr in [KERNEL_HIGH, beyond, NULLISH, kernel_low()] {
        expect(
            "shared FUTEX_WAKE",
            futex(addr, FUTEX_WAKE, 1, 0, 0, 0),
            EFAULT,
        )?;
    }
    let low = kernel_low();
    let (user, kernel) = if low < beyond {
        ([NULLISH, low], [KERNEL_HIGH, beyond, beyond])
    } else {
        ([NULLISH, NULLISH], [KERNEL_HIGH, beyond, low])
    };
    for addr in kernel {
        let r = futex(addr, FUTEX_WAKE | FUTEX_PRIVATE, 1, 0, 0, 0);
        expect("private FUTEX_WAKE beyond the user half", r, EFAULT)?;
    }
    for addr in user {
        let r = futex(addr, FUTEX_WAKE | FUTEX_PRIVATE, 1, 0, 0, 0);
        expect_count("private FUTEX_WAKE on an unmapped user address", r, 0)?;
    }
    let a = WORD_A.as_ptr() as usize;
    expect(
        "FUTEX_WAKE misaligned",
        futex(a + 2, FUTEX_WAKE, 1, 0, 0, 0),
        EINVAL,
    )
}

/// Check order: a timeout is read (EFAULT) and checked (EINVAL) before the address and the
/// command; `FUTEX_CLOCK_REALTIME` with a wake is ENOSYS; a zero bitset is EINVAL; `op` is an
/// int, so a bit above 31 is ignored; an unknown command is ENOSYS.
pub fn check_order() -> CaseResult {
    let a = WORD_A.as_ptr() as usize;
    let bad_ts: [i64; 2] = [0, 1_000_000_000];
    let bts = bad_ts.as_ptr() as usize;
    let r = futex(a + 1, FUTEX_WAIT, 0, KERNEL_HIGH, 0, 0);
    expect("WAIT(misaligned, unreadable timeout)", r, EFAULT)?;
    let r = futex(a + 1, FUTEX_WAIT, 0, bts, 0, 0);
    expect("WAIT(misaligned, tv_nsec 1e9)", r, EINVAL)?;
    let r = futex(a, 9 | FUTEX_CLOCK_REALTIME, 1, KERNEL_HIGH, 0, 0);
    expect(
        "WAIT_BITSET|CLOCK_REALTIME(bitset 0, unreadable timeout)",
        r,
        EFAULT,
    )?;
    let r = futex(KERNEL_HIGH, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, 0, 0, 0);
    expect("WAKE|CLOCK_REALTIME(kernel address)", r, ENOSYS)?;
    let r = futex(KERNEL_HIGH, FUTEX_WAKE_BITSET, 1, 0, 0, 0);
    expect("WAKE_BITSET(bitset 0, kernel address)", r, EINVAL)?;
    let r = futex(a, (1 << 32) | FUTEX_WAKE | FUTEX_PRIVATE, 1, 0, 0, 0);
    expect_count("op (1 << 32) | FUTEX_WAKE_PRIVATE", r, 0)?;
    expect("op 0x7f", futex(a, 0x7f, 1, 0, 0, 0), ENOSYS)?;
    expect("op 0x10001", futex(a, 0x10001, 1, 0, 0, 0), ENOSYS)
}

/// `FUTEX_CMP_REQUEUE` compares the first word (EAGAIN), moves waiters to the second word
/// (a wake there finds them), and refuses a negative count (EINVAL); `FUTEX_REQUEUE`
/// wakes `nr_wake` and moves `nr_requeue`.
pub fn requeue() -> CaseResult {
    let (a, b) = (WORD_A.as_ptr() as usize, WORD_B.as_ptr() as usize);
    with_waiters(&[a, a, a], || {
        let r = futex(a, FUTEX_CMP_REQUEUE, 0, 1, b, 1);
        expect("CMP_REQUEUE(value differs)", r, EAGAIN)?;
        let r = futex(a, FUTEX_CMP_REQUEUE, 0x8000_0000, 1, b, 0);
        expect("CMP_REQUEUE(nr_wake negative)", r, EINVAL)?;
        let r = futex(a, FUTEX_REQUEUE, 0, 0x8000_0000, b, 0);
        expect("REQUEUE(nr_requeue negative)", r, EINVAL)?;
        let r = futex(a, FUTEX_CMP_REQUEUE, 0, 2, b, 0);
        expect_count("CMP_REQUEUE(wake 0, move 2)", r, 2)?;
        expect_count(
            "WAKE of the second word",
            futex(b, FUTEX_WAKE, 5, 0, 0, 0),
            2,
        )?;
        settle();
        // Both woken waiters wait on the first word again: 3 there, none on the second.
        let r = futex(a, FUTEX_REQUEUE, 1, 1, b, 0);
        expect_count("REQUEUE(wake 1, move 1)", r, 2)?;
        expect_count(
            "WAKE of the second word",
            futex(b, FUTEX_WAKE, 5, 0, 0, 0),
            1,
        )?;
        let r = futex(a, FUTEX_CMP_REQUEUE, 0, 0, KERNEL_HIGH, 0);
        expect("CMP_REQUEUE(second word in the kernel half)", r, EFAULT)
    })
}

/// Encodes a `FUTEX_WAKE_OP` operation (`FUTEX_OP` in `linux/futex.h`).
const fn futex_op(op: u32, oparg: u32, cmp: u32, cmparg: u32) -> usize {
    (((op & 0xf) << 28) | ((cmp & 0xf) << 24) | ((oparg & 0xfff) << 12) | (cmparg & 0xfff)) as usize
}

/// `FUTEX_WAKE_OP`: each operation on the second word (SET, ADD, OR, ANDN, XOR, with the
/// shift flag), the comparison deciding the second wake, ENOSYS for an unknown op (word
/// untouched) or comparison (word already changed), EFAULT for a second word in the kernel.
pub fn wake_op() -> CaseResult {
    let (a, b) = (WORD_A.as_ptr() as usize, WORD_B.as_ptr() as usize);
    let word = AtomicU32::new(5);
    let w = word.as_ptr() as usize;
    let steps: [(usize, u32); 6] = [
        (futex_op(0, 7, 0, 5), 7),         // SET 7, old == 5
        (futex_op(1, 3, 1, 0), 10),        // ADD 3
        (futex_op(2 | 8, 4, 0, 0), 26),    // OR 1 << 4
        (futex_op(3, 2, 0, 0), 24),        // ANDN 2
        (futex_op(4, 0xfff, 0, 0), !24),   // XOR -1 (sign-extended)
        (futex_op(0, 0x800, 2, 0), !2047), // SET -2048, old < 0
    ];
    for (op, want) in steps {
        let r = futex(a, FUTEX_WAKE_OP | FUTEX_PRIVATE, 1, 1, w, op);
        expect_count("WAKE_OP with no waiters", r, 0)?;
        if word.load(Ordering::Relaxed) != want {
            fail!(
                "WAKE_OP {op:#x}: word is {:#x}, expected {want:#x}",
                word.load(Ordering::Relaxed)
            );
        }
    }
    word.store(5, Ordering::Relaxed);
    let r = futex(a, FUTEX_WAKE_OP, 1, 1, w, futex_op(5, 1, 0, 0));
    expect("WAKE_OP(op 5)", r, ENOSYS)?;
    if word.load(Ordering::Relaxed) != 5 {
        fail!("WAKE_OP with op 5 changed the word");
    }
    let r = futex(a, FUTEX_WAKE_OP, 1, 1, w, futex_op(0, 9, 7, 0));
    expect("WAKE_OP(cmp 7)", r, ENOSYS)?;
    if word.load(Ordering::Relaxed) != 9 {
        fail!("WAKE_OP with cmp 7 did not apply its SET first");
    }
    let r = futex(a, FUTEX_WAKE_OP, 1, 1, KERNEL_HIGH, futex_op(0, 1, 0, 0));
    expect("WAKE_OP(second word in the kernel half)", r, EFAULT)?;
    with_waiters(&[a, a, b, b], || {
        // FUTEX_OP_CMP_LE true (old 0 <= 0): one woken on each word.
        let r = futex(a, FUTEX_WAKE_OP, 1, 1, b, futex_op(0, 0, 3, 0));
        expect_count("WAKE_OP(cmp LE true)", r, 2)?;
        settle();
        // FUTEX_OP_CMP_GT false (old 0 > 0): only the first word's waiter.
        let r = futex(a, FUTEX_WAKE_OP, 1, 1, b, futex_op(0, 0, 4, 0));
        expect_count("WAKE_OP(cmp GT false)", r, 1)?;
        settle();
        // FUTEX_OP_CMP_GE true (old 0 >= 0).
        let r = futex(a, FUTEX_WAKE_OP, 1, 1, b, futex_op(0, 0, 5, 0));
        expect_count("WAKE_OP(cmp GE true)", r, 2)
    })
}

static FORK_WORD: AtomicU32 = AtomicU32::new(0);

/// Child body: a private then a shared 200 ms wait on its copy of `FORK_WORD`; exits 0 only
/// if both timed out (nobody in the parent's address space can wake them).
extern "C" fn fork_waiter(_: usize) -> i32 {
    let ts: [i64; 2] = [0, 200_000_000];
    let w = FORK_WORD.as_ptr() as usize;
    let a = futex(w, FUTEX_WAIT | FUTEX_PRIVATE, 0, ts.as_ptr() as usize, 0, 0);
    let b = futex(w, FUTEX_WAIT, 0, ts.as_ptr() as usize, 0, 0);
    if a == -110 && b == -110 { 0 } else { 1 }
}

/// After a fork, parent and child have their own memory: waking the word in the parent (private
/// or shared: anonymous memory keys by address space) reaches no waiter in the child.
pub fn fork_keys() -> CaseResult {
    let req = user::CloneRequest::new(clone_core::CloneFlags::empty(), 17);
    // SAFETY: a fork-like child on a copy of this stack; it only waits and returns.
    let pid = match unsafe { user::clone(&req, fork_waiter, 0) } {
        Ok(pid) => pid,
        Err(e) => fail!("fork-like clone failed: {e}"),
    };
    let w = FORK_WORD.as_ptr() as usize;
    for _ in 0..6 {
        settle();
        let r = futex(w, FUTEX_WAKE | FUTEX_PRIVATE, 1, 0, 0, 0);
        expect_count("private FUTEX_WAKE in the parent", r, 0)?;
        let r = futex(w, FUTEX_WAKE, 1, 0, 0, 0);
        expect_count("shared FUTEX_WAKE in the parent", r, 0)?;
    }
    let status = AtomicU32::new(u32::MAX);
    let nr = ARCH.syscalls().wait4.unwrap_or(u64::MAX) as usize;
    // SAFETY: wait4 writes one int to `status`.
    let r = unsafe { user::syscall4(nr, pid as usize, status.as_ptr() as usize, 0, 0) };
    let status = status.into_inner();
    if r != pid as isize || status != 0 {
        fail!("the child's waits were woken (wait4 {r}, status {status:#x})");
    }
    Ok(())
}
