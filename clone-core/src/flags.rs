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
        /// `CLONE_NEWTIME`: new time namespace. Inside the `CSIGNAL` byte: `clone3` (Linux 6.3+)
        /// and `unshare` only.
        #[doc(alias = "CLONE_NEWTIME")]
        const NEWTIME = 0x0000_0080;
        /// `CLONE_VM`: share the address space.
        #[doc(alias = "CLONE_VM")]
        const VM = 0x0000_0100;
        /// `CLONE_FS`: share filesystem information (root, cwd, umask).
        #[doc(alias = "CLONE_FS")]
        const FS = 0x0000_0200;
        /// `CLONE_FILES`: share the file descriptor table.
        #[doc(alias = "CLONE_FILES")]
        const FILES = 0x0000_0400;
        /// `CLONE_SIGHAND`: share signal handlers (needs `VM`).
        #[doc(alias = "CLONE_SIGHAND")]
        const SIGHAND = 0x0000_0800;
        /// `CLONE_PIDFD`: return a pidfd through the `parent_tid` slot (legacy) or `pidfd` field
        /// (clone3).
        /// The bit was `CLONE_PID` in Linux 2.0–2.5.15.
        #[doc(alias = "CLONE_PIDFD")]
        const PIDFD = 0x0000_1000;
        /// `CLONE_PTRACE`: let the tracer trace the child too.
        #[doc(alias = "CLONE_PTRACE")]
        const PTRACE = 0x0000_2000;
        /// `CLONE_VFORK`: suspend the parent until the child execs or exits.
        #[doc(alias = "CLONE_VFORK")]
        const VFORK = 0x0000_4000;
        /// `CLONE_PARENT`: the child gets the caller's parent.
        #[doc(alias = "CLONE_PARENT")]
        const PARENT = 0x0000_8000;
        /// `CLONE_THREAD`: same thread group (needs `SIGHAND`).
        #[doc(alias = "CLONE_THREAD")]
        const THREAD = 0x0001_0000;
        /// `CLONE_NEWNS`: new mount namespace.
        #[doc(alias = "CLONE_NEWNS")]
        const NEWNS = 0x0002_0000;
        /// `CLONE_SYSVSEM`: share System V semaphore undo values.
        #[doc(alias = "CLONE_SYSVSEM")]
        const SYSVSEM = 0x0004_0000;
        /// `CLONE_SETTLS`: set the child's thread pointer from the `tls` argument.
        #[doc(alias = "CLONE_SETTLS")]
        const SETTLS = 0x0008_0000;
        /// `CLONE_PARENT_SETTID`: write the child's tid at `parent_tid` in the parent.
        #[doc(alias = "CLONE_PARENT_SETTID")]
        const PARENT_SETTID = 0x0010_0000;
        /// `CLONE_CHILD_CLEARTID`: clear the tid at `child_tid` and futex-wake it when the child
        /// exits.
        #[doc(alias = "CLONE_CHILD_CLEARTID")]
        const CHILD_CLEARTID = 0x0020_0000;
        /// `CLONE_DETACHED`: ignored by legacy `clone` (but EINVAL with `PIDFD`); always EINVAL in
        /// `clone3`.
        #[doc(alias = "CLONE_DETACHED")]
        const DETACHED = 0x0040_0000;
        /// `CLONE_UNTRACED`: the tracer cannot force `PTRACE` on the child.
        #[doc(alias = "CLONE_UNTRACED")]
        const UNTRACED = 0x0080_0000;
        /// `CLONE_CHILD_SETTID`: write the child's tid at `child_tid` in the child.
        #[doc(alias = "CLONE_CHILD_SETTID")]
        const CHILD_SETTID = 0x0100_0000;
        /// `CLONE_NEWCGROUP`: new cgroup namespace. The bit was `CLONE_STOPPED` until Linux 2.6.38.
        #[doc(alias = "CLONE_NEWCGROUP")]
        const NEWCGROUP = 0x0200_0000;
        /// `CLONE_NEWUTS`: new UTS namespace.
        #[doc(alias = "CLONE_NEWUTS")]
        const NEWUTS = 0x0400_0000;
        /// `CLONE_NEWIPC`: new IPC namespace.
        #[doc(alias = "CLONE_NEWIPC")]
        const NEWIPC = 0x0800_0000;
        /// `CLONE_NEWUSER`: new user namespace.
        #[doc(alias = "CLONE_NEWUSER")]
        const NEWUSER = 0x1000_0000;
        /// `CLONE_NEWPID`: new PID namespace.
        #[doc(alias = "CLONE_NEWPID")]
        const NEWPID = 0x2000_0000;
        /// `CLONE_NEWNET`: new network namespace.
        #[doc(alias = "CLONE_NEWNET")]
        const NEWNET = 0x4000_0000;
        /// `CLONE_IO`: share the I/O context.
        #[doc(alias = "CLONE_IO")]
        const IO = 0x8000_0000;
        /// `CLONE_CLEAR_SIGHAND`: reset signal handlers to default in the child (`clone3` only, bit
        /// 32).
        #[doc(alias = "CLONE_CLEAR_SIGHAND")]
        const CLEAR_SIGHAND = 1 << 32;
        /// `CLONE_INTO_CGROUP`: start the child in the cgroup named by `clone_args.cgroup`
        /// (`clone3` only, bit 33).
        #[doc(alias = "CLONE_INTO_CGROUP")]
        const INTO_CGROUP = 1 << 33;
        /// `CLONE_AUTOREAP`: reap the child automatically (`clone3` only; Linux mainline 2026, not
        /// in 6.18).
        #[doc(alias = "CLONE_AUTOREAP")]
        const AUTOREAP = 1 << 34;
        /// `CLONE_NNP`: set no_new_privs in the child (`clone3` only; Linux mainline 2026, not in
        /// 6.18).
        #[doc(alias = "CLONE_NNP")]
        const NNP = 1 << 35;
        /// `CLONE_PIDFD_AUTOKILL`: kill the child when its pidfd is closed (`clone3` only; Linux
        /// mainline 2026).
        #[doc(alias = "CLONE_PIDFD_AUTOKILL")]
        const PIDFD_AUTOKILL = 1 << 36;
        /// Give the child an empty mount namespace; implies [`Self::NEWNS`] (`clone3` only, bit
        /// 37; Linux 7.1+, merged for 7.1-rc1; read in Debian's 7.2.13 source).
        const EMPTY_MNTNS = 1 << 37;
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

