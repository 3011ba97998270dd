//! Thread create + join, three ways, measured in one run on the x86-64 Linux host:
//!
//! * `clone_core_user_clone`: [`clone_core::user::clone`] (validation, stack layout, trampoline)
//!   on a reused 64 KiB stack, joined by waiting for the `CLONE_CHILD_CLEARTID` futex wake-up;
//! * `glibc_clone`: glibc's own `clone()` wrapper (its `clone.S`) with the same flags, stack and
//!   join, called through its C symbol — the libc baseline for a raw clone with a child function;
//! * `std_thread_spawn_join`: `std::thread::spawn` + `join` (pthread_create with TLS, guard
//!   page, stack cache, and Rust's thread bookkeeping), for scale.
//!
//! Run with `cargo bench -p clone-core --bench spawn`.
// `criterion_group!` generates an undocumented `pub fn`.
#![allow(missing_docs)]

use std::ffi::{c_int, c_void};
use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod bench {
    use super::*;
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

    /// The `thread_create_join` group.
    pub fn spawn(c: &mut Criterion) {
        let mut g = c.benchmark_group("thread_create_join");

        let mut stack = vec![0u8; STACK_SIZE];
        let region = StackRegion {
            base: stack.as_mut_ptr() as u64,
            size: STACK_SIZE as u64,
        };
        g.bench_function("clone_core_user_clone", |b| {
            b.iter(|| {
                // Non-zero until the kernel clears it at the child's exit (CLEARTID only
                // writes at exit, so `join` cannot return early).
                let ctid = AtomicU32::new(1);
                let req = CloneRequest {
                    stack: Some(region),
                    child_tid: Some(&ctid),
                    ..CloneRequest::new(FLAGS, 0)
                };
                // SAFETY: the stack and `ctid` outlive the child (joined before the next
                // iteration reuses them); the child touches neither TLS nor shared data.
                let tid = unsafe { user::clone(&req, child_core, 7) }.expect("clone");
                join(&ctid);
                black_box(tid)
            })
        });

        let mut cstack = vec![0u8; STACK_SIZE];
        g.bench_function("glibc_clone", |b| {
            b.iter(|| {
                let ctid = AtomicU32::new(1);
                // glibc aligns the top itself.
                let top = cstack
                    .as_mut_ptr()
                    .wrapping_add(STACK_SIZE)
                    .cast::<c_void>();
                // SAFETY: same contract as above, through glibc's wrapper; ptid and tls are
                // unused (no PARENT_SETTID, no SETTLS).
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
                black_box(tid)
            })
        });

        g.bench_function("std_thread_spawn_join", |b| {
            b.iter(|| {
                let h = std::thread::spawn(|| black_box(7));
                black_box(h.join().unwrap())
            })
        });

        g.finish();
        drop(stack);
        drop(cstack);
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
criterion_group!(benches, bench::spawn);
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
criterion_main!(benches);

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn main() {}
