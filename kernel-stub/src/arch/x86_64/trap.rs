//! x86_64 user entry and trap paths: `x86_enter_user` (iretq into ring 3), the `syscall`
//! entry, and the interrupt/exception stubs.
//!
//! # Orientation
//!
//! The kernel never runs on behalf of a task with its own stack. `x86_enter_user(frame)` saves
//! the kernel's callee-saved registers and `rsp` in `X86_KERNEL_RSP`, records `frame` in
//! `X86_CURRENT_FRAME`, restores every user register from the frame and `iretq`s to ring 3.
//! The next trap writes every user register back into that frame and "returns" from
//! `x86_enter_user` by restoring `X86_KERNEL_RSP`, with a cause code in `rax`:
//! `vector | error_code << 32` (vector 256 = `syscall`).
//!
//! Every return to ring 3 uses `iretq`, also after a `syscall`: one exit path for all three
//! kinds of entry, and none of `sysretq`'s hazards (a non-canonical `rcx` faults in ring 0 on
//! Intel CPUs). `IA32_STAR` is still set up with the selector layout `sysretq` would need.
//!
//! Register map:
//! * `syscall` (Linux x86_64 ABI, `arch/x86/entry/entry_64.S`): `rax` number, args in `rdi`,
//!   `rsi`, `rdx`, `r10`, `r8`, `r9`; the CPU puts the user `rip` in `rcx` and `rflags` in
//!   `r11`, does not switch stacks, and clears the `IA32_FMASK` bits (IF among them). The
//!   entry stashes the user `rsp` in `X86_USER_RSP` and uses the frame itself as the base
//!   register (`rsp` = frame) while saving.
//! * Interrupts/exceptions from ring 3 arrive on `TSS.rsp0` with
//!   `[ss, rsp, rflags, cs, rip, (error code)]` pushed by the CPU; each stub pushes a dummy
//!   error code when the CPU does not, then the vector number.
//! * From ring 0 only the timer (while `idle` has interrupts on), the spurious IRQ7 and a
//!   stray single-step #DB are expected: they are acknowledged (or TF cleared) and return with
//!   `iretq`; anything else is a kernel bug and goes to `x86_kernel_trap` (panic).
//! * User flags (Linux `arch/x86/entry/entry_64.S`, `syscall_init`): `IA32_FMASK` is Linux's
//!   `SYSCALL_MASK`, so no user flag (NT, TF, AC, DF, ID, IOPL) reaches the kernel through
//!   `syscall`; interrupt gates clear TF, NT, RF and IF themselves and the stubs `cld`. The
//!   user's own flags come back on every return (`run_user` keeps only what ring 3 owns).
//! * Every saved register: `TrapFrame` offsets passed in as `const` operands; the FPU/SSE
//!   state is saved with `xsave64`/`xrstor64` (every component XCR0 enables) when `init`
//!   turned XSAVE on (`XSAVE_ON`), else with `fxsave64`/`fxrstor64`, into the frame's area.

use core::mem::offset_of;

use super::TrapFrame;

/// Cause code `x86_enter_user` returns for a `syscall`.
pub const CAUSE_SYSCALL: u32 = 256;

unsafe extern "sysv64" {
    /// Restores `frame` and enters ring 3; returns `vector | error_code << 32` at the next
    /// trap, with `frame` updated.
    ///
    /// # Safety
    ///
    /// `frame` must be valid and 16-byte aligned; its `rip`/`rflags` must be fit for ring 3
    /// (`run_user` sanitises `rflags`); the GDT, TSS, IDT and syscall MSRs must be set up.
    pub fn x86_enter_user(frame: *mut TrapFrame) -> u64;
    /// The `IA32_LSTAR` target.
    pub fn x86_syscall_entry();
}

unsafe extern "C" {
    /// Addresses of the trap stubs: vectors 0..=31, then 32 (timer), then 39 (spurious IRQ7).
    pub static X86_TRAP_STUBS: [u64; 34];
}

