//! The fuzz targets' bodies: each turns libFuzzer's bytes into a clone-core input (with
//! `arbitrary`) and checks invariants, returning the broken one as `Err`. The libFuzzer
//! binaries (`fuzz_targets/`) panic on `Err`; `tests/replay.rs` runs the same functions over
//! the kept corpus and regression inputs on stable, without libFuzzer.
//!
//! | target | input | invariants |
//! |---|---|---|
//! | [`validate_clone`] | a legacy word, pointers, a memory map, a policy | `Ok` obeys Linux's implications; the fix, applied, passes (`fixcheck`) |
//! | [`validate_clone3`] | a `clone_args` (any size, any tail), `set_tid`, a memory map, a policy | the same |
//! | [`syscall_codec`] | registers or a call, any arch and version | decode ∘ encode and encode ∘ decode are the identity |
//! | [`stack`] | a region, any arch | the SP lies inside the region with the arch's alignment; the kernel's child SP agrees |
//! | [`flags_parse`] | text, or flags and a signal | parse ∘ format is the identity; either case parses alike |
//! | [`explain_line`] | one `--batch` line | exactly one answer line in the documented form |

use arbitrary::Unstructured;
use clone_core::abi::{Arch, ArgOrder};
use clone_core::flags::{self, CloneFlags, LegacyWord, ParsedFlags};
use clone_core::policy::LinuxVersion;
use clone_core::stack::{ChildStack, SPARC64_STACK_BIAS, StackError, StackRegion, layout};
use clone_core::syscall::{
    CloneCall, KernelStackRequest, LegacyCloneArgs, RawSyscall, decode_for, encode_for,
    kernel_child_sp,
};
use clone_core::validate::CloneArgs;
use clone_core::{Errno, Policy};

#[path = "../../../clone-core/tests/support/fixcheck.rs"]
mod fixcheck;
pub use fixcheck::{MemMap, Region, Verdict, check_clone3, check_legacy};

/// What a target found: `Err` names the broken invariant.
pub type Outcome = Result<(), String>;

/// An input too short to decode is not interesting: accept it.
macro_rules! take {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(_) => return Ok(()),
        }
    };
}

fn arch(u: &mut Unstructured) -> arbitrary::Result<Arch> {
    Ok(Arch::ALL[u.choose_index(Arch::ALL.len())?])
}

/// Values near the edges (0, small, 2^32, 2^64) or anything.
fn edgy(u: &mut Unstructured) -> arbitrary::Result<u64> {
    let v: u64 = u.arbitrary()?;
    Ok(match u.int_in_range(0u8..=4)? {
        0 => v,
        1 => v % 16,
        2 => v % 0x10_0000,
        3 => 0xffff_0000 + v % 0x2_0000,
        _ => u64::MAX - v % 0x10_0000,
    })
}

/// Flag words that get past `Clone3UnknownFlags` often.
fn flag_word(u: &mut Unstructured) -> arbitrary::Result<u64> {
    let (a, b): (u64, u64) = (u.arbitrary()?, u.arbitrary()?);
    let known = CloneFlags::all().bits();
    Ok(match u.int_in_range(0u8..=3)? {
        0 => a,
        1 => a & known,
        2 => a & b & known,
        _ => (a & b & known & !0xff) | (a >> 56),
    })
}

