//! `_start` for each arch: the kernel (or the kernel stub) jumps here with the initial stack
//! pointer at `argc`; we clear the frame chain, align the stack as the ABI wants for a call and
//! call [`crate::conformance_main`] with the initial stack pointer as its only argument.
//!
//! Per arch, the initial SP layout is the generic Linux one (`argc`, `argv[]`, NULL, `envp[]`,
//! NULL, auxv), found by the kernel's `create_elf_tables()`; only sparc64 differs, with `argc`
//! at `%sp + 2047 (STACK_BIAS) + 128` (the register-window save area the kernel leaves).

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".globl _start",
    ".type _start,@function",
    "_start:",
    "xor ebp, ebp",  // Outermost frame: no caller frame pointer.
    "mov rdi, rsp",  // Arg 0: initial SP (argc).
    "and rsp, -16",  // psABI: 16-byte aligned before the `call`.
    "call {main}",   // Pushes 8, so main sees (rsp + 8) % 16 == 0.
    "ud2",           // main never returns.
    main = sym crate::conformance_main,
);

#[cfg(target_arch = "x86")]
core::arch::global_asm!(
    ".globl _start",
    ".type _start,@function",
    "_start:",
    "xor ebp, ebp",   // Outermost frame.
    "mov eax, esp",   // Initial SP (argc).
    "and esp, -16",   // i386 SysV: 16-byte aligned at the `call`...
    "sub esp, 12",    // ...counting the 4-byte argument pushed next.
    "push eax",       // cdecl arg 0.
    "call {main}",
    "ud2",
    main = sym crate::conformance_main,
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".globl _start",
    ".type _start,%function",
    "_start:",
    "mov x29, xzr",       // No caller frame.
    "mov x30, xzr",       // No return address.
    "mov x0, sp",         // Arg 0: initial SP.
    "and x1, x0, #-16",   // AAPCS64: SP 16-byte aligned (it already is; be certain).
    "mov sp, x1",
    "bl {main}",
    "brk #0",
    main = sym crate::conformance_main,
);

#[cfg(target_arch = "arm")]
core::arch::global_asm!(
    ".globl _start",
    ".type _start,%function",
    ".arm",
    "_start:",
    "mov fp, #0",         // No caller frame.
    "mov lr, #0",         // No return address.
    "mov r0, sp",         // Arg 0: initial SP.
    "bic r1, r0, #15",    // AAPCS: 8 at public interfaces; 16 costs nothing.
    "mov sp, r1",
    "bl {main}",
    "udf #0",
    main = sym crate::conformance_main,
);

#[cfg(target_arch = "riscv64")]
core::arch::global_asm!(
    ".globl _start",
    ".type _start,@function",
    "_start:",
    "li ra, 0",           // No return address.
    "li s0, 0",           // No caller frame.
    "mv a0, sp",          // Arg 0: initial SP.
    "andi sp, sp, -16",   // psABI: 16-byte aligned.
    "call {main}",
    "unimp",
    main = sym crate::conformance_main,
);

#[cfg(target_arch = "loongarch64")]
core::arch::global_asm!(
    ".globl _start",
    ".type _start,@function",
    "_start:",
    "move $fp, $zero",            // No caller frame.
    "move $ra, $zero",            // No return address.
    "move $a0, $sp",              // Arg 0: initial SP.
    "bstrins.d $sp, $zero, 3, 0", // psABI: 16-byte aligned.
    "bl {main}",
    "break 0",
    main = sym crate::conformance_main,
);

#[cfg(target_arch = "s390x")]
core::arch::global_asm!(
    ".globl _start",
    ".type _start,@function",
    "_start:",
    "lgr %r2, %r15",          // Arg 0: initial SP.
    "lghi %r0, -16",
    "ngr %r15, %r0",          // 8 is the ABI minimum; 16 costs nothing.
    "aghi %r15, -160",        // The callee's 160-byte register save area...
    "xc 0(8,%r15), 0(%r15)",  // ...with a zero back chain (outermost frame).
    "brasl %r14, {main}",
    "j .",
    main = sym crate::conformance_main,
);

#[cfg(target_arch = "powerpc64")]
core::arch::global_asm!(
    ".globl _start",
    ".type _start,@function",
    "_start:",
    // ELFv2: establish the TOC pointer ourselves (no loader did); position-independently.
    "bl 1f",
    "1:",
    "mflr 12",
    "addis 2, 12, (.TOC. - 1b)@ha",
    "addi 2, 2, (.TOC. - 1b)@l",
    "mr 3, 1",                // Arg 0: initial SP.
    "clrrdi 1, 1, 4",         // 16-byte (quadword) alignment.
    "li 0, 0",
    "stdu 0, -112(1)",        // A minimum frame with a NULL back chain (fits ELFv1 and v2).
    "bl {main}",
    "nop",
    "trap",
    main = sym crate::conformance_main,
);

#[cfg(target_arch = "mips64")]
core::arch::global_asm!(
    ".globl _start",
    ".type _start,@function",
    ".set noreorder",
    "_start:",
    "move $fp, $zero",        // No caller frame.
    "move $ra, $zero",        // No return address.
    "move $a0, $sp",          // Arg 0: initial SP.
    "li $t0, -16",
    "and $sp, $sp, $t0",      // n64: 16-byte aligned.
    "jal {main}",
    "nop",                    // Delay slot.
    "break",
    ".set reorder",
    main = sym crate::conformance_main,
);

#[cfg(target_arch = "sparc64")]
core::arch::global_asm!(
    ".globl _start",
    ".type _start,#function",
    "_start:",
    "mov %g0, %fp",           // Outermost frame.
    "add %sp, 2047 + 128, %o0", // Arg 0: address of argc (bias + window save area).
    "sub %sp, 64, %sp",       // Room for the callee's hidden and spill words (176-byte frame).
    "call {main}",
    "nop",                    // Delay slot.
    "illtrap 0",
    main = sym crate::conformance_main,
);
