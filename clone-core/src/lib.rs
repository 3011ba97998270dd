//! clone-core: Linux's `clone`, `clone3` and `__clone2`, right on every architecture.
//!
//! Two faces share one model of the kernel:
//!
//! * the **kernel face**, for kernel authors who want a Linux-compatible `clone`: decode the raw
//!   syscall registers of any arch ([`syscall`]), validate with exactly the errno Linux gives in
//!   the order Linux checks ([`validate`], configured by a [`Policy`]), and compute the child's
//!   stack pointer ([`stack`]); [`entry::clone_syscall`] does all three in one call;
//! * the **user face**, for libc-free runtimes: raw `clone`/`clone3` traps with a child
//!   trampoline that runs `entry(arg)` on the new stack and exits (the `user` module, Linux
//!   targets only).
//!
//! Everything except `arch/` (the per-arch `asm!`) is pure logic that builds on any host with
//! stable Rust and has no `unsafe`.
//!
//! # Examples
//!
//! Linux's answer to a flag set, with the rule and the smallest fix:
//!
//! ```
//! use clone_core::{Arch, CloneFlags, Errno, Policy, policy::LinuxVersion, validate};
//!
//! let policy = Policy::linux(Arch::Aarch64, LinuxVersion::V6_18);
//! let err = validate::validate_clone_word(CloneFlags::THREAD.bits(), &policy).unwrap_err();
//! assert_eq!(err.errno, Errno::EINVAL);
//! assert_eq!(err.rule.kernel_function(), "copy_process");
//! assert_eq!(err.fix.to_string(), "add CLONE_VM|CLONE_SIGHAND");
//! ```
//!
//! A kernel's `clone` handler: raw registers in, the child's stack pointer and TLS (or Linux's
//! errno) out. Here x86_64's `clone(flags, newsp, parent_tid, child_tid, tls)`:
//!
//! ```
//! use clone_core::{Arch, CloneFlags, Policy, RawSyscall, policy::LinuxVersion};
//! use clone_core::{entry, validate::NoMemory};
//!
//! let policy = Policy::linux(Arch::X86_64, LinuxVersion::V6_18);
//! let flags = CloneFlags::VM | CloneFlags::FS | CloneFlags::FILES | CloneFlags::SIGHAND
//!     | CloneFlags::THREAD | CloneFlags::SETTLS;
//! let raw = RawSyscall { nr: 56, args: [flags.bits(), 0x7000_0000, 0, 0, 0x5000, 0] };
//! let accepted = entry::clone_syscall(&raw, &NoMemory, &policy).unwrap();
//! assert_eq!(accepted.child_sp.map(|sp| sp.sp), Some(0x7000_0000));
//! assert_eq!(accepted.tls, Some(0x5000));
//! ```
//!
//! The ABI facts of an arch this host is not, and the text forms tools use:
//!
//! ```
//! use clone_core::{Arch, ArgOrder, CloneFlags};
//!
//! let s390x: Arch = "s390x".parse().unwrap();
//! assert_eq!(s390x.clone_arg_order(), ArgOrder::Backwards2);
//! assert_eq!(s390x.syscalls().clone3, Some(435));
//! let flags: CloneFlags = "CLONE_VM|CLONE_FS".parse().unwrap();
//! assert_eq!(flags.to_string(), "CLONE_VM|CLONE_FS");
//! ```
//!
//! The crate README has a complete user-face thread with its join, and `examples/` has a
//! joinable thread handle (`thread.rs`) and a kernel's handler (`kernel_face.rs`).
//!
//! # Performance
//!
//! `cargo xtask lean` measures the kernel face exactly and `cargo xtask test` gates it (x86_64,
//! callgrind instructions per call, opt-level s with fat LTO): accepting the pthread flag word
//! with a [`validate::Validator`] takes 60 instructions, accepting an 88-byte `clone3` struct
//! read from user memory 148, refusing `CLONE_THREAD` 172 without the fix search
//! ([`validate::Validator::check`], the hot path) and 2,371 with it. The decoder and validator
//! link no panic path; on `x86_64-unknown-none` their `.text` is 7,871 bytes without the fix
//! search and 18,783 with it.
//!
//! Thread create + join (`benches/spawn.rs`: contenders interleaved round by round, order
//! rotated, 200 rounds on a loaded 2-core x86_64 machine, Linux 6.18): `user::clone` takes
//! the same median time as a raw inline-asm `syscall` whose child runs a function (ratio 0.99,
//! unpinned and pinned to one CPU) and as glibc's `clone()`; `pthread_create`+`pthread_join` is
//! about 1.3× and `std::thread` 1.9–2.2×. The README has the full table.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    all(
        feature = "experimental-asm",
        any(target_arch = "mips64", target_arch = "sparc64")
    ),
    feature(asm_experimental_arch)
)]

