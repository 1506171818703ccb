//! Errors inside the evaluator: a Python exception (kind + message) with the position of the
//! innermost expression or statement that raised it, turned into a located [`ConfigError`].

use crate::error::{ConfigError, Location};

/// A 1-based line and column (characters) in the config source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Pos {
    pub line: u32,
    pub col: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyErr {
    /// Python exception name (`NameError`, `TypeError`, ...) or `LimitError` for our bounds.
    pub kind: &'static str,
    pub msg: String,
    pub pos: Option<Pos>,
}

pub(crate) type PyResult<T> = Result<T, PyErr>;

impl PyErr {
    pub fn new(kind: &'static str, msg: impl Into<String>) -> Self {
        PyErr {
            kind,
            msg: msg.into(),
            pos: None,
        }
    }
    pub fn type_err(msg: impl Into<String>) -> Self {
        Self::new("TypeError", msg)
    }
    pub fn value_err(msg: impl Into<String>) -> Self {
        Self::new("ValueError", msg)
    }
    pub fn limit(msg: impl Into<String>) -> Self {
        Self::new("LimitError", msg)
    }
    pub fn overflow() -> Self {
        Self::new(
            "OverflowError",
            "integer result does not fit in 64 bits (xm-rs does not support long integers beyond 64 bits)",
        )
    }
    pub fn unsupported(what: impl std::fmt::Display) -> Self {
        Self::new(
            "SyntaxError",
            format!("{what} is not supported in xm configs"),
        )
    }
    /// Set the position unless an inner one is already known.
    pub fn at(mut self, pos: Pos) -> Self {
        if self.pos.is_none() {
            self.pos = Some(pos);
        }
        self
    }

    /// `Kind: message`, or just the kind for a bare `raise ValueError`.
    pub fn text(&self) -> String {
        if self.kind.is_empty() {
            self.msg.clone()
        } else if self.msg.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}: {}", self.kind, self.msg)
        }
    }
}

/// How much native stack the parser and the evaluator may use, measured from where they start.
/// The nesting limits keep optimised builds far below this; the probe also protects unoptimised
/// builds, whose frames are many times larger. Callers need a thread stack of at least twice
/// this (Rust's test threads have 2 MiB, main threads 8 MiB).
pub(crate) const STACK_BUDGET: usize = 768 << 10;

/// The address of a local: where the native stack is now.
#[inline(never)]
pub(crate) fn stack_pos() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Has the stack grown more than [`STACK_BUDGET`] since `base`?
pub(crate) fn stack_exhausted(base: usize) -> bool {
    base.abs_diff(stack_pos()) > STACK_BUDGET
}

/// Maps positions to [`Location`]s with the source line as snippet.
pub(crate) struct SourceMap<'a> {
    pub file: &'a str,
    pub src: &'a str,
}

impl SourceMap<'_> {
    pub fn location(&self, pos: Pos) -> Location {
        let snippet = self
            .src
            .split('\n')
            .nth((pos.line as usize).saturating_sub(1))
            .unwrap_or("")
            .trim_end_matches('\r');
        // Keep the snippet to a sane size for very long lines.
        let snippet: String = if snippet.chars().count() > 400 {
            snippet.chars().take(400).collect::<String>() + "..."
        } else {
            snippet.to_string()
        };
        Location {
            file: self.file.to_string(),
            line: pos.line as usize,
            col: pos.col as usize,
            snippet,
        }
    }

    pub fn error(&self, e: &PyErr) -> ConfigError {
        let pos = e.pos.unwrap_or(Pos { line: 1, col: 1 });
        ConfigError::at(self.location(pos), e.text())
    }
}
