//! UMIP emulation for 64-bit user tasks, as Linux 6.18 does it (`arch/x86/kernel/umip.c`, the
//! decoder of `arch/x86/lib/insn.c` and the address code of `arch/x86/lib/insn-eval.c`).
//!
//! With CR4.UMIP set, `sgdt`, `sidt`, `smsw`, `sldt` and `str` raise #GP in ring 3. Linux
//! then decodes the instruction and, for these five, writes a dummy result and skips it:
//!
//! | instruction | result | size |
//! |---|---|---|
//! | `sgdt m` | limit 0, base `0xffff_ffff_fffe_0000` | 10 bytes |
//! | `sidt m` | limit 0, base `0xffff_ffff_ffff_0000` | 10 bytes |
//! | `smsw` | `CR0_STATE` = `0x8005_0033` (PE MP ET NE WP AM PG) | 2 bytes to memory, the operand size (2/4/8) to a register |
//! | `sldt` | 0 (no LDT) | likewise |
//! | `str` | `GDT_ENTRY_TSS * 8` = `0x40` | likewise |
//!
//! A register destination gets only its operand size written (a 32-bit destination keeps the
//! upper half: Linux copies 4 bytes into the saved register, it does not zero-extend). A store
//! that fails is SIGSEGV (`SEGV_MAPERR` at the target address) after the bytes before the
//! failure were written. Anything Linux cannot decode or emulate stays the #GP it was
//! (SIGSEGV): a register form of `sgdt`/`sidt`, another member of groups 6 and 7, more than
//! one segment-override prefix on a memory operand, a REX prefix that is not the last prefix,
//! a fifth distinct legacy prefix, more than 15 bytes.
//!
//! Linux's prefix decoder keeps up to four distinct legacy prefixes and then writes the last
//! prefix byte into slot 3; with exactly three distinct prefixes that slot was empty, so the
//! last prefix is counted twice by the segment-override scan: `f2 f3 3e 0f 01 00` is SIGSEGV
//! on Linux while `f2 3e f3 0f 01 00` is emulated. The stub reproduces that.
//!
//! Measured on this project's Linux 6.18 x86_64 host (a C program that runs each encoding from
//! an RWX page and catches the signal): every value and outcome above, and the
//! `stub-umip-dummies` hostile case checks the same on the stub and on Linux.

use super::TrapFrame;
use crate::uaccess;

/// What [`fixup`] did with a user #GP.
pub enum Umip {
    /// The instruction was emulated and skipped: resume the task.
    Emulated,
    /// The emulated store to this address failed: SIGSEGV (`SEGV_MAPERR` there).
    StoreFault(u64),
    /// Not an instruction Linux emulates: the #GP stands (SIGSEGV).
    NotEmulated,
}

/// Linux's `MAX_INSN_SIZE`: what is fetched from the user's rip.
const MAX_INSN_SIZE: usize = 15;
/// `UMIP_DUMMY_GDT_BASE`, `UMIP_DUMMY_IDT_BASE`.
const DUMMY_GDT_BASE: u64 = 0xffff_ffff_fffe_0000;
const DUMMY_IDT_BASE: u64 = 0xffff_ffff_ffff_0000;
/// Linux's `CR0_STATE`: PE | MP | ET | NE | WP | AM | PG.
const CR0_STATE: u64 = 0x8005_0033;
/// `GDT_ENTRY_TSS * 8` on x86_64 (`arch/x86/include/asm/segment.h`).
const TSS_SELECTOR: u64 = 8 * 8;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sgdt,
    Sidt,
    Smsw,
    Sldt,
    Str,
}

/// The parts of a decoded instruction the emulation needs.
struct Insn {
    kind: Kind,
    len: usize,
    modrm: u8,
    sib: Option<u8>,
    disp: i32,
    rex: u8,
    /// 2, 4 or 8.
    opnd_bytes: usize,
    /// 4 or 8.
    addr_bytes: usize,
    /// The prefix slots Linux's segment-override scan walks (0 = empty, ends the scan).
    prefixes: [u8; 4],
}

fn is_legacy_prefix(b: u8) -> bool {
    matches!(
        b,
        0xf0 | 0xf2 | 0xf3 | 0x2e | 0x36 | 0x3e | 0x26 | 0x64 | 0x65 | 0x66 | 0x67
    )
}

