//! The `CLONE_*` flag set, the exit-signal byte, and their text form.
//!
//! Values are the uapi ones from `include/uapi/linux/sched.h` (Linux mainline, 2026). Two
//! layouts share this type:
//!
//! * the **legacy `clone` word**: the kernel keeps only the low 32 bits
//!   (`lower_32_bits(clone_flags)`), and the low byte (`CSIGNAL`) is the exit signal, not flags;
//! * the **`clone3` `flags` field**: a full 64-bit word where the low byte must be empty except
//!   for `CLONE_NEWTIME` (0x80), which lives inside `CSIGNAL` and so can only be asked for here.
//!
//! [`CloneFlags`] holds flags only (never a signal); [`split_legacy`] and [`join_legacy`]
//! convert between a legacy word and `(flags, exit signal)`. [`parse`] and the `Display` impls give the
//! `CLONE_VM|CLONE_FS|SIGCHLD` text form people and tools use.

use core::fmt;

bitflags::bitflags! {
    /// A set of `CLONE_*` flags (without the exit signal).
    ///
    /// Unknown bits are kept (`from_bits_retain`), because the validator must see exactly what
    /// the caller passed to say which rule it breaks.
    #[derive(Copy, Clone, PartialEq, Eq, Hash, Default)]
    pub struct CloneFlags: u64 {
        /// New time namespace. Inside the `CSIGNAL` byte: `clone3` (Linux 6.3+) and `unshare` only.
        const NEWTIME = 0x0000_0080;
        /// Share the address space.
        const VM = 0x0000_0100;
        /// Share filesystem information (root, cwd, umask).
        const FS = 0x0000_0200;
        /// Share the file descriptor table.
        const FILES = 0x0000_0400;
        /// Share signal handlers (needs `VM`).
        const SIGHAND = 0x0000_0800;
        /// Return a pidfd through the `parent_tid` slot (legacy) or `pidfd` field (clone3).
        /// The bit was `CLONE_PID` in Linux 2.0–2.5.15.
        const PIDFD = 0x0000_1000;
        /// Let the tracer trace the child too.
        const PTRACE = 0x0000_2000;
        /// Suspend the parent until the child execs or exits.
        const VFORK = 0x0000_4000;
        /// The child gets the caller's parent.
        const PARENT = 0x0000_8000;
        /// Same thread group (needs `SIGHAND`).
        const THREAD = 0x0001_0000;
        /// New mount namespace.
        const NEWNS = 0x0002_0000;
        /// Share System V semaphore undo values.
        const SYSVSEM = 0x0004_0000;
        /// Set the child's thread pointer from the `tls` argument.
        const SETTLS = 0x0008_0000;
        /// Write the child's tid at `parent_tid` in the parent.
        const PARENT_SETTID = 0x0010_0000;
        /// Clear the tid at `child_tid` and futex-wake it when the child exits.
        const CHILD_CLEARTID = 0x0020_0000;
        /// Ignored by legacy `clone` (but EINVAL with `PIDFD`); always EINVAL in `clone3`.
        const DETACHED = 0x0040_0000;
        /// The tracer cannot force `PTRACE` on the child.
        const UNTRACED = 0x0080_0000;
        /// Write the child's tid at `child_tid` in the child.
        const CHILD_SETTID = 0x0100_0000;
        /// New cgroup namespace. The bit was `CLONE_STOPPED` until Linux 2.6.38.
        const NEWCGROUP = 0x0200_0000;
        /// New UTS namespace.
        const NEWUTS = 0x0400_0000;
        /// New IPC namespace.
        const NEWIPC = 0x0800_0000;
        /// New user namespace.
        const NEWUSER = 0x1000_0000;
        /// New PID namespace.
        const NEWPID = 0x2000_0000;
        /// New network namespace.
        const NEWNET = 0x4000_0000;
        /// Share the I/O context.
        const IO = 0x8000_0000;
        /// Reset signal handlers to default in the child (`clone3` only, bit 32).
        const CLEAR_SIGHAND = 1 << 32;
        /// Start the child in the cgroup named by `clone_args.cgroup` (`clone3` only, bit 33).
        const INTO_CGROUP = 1 << 33;
        /// Reap the child automatically (`clone3` only; Linux mainline 2026, not in 6.18).
        const AUTOREAP = 1 << 34;
        /// Set no_new_privs in the child (`clone3` only; Linux mainline 2026, not in 6.18).
        const NNP = 1 << 35;
        /// Kill the child when its pidfd is closed (`clone3` only; Linux mainline 2026).
        const PIDFD_AUTOKILL = 1 << 36;
    }
}

