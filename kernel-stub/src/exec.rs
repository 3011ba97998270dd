//! `execve` of the programs built into the kernel image, and the read-only file table they
//! live in.
//!
//! The steps and their errno follow Linux's `do_execveat_common` (`fs/exec.c`): the path is
//! copied from user memory (`getname`: EFAULT, ENAMETOOLONG, ENOENT for ""), looked up
//! (ENOENT), `argv` and `envp` are counted and copied (EFAULT, E2BIG), the binary handler
//! checks the header (ENOEXEC: not ELF64, not `ET_EXEC`, wrong `e_machine`), then the point of
//! no return: a new address space with the program and its stack, the old one released (freed
//! if this was its last user), the other threads of the group killed (`de_thread`), the
//! `clear_child_tid` slot cleared (`mm_release`), and a vfork parent released
//! (`vfork_done`).
//!
//! The new stack is laid out as Linux's `create_elf_tables` lays it out, from `sp` up: argc,
//! the argv pointers and NULL, the envp pointers and NULL, the auxv pairs (`AT_PHDR`,
//! `AT_PHENT`, `AT_PHNUM`, `AT_PAGESZ`, `AT_ENTRY`, `AT_RANDOM`, `AT_HWCAP`, `AT_NULL`), then
//! the 16 `AT_RANDOM` bytes and the strings near the top of the region.

use alloc::vec::Vec;

use crate::addrspace::AddressSpace;
use crate::arch::{self, TrapFrame};
use crate::elf::{self, LoadError};
use crate::syscall::{EFAULT, SysResult};
use crate::task::{Death, Kernel, State};
use crate::{futex, uaccess};

const ENOENT: i32 = 2;
const E2BIG: i32 = 7;
const ENOEXEC: i32 = 8;
const ENOMEM: i32 = 12;
const ENAMETOOLONG: i32 = 36;

/// Linux's `PATH_MAX`, counting the NUL.
pub const PATH_MAX: usize = 4096;
/// Limit on argv + envp strings (Linux allows a quarter of the stack rlimit; the stub keeps
/// it to one page table's worth of its small stack).
const ARG_MAX: usize = 64 * 1024;
/// Limit on argv/envp entries (Linux's `MAX_ARG_STRINGS`).
const MAX_ARG_STRINGS: usize = 0x7FFF_FFFF;

/// `AT_*` auxv tags (`include/uapi/linux/auxvec.h`).
const AT_NULL: u64 = 0;
const AT_PHDR: u64 = 3;
const AT_PHENT: u64 = 4;
const AT_PHNUM: u64 = 5;
const AT_PAGESZ: u64 = 6;
const AT_ENTRY: u64 = 9;
const AT_HWCAP: u64 = 16;
const AT_RANDOM: u64 = 25;

/// A file the stub's `execve` can find.
pub struct File {
    /// Absolute path.
    pub path: &'static str,
    /// Contents.
    pub data: &'static [u8],
}

/// A file that is not an ELF (for `ENOEXEC`).
static NOT_ELF: &[u8] = b"#!/bin/sh\necho this is a script, not an ELF\n";

/// An ELF64 `ET_EXEC` header for a machine no stub arch is (`EM_SPARCV9`, 43): `ENOEXEC`.
static WRONG_MACHINE: [u8; 64] = {
    let mut h = [0u8; 64];
    h[0] = 0x7f;
    h[1] = b'E';
    h[2] = b'L';
    h[3] = b'F';
    h[4] = 2; // ELFCLASS64
    h[5] = 1; // ELFDATA2LSB
    h[6] = 1; // EV_CURRENT
    h[16] = 2; // ET_EXEC
    h[18] = 43; // EM_SPARCV9
    h
};

/// The file table: the embedded programs, plus two files that are not programs for this
/// machine.
pub fn files() -> [File; 4] {
    [
        File {
            path: "/bin/conformance",
            data: crate::USER_ELF,
        },
        File {
            path: "/bin/hostile",
            data: crate::HOSTILE_ELF,
        },
        File {
            path: "/bin/not-elf",
            data: NOT_ELF,
        },
        File {
            path: "/bin/wrong-machine",
            data: &WRONG_MACHINE,
        },
    ]
}

/// Looks `path` up in the file table, then among the suite programs (`/bin/<name>`,
/// `crate::programs`).
pub fn lookup(path: &[u8]) -> Option<&'static [u8]> {
    files()
        .into_iter()
        .find(|f| f.path.as_bytes() == path && !f.data.is_empty())
        .map(|f| f.data)
        .or_else(|| {
            let name = path.strip_prefix(b"/bin/")?;
            crate::programs::PROGRAMS
                .iter()
                .find(|(n, _)| n.as_bytes() == name)
                .map(|(_, data)| *data)
        })
}

/// Copies a NUL-terminated user string of at most `max` bytes (NUL included).
pub fn user_string(addr: u64, max: usize, too_long: i32) -> Result<Vec<u8>, i32> {
    let mut out = Vec::new();
    loop {
        let mut b = [0u8; 1];
        uaccess::read_bytes(addr.wrapping_add(out.len() as u64), &mut b).map_err(|_| EFAULT)?;
        if b[0] == 0 {
            return Ok(out);
        }
        out.push(b[0]);
        if out.len() >= max {
            return Err(too_long);
        }
    }
}