/// Called by the trap path for an exception taken in ring 0: a kernel bug.
#[unsafe(no_mangle)]
extern "C" fn x86_kernel_trap(vector: u64, error: u64, rip: u64) -> ! {
    let cr2: u64;
    // SAFETY: reading CR2 has no side effects; we are in ring 0.
    unsafe { core::arch::asm!("mov {}, cr2", out(reg) cr2, options(nomem, nostack)) };
    panic!(
        "kernel exception: vector {vector} ({}) error {error:#x} at rip={rip:#x} cr2={cr2:#x}",
        super::vector_name(vector as u32)
    );
}

core::arch::global_asm!(
    r#"
    .section .bss
    .balign 8
    .global X86_KERNEL_RSP
X86_KERNEL_RSP:
    .quad 0
X86_CURRENT_FRAME:
    .quad 0
X86_USER_RSP:
    .quad 0

    /* Saves the user's x87/SSE/AVX state into the frame at \frame (clobbers rax, rdx):
       xsave64 of every component XCR0 enables when init turned XSAVE on, else fxsave64. */
    .macro X86_FPU_SAVE frame
    cmp byte ptr [rip + {XSAVE_ON}], 0
    je 1f
    mov eax, -1
    mov edx, -1
    xsave64 [\frame + {FX}]
    jmp 2f
1:  fxsave64 [\frame + {FX}]
2:
    .endm

    .section .text
    .global x86_enter_user
x86_enter_user:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov [rip + X86_KERNEL_RSP], rsp
    mov [rip + X86_CURRENT_FRAME], rdi
    cmp byte ptr [rip + {XSAVE_ON}], 0
    je 21f
    mov eax, -1                        /* xrstor every component XCR0 enables */
    mov edx, -1
    xrstor64 [rdi + {FX}]
    jmp 22f
21: fxrstor64 [rdi + {FX}]
22:
    /* iretq frame: ss, rsp, rflags, cs, rip (user selectors 0x18|3 and 0x20|3). */
    push 0x1b
    push qword ptr [rdi + {RSP}]
    push qword ptr [rdi + {RFLAGS}]
    push 0x23
    push qword ptr [rdi + {RIP}]
    mov rax, [rdi + {RAX}]
    mov rbx, [rdi + {RBX}]
    mov rcx, [rdi + {RCX}]
    mov rdx, [rdi + {RDX}]
    mov rsi, [rdi + {RSI}]
    mov rbp, [rdi + {RBP}]
    mov r8, [rdi + {R8}]
    mov r9, [rdi + {R9}]
    mov r10, [rdi + {R10}]
    mov r11, [rdi + {R11}]
    mov r12, [rdi + {R12}]
    mov r13, [rdi + {R13}]
    mov r14, [rdi + {R14}]
    mov r15, [rdi + {R15}]
    mov rdi, [rdi + {RDI}]
    iretq

    /* syscall: rcx = user rip, r11 = user rflags, rsp = user rsp, IF clear. */
    .global x86_syscall_entry
x86_syscall_entry:
    mov [rip + X86_USER_RSP], rsp
    mov rsp, [rip + X86_CURRENT_FRAME]
    mov [rsp + {RAX}], rax
    mov [rsp + {RBX}], rbx
    mov [rsp + {RCX}], rcx
    mov [rsp + {RDX}], rdx
    mov [rsp + {RSI}], rsi
    mov [rsp + {RDI}], rdi
    mov [rsp + {RBP}], rbp
    mov [rsp + {R8}], r8
    mov [rsp + {R9}], r9
    mov [rsp + {R10}], r10
    mov [rsp + {R11}], r11
    mov [rsp + {R12}], r12
    mov [rsp + {R13}], r13
    mov [rsp + {R14}], r14
    mov [rsp + {R15}], r15
    mov [rsp + {RIP}], rcx
    mov [rsp + {RFLAGS}], r11
    mov rax, [rip + X86_USER_RSP]
    mov [rsp + {RSP}], rax
    X86_FPU_SAVE rsp
    mov rsp, [rip + X86_KERNEL_RSP]
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    mov eax, {CAUSE_SYSCALL}
    ret

    /* Interrupt/exception stubs: [rsp] = vector, [rsp+8] = error code, then the CPU frame. */
    .macro X86_TRAP_NOERR n
x86_trap_\n:
    push 0
    push \n
    jmp x86_trap_common
    .endm
    .macro X86_TRAP_ERR n
x86_trap_\n:
    push \n
    jmp x86_trap_common
    .endm

    .irp n, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31,32,39
    X86_TRAP_NOERR \n
    .endr
    .irp n, 8,10,11,12,13,14,17,21,29,30
    X86_TRAP_ERR \n
    .endr

x86_trap_common:
    cld                                /* Rust code assumes DF = 0; gates do not clear it */
    test qword ptr [rsp + 24], 3      /* saved cs: ring 3? */
    jz 5f
    push rax
    mov rax, [rip + X86_CURRENT_FRAME]
    mov [rax + {RBX}], rbx
    mov [rax + {RCX}], rcx
    mov [rax + {RDX}], rdx
    mov [rax + {RSI}], rsi
    mov [rax + {RDI}], rdi
    mov [rax + {RBP}], rbp
    mov [rax + {R8}], r8
    mov [rax + {R9}], r9
    mov [rax + {R10}], r10
    mov [rax + {R11}], r11
    mov [rax + {R12}], r12
    mov [rax + {R13}], r13
    mov [rax + {R14}], r14
    mov [rax + {R15}], r15
    pop rbx                            /* user rax */
    mov [rax + {RAX}], rbx
    mov rbx, [rsp + 16]                /* rip */
    mov [rax + {RIP}], rbx
    mov rbx, [rsp + 32]                /* rflags */
    mov [rax + {RFLAGS}], rbx
    mov rbx, [rsp + 40]                /* rsp */
    mov [rax + {RSP}], rbx
    mov rbx, rax                       /* frame (rax/rdx are the xsave mask) */
    X86_FPU_SAVE rbx
    mov ecx, [rsp]                     /* vector */
    mov rdx, [rsp + 8]                 /* error code */
    mov rsp, [rip + X86_KERNEL_RSP]
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    shl rdx, 32
    mov eax, ecx
    or rax, rdx
    ret

5:  /* From ring 0: only the idle-loop timer and spurious IRQ7 are expected, and a #DB that a
       user TF could leave behind (FMASK clears TF on `syscall`; this is the safety net):
       it returns with TF cleared instead of panicking, as Linux's exc_debug_kernel does. */
    cmp qword ptr [rsp], 32
    je 6f
    cmp qword ptr [rsp], 39
    je 7f
    cmp qword ptr [rsp], 1
    je 8f
    mov rdi, [rsp]
    mov rsi, [rsp + 8]
    mov rdx, [rsp + 16]
    and rsp, -16
    call x86_kernel_trap
6:
    push rax
    mov al, 0x20                       /* EOI to the master PIC */
    out 0x20, al
    pop rax
7:
    add rsp, 16
    iretq
8:
    and qword ptr [rsp + 32], ~{TF}     /* saved rflags */
    add rsp, 16
    iretq

    .section .rodata
    .balign 8
    .global X86_TRAP_STUBS
X86_TRAP_STUBS:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,39
    .quad x86_trap_\n
    .endr

    .section .text
    "#,
    RAX = const offset_of!(TrapFrame, rax),
    RBX = const offset_of!(TrapFrame, rbx),
    RCX = const offset_of!(TrapFrame, rcx),
    RDX = const offset_of!(TrapFrame, rdx),
    RSI = const offset_of!(TrapFrame, rsi),
    RDI = const offset_of!(TrapFrame, rdi),
    RBP = const offset_of!(TrapFrame, rbp),
    R8 = const offset_of!(TrapFrame, r8),
    R9 = const offset_of!(TrapFrame, r9),
    R10 = const offset_of!(TrapFrame, r10),
    R11 = const offset_of!(TrapFrame, r11),
    R12 = const offset_of!(TrapFrame, r12),
    R13 = const offset_of!(TrapFrame, r13),
    R14 = const offset_of!(TrapFrame, r14),
    R15 = const offset_of!(TrapFrame, r15),
    RIP = const offset_of!(TrapFrame, rip),
    RSP = const offset_of!(TrapFrame, rsp),
    RFLAGS = const offset_of!(TrapFrame, rflags),
    FX = const offset_of!(TrapFrame, fx),
    CAUSE_SYSCALL = const CAUSE_SYSCALL,
    TF = const 1u64 << 8,
    XSAVE_ON = sym super::XSAVE_ON,
);
