//! kernel-stub: a bare-metal kernel whose only job is to run one Linux user program (the
//! clone-core conformance ELF) with `clone`, `clone3`, `futex` and the exit paths implemented
//! through clone-core's kernel face.
//!
//! The kernel is a loop on one kernel stack (no kernel threads, interrupts off in kernel mode):
//! pick a runnable task, `arch::run_user` it until its next trap, handle the trap, repeat.
//! When the last task is gone the kernel prints the heap balance and exits QEMU with 33 (the
//! program's thread group exited with status 0) or 65 (anything else).
//!
//! Module map: [`arch`] (per-arch boot, traps, console, exit, page-table formats), [`heap`]
//! (global allocator), [`frames`] (physical frames with reference counts), [`addrspace`] (one
//! page table per process, copy-on-write fork), [`fault`] (user faults), [`exec`] (`execve`
//! and the embedded file table),
//! [`uaccess`] (user pointer checks), [`clock`] (clocks), [`elf`] (user program loader),
//! [`task`] (task table and scheduler), [`syscall`] (dispatch), [`futex`] (wait queues),
//! [`wait`] (`wait4`/`waitid`), [`clone`] (clone/clone3 through clone-core), [`trace`] (demo
//! output), [`mman`] (mappings: `mmap`, `brk`, ...), [`signal`] (masks, handlers, limits),
//! [`surface`] (the rest of the syscalls a libc needs), [`stat`] (`fstat` and friends),
//! [`sleep`] (`nanosleep`), [`robust`] (robust futexes at thread exit),
//! [`programs`] (the embedded suite).
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

extern crate alloc;

mod addrspace;
pub mod arch;
mod clock;
mod clone;
mod console;
mod elf;
mod exec;
mod fault;
mod files;
mod frames;
mod futex;
mod heap;
mod mman;
mod open;
mod pipe;
mod poll;
mod programs;
mod robust;
mod signal;
mod sleep;
mod stat;
mod surface;
mod syscall;
mod task;
mod trace;
mod uaccess;
mod usage;
mod wait;

use crate::addrspace::AddressSpace;
use crate::task::Kernel;

/// The user program, embedded at build time (`KERNEL_STUB_USER_ELF`, see `build.rs`).
pub static USER_ELF: &[u8] = include_bytes!(env!("KERNEL_STUB_USER_ELF_PATH"));
/// Optional second program, run after the first (`KERNEL_STUB_HOSTILE_ELF`): the stub-only
/// hostile-input cases.
pub static HOSTILE_ELF: &[u8] = include_bytes!(env!("KERNEL_STUB_HOSTILE_ELF_PATH"));

/// Generic kernel entry, called once by each arch's boot code with a valid stack and `.bss`
/// zeroed. Never returns: ends by exiting QEMU.
#[unsafe(no_mangle)]
pub extern "C" fn kmain() -> ! {
    arch::init();
    clock::init();
    kprintln!("kernel-stub: booted on {}", arch::ARCH.name());
    heap::init();

    if USER_ELF.is_empty() && programs::PROGRAMS.is_empty() {
        kprintln!("kernel-stub: no user program embedded (build with `cargo xtask qemu`)");
        arch::exit_qemu(false);
    }
    // The table itself stays allocated; everything a task owns must come back.
    let mut kernel = Kernel::new();
    let before = heap::used();
    let frames_before = frames::used();
    kprintln!(
        "kernel-stub: {} frames of 4 KiB for user memory and page tables",
        frames::total()
    );
    let mut all_zero = true;
    let own = [("conformance", USER_ELF), ("hostile", HOSTILE_ELF)]
        .into_iter()
        .map(|(name, elf)| (name, elf, false));
    // The suite, `programs::ROUNDS` times over (`cargo xtask programs --repeat`): the heap and
    // frame balance below then covers every round.
    let suite = (0..programs::ROUNDS)
        .flat_map(|_| programs::PROGRAMS.iter())
        .map(|&(name, elf)| (name, elf, true));
    for (name, elf, with_args) in own.chain(suite) {
        if elf.is_empty() {
            continue;
        }
        surface::reset_log();
        // The stub's own programs start with argc = 0 (how they know they run on the stub);
        // the suite programs as `execve` starts them.
        let loaded = if with_args {
            programs::load(name, elf).map_err(alloc::string::ToString::to_string)
        } else {
            AddressSpace::new()
                .ok_or_else(|| alloc::string::String::from("no frames for its page tables"))
                .and_then(|space| {
                    elf::load(elf, &space)
                        .map(|image| (image, space))
                        .map_err(|e| alloc::format!("{e}"))
                })
        };
        let (image, space) = match loaded {
            Ok(v) => v,
            Err(e) => {
                kprintln!("kernel-stub: cannot load the {name} program: {e}");
                arch::exit_qemu(false);
            }
        };
        kprintln!(
            "kernel-stub: running the {name} program ({} bytes, entry {:#x}) as pid {}",
            elf.len(),
            image.entry,
            task::FIRST_PID
        );
        let mut image = image;
        if cfg!(feature = "trace") && !with_args {
            // The demo (`cargo xtask run`): the stub's own program gets `CLONE_CONFORMANCE_ENV=demo` in
            // a Linux-layout initial stack, which makes it leave out its 1,000-cycle leak
            // tests (`cargo xtask qemu` runs them), so the demo takes a few seconds.
            let env = [b"CLONE_CONFORMANCE_ENV=demo".to_vec()];
            match AddressSpace::with_active(&space, || {
                exec::build_stack(image.sp, &image, &[], &env, 0)
            }) {
                Ok(sp) => image.sp = sp,
                Err(e) => {
                    kprintln!("kernel-stub: cannot lay out the demo's initial stack: {e}");
                    arch::exit_qemu(false);
                }
            }
        }
        let status = kernel.run(image, space);
        kprintln!(
            "kernel-stub: {name} program exited with status {status} ({} clones, {} exits, {} timer ticks)",
            kernel.clones,
            kernel.exits,
            kernel.ticks
        );
        trace::reset();
        all_zero &= status == 0;
    }
    // The monotonic clock's calibration, checked against the RTC over the whole run: the
    // realtime clock (RTC at boot + monotonic since) must still agree with the RTC within
    // 2 s (the RTC counts whole seconds).
    let rtc = arch::rtc_unix_ns() / 1_000_000_000;
    let realtime = (clock::monotonic_ns() + clock::realtime_offset_ns()) / 1_000_000_000;
    let clock_ok = rtc.abs_diff(realtime) <= 2;
    kprintln!("kernel-stub: clock check: RTC {rtc} s, CLOCK_REALTIME {realtime} s");
    if !clock_ok {
        kprintln!("kernel-stub: FAIL: CLOCK_REALTIME drifted from the RTC");
    }
    let after = heap::used();
    let frames_after = frames::used();
    kprintln!(
        "kernel-stub: heap used before={before} after={after} peak={}",
        heap::peak()
    );
    kprintln!("kernel-stub: frames used before={frames_before} after={frames_after}");
    drop(kernel);
    if before != after {
        kprintln!("kernel-stub: FAIL: the heap did not return to its starting size");
    }
    if frames_before != frames_after {
        kprintln!("kernel-stub: FAIL: frames were not all released");
    }
    arch::exit_qemu(all_zero && before == after && frames_before == frames_after && clock_ok)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    kprintln!("kernel-stub: PANIC: {info}");
    arch::exit_qemu(false)
}