/// The generic number of a signal name (`"SIGCHLD"` or `"CHLD"`, in any case), if known.
#[must_use]
pub fn signal_number(name: &str) -> Option<u8> {
    let bare = strip_prefix_ignore_case(name, "SIG").unwrap_or(name);
    if bare.is_empty() {
        return None;
    }
    SIGNAL_NAMES
        .iter()
        .position(|n| n.len() > 3 && n[3..].eq_ignore_ascii_case(bare))
        .and_then(|i| u8::try_from(i).ok())
}

/// `text` without `prefix`, compared ignoring ASCII case.
fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
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

impl fmt::Display for ParsedFlags {
    /// `CLONE_A|CLONE_B|SIGCHLD` (the signal by generic name, else `SIG<n>`), or `0`. [`parse`]
    /// reads it back to the same value whenever the flags have no bit in the signal byte other
    /// than `CLONE_NEWTIME`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.flags.is_empty() {
            write_flags(f, self.flags)?;
        }
        match self.signal {
            Some(s) => {
                if !self.flags.is_empty() {
                    f.write_char('|')?;
                }
                match signal_name(s) {
                    Some(name) => f.write_str(name),
                    None => write!(f, "SIG{s}"),
                }
            }
            None if self.flags.is_empty() => f.write_char('0'),
            None => Ok(()),
        }
    }
}