/// The exit-signal byte of a legacy `clone` word.
pub const CSIGNAL: u64 = 0xff;

/// Bits the legacy `clone` syscall can carry (`CLONE_LEGACY_FLAGS` in the kernel).
pub const LEGACY_FLAGS: u64 = 0xffff_ffff;

/// `CLONE_PID`, the pre-2.5.16 name of the bit now used by [`CloneFlags::PIDFD`].
pub const CLONE_PID: u64 = CloneFlags::PIDFD.bits();
/// `CLONE_STOPPED`, removed in 2.6.38; the bit is now [`CloneFlags::NEWCGROUP`].
pub const CLONE_STOPPED: u64 = CloneFlags::NEWCGROUP.bits();

/// Every namespace flag `copy_namespaces` looks at (not `NEWUSER`, which `copy_creds` handles).
pub const NAMESPACE_FLAGS: CloneFlags = CloneFlags::NEWNS
    .union(CloneFlags::NEWUTS)
    .union(CloneFlags::NEWIPC)
    .union(CloneFlags::NEWPID)
    .union(CloneFlags::NEWNET)
    .union(CloneFlags::NEWCGROUP)
    .union(CloneFlags::NEWTIME);

/// The flags a pthread-style thread uses (glibc and musl `pthread_create`).
pub const THREAD_FLAGS: CloneFlags = CloneFlags::VM
    .union(CloneFlags::FS)
    .union(CloneFlags::FILES)
    .union(CloneFlags::SIGHAND)
    .union(CloneFlags::THREAD)
    .union(CloneFlags::SYSVSEM)
    .union(CloneFlags::SETTLS)
    .union(CloneFlags::PARENT_SETTID)
    .union(CloneFlags::CHILD_CLEARTID);

/// Splits a legacy `clone` word as the kernel does: upper 32 bits dropped, the low byte is the
/// exit signal (never validated by Linux), the rest are flags.
///
/// `CLONE_NEWTIME` cannot come out of this: its bit is part of the signal byte here.
#[must_use]
pub const fn split_legacy(word: u64) -> (CloneFlags, u8) {
    let low = word & LEGACY_FLAGS;
    (
        CloneFlags::from_bits_retain(low & !CSIGNAL),
        (low & CSIGNAL) as u8,
    )
}

/// Builds a legacy `clone` word from flags and an exit signal. Flags above bit 31 and in the
/// signal byte are not representable and are dropped, exactly as the kernel would drop them.
#[must_use]
pub const fn join_legacy(flags: CloneFlags, exit_signal: u8) -> u64 {
    (flags.bits() & LEGACY_FLAGS & !CSIGNAL) | exit_signal as u64
}

/// Signal names for the generic Linux numbering (x86, arm, aarch64, riscv, s390, powerpc,
/// loongarch). MIPS, SPARC, PA-RISC and Alpha number several signals differently; use
/// [`crate::Arch::sigchld`] for those when building a word for another arch.
const SIGNAL_NAMES: [&str; 32] = [
    "",
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

/// `SIGCHLD` in the generic numbering.
pub const SIGCHLD: u8 = 17;

/// The generic-numbering name of a signal (`SIGCHLD` for 17), if it has one.
#[must_use]
pub fn signal_name(signal: u64) -> Option<&'static str> {
    SIGNAL_NAMES
        .get(usize::try_from(signal).ok()?)
        .copied()
        .filter(|n| !n.is_empty())
}

