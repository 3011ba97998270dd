//! clone-conformance: a libc-free static program that runs every case in [`cases::CASES`]
//! against whatever kernel it finds (native Linux, qemu-user, or the kernel stub) and prints
//! one line per case:
//!
//! ```text
//! case <name>: pass
//! case <name>: FAIL <detail>
//! case <name>: skip <reason>
//! conformance <arch>: N passed, M failed, K skipped
//! ```
//!
//! then exits with `exit_group(0)` if nothing failed, 1 otherwise, 101 on a panic. `cargo xtask
//! linux` parses exactly these lines; keep them stable.
#![no_std]
#![no_main]
#![cfg_attr(
    any(target_arch = "mips64", target_arch = "sparc64"),
    feature(asm_experimental_arch)
)]

mod cases;
#[cfg(target_arch = "x86")]
mod i386_tls;
mod out;
mod processes;
mod start;
mod sys;

use core::sync::atomic::{AtomicUsize, Ordering};

use clone_core::user;

use cases::{CASES, Outcome};

/// The arch name as `cargo xtask linux` spells it (the target name without `-linux-user`).
const ARCH_NAME: &str = if cfg!(target_arch = "x86_64") {
    "x86_64"
} else if cfg!(target_arch = "x86") {
    "i686"
} else if cfg!(target_arch = "aarch64") {
    "aarch64"
} else if cfg!(target_arch = "arm") {
    "armv7"
} else if cfg!(target_arch = "riscv64") {
    "riscv64"
} else if cfg!(target_arch = "s390x") {
    "s390x"
} else if cfg!(all(target_arch = "powerpc64", target_endian = "little")) {
    "powerpc64le"
} else if cfg!(target_arch = "powerpc64") {
    "powerpc64"
} else if cfg!(target_arch = "loongarch64") {
    "loongarch64"
} else if cfg!(target_arch = "mips64") {
    "mips64el"
} else if cfg!(target_arch = "sparc64") {
    "sparc64"
} else {
    "unknown"
};

/// Index into [`CASES`] of the case running now, for the panic handler.
static CURRENT: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Called by `_start` (src/start.rs) with the initial stack pointer.
///
/// # Safety
///
/// `sp` must be the initial stack pointer (or point at zeroed words; see
/// [`sys::read_environment`]).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn conformance_main(sp: *const usize) -> ! {
    // SAFETY: forwarded from our caller, `_start`.
    unsafe { processes::exit_if_exec_probe(sp) };
    unsafe { sys::read_environment(sp) };
    #[cfg(target_arch = "x86")]
    if let Err(e) = i386_tls::setup() {
        outln!("conformance {ARCH_NAME}: set_thread_area failed with errno {e}");
        exit_process(1);
    }
    let (mut passed, mut failed, mut skipped) = (0u32, 0u32, 0u32);
    for (i, case) in CASES.iter().enumerate() {
        if !processes::listed_here(case.name) {
            continue;
        }
        CURRENT.store(i, Ordering::Relaxed);
        let outcome = match cases::unmet(case.needs) {
            Some(reason) => Outcome::Skip(reason),
            None => (case.run)(),
        };
        match outcome {
            Outcome::Pass => {
                passed += 1;
                outln!("case {}: pass", case.name);
            }
            Outcome::Fail(m) => {
                failed += 1;
                outln!("case {}: FAIL {}", case.name, m);
            }
            Outcome::Skip(m) => {
                skipped += 1;
                outln!("case {}: skip {}", case.name, m);
            }
        }
    }
    CURRENT.store(usize::MAX, Ordering::Relaxed);
    outln!("conformance {ARCH_NAME}: {passed} passed, {failed} failed, {skipped} skipped");
    exit_process(if failed == 0 { 0 } else { 1 })
}

/// `exit_group(code)`, after letting the console drain when this program is init
/// (`cargo xtask linux-vm`): init's exit panics the kernel, and a panic does not transmit what
/// is still queued in the console's tty buffer, so the last lines (the summary) could be lost.
fn exit_process(code: i32) -> ! {
    if user::getpid() == 1 {
        // A timed FUTEX_WAIT nobody wakes: one second, plenty for a few KiB at any console
        // speed QEMU emulates.
        let _ = sys::futex_wait_1s(&core::sync::atomic::AtomicU32::new(0), 0);
    }
    user::exit_group(code)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let name = CASES
        .get(CURRENT.load(Ordering::Relaxed))
        .map_or("<outside a case>", |c| c.name);
    outln!("case {name}: FAIL panic: {info}");
    exit_process(101)
}
