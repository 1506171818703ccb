//! Client-side path checks, so a bad path is a clear error before anything is sent.
//!
//! Rules from `docs/misc/xenstore.txt` and xenstored's `is_valid_nodename`: characters
//! `[A-Za-z0-9-/_@]`, no empty path, no `//`, no trailing `/` (except the root `/`), at most
//! [`ABS_PATH_MAX`] bytes for an absolute path and
//! [`REL_PATH_MAX`] for a relative one (relative paths are resolved
//! by xenstored against the caller domain's home, `/local/domain/<domid>`). Watch paths such as
//! `@releaseDomain` or `@releaseDomain/5` pass the same rules.

use crate::wire::{ABS_PATH_MAX, REL_PATH_MAX};

/// Why a path was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    Empty,
    /// A byte outside `[A-Za-z0-9-/_@]` (the offending byte).
    BadChar(u8),
    DoubleSlash,
    TrailingSlash,
    /// Longer than the limit (the limit).
    TooLong(usize),
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathError::Empty => f.write_str("empty path"),
            PathError::BadChar(b) => write!(
                f,
                "character {:?} not allowed (only A-Z a-z 0-9 - / _ @)",
                char::from(*b)
            ),
            PathError::DoubleSlash => f.write_str("contains \"//\""),
            PathError::TrailingSlash => f.write_str("ends in \"/\""),
            PathError::TooLong(max) => write!(f, "longer than {max} bytes"),
        }
    }
}

fn allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'/' | b'_' | b'@')
}

/// Check a path against xenstore's rules.
pub fn validate(path: &str) -> Result<(), PathError> {
    if path.is_empty() {
        return Err(PathError::Empty);
    }
    let max = if path.starts_with('/') {
        ABS_PATH_MAX
    } else {
        REL_PATH_MAX
    };
    if path.len() > max {
        return Err(PathError::TooLong(max));
    }
    if let Some(b) = path.bytes().find(|b| !allowed(*b)) {
        return Err(PathError::BadChar(b));
    }
    if path.contains("//") {
        return Err(PathError::DoubleSlash);
    }
    if path.len() > 1 && path.ends_with('/') {
        return Err(PathError::TrailingSlash);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_xenstore_paths() {
        for p in [
            "/",
            "/local/domain/0/name",
            "/vm/5f3e1a2b-0000-4000-8000-123456789abc/image",
            "device/vif/0/state",
            "@releaseDomain",
            "@introduceDomain",
            "@releaseDomain/7",
            "a_b-c@d",
        ] {
            assert_eq!(validate(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn refuses_bad_paths() {
        assert_eq!(validate(""), Err(PathError::Empty));
        assert_eq!(validate("/a//b"), Err(PathError::DoubleSlash));
        assert_eq!(validate("//"), Err(PathError::DoubleSlash));
        assert_eq!(validate("/a/"), Err(PathError::TrailingSlash));
        assert_eq!(validate("a/"), Err(PathError::TrailingSlash));
        assert_eq!(validate("/a b"), Err(PathError::BadChar(b' ')));
        assert_eq!(validate("/a.b"), Err(PathError::BadChar(b'.')));
        assert_eq!(validate("/a\0b"), Err(PathError::BadChar(0)));
        assert_eq!(validate("/é"), Err(PathError::BadChar(0xc3)));
    }

    #[test]
    fn length_limits() {
        let abs = format!("/{}", "a".repeat(ABS_PATH_MAX - 1));
        assert_eq!(validate(&abs), Ok(()));
        assert_eq!(
            validate(&format!("{abs}a")),
            Err(PathError::TooLong(ABS_PATH_MAX))
        );
        let rel = "a".repeat(REL_PATH_MAX);
        assert_eq!(validate(&rel), Ok(()));
        assert_eq!(
            validate(&format!("{rel}a")),
            Err(PathError::TooLong(REL_PATH_MAX))
        );
    }
}