/// The generic number of a signal name (`"SIGCHLD"` or `"CHLD"`), if known.
#[must_use]
pub fn signal_number(name: &str) -> Option<u8> {
    let bare = name.strip_prefix("SIG").unwrap_or(name);
    if bare.is_empty() {
        return None;
    }
    SIGNAL_NAMES
        .iter()
        .position(|n| n.len() > 3 && &n[3..] == bare)
        .and_then(|i| u8::try_from(i).ok())
}

/// Why a flag text could not be parsed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ParseError<'a> {
    /// The text (or one `|`-separated part of it) was empty.
    Empty,
    /// A part is neither a `CLONE_*` name, a signal name, nor a number.
    UnknownName(&'a str),
    /// A number did not fit in 64 bits or had bad digits.
    BadNumber(&'a str),
    /// More than one exit signal was given.
    TwoSignals(&'a str),
    /// A `SIG<n>` whose number does not fit the exit-signal byte (`CSIGNAL`, 0..=255).
    SignalTooBig(&'a str),
}

impl fmt::Display for ParseError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty flag expression"),
            Self::UnknownName(n) => write!(f, "`{n}` is not a CLONE_* flag or signal name"),
            Self::BadNumber(n) => write!(f, "`{n}` is not a valid 64-bit number"),
            Self::TwoSignals(n) => write!(f, "`{n}` is a second exit signal"),
            Self::SignalTooBig(n) => {
                write!(f, "`{n}` does not fit the exit-signal byte (0..=255)")
            }
        }
    }
}

/// Flags and exit signal parsed from text.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub struct ParsedFlags {
    /// The `CLONE_*` flags named, plus any bits above the signal byte given as numbers.
    pub flags: CloneFlags,
    /// The exit signal named (`SIGCHLD`, `SIG17`…) or the low byte of a number, if any.
    pub signal: Option<u64>,
}

impl ParsedFlags {
    /// The legacy `clone` word this text describes.
    #[must_use]
    pub fn legacy_word(&self) -> u64 {
        self.flags.bits() | self.signal.unwrap_or(0)
    }
}

/// Parses text such as `CLONE_VM|CLONE_FS|SIGCHLD`, `VM|THREAD`, `0x100|17` or `0`.
///
/// Parts are separated by `|` (spaces and `,` also accepted). A part is a flag name with or
/// without `CLONE_`, a signal name (`SIGCHLD`, `SIG17`), or a number (decimal, `0x` hex). A
/// number's low byte counts as a signal, the rest as flags, as in a legacy word; `NEWTIME` by
/// name is a flag (the clone3 meaning).
pub fn parse(text: &str) -> Result<ParsedFlags, ParseError<'_>> {
    let mut out = ParsedFlags::default();
    let mut any = false;
    for part in text
        .split(['|', ',', ' ', '+'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        any = true;
        let mut set_signal = |value: u64, part| {
            if out.signal.is_some_and(|s| s != value) {
                return Err(ParseError::TwoSignals(part));
            }
            out.signal = Some(value);
            Ok(())
        };
        if let Some(value) = parse_number(part) {
            let value = value.ok_or(ParseError::BadNumber(part))?;
            out.flags |= CloneFlags::from_bits_retain(value & !CSIGNAL);
            if value & CSIGNAL != 0 {
                set_signal(value & CSIGNAL, part)?;
            }
            continue;
        }
        let upper_owned;
        let upper: &str = if part.bytes().any(|b| b.is_ascii_lowercase()) {
            upper_owned = AsciiUpper::new(part);
            upper_owned.as_str()
        } else {
            part
        };
        let name = upper.strip_prefix("CLONE_").unwrap_or(upper);
        if let Some(flag) = CloneFlags::from_name(name) {
            out.flags |= flag;
        } else if let Some(n) = name.strip_prefix("SIG").and_then(|d| d.parse::<u64>().ok()) {
            // The signal shares the word with the flags: a bigger number would set flag bits.
            if n & !CSIGNAL != 0 {
                return Err(ParseError::SignalTooBig(part));
            }
            set_signal(n, part)?;
        } else if let Some(n) = signal_number(name) {
            set_signal(u64::from(n), part)?;
        } else if name == "PID" || name == "STOPPED" {
            // Deprecated names map onto the bits that replaced them.
            out.flags |= if name == "PID" {
                CloneFlags::PIDFD
            } else {
                CloneFlags::NEWCGROUP
            };
        } else {
            return Err(ParseError::UnknownName(part));
        }
    }
    if any { Ok(out) } else { Err(ParseError::Empty) }
}

