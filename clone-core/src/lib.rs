//! clone-core: Linux's `clone`, `clone3` and `__clone2`, right on every architecture.
//!
//! Two faces share one model of the kernel:
//!
//! * the **kernel face**, for kernel authors who want a Linux-compatible `clone`: decode the raw
//!   syscall registers of any arch ([`syscall`]), validate with exactly the errno Linux gives in
//!   the order Linux checks ([`validate`], configured by a [`Policy`]), and compute the child's
//!   stack pointer ([`stack`]);
//! * the **user face**, for libc-free runtimes: raw `clone`/`clone3` traps with a child
//!   trampoline that runs `entry(arg)` on the new stack and exits ([`user`], Linux targets only).
//!
//! Everything except `arch/` (the per-arch `asm!`) is pure logic that builds on any host with
//! stable Rust and has no `unsafe`.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(test)]
extern crate std;

pub mod abi;
pub mod errno;
pub mod error;
pub mod flags;
pub mod policy;
pub mod stack;
pub mod syscall;
pub mod validate;

pub use abi::Arch;
pub use errno::Errno;
pub use error::CloneError;
pub use flags::CloneFlags;
pub use policy::Policy;
pub use abi::{ArgOrder, ChildReturn, StackGrowth, SyscallNumbers};
pub use stack::{ChildStack, StackError, StackLayout, StackRegion};
pub use syscall::{CloneCall, LegacyCloneArgs, RawSyscall};