/// A caller's situation: any version 3.0–7.19 (the thresholds lie in 5.3–6.18 and 2026),
/// capabilities, pid namespace, configured namespaces, limits.
pub fn policy(u: &mut Unstructured) -> arbitrary::Result<Policy> {
    let arch = arch(u)?;
    let linux = LinuxVersion::new(u.int_in_range(3..=7)?, u.int_in_range(0..=19)?);
    let mut p = Policy::linux(arch, linux);
    let bits: u16 = u.arbitrary()?;
    p.cap_sys_admin = bits & 1 != 0;
    p.cap_checkpoint_restore = bits & 2 != 0;
    p.user_ns_allowed = bits & 4 == 0;
    p.pid_ns_init = bits & 8 != 0;
    p.pid_ns_for_children_differs = bits & 16 != 0;
    p.autoreap_parent = bits & 32 != 0;
    if bits & 64 != 0 {
        p.into_cgroup_error = Some(Errno::EBADF);
    }
    if bits & 128 != 0 {
        p.namespaces_configured = CloneFlags::from_bits_retain(u.arbitrary()?);
    }
    if bits & 256 != 0 {
        p.pid_ns_level = u.int_in_range(0..=40)?;
        p.pid_max = u.arbitrary()?;
        p.ancestor_pid_max = u.arbitrary()?;
    }
    if bits & 512 != 0 {
        p.task_size_max = edgy(u)?;
    }
    if bits & 1024 != 0 {
        p.page_size = [4096, 16384, 65536][u.choose_index(3)?];
    }
    Ok(p)
}

/// Addresses the memory map knows, or anything.
const SLOT: u64 = 0x1000;
const TIDS: u64 = 0x2000;
const ARGS: u64 = 0x10_0000;

fn pointer(u: &mut Unstructured) -> arbitrary::Result<u64> {
    Ok(match u.int_in_range(0u8..=4)? {
        0 => 0,
        1 => SLOT,
        2 => SLOT + 8,
        3 => TIDS,
        _ => edgy(u)?,
    })
}

fn memory(u: &mut Unstructured) -> arbitrary::Result<MemMap> {
    let mut m = MemMap {
        writable_elsewhere: u.arbitrary()?,
        ..MemMap::default()
    };
    m.regions.push(Region {
        base: SLOT,
        bytes: vec![0; 24],
        writable: u.arbitrary()?,
    });
    if u.arbitrary()? {
        let len = u.int_in_range(0..=64)?;
        m.regions.push(Region {
            base: edgy(u)?,
            bytes: u.bytes(len)?.to_vec(),
            writable: u.arbitrary()?,
        });
    }
    Ok(m)
}

/// Legacy `clone`: any word and pointers, a memory map for the pidfd slot, any policy.
pub fn validate_clone(data: &[u8]) -> Outcome {
    let mut u = Unstructured::new(data);
    let p = take!(policy(&mut u));
    let args = LegacyCloneArgs {
        word: take!(flag_word(&mut u)),
        stack: take!(edgy(&mut u)),
        stack_size: 0,
        parent_tid: take!(pointer(&mut u)),
        child_tid: take!(pointer(&mut u)),
        tls: take!(edgy(&mut u)),
        via_clone2: p.arch == Arch::Ia64 && take!(u.arbitrary::<bool>()),
    };
    let args = LegacyCloneArgs {
        stack_size: if args.via_clone2 {
            take!(edgy(&mut u))
        } else {
            0
        },
        ..args
    };
    let mem = take!(memory(&mut u));
    check_legacy(&args, &mem, &p).map(|_| ())
}