/// `None` if `part` is not numeric at all, `Some(None)` if it looks numeric but is invalid.
fn parse_number(part: &str) -> Option<Option<u64>> {
    if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
        return Some(u64::from_str_radix(hex, 16).ok());
    }
    if part.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return Some(part.parse().ok());
    }
    None
}

/// A fixed-capacity upper-cased copy of a short name (no alloc in this crate).
struct AsciiUpper {
    buf: [u8; 32],
    len: usize,
}

impl AsciiUpper {
    fn new(s: &str) -> Self {
        let mut buf = [0u8; 32];
        let len = s.len().min(buf.len());
        for (d, c) in buf.iter_mut().zip(s.bytes()) {
            *d = c.to_ascii_uppercase();
        }
        Self { buf, len }
    }
    fn as_str(&self) -> &str {
        // Upper-casing ASCII bytes keeps UTF-8 valid, but truncation at 32 bytes may split a
        // multi-byte character; such a name is unknown anyway, so fall back to an empty name.
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

/// Writes `flags` as `CLONE_A|CLONE_B|0x…` (unknown bits in hex), or `0` when empty.
pub fn write_flags(f: &mut dyn fmt::Write, flags: CloneFlags) -> fmt::Result {
    let mut first = true;
    for (name, _) in flags.iter_names() {
        if !first {
            f.write_char('|')?;
        }
        first = false;
        write!(f, "CLONE_{name}")?;
    }
    let unknown = flags.bits() & !CloneFlags::all().bits();
    if unknown != 0 {
        if !first {
            f.write_char('|')?;
        }
        first = false;
        write!(f, "{unknown:#x}")?;
    }
    if first {
        f.write_char('0')?;
    }
    Ok(())
}

impl fmt::Display for CloneFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_flags(f, *self)
    }
}

impl fmt::Debug for CloneFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CloneFlags({self})")
    }
}

/// Display adapter for a legacy word: `CLONE_VM|CLONE_FS|SIGCHLD` (signal by generic name, or
/// `SIG<n>` for unnamed numbers; nothing when the signal byte is 0).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LegacyWord(pub u64);

impl fmt::Display for LegacyWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (flags, signal) = split_legacy(self.0);
        let dropped = self.0 & !LEGACY_FLAGS;
        if flags.is_empty() && signal == 0 && dropped == 0 {
            return f.write_char('0');
        }
        let mut first = true;
        if !flags.is_empty() {
            write_flags(f, flags)?;
            first = false;
        }
        if signal != 0 {
            if !first {
                f.write_char('|')?;
            }
            first = false;
            match signal_name(u64::from(signal)) {
                Some(name) => f.write_str(name)?,
                None => write!(f, "SIG{signal}")?,
            }
        }
        if dropped != 0 {
            if !first {
                f.write_char('|')?;
            }
            write!(f, "{dropped:#x} (dropped by legacy clone)")?;
        }
        Ok(())
    }
}