/// Decodes `bytes` (what could be fetched from rip, at most 15) as Linux's `insn_decode` in
/// 64-bit mode followed by `identify_insn`. `None` for anything not emulated, including an
/// instruction that runs past the fetched bytes.
fn decode(bytes: &[u8]) -> Option<Insn> {
    let mut at = 0usize;
    let mut next = || {
        let b = bytes.get(at).copied();
        at += 1;
        b
    };
    // Legacy prefixes: a repeated one is skipped, a fifth distinct one ends the prefixes (and
    // then reads as the opcode, which is not 0x0f).
    let (mut slots, mut nb, mut last) = ([0u8; 4], 0usize, 0u8);
    let (mut opnd_bytes, mut addr_bytes) = (4usize, 8usize);
    let mut b = next()?;
    while is_legacy_prefix(b) {
        if !slots[..nb].contains(&b) {
            if nb == 4 {
                break;
            }
            slots[nb] = b;
            nb += 1;
            match b {
                0x66 => opnd_bytes ^= 6,
                0x67 => addr_bytes ^= 12,
                _ => {}
            }
        }
        last = b;
        b = next()?;
    }
    // The "last prefix" slot (see the module docs): with four prefixes it only reorders
    // them; with three it adds the last one a second time.
    if nb == 3 {
        slots[3] = last;
    }
    let mut rex = 0u8;
    if (0x40..=0x4f).contains(&b) {
        rex = b;
        if rex & 8 != 0 {
            opnd_bytes = 8;
        }
        b = next()?;
    }
    if b != 0x0f {
        return None;
    }
    let op = next()?;
    let modrm = next()?;
    let (mod_, reg, rm) = (modrm >> 6, (modrm >> 3) & 7, modrm & 7);
    let sib = if mod_ != 3 && rm == 4 {
        Some(next()?)
    } else {
        None
    };
    let disp = match mod_ {
        1 => i32::from(next()? as i8),
        2 => i32::from_le_bytes([next()?, next()?, next()?, next()?]),
        0 if rm == 5 || sib.is_some_and(|s| s & 7 == 5) => {
            i32::from_le_bytes([next()?, next()?, next()?, next()?])
        }
        _ => 0,
    };
    let kind = match (op, reg) {
        // The register forms of 0F 01 /0 and /1 are VMX, MONITOR/MWAIT, CLAC/STAC, ENCLS.
        (0x01, 0) if mod_ != 3 => Kind::Sgdt,
        (0x01, 1) if mod_ != 3 => Kind::Sidt,
        (0x01, 4) => Kind::Smsw,
        (0x00, 0) => Kind::Sldt,
        (0x00, 1) => Kind::Str,
        _ => return None,
    };
    Some(Insn {
        kind,
        len: at,
        modrm,
        sib,
        disp,
        rex,
        opnd_bytes,
        addr_bytes,
        prefixes: slots,
    })
}

/// The general register ModRM/SIB number `n` (0..=15) names.
fn reg(frame: &mut TrapFrame, n: u8) -> &mut u64 {
    match n {
        0 => &mut frame.rax,
        1 => &mut frame.rcx,
        2 => &mut frame.rdx,
        3 => &mut frame.rbx,
        4 => &mut frame.rsp,
        5 => &mut frame.rbp,
        6 => &mut frame.rsi,
        7 => &mut frame.rdi,
        8 => &mut frame.r8,
        9 => &mut frame.r9,
        10 => &mut frame.r10,
        11 => &mut frame.r11,
        12 => &mut frame.r12,
        13 => &mut frame.r13,
        14 => &mut frame.r14,
        _ => &mut frame.r15,
    }
}