/// `clone3`: a `clone_args` of any size (readable in full or in part, tail bytes from the
/// input), a `set_tid` array, a memory map and any policy.
pub fn validate_clone3(data: &[u8]) -> Outcome {
    let mut u = Unstructured::new(data);
    let p = take!(policy(&mut u));
    let a = CloneArgs {
        flags: take!(flag_word(&mut u)),
        exit_signal: match take!(u.int_in_range(0u8..=2)) {
            0 => 0,
            1 => take!(u.int_in_range(0..=130)),
            _ => take!(edgy(&mut u)),
        },
        pidfd: take!(pointer(&mut u)),
        child_tid: take!(pointer(&mut u)),
        parent_tid: take!(pointer(&mut u)),
        stack: take!(edgy(&mut u)),
        stack_size: take!(edgy(&mut u)),
        tls: take!(edgy(&mut u)),
        set_tid: take!(pointer(&mut u)),
        set_tid_size: take!(u.int_in_range(0..=34)),
        cgroup: take!(edgy(&mut u)),
    };
    let size = match take!(u.int_in_range(0u8..=3)) {
        0 => 88,
        1 => [64, 80][take!(u.choose_index(2))],
        2 => take!(u.int_in_range(0..=200)),
        _ => take!(u.int_in_range(0..=70_000)),
    };
    let mut bytes = a.to_bytes(p.arch).to_vec();
    bytes.resize(size as usize, 0);
    if size > 88 && take!(u.arbitrary::<bool>()) {
        let at = take!(u.int_in_range(88..=size - 1)) as usize;
        bytes[at] = take!(u.arbitrary());
    }
    if take!(u.arbitrary::<bool>()) {
        let readable = take!(u.int_in_range(0..=size)) as usize;
        bytes.truncate(readable);
    }
    let mut mem = take!(memory(&mut u));
    mem.overlay(ARGS, bytes, false);
    let n = take!(u.int_in_range(0..=34usize));
    let mut tids = Vec::new();
    for _ in 0..n {
        let t: i32 = match take!(u.int_in_range(0u8..=2)) {
            0 => 1,
            1 => take!(u.int_in_range(-2..=400)),
            _ => take!(u.arbitrary()),
        };
        tids.extend(if p.arch.big_endian() {
            t.to_be_bytes()
        } else {
            t.to_le_bytes()
        });
    }
    mem.regions.push(Region {
        base: TIDS,
        bytes: tids,
        writable: false,
    });
    check_clone3(ARGS, size, &mem, &p).map(|_| ())
}

/// decode/encode for every arch and version: what decodes re-encodes and decodes to the
/// same call; what encodes decodes back.
pub fn syscall_codec(data: &[u8]) -> Outcome {
    let mut u = Unstructured::new(data);
    let arch = take!(arch(&mut u));
    let linux = (
        take!(u.int_in_range(3u32..=7)),
        take!(u.int_in_range(0u32..=19)),
    );
    let m = arch.register_mask();
    let n = arch.syscalls();
    let nr = match take!(u.int_in_range(0u8..=3)) {
        0 => n.clone,
        1 => n.clone3.unwrap_or(n.clone),
        2 => 1213,
        _ => take!(edgy(&mut u)),
    } | if take!(u.arbitrary::<bool>()) { !m } else { 0 };
    let mut args = [0u64; 6];
    for a in &mut args {
        *a = take!(edgy(&mut u));
    }
    let raw = RawSyscall { nr, args };
    if let Ok(call) = decode_for(arch, linux, &raw) {
        let back = encode_for(arch, linux, &call).map_err(|e| {
            format!("{arch:?} {linux:?}: {call:?} decoded from {raw:?} does not re-encode: {e}")
        })?;
        let again = decode_for(arch, linux, &back);
        if again != Ok(call) {
            return Err(format!(
                "{arch:?} {linux:?}: decode(encode({call:?})) = {again:?}"
            ));
        }
        if let CloneCall::Clone(_) = call {
            let used = if arch.clone_arg_order_for(linux) == ArgOrder::Backwards3 || nr & m == 1213
            {
                6
            } else {
                5
            };
            for i in 0..used {
                if back.args[i] != raw.args[i] & m {
                    return Err(format!("{arch:?}: argument {i} of {raw:?} lost: {back:?}"));
                }
            }
        }
    }
    let call = if take!(u.arbitrary::<bool>()) {
        CloneCall::Clone3 {
            args: take!(edgy(&mut u)),
            size: take!(edgy(&mut u)),
        }
    } else {
        CloneCall::Clone(LegacyCloneArgs {
            word: take!(edgy(&mut u)),
            stack: take!(edgy(&mut u)),
            stack_size: if take!(u.arbitrary::<bool>()) {
                take!(edgy(&mut u))
            } else {
                0
            },
            parent_tid: take!(edgy(&mut u)),
            child_tid: take!(edgy(&mut u)),
            tls: take!(edgy(&mut u)),
            via_clone2: take!(u.arbitrary()),
        })
    };
    if let Ok(raw) = encode_for(arch, linux, &call) {
        let back = decode_for(arch, linux, &raw);
        if back != Ok(call) {
            return Err(format!(
                "{arch:?} {linux:?}: decode(encode({call:?})) = {back:?}"
            ));
        }
    }
    Ok(())
}

