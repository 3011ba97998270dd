//! User program loader: checks that the file is a static, non-PIE ELF64 executable for this
//! machine (`e_ident`, `e_type == ET_EXEC`, `e_machine`), maps each `PT_LOAD` segment's pages
//! into an address space with the segment's permissions (text R+X, rodata R, data RW, never
//! writable and executable at once), copies the file bytes (the rest is zero: bss), and builds
//! the initial stack Linux would build for an exec with no arguments (`argc = 0`,
//! `argv[0] = NULL`, `envp[0] = NULL`, `auxv = {AT_NULL}`), which is how the program knows it
//! is not running on a native kernel.

use core::fmt;

use crate::addrspace::{AddressSpace, MapError};
use crate::arch::Perm;
use crate::frames::{self, FRAME_SIZE};
use crate::mman;

/// Where the loaded program starts and where its first thread's stack is.
pub struct Image {
    /// `e_entry`.
    pub entry: u64,
    /// Initial stack pointer (points at `argc`), and the top of the stack area below which
    /// `execve` lays out its arguments.
    pub sp: u64,
    /// User address of the program headers (`AT_PHDR`), their size and count.
    pub phdr: u64,
    pub phent: u64,
    pub phnum: u64,
}

/// Why the embedded program could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// Not a little-endian ELF64 executable (`ET_EXEC`).
    NotElf64Exec,
    /// An ELF64 executable for another machine (`e_machine`).
    WrongMachine(u16),
    /// A segment (or two segments sharing a page) asks for writable and executable memory.
    WritableAndExecutable { vaddr: u64 },
    /// No frames left for the program's pages.
    OutOfFrames,
    /// The header or a program header lies outside the file.
    Truncated,
    /// A segment does not fit in the user region (wrong `--image-base`?).
    OutsideUserRegion { vaddr: u64, memsz: u64 },
    /// No room left for the initial stack.
    NoStackRoom,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotElf64Exec => f.write_str("not a static little-endian ELF64 executable"),
            Self::WrongMachine(m) => write!(
                f,
                "ELF e_machine {m}, this kernel runs {EM_THIS} ({})",
                crate::arch::ARCH.name()
            ),
            Self::WritableAndExecutable { vaddr } => {
                write!(f, "segment at {vaddr:#x} is writable and executable (W^X)")
            }
            Self::OutOfFrames => f.write_str("out of memory frames"),
            Self::Truncated => f.write_str("truncated ELF file"),
            Self::OutsideUserRegion { vaddr, memsz } => write!(
                f,
                "segment {vaddr:#x}+{memsz:#x} is outside the user region {:#x}..{:#x}",
                crate::arch::USER_REGION.start,
                crate::arch::USER_REGION.end
            ),
            Self::NoStackRoom => f.write_str("no room for the initial stack"),
        }
    }
}

const PT_LOAD: u32 = 1;
const PT_PHDR: u32 = 6;
const ET_EXEC: u16 = 2;
/// `p_flags` bits.
const PF_X: u32 = 1;
const PF_W: u32 = 2;
/// This kernel's `e_machine` (`include/uapi/linux/elf-em.h`).
#[cfg(target_arch = "x86_64")]
pub const EM_THIS: u16 = 62;
#[cfg(target_arch = "aarch64")]
pub const EM_THIS: u16 = 183;
#[cfg(target_arch = "riscv64")]
pub const EM_THIS: u16 = 243;
/// Size of the initial thread's stack at the top of the user region.
const INITIAL_STACK: u64 = 256 * 1024;

fn u16_at(b: &[u8], off: usize) -> Result<u16, LoadError> {
    let s = b
        .get(off..off.checked_add(2).ok_or(LoadError::Truncated)?)
        .ok_or(LoadError::Truncated)?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], off: usize) -> Result<u32, LoadError> {
    let s = b
        .get(off..off.checked_add(4).ok_or(LoadError::Truncated)?)
        .ok_or(LoadError::Truncated)?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], off: usize) -> Result<u64, LoadError> {
    let s = b
        .get(off..off.checked_add(8).ok_or(LoadError::Truncated)?)
        .ok_or(LoadError::Truncated)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Ok(u64::from_le_bytes(a))
}

