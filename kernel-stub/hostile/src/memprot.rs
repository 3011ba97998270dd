//! ELF permissions are page permissions (issue 13, item 6): this program's own text is
//! read + execute, its rodata read-only, its data read + write and never executable, for
//! the user and for the kernel's own writes into user memory.
//!
//! Each user access that must fault runs in a `CLONE_VM` process child
//! ([`crate::entry::child_status`]) that dies of SIGSEGV, on Linux as on the stub. A kernel
//! write into read-only user memory (`clock_gettime` into rodata or text) is EFAULT and
//! leaves the bytes as they were.

use core::hint::black_box;

use clone_core::user;

use crate::entry::child_status;
use crate::{CaseResult, expect};

const SIGSEGV: i32 = 11;
const EFAULT: isize = 14;
const CLOCK_MONOTONIC: usize = 1;

#[cfg(target_arch = "x86_64")]
const CLOCK_GETTIME: usize = 228;
#[cfg(not(target_arch = "x86_64"))]
const CLOCK_GETTIME: usize = 113;

/// Read-only data: a plain `static` without interior mutability goes to `.rodata`.
static RODATA: [u64; 2] = [0x5241_4f44_4154_4121, 0x2121_2121_2121_2121];

/// Code in writable data: aligned so that the word after it takes an aligned 8-byte store.
#[repr(C, align(16))]
struct Code([u32; 4]);

/// A return instruction in writable data (`.data`): RW, so it must not be executable.
#[cfg(target_arch = "x86_64")]
static mut DATA_RET: Code = Code([0x90c3_c3c3, 0, 1, 1]);
#[cfg(target_arch = "aarch64")]
static mut DATA_RET: Code = Code([0xd65f_03c0, 0, 1, 1]);
#[cfg(target_arch = "riscv64")]
static mut DATA_RET: Code = Code([0x0000_8082, 0, 1, 1]);

/// Stores to `addr`: the child that runs this dies if `addr` is not writable.
extern "C" fn store_to(addr: usize) -> i32 {
    // SAFETY: deliberately writes where the page tables must refuse it; the kernel kills this
    // process before the store lands (a store that lands is caught by the caller's check of
    // the exit status and of the bytes).
    unsafe { core::ptr::write_volatile(addr as *mut u64, 0x0bad_0bad_0bad_0bad) };
    0
}

/// Calls the code at `addr`: the child that runs this dies if `addr` is not executable.
extern "C" fn call_at(addr: usize) -> i32 {
    // SAFETY: `addr` holds one return instruction, so a call that runs returns at once; the
    // case checks that it does not run at all (the fetch faults on a non-executable page).
    let f = unsafe { core::mem::transmute::<usize, extern "C" fn()>(addr) };
    f();
    0
}

/// Runs `entry(arg)` in a child and expects death by SIGSEGV.
fn dies_of_sigsegv(what: &str, entry: extern "C" fn(usize) -> i32, arg: usize) -> CaseResult {
    let status = child_status(entry, arg)?;
    if status & 0x7f != SIGSEGV {
        fail!("{what}: child wait status {status:#x}, expected death by SIGSEGV");
    }
    Ok(())
}

/// `clock_gettime(CLOCK_MONOTONIC, addr)`: the kernel's write into user memory.
fn kernel_write_to(addr: usize) -> isize {
    // SAFETY: the kernel writes 16 bytes at `addr` or refuses; every `addr` here is this
    // program's own read-only memory, which must refuse.
    unsafe { user::syscall2(CLOCK_GETTIME, CLOCK_MONOTONIC, addr) }
}

/// Text R+X, rodata R, data RW without X; the kernel's writes honour them.
pub fn elf_permissions() -> CaseResult {
    let text = black_box(store_to as *const () as usize);
    let rodata = black_box(RODATA.as_ptr() as usize);
    let data = black_box((&raw const DATA_RET) as usize);
    dies_of_sigsegv("a store into text", store_to, text)?;
    dies_of_sigsegv("a store into rodata", store_to, rodata)?;
    dies_of_sigsegv("a call into data", call_at, data)?;
    expect(
        "clock_gettime into rodata",
        kernel_write_to(rodata),
        EFAULT,
    )?;
    expect("clock_gettime into text", kernel_write_to(text), EFAULT)?;
    // SAFETY: reads this program's own rodata.
    let kept = unsafe { core::ptr::read_volatile(rodata as *const [u64; 2]) };
    if kept != [0x5241_4f44_4154_4121, 0x2121_2121_2121_2121] {
        fail!("rodata changed: {kept:#x?}");
    }
    // Data is writable (the words after the code), and text readable, by the user.
    store_to(data + 8);
    // SAFETY: reads this program's own data and text.
    let (stored, first) = unsafe {
        (
            core::ptr::read_volatile((data + 8) as *const u64),
            core::ptr::read_volatile(text as *const u8),
        )
    };
    if stored != 0x0bad_0bad_0bad_0bad {
        fail!("a store into data read back {stored:#x}");
    }
    black_box(first);
    Ok(())
}