/// `insn_get_addr_ref` for 64-bit mode: the effective address (truncated to 32 bits under an
/// address-size prefix) plus the FS or GS base of a single FS/GS override. `None` where Linux
/// gives up (more than one segment override).
fn linear_address(insn: &Insn, frame: &mut TrapFrame) -> Option<u64> {
    let (mod_, rm) = (insn.modrm >> 6, insn.modrm & 7);
    let (rex_b, rex_x) = ((insn.rex & 1) << 3, (insn.rex & 2) << 2);
    let disp = i64::from(insn.disp) as u64;
    let (base, index, scale) = if let Some(sib) = insn.sib {
        let base = if mod_ == 0 && sib & 7 == 5 {
            0
        } else {
            *reg(frame, (sib & 7) | rex_b)
        };
        let idx = ((sib >> 3) & 7) | rex_x;
        let index = if idx == 4 { 0 } else { *reg(frame, idx) };
        (base, index, 1u64 << (sib >> 6))
    } else if mod_ == 0 && rm == 5 {
        (frame.rip.wrapping_add(insn.len as u64), 0, 1)
    } else {
        (*reg(frame, rm | rex_b), 0, 1)
    };
    let eff = if insn.addr_bytes == 4 {
        u64::from(
            (base as u32)
                .wrapping_add((index as u32).wrapping_mul(scale as u32))
                .wrapping_add(disp as u32),
        )
    } else {
        base.wrapping_add(index.wrapping_mul(scale))
            .wrapping_add(disp)
    };
    let mut overrides = insn
        .prefixes
        .iter()
        .take_while(|&&p| p != 0)
        .filter(|&&p| matches!(p, 0x26 | 0x2e | 0x36 | 0x3e | 0x64 | 0x65));
    let seg_base = match (overrides.next(), overrides.next()) {
        (Some(_), Some(_)) => return None,
        (Some(0x64), None) => frame.fs_base,
        (Some(0x65), None) => frame.gs_base,
        // In 64-bit mode the ES, CS, SS and DS bases are ignored (0).
        _ => 0,
    };
    Some(eff.wrapping_add(seg_base))
}

/// Copies up to [`MAX_INSN_SIZE`] bytes from user `rip`, page by page, as far as they can be
/// read (`insn_fetch_from_user`).
fn fetch(rip: u64, buf: &mut [u8; MAX_INSN_SIZE]) -> usize {
    let first = (4096 - (rip % 4096) as usize).min(MAX_INSN_SIZE);
    if uaccess::read_bytes(rip, &mut buf[..first]).is_err() {
        return 0;
    }
    if first < MAX_INSN_SIZE
        && uaccess::read_bytes(rip.wrapping_add(first as u64), &mut buf[first..]).is_err()
    {
        return first;
    }
    MAX_INSN_SIZE
}

/// `fixup_umip_exception`: called for a #GP from ring 3 while CR4.UMIP is on.
pub fn fixup(frame: &mut TrapFrame) -> Umip {
    let mut buf = [0u8; MAX_INSN_SIZE];
    let n = fetch(frame.rip, &mut buf);
    let Some(insn) = decode(&buf[..n]) else {
        return Umip::NotEmulated;
    };
    let mut data = [0u8; 10];
    let register = insn.modrm >> 6 == 3;
    let size = match insn.kind {
        Kind::Sgdt | Kind::Sidt => {
            let base = if insn.kind == Kind::Sgdt {
                DUMMY_GDT_BASE
            } else {
                DUMMY_IDT_BASE
            };
            data[2..].copy_from_slice(&base.to_le_bytes());
            10
        }
        Kind::Smsw | Kind::Sldt | Kind::Str => {
            let value = match insn.kind {
                Kind::Smsw => CR0_STATE,
                Kind::Str => TSS_SELECTOR,
                _ => 0,
            };
            data[..8].copy_from_slice(&value.to_le_bytes());
            if register { insn.opnd_bytes } else { 2 }
        }
    };
    if register {
        let r = reg(frame, (insn.modrm & 7) | ((insn.rex & 1) << 3));
        let mut bytes = r.to_le_bytes();
        bytes[..size].copy_from_slice(&data[..size]);
        *r = u64::from_le_bytes(bytes);
    } else {
        let Some(addr) = linear_address(&insn, frame) else {
            return Umip::NotEmulated;
        };
        // Page by page, so a store that crosses into memory it may not write leaves the
        // bytes before that, as `copy_to_user` does.
        let first = (4096 - (addr % 4096) as usize).min(size);
        if uaccess::write_bytes(addr, &data[..first]).is_err()
            || (first < size
                && uaccess::write_bytes(addr.wrapping_add(first as u64), &data[first..size])
                    .is_err())
        {
            return Umip::StoreFault(addr);
        }
    }
    frame.rip = frame.rip.wrapping_add(insn.len as u64);
    Umip::Emulated
}