use fmt::Write as _;

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn uapi_values() {
        // Spot values straight from include/uapi/linux/sched.h, written out by hand.
        assert_eq!(CloneFlags::VM.bits(), 0x100);
        assert_eq!(CloneFlags::NEWTIME.bits(), 0x80);
        assert_eq!(CloneFlags::IO.bits(), 0x8000_0000);
        assert_eq!(CloneFlags::CLEAR_SIGHAND.bits(), 0x1_0000_0000);
        assert_eq!(CloneFlags::INTO_CGROUP.bits(), 0x2_0000_0000);
        assert_eq!(CLONE_PID, 0x1000);
        assert_eq!(CLONE_STOPPED, 0x0200_0000);
        assert_eq!(CloneFlags::all().bits().count_ones(), 30);
    }

    #[test]
    fn legacy_split_drops_high_bits_and_keeps_signal() {
        let word = 0xdead_beef_0000_0000 | 0x0001_0900 | 0x80 | 17;
        let (flags, sig) = split_legacy(word);
        assert_eq!(
            flags,
            CloneFlags::VM | CloneFlags::SIGHAND | CloneFlags::THREAD
        );
        assert_eq!(sig, 0x80 | 17);
        assert_eq!(join_legacy(flags, sig), word & 0xffff_ffff);
    }

    #[test]
    fn parse_and_format() {
        let p = parse("CLONE_VM|CLONE_FS|SIGCHLD").unwrap();
        assert_eq!(p.flags, CloneFlags::VM | CloneFlags::FS);
        assert_eq!(p.signal, Some(17));
        assert_eq!(p.legacy_word(), 0x311);
        assert_eq!(
            parse("vm | thread").unwrap().flags,
            CloneFlags::VM | CloneFlags::THREAD
        );
        assert_eq!(parse("0x311").unwrap(), p);
        assert_eq!(parse("CLONE_PID").unwrap().flags, CloneFlags::PIDFD);
        assert_eq!(parse("SIG64").unwrap().signal, Some(64));
        // SIG300 used to come back as signal 300, whose bit 8 turned into CLONE_VM in the word.
        assert_eq!(parse("SIG255").unwrap().legacy_word(), 0xff);
        assert!(matches!(
            parse("SIG300"),
            Err(ParseError::SignalTooBig("SIG300"))
        ));
        assert!(matches!(
            parse("CLONE_BOGUS"),
            Err(ParseError::UnknownName("CLONE_BOGUS"))
        ));
        assert!(matches!(
            parse("SIGCHLD|SIGUSR1"),
            Err(ParseError::TwoSignals("SIGUSR1"))
        ));
        assert!(matches!(parse(" | "), Err(ParseError::Empty)));
        assert!(matches!(parse("0xzz"), Err(ParseError::BadNumber("0xzz"))));

        assert_eq!(
            format!("{}", LegacyWord(0x311)),
            "CLONE_VM|CLONE_FS|SIGCHLD"
        );
        assert_eq!(
            format!("{}", CloneFlags::from_bits_retain(0x100 | (1 << 50))),
            "CLONE_VM|0x4000000000000"
        );
        assert_eq!(format!("{}", LegacyWord(0)), "0");
        assert_eq!(
            format!("{}", LegacyWord(1 << 40 | 0x100 | 70)),
            "CLONE_VM|SIG70|0x10000000000 (dropped by legacy clone)"
        );
    }

    #[test]
    fn every_flag_name_round_trips() {
        for (name, flag) in CloneFlags::all().iter_names() {
            let text = format!("{flag}");
            assert_eq!(text.strip_prefix("CLONE_"), Some(name));
            assert_eq!(parse(&text).unwrap().flags, flag);
        }
    }

    #[test]
    fn signal_names() {
        assert_eq!(signal_name(17), Some("SIGCHLD"));
        assert_eq!(signal_number("SIGCHLD"), Some(17));
        assert_eq!(signal_number("CHLD"), Some(17));
        assert_eq!(signal_number("SIG"), None);
        assert_eq!(signal_name(0), None);
        assert_eq!(signal_name(64), None);
    }
}