/// Checks the ELF header: ELF64, little-endian, `ET_EXEC`, this machine.
pub fn check_header(file: &[u8]) -> Result<(), LoadError> {
    // e_ident: magic, ELFCLASS64, ELFDATA2LSB.
    if file.get(0..6) != Some(&[0x7f, b'E', b'L', b'F', 2, 1][..]) || u16_at(file, 16)? != ET_EXEC {
        return Err(LoadError::NotElf64Exec);
    }
    match u16_at(file, 18)? {
        EM_THIS => Ok(()),
        other => Err(LoadError::WrongMachine(other)),
    }
}

/// Loads `file` into `space` (an empty address space).
pub fn load(file: &[u8], space: &AddressSpace) -> Result<Image, LoadError> {
    check_header(file)?;
    let entry = u64_at(file, 24)?;
    let phoff = u64_at(file, 32)? as usize;
    let phentsize = u16_at(file, 54)? as usize;
    let phnum = u16_at(file, 56)? as usize;
    let mut top = 0u64;
    let mut phdr = 0u64;
    let mut segments = alloc::vec::Vec::new();
    for i in 0..phnum {
        // Checked: the header fields are file data, and a wrapped offset must read as truncated.
        let ph = i
            .checked_mul(phentsize)
            .and_then(|o| o.checked_add(phoff))
            .ok_or(LoadError::Truncated)?;
        let p_type = u32_at(file, ph)?;
        if p_type == PT_PHDR {
            phdr = u64_at(file, ph.saturating_add(16))?;
        }
        if p_type != PT_LOAD {
            continue;
        }
        let flags = u32_at(file, ph.saturating_add(4))?;
        let offset = u64_at(file, ph.saturating_add(8))? as usize;
        let vaddr = u64_at(file, ph.saturating_add(16))?;
        let filesz = u64_at(file, ph.saturating_add(32))?;
        let memsz = u64_at(file, ph.saturating_add(40))?;
        if filesz > memsz || !crate::uaccess::access_ok(vaddr, memsz) {
            return Err(LoadError::OutsideUserRegion { vaddr, memsz });
        }
        let end = offset
            .checked_add(filesz as usize)
            .ok_or(LoadError::Truncated)?;
        let data = file.get(offset..end).ok_or(LoadError::Truncated)?;
        if phdr == 0 && (offset as u64..offset as u64 + filesz).contains(&(phoff as u64)) {
            phdr = vaddr + (phoff - offset) as u64;
        }
        let perm = Perm {
            write: flags & PF_W != 0,
            exec: flags & PF_X != 0,
            cow: false,
        };
        let first = vaddr & !(FRAME_SIZE - 1);
        for page in (first..vaddr + memsz).step_by(FRAME_SIZE as usize) {
            let pa = space.map_segment_page(page, perm).map_err(|e| match e {
                MapError::WritableAndExecutable => LoadError::WritableAndExecutable { vaddr },
                MapError::NoFrames => LoadError::OutOfFrames,
                MapError::Outside => LoadError::OutsideUserRegion { vaddr, memsz },
            })?;
            // The file bytes that fall in this page (the rest of a fresh frame is zero).
            let lo = page.max(vaddr);
            let hi = (page + FRAME_SIZE).min(vaddr + filesz);
            if lo < hi {
                let src = &data[(lo - vaddr) as usize..(hi - vaddr) as usize];
                // SAFETY: `pa` is the frame just mapped at `page`, reached through the
                // kernel's identity map; the piece stays inside it.
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        src.as_ptr(),
                        frames::ptr(pa + (lo - page)),
                        src.len(),
                    )
                };
            }
        }
        top = top.max(vaddr + memsz);
        let prot = mman::PROT_READ
            | if perm.write { mman::PROT_WRITE } else { 0 }
            | if perm.exec { mman::PROT_EXEC } else { 0 };
        let end = (vaddr + memsz + FRAME_SIZE - 1) & !(FRAME_SIZE - 1);
        segments.push((first, end, prot));
    }
    *space.mm.borrow_mut() = mman::Mm::for_image(&segments);

    // Initial stack at the top of the region: argc, argv NULL, envp NULL, AT_NULL pair.
    let region_end = crate::arch::USER_REGION.end;
    if top > region_end - INITIAL_STACK {
        return Err(LoadError::NoStackRoom);
    }
    // The words are zero: the stack page is a fresh zeroed frame on first touch.
    let sp = (region_end - 64) & !15;
    crate::arch::mmu::code_written();
    Ok(Image {
        entry,
        sp,
        phdr,
        phent: phentsize as u64,
        phnum: phnum as u64,
    })
}
