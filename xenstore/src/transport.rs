//! Where the connection to xenstored comes from: its unix socket, or the xenbus character
//! device, found the way libxenstore's `xs_open()` looks for them.
//!
//! Both are plain byte streams carrying [`wire`](crate::wire) messages. Two differences matter,
//! both from how Linux's xenbus device (`drivers/xen/xenbus/xenbus_dev_frontend.c`) works:
//! - it takes exactly one message per `write()` (it discards what follows a complete message in
//!   the same write), so [`Writer::send`] writes the device message by message, while the
//!   socket gets a batch in a single write;
//! - it queues a request for xenstored with its payload still in the open file's one message
//!   buffer, which the next `write()` overwrites; so only one request may be in flight per open
//!   device, and the client waits for each reply before sending the next request there (seen
//!   in the lab: pipelined READs on the device got the wrong paths' answers). On the socket,
//!   requests are pipelined.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// xenstored's socket unless `$XENSTORED_RUNDIR` says otherwise.
pub const DEFAULT_SOCKET: &str = "/var/run/xenstored/socket";
/// The Linux xenbus device, used when xenstored is not reachable by socket (e.g. in a domU or
/// with a xenstore stub domain).
pub const XENBUS_DEVICE: &str = "/dev/xen/xenbus";

/// The paths tried by [`open_default`], in order: `$XENSTORED_PATH` if set, else
/// `$XENSTORED_RUNDIR/socket` (default [`DEFAULT_SOCKET`]); then [`XENBUS_DEVICE`].
pub fn default_paths() -> Vec<PathBuf> {
    let first = match std::env::var_os("XENSTORED_PATH") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => match std::env::var_os("XENSTORED_RUNDIR") {
            Some(d) if !d.is_empty() => Path::new(&d).join("socket"),
            _ => PathBuf::from(DEFAULT_SOCKET),
        },
    };
    vec![first, PathBuf::from(XENBUS_DEVICE)]
}

/// Which kind of endpoint a connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Socket,
    Device,
}

/// The write half of a connection.
#[derive(Debug)]
pub enum Writer {
    Socket(UnixStream),
    Device(File),
}

impl Writer {
    /// Send encoded messages (each one whole header + payload).
    pub fn send(&mut self, msgs: &[Vec<u8>]) -> io::Result<()> {
        match self {
            Writer::Socket(s) => {
                if let [one] = msgs {
                    s.write_all(one)
                } else {
                    s.write_all(&msgs.concat())
                }
            }
            Writer::Device(f) => msgs.iter().try_for_each(|m| f.write_all(m)),
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Writer::Socket(_) => Kind::Socket,
            Writer::Device(_) => Kind::Device,
        }
    }

    /// Unblock the reader thread of a socket connection (a no-op for the device, whose reader
    /// is woken by a reply instead).
    pub fn shutdown(&self) {
        if let Writer::Socket(s) = self {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// The longest a read of a socket connection blocks before the reader looks at the clock.
pub const READ_TICK: std::time::Duration = std::time::Duration::from_secs(1);

/// An opened connection: the read half (for the reader thread) and the write half.
pub struct Connection {
    pub reader: Box<dyn Read + Send>,
    pub writer: Writer,
    pub path: PathBuf,
}

impl Connection {
    /// Wrap a connected unix stream (e.g. one end of `UnixStream::pair()` in tests).
    pub fn from_stream(stream: UnixStream, path: PathBuf) -> io::Result<Connection> {
        // Reads wake at least this often, so a caller waiting for a reply can give up on a
        // xenstored that does not answer (see `Xs::set_reply_timeout`). A stream that already
        // has a read timeout keeps it.
        if stream.read_timeout()?.is_none() {
            stream.set_read_timeout(Some(READ_TICK))?;
        }
        let reader = stream.try_clone()?;
        Ok(Connection {
            reader: Box::new(reader),
            writer: Writer::Socket(stream),
            path,
        })
    }

    /// Open one path: a unix socket is connected to, anything else is opened read/write as the
    /// xenbus device.
    pub fn open_path(path: &Path) -> io::Result<Connection> {
        let meta = std::fs::metadata(path)?;
        if meta.file_type().is_socket() {
            Connection::from_stream(UnixStream::connect(path)?, path.to_path_buf())
        } else {
            let file = OpenOptions::new().read(true).write(true).open(path)?;
            let reader = file.try_clone()?;
            Ok(Connection {
                reader: Box::new(reader),
                writer: Writer::Device(file),
                path: path.to_path_buf(),
            })
        }
    }
}

/// Open the first of `paths` that works; the error lists every path and why it failed.
pub fn open_first(paths: &[PathBuf]) -> Result<Connection, Error> {
    let mut tried = Vec::new();
    for p in paths {
        match Connection::open_path(p) {
            Ok(c) => return Ok(c),
            Err(e) => tried.push((p.clone(), e)),
        }
    }
    Err(Error::Open { tried })
}

/// Open xenstore the way `xs_open()` does (see [`default_paths`]).
pub fn open_default() -> Result<Connection, Error> {
    open_first(&default_paths())
}
