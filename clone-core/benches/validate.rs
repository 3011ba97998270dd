//! What validation costs next to a real clone: the validator on a thread flag set, on a
//! refused set (which also computes the fix), on an 88-byte clone3 struct, and — on x86_64
//! Linux — a real `clone(SIGCHLD)` + wait and a `CLONE_VM|CLONE_VFORK` clone + wait.
//!
//! `cargo bench -p clone-core --bench validate`
#![allow(missing_docs)]

use std::hint::black_box;

use clone_core::flags::{CloneFlags, THREAD_FLAGS};
use clone_core::policy::LinuxVersion;
use clone_core::validate::{CloneArgs, LegacyCloneArgs, validate_clone, validate_clone3_bytes};
use clone_core::{Arch, Policy};
use criterion::{Criterion, criterion_group, criterion_main};

const P: Policy = Policy::linux(Arch::X86_64, LinuxVersion::V6_18);

fn validator(c: &mut Criterion) {
    let thread = LegacyCloneArgs {
        word: THREAD_FLAGS.bits(),
        parent_tid: 0x1000,
        child_tid: 0x1000,
        tls: 0x2000,
        ..LegacyCloneArgs::default()
    };
    c.bench_function("validate_clone thread flags (accepted)", |b| {
        b.iter(|| validate_clone(black_box(&thread), black_box(&P)))
    });
    let refused = LegacyCloneArgs {
        word: CloneFlags::THREAD.bits(),
        ..LegacyCloneArgs::default()
    };
    c.bench_function(
        "validate_clone CLONE_THREAD alone (refused, with fix)",
        |b| b.iter(|| validate_clone(black_box(&refused), black_box(&P))),
    );
    let args = CloneArgs {
        flags: (CloneFlags::VM | CloneFlags::PIDFD | CloneFlags::NEWPID).bits(),
        pidfd: 0x1000,
        parent_tid: 0x1008,
        exit_signal: 17,
        stack: 0x10_0000,
        stack_size: 0x4000,
        tls: 0x2000,
        ..CloneArgs::default()
    };
    let bytes = args.to_bytes(Arch::X86_64);
    c.bench_function("validate_clone3 88-byte struct (accepted)", |b| {
        b.iter(|| validate_clone3_bytes(black_box(&bytes), None, black_box(&P)))
    });
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod real {
    use std::arch::asm;

    /// Legacy clone whose child exits at once without touching memory (it may share the
    /// parent's stack under CLONE_VM).
    ///
    /// # Safety
    /// Pointers 0; the child runs only `exit(0)`.
    pub unsafe fn raw_clone(flags: u64) -> i64 {
        let ret: i64;
        // SAFETY: the child path is three instructions ending in exit; the parent path
        // clobbers rax, rcx, r11 only.
        unsafe {
            asm!(
                "syscall",
                "test rax, rax",
                "jnz 2f",
                "mov eax, 60",
                "xor edi, edi",
                "syscall",
                "ud2",
                "2:",
                inlateout("rax") 56i64 => ret,
                in("rdi") flags,
                in("rsi") 0u64,
                in("rdx") 0u64,
                in("r10") 0u64,
                in("r8") 0u64,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        ret
    }

    pub fn clone_and_wait(flags: u64) {
        // SAFETY: see raw_clone.
        let pid = unsafe { raw_clone(flags) };
        assert!(pid > 0, "clone failed: {pid}");
        let mut st = 0;
        // SAFETY: reaping our own child.
        unsafe { libc::waitpid(pid as i32, &mut st, libc::__WALL) };
    }
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn real_clone(c: &mut Criterion) {
    c.bench_function("real clone(SIGCHLD) + waitpid", |b| {
        b.iter(|| real::clone_and_wait(17))
    });
    let vfork = (CloneFlags::VM | CloneFlags::VFORK).bits() | 17;
    c.bench_function("real clone(CLONE_VM|CLONE_VFORK|SIGCHLD) + waitpid", |b| {
        b.iter(|| real::clone_and_wait(vfork))
    });
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn real_clone(_: &mut Criterion) {}

criterion_group!(benches, validator, real_clone);
criterion_main!(benches);
