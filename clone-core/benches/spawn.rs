//! Thread create + join, five ways, interleaved in one process on the x86-64 Linux host:
//!
//! * `raw syscall`: an inline-asm `syscall` (clone with `CLONE_VM|…|CLONE_CHILD_CLEARTID`)
//!   whose child calls a function on its new stack and exits: the limit;
//! * `user::clone`: [`clone_core::user::clone`] (validation, stack layout, trampoline);
//! * `glibc clone()`: glibc's own `clone()` wrapper (its `clone.S`) with the same flags;
//! * `pthread_create+join`: glibc's threads (TLS, guard page, stack cache);
//! * `std::thread`: `std::thread::spawn` + `join` (pthread plus Rust's bookkeeping).
//!
//! The three clone variants share one flag set, a reused 64 KiB stack and one join (wait for the
//! `CLONE_CHILD_CLEARTID` futex wake-up). Each round runs every contender for one batch, in an
//! order rotated by one each round, so drift in machine load hits all of them alike. Reported per
//! contender: the median time per iteration over rounds, and the min/median/max over rounds of
//! its time divided by `user::clone`'s in the same round. Two passes: unpinned, then pinned to
//! CPU 0 (`sched_setaffinity`, as `taskset -c 0` does; children inherit it).
//!
//! Run with `cargo bench -p clone-core --bench spawn` (`ROUNDS=N` and `BATCH=N` to change the
//! defaults of 200 rounds of 20 iterations).
#![allow(missing_docs)]

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod bench {
    use std::arch::asm;
    use std::ffi::{c_int, c_void};
    use std::hint::black_box;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Instant;

    use clone_core::CloneFlags;
    use clone_core::stack::StackRegion;
    use clone_core::user::{self, CloneRequest};

    /// Thread flags without CLONE_SETTLS: none of the children below touch TLS.
    const FLAGS: CloneFlags = CloneFlags::VM
        .union(CloneFlags::FS)
        .union(CloneFlags::FILES)
        .union(CloneFlags::SIGHAND)
        .union(CloneFlags::THREAD)
        .union(CloneFlags::SYSVSEM)
        .union(CloneFlags::CHILD_CLEARTID);

    const STACK_SIZE: usize = 64 * 1024;

    unsafe extern "C" {
        /// glibc `clone(fn, stack, flags, arg, ptid, tls, ctid)`.
        fn clone(
            f: extern "C" fn(*mut c_void) -> c_int,
            stack: *mut c_void,
            flags: c_int,
            arg: *mut c_void,
            ...
        ) -> c_int;
    }

    extern "C" fn child_core(arg: usize) -> i32 {
        black_box(arg);
        0
    }

    extern "C" fn child_c(arg: *mut c_void) -> c_int {
        black_box(arg);
        0
    }

    extern "C" fn child_raw(arg: usize) {
        black_box(arg);
    }

    extern "C" fn child_pthread(arg: *mut c_void) -> *mut c_void {
        black_box(arg)
    }

    /// Waits until the kernel clears the tid word at the child's exit.
    fn join(ctid: &AtomicU32) {
        loop {
            let v = ctid.load(Ordering::Acquire);
            if v == 0 {
                return;
            }
            let _ = user::futex_wait(ctid, v);
        }
    }

    /// `clone(FLAGS)` straight from inline asm; the child calls `f(arg)` on `stack_top` and
    /// exits the thread.
    ///
    /// # Safety
    /// `stack_top` is the 16-byte aligned top of a stack and `ctid` a tid word, both unused by
    /// anyone else until the child has exited (joined through `ctid`).
    unsafe fn raw_clone(stack_top: *mut u8, ctid: *mut u32, f: extern "C" fn(usize), arg: usize) {
        let ret: i64;
        // SAFETY: the child runs on its own stack: it calls `f` (r13) with `arg` (r12), both
        // kept across the syscall, then exits without returning into Rust. The parent path
        // clobbers rax, rcx and r11 only.
        unsafe {
            asm!(
                "syscall",
                "test rax, rax",
                "jnz 2f",
                "xor ebp, ebp",
                "mov rdi, r12",
                "call r13",
                "mov eax, 60",
                "xor edi, edi",
                "syscall",
                "ud2",
                "2:",
                inlateout("rax") 56i64 => ret,
                in("rdi") FLAGS.bits(),
                in("rsi") stack_top,
                in("rdx") 0u64,
                in("r10") ctid,
                in("r8") 0u64,
                in("r12") arg,
                in("r13") f,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        assert!(ret > 0, "raw clone failed: {ret}");
    }

    struct Stacks {
        core: Vec<u8>,
        c: Vec<u8>,
        raw: Vec<u8>,
    }

    const NAMES: [&str; 5] = [
        "raw syscall",
        "user::clone",
        "glibc clone()",
        "pthread_create+join",
        "std::thread",
    ];
    /// Index of the contender the ratios divide by.
    const BASE: usize = 1;

    /// One create + join of contender `i`.
    fn once(i: usize, s: &mut Stacks) {
        let ctid = AtomicU32::new(1);
        match i {
            0 => {
                let top = s.raw.as_mut_ptr().wrapping_add(STACK_SIZE);
                // SAFETY: the stack and `ctid` outlive the child, which is joined below.
                unsafe { raw_clone(top, ctid.as_ptr(), child_raw, 7) };
                join(&ctid);
            }
            1 => {
                let req = CloneRequest {
                    stack: Some(StackRegion {
                        base: s.core.as_mut_ptr() as u64,
                        size: STACK_SIZE as u64,
                    }),
                    child_tid: Some(&ctid),
                    ..CloneRequest::new(FLAGS, 0)
                };
                // SAFETY: the stack and `ctid` outlive the child (joined before they are
                // reused); the child touches neither TLS nor shared data.
                let tid = unsafe { user::clone(&req, child_core, 7) }.expect("clone");
                black_box(tid);
                join(&ctid);
            }
            2 => {
                let top = s.c.as_mut_ptr().wrapping_add(STACK_SIZE).cast::<c_void>();
                // SAFETY: same contract, through glibc's wrapper; ptid and tls are unused.
                let tid = unsafe {
                    clone(
                        child_c,
                        top,
                        FLAGS.bits() as c_int,
                        7usize as *mut c_void,
                        core::ptr::null_mut::<c_int>(),
                        core::ptr::null_mut::<c_void>(),
                        ctid.as_ptr(),
                    )
                };
                assert!(tid > 0, "glibc clone failed");
                join(&ctid);
            }
            3 => {
                let mut t: libc::pthread_t = 0;
                // SAFETY: default attributes, a plain function, joined at once.
                let rc = unsafe {
                    libc::pthread_create(&mut t, core::ptr::null(), child_pthread, 7 as *mut _)
                };
                assert_eq!(rc, 0, "pthread_create");
                // SAFETY: `t` is a joinable thread we created.
                let rc = unsafe { libc::pthread_join(t, core::ptr::null_mut()) };
                assert_eq!(rc, 0, "pthread_join");
            }
            _ => {
                let h = std::thread::spawn(|| black_box(7));
                black_box(h.join().unwrap());
            }
        }
    }

    fn median(v: &mut [f64]) -> f64 {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    fn pass(label: &str, rounds: usize, batch: usize, s: &mut Stacks) {
        let n = NAMES.len();
        // times[i][round]: seconds per iteration of contender i in that round.
        let mut times = vec![Vec::with_capacity(rounds); n];
        for i in 0..n {
            once(i, s); // warm-up
        }
        for round in 0..rounds {
            for k in 0..n {
                let i = (round + k) % n;
                let start = Instant::now();
                for _ in 0..batch {
                    once(i, s);
                }
                times[i].push(start.elapsed().as_secs_f64() / batch as f64);
            }
        }
        println!("\n{label}: {rounds} rounds of {batch}, order rotated each round");
        println!(
            "{:<22} {:>12}   ratio to {} per round: min / median / max",
            "contender", "median µs", NAMES[BASE]
        );
        for i in 0..n {
            let mut ratios: Vec<f64> = (0..rounds).map(|r| times[i][r] / times[BASE][r]).collect();
            let med = median(&mut ratios);
            let (lo, hi) = (ratios[0], ratios[rounds - 1]);
            let mut t = times[i].clone();
            println!(
                "{:<22} {:>12.2}   {lo:.2} / {med:.2} / {hi:.2}",
                NAMES[i],
                median(&mut t) * 1e6
            );
        }
    }

    fn pin_to_cpu0() {
        // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET and sched_setaffinity only
        // touch it and the calling thread's affinity.
        unsafe {
            let mut set: libc::cpu_set_t = core::mem::zeroed();
            libc::CPU_SET(0, &mut set);
            let rc = libc::sched_setaffinity(0, core::mem::size_of_val(&set), &set);
            assert_eq!(rc, 0, "sched_setaffinity");
        }
    }

    pub fn main() {
        let env = |k: &str, d: usize| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|&v| v > 0)
                .unwrap_or(d)
        };
        let (rounds, batch) = (env("ROUNDS", 200), env("BATCH", 20));
        let mut s = Stacks {
            core: vec![0; STACK_SIZE],
            c: vec![0; STACK_SIZE],
            raw: vec![0; STACK_SIZE],
        };
        pass("unpinned", rounds, batch, &mut s);
        pin_to_cpu0();
        pass("pinned to CPU 0", rounds, batch, &mut s);
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    bench::main();
}
