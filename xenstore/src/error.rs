//! The crate's error type. Every variant that comes from a request names the operation and the
//! path (or argument) it was about.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::path::PathError;
use crate::perms::PermsError;
use crate::wire::{Errno, MsgType, WireError};

/// Anything that can go wrong talking to xenstore.
#[derive(Debug)]
pub enum Error {
    /// No transport could be opened; every candidate with why it failed.
    Open { tried: Vec<(PathBuf, io::Error)> },
    /// xenstored answered the request with an error.
    Xs {
        op: MsgType,
        path: String,
        errno: Errno,
    },
    /// The request would exceed the 4096-byte payload limit; nothing was sent.
    TooLarge {
        op: MsgType,
        path: String,
        len: usize,
    },
    /// The path breaks xenstore's rules; nothing was sent.
    InvalidPath { path: String, reason: PathError },
    /// Reading from or writing to the connection failed.
    Io {
        op: MsgType,
        path: String,
        source: io::Error,
    },
    /// xenstored sent something that does not follow the protocol.
    Protocol {
        op: Option<MsgType>,
        path: String,
        detail: String,
    },
    /// The connection is gone (closed by xenstored, a read error, or a corrupt stream).
    Disconnected { reason: String },
    /// A value was not valid UTF-8 where a string was asked for.
    NotUtf8 { path: String },
    /// `GET_PERMS` returned something that is not a permission list.
    BadPerms { path: String, source: PermsError },
    /// A transaction kept failing with `EAGAIN`.
    TooManyConflicts { attempts: u32 },
    /// A watch token is already in use on this connection.
    DuplicateToken { token: String },
    /// A watch token containing NUL (it could not be sent).
    InvalidToken { token: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The xenstored errno, if xenstored refused the request.
    pub fn errno(&self) -> Option<&Errno> {
        match self {
            Error::Xs { errno, .. } => Some(errno),
            _ => None,
        }
    }

    /// xenstored said `ENOENT`.
    pub fn is_not_found(&self) -> bool {
        self.errno() == Some(&Errno::ENOENT)
    }

    /// xenstored said `EAGAIN` (a transaction conflict).
    pub fn is_again(&self) -> bool {
        self.errno() == Some(&Errno::EAGAIN)
    }

    /// xenstored said `EACCES` or `EPERM`.
    pub fn is_permission_denied(&self) -> bool {
        matches!(self.errno(), Some(Errno::EACCES | Errno::EPERM))
    }

    pub(crate) fn wire(op: MsgType, path: &str, e: WireError) -> Error {
        Error::Protocol {
            op: Some(op),
            path: path.to_string(),
            detail: e.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Open { tried } => {
                f.write_str("cannot connect to xenstore: ")?;
                for (i, (p, e)) in tried.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{}: {e}", p.display())?;
                }
                f.write_str(" (is xenstored running? are you in dom0 as root?)")
            }
            Error::Xs { op, path, errno } => write!(f, "xenstore {op} {path}: {errno}"),
            Error::TooLarge { op, path, len } => write!(
                f,
                "xenstore {op} {path}: request payload of {len} bytes exceeds the {}-byte limit",
                crate::wire::PAYLOAD_MAX
            ),
            Error::InvalidPath { path, reason } => {
                write!(f, "invalid xenstore path {path:?}: {reason}")
            }
            Error::Io { op, path, source } => write!(f, "xenstore {op} {path}: {source}"),
            Error::Protocol {
                op: Some(op),
                path,
                detail,
            } => {
                write!(f, "xenstore {op} {path}: protocol error: {detail}")
            }
            Error::Protocol {
                op: None,
                path: _,
                detail,
            } => {
                write!(f, "xenstore protocol error: {detail}")
            }
            Error::Disconnected { reason } => write!(f, "xenstore connection lost: {reason}"),
            Error::NotUtf8 { path } => write!(f, "xenstore value at {path} is not UTF-8"),
            Error::BadPerms { path, source } => write!(f, "xenstore GET_PERMS {path}: {source}"),
            Error::TooManyConflicts { attempts } => write!(
                f,
                "xenstore transaction still conflicting (EAGAIN) after {attempts} attempts"
            ),
            Error::InvalidToken { token } => {
                write!(f, "xenstore watch token {token:?} contains NUL")
            }
            Error::DuplicateToken { token } => {
                write!(
                    f,
                    "xenstore watch token {token:?} is already in use on this connection"
                )
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::BadPerms { source, .. } => Some(source),
            _ => None,
        }
    }
}
