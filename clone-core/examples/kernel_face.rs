//! The kernel face as a kernel's `clone` handler uses it: raw registers in, Linux's answer
//! out, through the one-call entry ([`clone_core::entry::clone_syscall`]) and a model of the
//! trapping task's memory ([`clone_core::memory::Regions`]).
//!
//! Run it with `cargo run -p clone-core --example kernel_face`; `cargo xtask test` runs it.

use clone_core::entry::{self, Accepted};
use clone_core::memory::{Region, Regions};
use clone_core::policy::LinuxVersion;
use clone_core::validate::CloneArgs;
use clone_core::{Arch, CloneFlags, Policy, RawSyscall};

/// The kernel's return value for `clone`/`clone3`: the new tid, or `-errno`.
fn sys_clone(raw: &RawSyscall, memory: &Regions<'_>, policy: &Policy) -> i64 {
    match entry::clone_syscall(raw, memory, policy) {
        Ok(Accepted {
            args,
            child_sp,
            tls,
            ..
        }) => {
            // A real kernel creates the task here.
            println!(
                "  accepted: flags {}, child sp {:?}, tls {:?}",
                args.flags,
                child_sp.map(|s| format!("{:#x}", s.sp)),
                tls.map(|t| format!("{t:#x}"))
            );
            1000
        }
        Err(e) => {
            println!("  refused: {e}");
            // The fix search runs only when asked.
            if let Some(explained) = e.explain(memory, policy) {
                println!("  fix: {}", explained.fix);
            }
            -i64::from(e.errno().raw_for(policy.arch))
        }
    }
}

fn main() {
    const ARCH: Arch = Arch::Riscv64;
    // What this kernel implements: Linux 6.18's clone, no namespaces.
    let policy =
        Policy::linux(ARCH, LinuxVersion::V6_18).with_namespaces_configured(CloneFlags::empty());
    let nr = ARCH.syscalls();
    let thread = CloneFlags::VM
        | CloneFlags::FS
        | CloneFlags::FILES
        | CloneFlags::SIGHAND
        | CloneFlags::THREAD
        | CloneFlags::SYSVSEM
        | CloneFlags::SETTLS;

    // Legacy clone on riscv64 (CLONE_BACKWARDS): flags, sp, parent_tid, tls, child_tid.
    println!("clone(pthread flags):");
    let raw = RawSyscall {
        nr: nr.clone,
        args: [thread.bits(), 0x7fff_0000, 0, 0x4000_0000, 0, 0],
    };
    assert_eq!(sys_clone(&raw, &Regions::new(&[]), &policy), 1000);

    println!("clone(CLONE_THREAD):");
    let raw = RawSyscall {
        nr: nr.clone,
        args: [CloneFlags::THREAD.bits(), 0, 0, 0, 0, 0],
    };
    assert_eq!(sys_clone(&raw, &Regions::new(&[]), &policy), -22);

    // clone3 reads struct clone_args (and set_tid) from the task's memory.
    let args = CloneArgs {
        flags: CloneFlags::NEWNET.bits(),
        exit_signal: 17,
        ..CloneArgs::default()
    };
    let bytes = args.to_bytes(ARCH);
    let mapped = [Region::read_only(0x1_0000, &bytes)];
    let memory = Regions::new(&mapped);
    let clone3 = nr.clone3.expect("riscv64 has clone3");
    println!("clone3(CLONE_NEWNET) on a kernel without namespaces:");
    let raw = RawSyscall {
        nr: clone3,
        args: [0x1_0000, 88, 0, 0, 0, 0],
    };
    assert_eq!(sys_clone(&raw, &memory, &policy), -22);

    println!("clone3 with its struct unmapped:");
    let raw = RawSyscall {
        nr: clone3,
        args: [0x2_0000, 88, 0, 0, 0, 0],
    };
    assert_eq!(sys_clone(&raw, &memory, &policy), -14);
}