#[cfg(test)]
extern crate std;

pub mod abi;
mod accept;
pub mod entry;
pub mod errno;
pub mod error;
mod fix;
pub mod flags;
pub mod memory;
pub mod policy;
pub mod stack;
pub mod syscall;
pub mod validate;

// The user face: one file per arch in src/arch/, same item names in each (origin's layout).
// Only Linux userland; arches whose asm needs `asm_experimental_arch` (or is unproven) sit
// behind the `experimental-asm` feature. One macro carries the condition so the arch module
// and the public API cannot be enabled for different sets of targets.
macro_rules! with_user_face {
    ($($item:item)*) => {
        $(
            #[cfg(all(
                target_os = "linux",
                any(
                    all(target_arch = "x86_64", target_pointer_width = "64"),
                    target_arch = "x86",
                    target_arch = "aarch64",
                    target_arch = "arm",
                    target_arch = "riscv64",
                    target_arch = "s390x",
                    all(target_arch = "powerpc64", target_abi = "elfv2"),
                    target_arch = "loongarch64",
                    all(
                        feature = "experimental-asm",
                        any(
                            all(target_arch = "mips64", target_pointer_width = "64"),
                            all(target_arch = "powerpc64", target_abi = "elfv1"),
                            target_arch = "sparc64",
                        )
                    ),
                )
            ))]
            $item
        )*
    };
}

with_user_face! {
    #[cfg(any(
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64",
        target_arch = "loongarch64",
        target_arch = "s390x",
    ))]
    #[macro_use]
    #[path = "arch/raw_syscalls.rs"]
    mod raw_syscalls;
    #[cfg_attr(target_arch = "x86_64", path = "arch/x86_64.rs")]
    #[cfg_attr(target_arch = "x86", path = "arch/x86.rs")]
    #[cfg_attr(target_arch = "aarch64", path = "arch/aarch64.rs")]
    #[cfg_attr(target_arch = "arm", path = "arch/arm.rs")]
    #[cfg_attr(target_arch = "riscv64", path = "arch/riscv64.rs")]
    #[cfg_attr(target_arch = "s390x", path = "arch/s390x.rs")]
    #[cfg_attr(target_arch = "powerpc64", path = "arch/powerpc64.rs")]
    #[cfg_attr(target_arch = "loongarch64", path = "arch/loongarch64.rs")]
    #[cfg_attr(target_arch = "mips64", path = "arch/mips64.rs")]
    #[cfg_attr(target_arch = "sparc64", path = "arch/sparc64.rs")]
    mod arch;
    #[cfg_attr(docsrs, doc(cfg(target_os = "linux")))]
    pub mod user;
}

// The READMEs' Rust snippets are compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod crate_readme {}
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod repository_readme {}

pub use abi::Arch;
pub use abi::{ArgOrder, ChildReturn, StackGrowth, SyscallNumbers};
pub use errno::Errno;
pub use error::CloneError;
pub use flags::CloneFlags;
pub use policy::Policy;
pub use stack::{ChildStack, StackError, StackLayout, StackRegion};
pub use syscall::{CloneCall, LegacyCloneArgs, RawSyscall};