/// Stack layout and the kernel's child SP: inside the region, aligned for the arch, and
/// what the kernel computes from the syscall arguments.
pub fn stack(data: &[u8]) -> Outcome {
    let mut u = Unstructured::new(data);
    let arch = take!(arch(&mut u));
    let region = StackRegion {
        base: take!(edgy(&mut u)),
        size: take!(edgy(&mut u)),
    };
    match layout(arch, region) {
        Err(StackError::ZeroSize) if region.size == 0 => {}
        Err(StackError::NullBase) if region.base == 0 => {}
        // The end must be representable: [2^64 - 1, 2^64) overflows too.
        Err(StackError::Overflow)
            if u128::from(region.base) + u128::from(region.size)
                >= 1u128 << arch.pointer_bits() => {}
        Err(StackError::TooSmall { size, .. }) if size <= region.size => {}
        Err(e) => return Err(format!("{arch:?} {region:?}: {e:?}")),
        Ok(l) => {
            let end = region.base + region.size;
            let sp = l.child_sp;
            let frame = if arch == Arch::Sparc64 {
                sp.wrapping_add(SPARC64_STACK_BIAS)
            } else {
                sp
            };
            if frame % arch.stack_alignment() != 0 || frame < region.base || frame > end {
                return Err(format!(
                    "{arch:?} {region:?}: child SP {sp:#x} outside or misaligned"
                ));
            }
            if l.clone3_stack < region.base
                || l.clone3_stack.saturating_add(l.clone3_stack_size) > end
            {
                return Err(format!("{arch:?} {region:?}: clone3 stack outside: {l:?}"));
            }
            let legacy = match l.syscall_stack {
                ChildStack::Top(v) | ChildStack::Low(v) => KernelStackRequest::Clone { newsp: v },
                ChildStack::BaseSize { base, size } => KernelStackRequest::Clone2 { base, size },
            };
            let k = kernel_child_sp(arch, &legacy);
            if k.map(|s| s.map(|s| s.sp)) != Ok(Some(sp)) {
                return Err(format!(
                    "{arch:?} {region:?}: kernel SP {k:?} for {legacy:?}, layout {sp:#x}"
                ));
            }
            if arch.syscalls().clone3.is_some() {
                let c3 = KernelStackRequest::Clone3 {
                    stack: l.clone3_stack,
                    stack_size: l.clone3_stack_size,
                };
                let k = kernel_child_sp(arch, &c3);
                if k.map(|s| s.map(|s| s.sp)) != Ok(Some(sp)) {
                    return Err(format!(
                        "{arch:?} {region:?}: kernel clone3 SP {k:?}, layout {sp:#x}"
                    ));
                }
            }
        }
    }
    // Any clone3 request: an SP, if any, inside what was described (hppa may align up by 3;
    // s390x wraps, as its access_ok() checks nothing).
    let (stack, stack_size) = (take!(edgy(&mut u)), take!(edgy(&mut u)));
    if let Ok(Some(sp)) = kernel_child_sp(arch, &KernelStackRequest::Clone3 { stack, stack_size }) {
        let m = arch.register_mask();
        let (s, n) = (stack & m, stack_size & m);
        let slack = if arch == Arch::Hppa { 3 } else { 0 };
        let inside = if arch == Arch::S390x {
            sp.sp == s.wrapping_add(n)
        } else {
            sp.sp >= s && sp.sp - s <= n + slack
        };
        if !inside {
            return Err(format!(
                "{arch:?}: clone3 stack {s:#x}+{n:#x} gives SP {:#x}",
                sp.sp
            ));
        }
    }
    Ok(())
}