/// Parses text such as `CLONE_VM|CLONE_FS|SIGCHLD`, `VM|THREAD`, `0x100|17` or `0`.
///
/// Parts are separated by `|` (spaces, `,` and `+` also accepted). A part is a flag name with
/// or without `CLONE_`, a signal name (`SIGCHLD`, `CHLD`), `SIG<n>` with `n` decimal digits
/// (any number of them) and at most 255, or a number (decimal digits, or `0x` and hex digits;
/// no sign). Names match ignoring ASCII case, with the same rules in either case, and text of
/// any length is read whole. A number's low byte counts as a signal, the rest as flags, as in
/// a legacy word; `NEWTIME` by name is a flag (the clone3 meaning).
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
        let name = strip_prefix_ignore_case(part, "CLONE_").unwrap_or(part);
        if let Some(flag) = flag_named(name) {
            out.flags |= flag;
        } else if let Some(digits) = strip_prefix_ignore_case(name, "SIG")
            .filter(|d| d.bytes().next().is_some_and(|b| b.is_ascii_digit()))
        {
            set_signal(signal_digits(digits, part)?, part)?;
        } else if let Some(n) = signal_number(name) {
            set_signal(u64::from(n), part)?;
        } else if name.eq_ignore_ascii_case("PID") {
            // Deprecated names map onto the bits that replaced them.
            out.flags |= CloneFlags::PIDFD;
        } else if name.eq_ignore_ascii_case("STOPPED") {
            out.flags |= CloneFlags::NEWCGROUP;
        } else {
            return Err(ParseError::UnknownName(part));
        }
    }
    if any { Ok(out) } else { Err(ParseError::Empty) }
}

/// The flag whose name (without `CLONE_`) is `name`, ignoring ASCII case.
fn flag_named(name: &str) -> Option<CloneFlags> {
    CloneFlags::all()
        .iter_names()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, f)| f)
}

/// The number of `SIG<digits>`: decimal digits only, at most 255 (the exit-signal byte; a
/// bigger number would set flag bits in a legacy word). Any length; leading zeros are fine.
fn signal_digits<'a>(digits: &str, part: &'a str) -> Result<u64, ParseError<'a>> {
    let mut n: u64 = 0;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return Err(ParseError::BadNumber(part));
        }
        n = n.saturating_mul(10).saturating_add(u64::from(b - b'0'));
    }
    if n & !CSIGNAL != 0 {
        return Err(ParseError::SignalTooBig(part));
    }
    Ok(n)
}

/// `None` if `part` is not numeric at all, `Some(None)` if it looks numeric but is invalid:
/// decimal digits, or `0x`/`0X` and hex digits, nothing else (no sign, no `_`).
fn parse_number(part: &str) -> Option<Option<u64>> {
    if let Some(hex) = strip_prefix_ignore_case(part, "0x") {
        let ok = !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
        return Some(ok.then(|| u64::from_str_radix(hex, 16).ok()).flatten());
    }
    if part.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        let ok = part.bytes().all(|b| b.is_ascii_digit());
        return Some(ok.then(|| part.parse().ok()).flatten());
    }
    None
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

impl core::error::Error for ParseError<'_> {}

/// Why `str::parse::<CloneFlags>()` failed: a [`ParseError`] without the borrowed text, or an
/// exit signal in text that should name flags only.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FlagsFromStrError {
    /// [`ParseError::Empty`].
    Empty,
    /// [`ParseError::UnknownName`].
    UnknownName,
    /// [`ParseError::BadNumber`].
    BadNumber,
    /// [`ParseError::TwoSignals`] or [`ParseError::SignalTooBig`], or any exit signal: a
    /// [`CloneFlags`] holds flags only (use [`parse`] for a legacy word with its signal; a
    /// number's low byte counts as a signal, so write `CLONE_NEWTIME` by name).
    Signal,
}

impl fmt::Display for FlagsFromStrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "empty flag expression",
            Self::UnknownName => "not a CLONE_* flag name",
            Self::BadNumber => "not a valid 64-bit number",
            Self::Signal => "an exit signal is not a CLONE_* flag (use flags::parse)",
        })
    }
}

impl core::error::Error for FlagsFromStrError {}

impl core::str::FromStr for CloneFlags {
    type Err = FlagsFromStrError;

