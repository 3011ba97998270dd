//! The size probe: a bare-metal x86_64 program that decodes a trapped syscall and validates it,
//! as a kernel's clone entry does, and nothing else. `cargo xtask lean` measures its `.text`
//! (validator + decoder, plus the few bytes of this glue) and fails if any panic path is linked.
//!
//! By default it validates the way a kernel's hot path does ([`check`]: errno, rule and flags,
//! no fix search). Built with `--features explain` it calls the `validate_*` functions instead,
//! which also search the fix, so the search's own cost can be measured.
//!
//! Every input comes through `black_box`, so nothing is folded at compile time: the registers,
//! the policy and the user memory are all unknown to the compiler, as in a kernel.
#![no_std]
#![no_main]

use core::hint::black_box;

use clone_core::syscall::{RawSyscall, decode};
use clone_core::validate::SliceMemory;
use clone_core::{Arch, Policy};

/// A kernel's clone entry: decode the trapped registers, then validate. The whole verdict
/// (accepted arguments, or errno, rule and flags, and with `explain` the fix) goes to
/// `black_box`, so none of it can be dropped by the optimiser.
fn clone_entry(raw: &RawSyscall, mem: &SliceMemory<'_>, policy: &Policy) {
    let Ok(call) = decode(Arch::X86_64, raw) else {
        return;
    };
    #[cfg(not(feature = "explain"))]
    black_box(&clone_core::validate::check(&call, mem, policy));
    #[cfg(feature = "explain")]
    {
        use clone_core::CloneCall;
        use clone_core::validate::{
            validate_clone_in, validate_clone3, validate_fork, validate_vfork,
        };
        let verdict = match call {
            CloneCall::Clone(args) => validate_clone_in(&args, mem, policy),
            CloneCall::Clone3 { args, size } => validate_clone3(args, size, mem, policy),
            CloneCall::Fork => validate_fork(policy),
            CloneCall::Vfork => validate_vfork(policy),
        };
        black_box(&verdict);
    }
}
#[unsafe(no_mangle)]
extern "C" fn _start() -> ! {
    let raw: RawSyscall = black_box(RawSyscall::default());
    let bytes: &[u8] = black_box(&[]);
    let mem = SliceMemory {
        base: black_box(0),
        bytes,
    };
    let policy: Policy = black_box(Policy::linux(
        Arch::X86_64,
        clone_core::policy::LinuxVersion::V6_18,
    ));
    clone_entry(&raw, &mem, &policy);
    loop {}
}

/// Only reachable if a panic path is linked, which `cargo xtask lean` refuses.
#[panic_handler]
fn on_panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}
