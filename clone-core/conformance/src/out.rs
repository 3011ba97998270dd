//! Output without an allocator: fixed-size text buffers, and whole lines written to stdout with
//! one `write` each, so lines from a crashing child cannot interleave with the parent's.

use core::fmt;

use clone_core::user;

/// A fixed-capacity string; writes past the end are dropped (and marked with `…`).
pub struct Msg {
    buf: [u8; 240],
    len: usize,
    truncated: bool,
}

impl Msg {
    /// An empty message.
    pub const fn new() -> Self {
        Self {
            buf: [0; 240],
            len: 0,
            truncated: false,
        }
    }

    /// The text so far.
    pub fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in (see `write_str`), so this cannot fail.
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("<non-utf8>")
    }
}

impl Default for Msg {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Write for Msg {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.truncated {
            return Ok(());
        }
        let room = self.buf.len() - self.len;
        if s.len() <= room {
            self.buf[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
            self.len += s.len();
        } else {
            // Cut at a char boundary, leaving 3 bytes for '…'.
            let mut cut = room.saturating_sub(3);
            while cut > 0 && !s.is_char_boundary(cut) {
                cut -= 1;
            }
            self.buf[self.len..self.len + cut].copy_from_slice(&s.as_bytes()[..cut]);
            self.len += cut;
            let ell = "…".as_bytes();
            if self.buf.len() - self.len >= ell.len() {
                self.buf[self.len..self.len + ell.len()].copy_from_slice(ell);
                self.len += ell.len();
            }
            self.truncated = true;
        }
        Ok(())
    }
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Formats into a [`Msg`].
#[macro_export]
macro_rules! msg {
    ($($t:tt)*) => {{
        let mut m = $crate::out::Msg::new();
        let _ = core::fmt::Write::write_fmt(&mut m, format_args!($($t)*));
        m
    }};
}

/// Formats one line and writes it to stdout with a single `write` (newline appended).
#[macro_export]
macro_rules! outln {
    ($($t:tt)*) => {{
        let mut line = $crate::out::Line::new();
        let _ = core::fmt::Write::write_fmt(&mut line, format_args!($($t)*));
        line.emit();
    }};
}

/// A line buffer for [`outln!`]; longer than [`Msg`] so a case name plus detail fits.
pub struct Line {
    buf: [u8; 512],
    len: usize,
}

impl Line {
    /// An empty line.
    pub const fn new() -> Self {
        Self {
            buf: [0; 512],
            len: 0,
        }
    }

    /// Appends the newline and writes the line to fd 1, retrying short writes.
    pub fn emit(mut self) {
        if self.len == self.buf.len() {
            self.len -= 1;
        }
        self.buf[self.len] = b'\n';
        self.len += 1;
        let mut done = 0;
        while done < self.len {
            match user::write(1, &self.buf[done..self.len]) {
                Ok(0) | Err(_) => break,
                Ok(n) => done += n,
            }
        }
    }
}

impl Default for Line {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Keep one byte for the newline; drop what does not fit.
        let room = self.buf.len() - 1 - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}