    /// Reads what [`CloneFlags`]'s `Display` writes (`CLONE_VM|CLONE_FS`, `0`) and the other
    /// forms [`parse`] takes, refusing any exit signal.
    ///
    /// ```
    /// use clone_core::CloneFlags;
    /// let f: CloneFlags = "CLONE_VM|fs".parse().unwrap();
    /// assert_eq!(f, CloneFlags::VM | CloneFlags::FS);
    /// assert_eq!(f.to_string().parse::<CloneFlags>(), Ok(f));
    /// assert!("CLONE_VM|SIGCHLD".parse::<CloneFlags>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match parse(s) {
            Ok(ParsedFlags {
                flags,
                signal: None,
            }) => Ok(flags),
            Ok(_) | Err(ParseError::TwoSignals(_) | ParseError::SignalTooBig(_)) => {
                Err(FlagsFromStrError::Signal)
            }
            Err(ParseError::Empty) => Err(FlagsFromStrError::Empty),
            Err(ParseError::UnknownName(_)) => Err(FlagsFromStrError::UnknownName),
            Err(ParseError::BadNumber(_)) => Err(FlagsFromStrError::BadNumber),
        }
    }
}

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
        assert_eq!(CloneFlags::EMPTY_MNTNS.bits(), 0x20_0000_0000);
        assert_eq!(CloneFlags::all().bits().count_ones(), 31);
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
    fn parse_reads_any_length_in_either_case() {
        // A fixed 32-byte upper-casing buffer used to cut these short (SIG0 and SIG1).
        let long = "sig000000000000000000000000000000017";
        assert_eq!(long.len(), 36);
        assert_eq!(parse(long).unwrap().signal, Some(17));
        assert_eq!(parse(&long.to_ascii_uppercase()).unwrap().signal, Some(17));
        let bad = "sig000000000000000000000000000017x";
        assert_eq!(parse(bad), Err(ParseError::BadNumber(bad)));
        let bad_up = bad.to_ascii_uppercase();
        assert_eq!(parse(&bad_up), Err(ParseError::BadNumber(&bad_up)));
        let long_name = "clone_vm|CLONE_Sighand|ThReAd|sigchld|clone_newuser|clone_newpid";
        assert_eq!(
            parse(long_name).unwrap().legacy_word(),
            0x100 | 0x800 | 0x1_0000 | 17 | 0x1000_0000 | 0x2000_0000
        );
        assert_eq!(parse("sig255").unwrap().signal, Some(255));
        assert_eq!(parse("sig256"), Err(ParseError::SignalTooBig("sig256")));
        let huge = "SIG99999999999999999999999999";
        assert_eq!(parse(huge), Err(ParseError::SignalTooBig(huge)));
        for bad in ["SIG+17", "SIG17x", "SIG1_7", "SIG-1", "SIG0x11"] {
            let t = bad.trim();
            assert!(parse(t).is_err(), "{t}");
        }
        assert_eq!(parse("0xg1"), Err(ParseError::BadNumber("0xg1")));
        assert_eq!(parse("0x"), Err(ParseError::BadNumber("0x")));
        assert_eq!(parse("1_0"), Err(ParseError::BadNumber("1_0")));
        assert_eq!(parse("0XFF").unwrap().signal, Some(255));
        assert_eq!(
            parse("clone_pid|stopped").unwrap().flags,
            CloneFlags::PIDFD | CloneFlags::NEWCGROUP
        );
        assert_eq!(parse("chld").unwrap().signal, Some(17));
    }

    #[test]
    fn parsed_flags_format_parses_back() {
        for p in [
            ParsedFlags::default(),
            ParsedFlags {
                flags: THREAD_FLAGS,
                signal: Some(17),
            },
            ParsedFlags {
                flags: CloneFlags::NEWTIME,
                signal: Some(0),
            },
            ParsedFlags {
                flags: CloneFlags::from_bits_retain(1 << 50),
                signal: Some(200),
            },
        ] {
            let text = format!("{p}");
            assert_eq!(parse(&text), Ok(p), "{text}");
        }
        assert_eq!(
            format!(
                "{}",
                ParsedFlags {
                    flags: CloneFlags::VM,
                    signal: Some(17)
                }
            ),
            "CLONE_VM|SIGCHLD"
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
