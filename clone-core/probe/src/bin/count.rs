//! The count probe: `count CASE N` runs one validation N times. `cargo xtask lean` runs it
//! under callgrind for N = 1000 and N = 2000; the difference divided by 1000 is the cost of
//! one call, with start-up and exit cancelled out.
//!
//! Cases, all on x86_64 under Linux 6.18's privileged [`Policy::linux`], passed through
//! `black_box` so nothing is folded at compile time:
//!
//! * `legacy-accept`: the pthread flag word, accepted, by a [`Validator`] built once;
//! * `legacy-refuse`: `CLONE_THREAD` alone, refused with its fix, by the same validator;
//! * `legacy-refuse-check`: the same refusal without the fix search ([`Validator::check_clone`],
//!   what a kernel's hot path returns);
//! * `clone3-accept`: an 88-byte struct read from user memory, accepted, by the same validator;
//! * `legacy-accept-policy`, `clone3-accept-policy`: the same two accepted calls through
//!   [`validate_clone_in`] and [`validate_clone3`], which build a validator per call.

use std::hint::black_box;

use clone_core::error::Refusal;
use clone_core::flags::{CloneFlags, THREAD_FLAGS};
use clone_core::policy::LinuxVersion;
use clone_core::validate::{
    CloneArgs, KernelCloneArgs, LegacyCloneArgs, NoMemory, SliceMemory, Validator,
    validate_clone_in, validate_clone3,
};
use clone_core::{Arch, CloneError, Policy};

const POLICY: Policy = Policy::linux(Arch::X86_64, LinuxVersion::V6_18);
/// Where the clone3 case's struct sits in the modelled user memory.
const ARGS_AT: u64 = 0x10_0000;

// The legacy calls are measured as one out-of-line function each, as a kernel's syscall table
// calls its handler, so their figures do not depend on whether the compiler inlines the
// (small) call into the loop; the clone3 entry points are large enough to stay out of line.

#[inline(never)]
fn validator_clone(v: &Validator, args: &LegacyCloneArgs) -> Result<KernelCloneArgs, CloneError> {
    v.validate_clone(args, &NoMemory)
}

#[inline(never)]
fn check_clone(v: &Validator, args: &LegacyCloneArgs) -> Result<KernelCloneArgs, Refusal> {
    v.check_clone(args, &NoMemory)
}

#[inline(never)]
fn policy_clone(args: &LegacyCloneArgs, policy: &Policy) -> Result<KernelCloneArgs, CloneError> {
    validate_clone_in(args, &NoMemory, policy)
}

fn main() {
    let mut argv = std::env::args().skip(1);
    let case = argv.next().unwrap_or_default();
    let n: u32 = argv.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let policy = black_box(POLICY);
    let validator = black_box(Validator::new(policy));
    let legacy = |word: u64| LegacyCloneArgs {
        word,
        parent_tid: 0x1000,
        child_tid: 0x1000,
        tls: 0x2000,
        ..LegacyCloneArgs::default()
    };
    let bytes = CloneArgs {
        flags: (CloneFlags::VM | CloneFlags::PIDFD | CloneFlags::NEWPID).bits(),
        pidfd: 0x1000,
        parent_tid: 0x1008,
        exit_signal: 17,
        stack: 0x20_0000,
        stack_size: 0x4000,
        tls: 0x2000,
        ..CloneArgs::default()
    }
    .to_bytes(Arch::X86_64);
    let mem = SliceMemory {
        base: ARGS_AT,
        bytes: &bytes,
    };
    let accepted = |ok: bool| {
        if !ok {
            eprintln!("count: {case} gave the wrong verdict");
            std::process::exit(1);
        }
    };
    match case.as_str() {
        "legacy-refuse-check" => {
            let args = legacy(CloneFlags::THREAD.bits());
            let run = || check_clone(&validator, black_box(&args));
            (0..n).for_each(|_| _ = black_box(&run()));
            accepted(run().is_err());
        }
        "legacy-accept" | "legacy-refuse" | "legacy-accept-policy" => {
            let refuse = case == "legacy-refuse";
            let args = legacy(if refuse {
                CloneFlags::THREAD.bits()
            } else {
                THREAD_FLAGS.bits()
            });
            let by_policy = case == "legacy-accept-policy";
            let run = || validator_clone(&validator, black_box(&args));
            let run_policy = || policy_clone(black_box(&args), &policy);
            if by_policy {
                (0..n).for_each(|_| _ = black_box(&run_policy()));
            } else {
                (0..n).for_each(|_| _ = black_box(&run()));
            }
            accepted(run().is_ok() != refuse && run_policy().is_ok() != refuse);
        }
        "clone3-accept" | "clone3-accept-policy" => {
            let by_policy = case == "clone3-accept-policy";
            let run = || validator.validate_clone3(black_box(ARGS_AT), black_box(88), &mem);
            let run_policy = || validate_clone3(black_box(ARGS_AT), black_box(88), &mem, &policy);
            if by_policy {
                (0..n).for_each(|_| _ = black_box(&run_policy()));
            } else {
                (0..n).for_each(|_| _ = black_box(&run()));
            }
            accepted(run().is_ok() && run_policy().is_ok());
        }
        other => {
            eprintln!("count: unknown case {other:?}");
            std::process::exit(2);
        }
    }
}
