//! x86_64 boot: the PVH entry QEMU jumps to, and the switch from 32-bit protected mode to long
//! mode before calling `kmain`.
//!
//! # Orientation
//!
//! QEMU's `-kernel` loads an ELF that carries a `XEN_ELFNOTE_PHYS32_ENTRY` note (type 18, name
//! "Xen") and jumps to that address in 32-bit protected mode with paging off, flat segments,
//! and `ebx` pointing at a `hvm_start_info` (unused here). See QEMU `hw/i386/x86-common.c`
//! (`load_elfboot`) and Xen's `include/public/arch-x86/hvm/start_info.h`.
//!
//! `_start` (32-bit) does, in order:
//! 1. zero `.bss` (the page tables and the boot stack live there);
//! 2. build identity page tables: PML4[0] → PDPT[0] → one PD of 512 × 2 MiB pages (the low
//!    1 GiB), supervisor-only; `mod.rs` later sets the U bit on the user region's entries;
//! 3. enable PAE, load CR3, set EFER.LME (long mode) and EFER.SCE (`syscall`), enable paging;
//! 4. load a minimal 64-bit GDT and far-return into 64-bit code (`_start64`);
//! 5. load data segments, switch to the boot stack and call `kmain` (never returns).
//!
//! Register map in `_start`: `eax`/`ecx`/`edx` scratch (also `rdmsr`/`wrmsr` operands), `edi`
//! destination for `rep stosb`; `ebx` (start_info) is left untouched.

core::arch::global_asm!(
    r#"
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                     /* namesz: "Xen\0" */
    .long 4                     /* descsz: one 32-bit address */
    .long 18                    /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .long _start                /* 32-bit physical entry point */
    .balign 4

    .section .bss.boot, "aw", @nobits
    .balign 4096
    .global X86_BOOT_PML4
X86_BOOT_PML4:
    .skip 4096
X86_BOOT_PDPT:
    .skip 4096
    .global X86_BOOT_PD
X86_BOOT_PD:
    .skip 4096
    .balign 16
X86_BOOT_STACK:
    .skip 65536
X86_BOOT_STACK_TOP:

    .section .rodata.boot, "a"
    .balign 16
X86_BOOT_GDT:
    .quad 0                     /* null */
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code, DPL 0 */
    .quad 0x00cf92000000ffff    /* 0x10: data, DPL 0 */
X86_BOOT_GDT_END:
X86_BOOT_GDT_PTR:
    .word X86_BOOT_GDT_END - X86_BOOT_GDT - 1
    .quad X86_BOOT_GDT

    .section .text.boot, "ax"
    .code32
    .global _start
_start:
    cli
    cld
    /* 1. Zero .bss. */
    mov edi, offset __bss_start
    mov ecx, offset __bss_end
    sub ecx, edi
    xor eax, eax
    rep stosb

    /* 2. PML4[0] -> PDPT, PDPT[0] -> PD (present | writable | user: the leaf decides). */
    mov eax, offset X86_BOOT_PDPT
    or eax, 0x7
    mov dword ptr [X86_BOOT_PML4], eax
    mov eax, offset X86_BOOT_PD
    or eax, 0x7
    mov dword ptr [X86_BOOT_PDPT], eax
    /* PDPT[1] -> the same PD: physical memory again at 1 GiB (DIRECT_MAP_OFFSET). */
    mov dword ptr [X86_BOOT_PDPT + 8], eax
    /* PD[i] = i * 2 MiB | present | writable | page size (2 MiB). */
    xor ecx, ecx
2:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83
    mov dword ptr [X86_BOOT_PD + ecx * 8], eax
    mov dword ptr [X86_BOOT_PD + ecx * 8 + 4], 0
    inc ecx
    cmp ecx, 512
    jne 2b

    /* 3. PAE, CR3, EFER.LME | EFER.SCE, paging on. */
    mov eax, cr4
    or eax, 1 << 5
    mov cr4, eax
    mov eax, offset X86_BOOT_PML4
    mov cr3, eax
    mov ecx, 0xC0000080
    rdmsr
    or eax, (1 << 8) | 1
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | 1
    mov cr0, eax

    /* 4. 64-bit GDT, far return to reload CS with the 64-bit code segment. */
    lgdt [X86_BOOT_GDT_PTR]
    push 0x08
    mov eax, offset _start64
    push eax
    retf

    .code64
_start64:
    /* 5. Flat data segments (null fs/gs: the FS base comes from the MSR), stack, kmain. */
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    lea rsp, [rip + X86_BOOT_STACK_TOP]
    xor ebp, ebp
    call {kmain}
3:
    hlt
    jmp 3b

    .section .text
    "#,
    kmain = sym crate::kmain,
);