/// Copies a NULL-terminated user array of string pointers (`argv`, `envp`); a NULL array is
/// empty, as Linux takes it.
fn user_strings(array: u64, budget: &mut usize) -> Result<Vec<Vec<u8>>, i32> {
    let mut out = Vec::new();
    if array == 0 {
        return Ok(out);
    }
    loop {
        let p = uaccess::read_u64(array.wrapping_add(8 * out.len() as u64)).map_err(|_| EFAULT)?;
        if p == 0 {
            return Ok(out);
        }
        if out.len() >= MAX_ARG_STRINGS {
            return Err(E2BIG);
        }
        let s = user_string(p, *budget, E2BIG)?;
        *budget = budget.checked_sub(s.len() + 1).ok_or(E2BIG)?;
        out.push(s);
    }
}

/// `execve(path, argv, envp)` for the task in slot `i`. On success the task runs the new
/// program (its frame is replaced; the syscall returns nothing to the old image).
pub fn sys_execve(k: &mut Kernel, i: usize, path: u64, argv: u64, envp: u64) -> SysResult {
    let name = user_string(path, PATH_MAX, ENAMETOOLONG)?;
    if name.is_empty() {
        return Err(ENOENT);
    }
    let file = lookup(&name).ok_or(ENOENT)?;
    let mut budget = ARG_MAX;
    let args = user_strings(argv, &mut budget)?;
    let envs = user_strings(envp, &mut budget)?;
    elf::check_header(file).map_err(|_| ENOEXEC)?;

    let space = AddressSpace::new().ok_or(ENOMEM)?;
    let image = elf::load(file, &space).map_err(|e| match e {
        LoadError::OutOfFrames => ENOMEM,
        _ => ENOEXEC,
    })?;
    let sp = AddressSpace::with_active(&space, || {
        build_stack(image.sp, &image, &args, &envs, k.ticks)
    })
    .map_err(|_| ENOMEM)?;

    // Point of no return.
    let tid = k.task(i).tid;
    let tgid = k.task(i).tgid;
    let others: Vec<usize> = k
        .slots()
        .filter(|(j, t)| *j != i && t.tgid == tgid && !t.is_zombie())
        .map(|(j, _)| j)
        .collect();
    for j in others {
        k.exit_task(j, Death::Killed(9));
    }
    crate::robust::exec_robust_list(k, i);
    // `unshare_files` and `do_close_on_exec`.
    k.exec_files(i);
    let task = k.task(i);
    let old_slot = core::mem::take(&mut task.clear_child_tid);
    let mm = futex::mm_of(task);
    if old_slot != 0 && uaccess::write_u32(old_slot, 0).is_ok() {
        futex::wake(k, mm, old_slot, 1, u32::MAX);
    }
    let task = k.task(i);
    task.space = Some(space);
    task.sig.exec();
    task.frame = TrapFrame::new_user(image.entry, sp);
    task.space().activate();
    for t in k.tasks_mut() {
        if t.state == (State::VforkWait { child: tid }) {
            t.state = State::Runnable;
        }
    }
    if crate::trace::event() {
        crate::kprintln!(
            "exec:  tid {tid} {} (entry {:#x})",
            core::str::from_utf8(&name).unwrap_or("?"),
            image.entry
        );
    }
    Ok(0)
}

/// Writes argc, argv, envp, auxv and the strings below `top` in the active space; returns the
/// new stack pointer (16-byte aligned, pointing at argc).
pub fn build_stack(
    top: u64,
    image: &elf::Image,
    args: &[Vec<u8>],
    envs: &[Vec<u8>],
    seed: u64,
) -> Result<u64, clone_core::Errno> {
    let mut p = top;
    let mut put_string = |s: &[u8]| -> Result<u64, clone_core::Errno> {
        p -= s.len() as u64 + 1;
        uaccess::write_bytes(p, s)?;
        uaccess::write_bytes(p + s.len() as u64, &[0])?;
        Ok(p)
    };
    let arg_ptrs = args
        .iter()
        .map(|s| put_string(s))
        .collect::<Result<Vec<_>, _>>()?;
    let env_ptrs = envs
        .iter()
        .map(|s| put_string(s))
        .collect::<Result<Vec<_>, _>>()?;
    // AT_RANDOM: 16 bytes the program may use as a stack-protector seed (from the tick count:
    // the stub has no entropy source).
    p = (p - 16) & !15;
    let random = p;
    let mut bytes = [0u8; 16];
    for (k, b) in bytes.iter_mut().enumerate() {
        *b = (seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(k as u32 * 8)
            >> 56) as u8;
    }
    uaccess::write_bytes(random, &bytes)?;

    let auxv = [
        (AT_PHDR, image.phdr),
        (AT_PHENT, image.phent),
        (AT_PHNUM, image.phnum),
        (AT_PAGESZ, crate::frames::FRAME_SIZE),
        (AT_ENTRY, image.entry),
        (AT_RANDOM, random),
        (AT_HWCAP, arch::hwcap()),
        (AT_NULL, 0),
    ];
    let words = 1 + args.len() + 1 + envs.len() + 1 + 2 * auxv.len();
    let sp = (p - 8 * words as u64) & !15;
    let mut w = sp;
    let mut push = |v: u64| -> Result<(), clone_core::Errno> {
        uaccess::write_bytes(w, &v.to_ne_bytes())?;
        w += 8;
        Ok(())
    };
    push(args.len() as u64)?;
    for &a in &arg_ptrs {
        push(a)?;
    }
    push(0)?;
    for &e in &env_ptrs {
        push(e)?;
    }
    push(0)?;
    for (tag, value) in auxv {
        push(tag)?;
        push(value)?;
    }
    Ok(sp)
}