/// `flags::parse`: never panics; upper- and lower-case text parse alike; what `Display`
/// writes (flags and a signal, or a legacy word) parses back to the same value.
pub fn flags_parse(data: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(data);
    let r = flags::parse(&text);
    let upper = text.to_ascii_uppercase();
    let lower = text.to_ascii_lowercase();
    for other in [&upper, &lower] {
        let r2 = flags::parse(other);
        if r.as_ref().ok() != r2.as_ref().ok() || r.is_ok() != r2.is_ok() {
            return Err(format!("`{text}` gives {r:?} but `{other}` gives {r2:?}"));
        }
    }
    if let Ok(p) = r
        && p.flags.bits() & 0x7f == 0
    {
        let written = p.to_string();
        let back = flags::parse(&written);
        if back != Ok(p) {
            return Err(format!(
                "`{text}` = {p:?} formats as `{written}`, which parses as {back:?}"
            ));
        }
    }
    let mut u = Unstructured::new(data);
    let bits: u64 = take!(u.arbitrary());
    let p = ParsedFlags {
        flags: CloneFlags::from_bits_retain(bits & !0x7f),
        signal: take!(u.arbitrary::<Option<u8>>()).map(u64::from),
    };
    let written = p.to_string();
    let back = flags::parse(&written);
    if back != Ok(p) {
        return Err(format!(
            "{p:?} formats as `{written}`, which parses as {back:?}"
        ));
    }
    let word = bits & 0xffff_ffff;
    let text = LegacyWord(word).to_string();
    match flags::parse(&text) {
        Ok(q) if q.legacy_word() == word => Ok(()),
        other => Err(format!(
            "word {word:#x} formats as `{text}`, which parses as {other:?}"
        )),
    }
}

/// One `cargo xtask explain --batch` line: no answer only for blank and `#` lines, else
/// exactly one line, `ok`, `error <message>`, or `<ERRNO> <Rule> <flags|-> fix=<changes>`.
pub fn explain_line(data: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(data);
    let line = text.lines().next().unwrap_or("");
    let answer = xtask::explain::batch_answer(line);
    let quiet = line.trim().is_empty() || line.trim().starts_with('#');
    let Some(a) = answer else {
        return if quiet {
            Ok(())
        } else {
            Err(format!("no answer for `{line}`"))
        };
    };
    if quiet || a.contains('\n') {
        return Err(format!("`{line}` answered `{a}`"));
    }
    if a == "ok" || a.starts_with("error ") {
        return Ok(());
    }
    let parts: Vec<&str> = a.split(' ').collect();
    let rule_ok = parts
        .get(1)
        .is_some_and(|r| clone_core::error::Rule::ALL.iter().any(|x| x.name() == *r));
    let errno_ok = parts.first().is_some_and(|e| e.starts_with('E'));
    let fix_ok = parts
        .get(3)
        .is_some_and(|f| f.len() > 4 && f.starts_with("fix="));
    if parts.len() == 4 && rule_ok && errno_ok && fix_ok {
        Ok(())
    } else {
        Err(format!("`{line}` answered `{a}`, not the batch form"))
    }
}

/// A target's body.
pub type Target = fn(&[u8]) -> Outcome;

/// Every target by name (the directory names under `corpus/` and `regressions/`).
pub const TARGETS: [(&str, Target); 6] = [
    ("validate_clone", validate_clone),
    ("validate_clone3", validate_clone3),
    ("syscall_codec", syscall_codec),
    ("stack", stack),
    ("flags_parse", flags_parse),
    ("explain_line", explain_line),
];
