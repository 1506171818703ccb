//! The guest console client (what `xenconsole` does for xm): find the pty xenconsoled made for
//! console 0 (`/local/domain/N/console/tty`), put both terminals in raw mode, copy bytes both ways
//! until Ctrl-] (0x1d) or the domain goes away, and restore the user's terminal on every path.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, poll};
use rustix::termios::{self, OptionalActions, Termios};
use xenstore::Xs;

use super::error::ControlError;
use super::watch::wait_node;
use super::xc::DomId;

/// xm's (and xenconsole's) detach key, Ctrl-].
pub const ESCAPE: u8 = 0x1d;

/// How long to wait for xenconsoled to publish the pty (xenconsole waits 5 s).
pub const TTY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a console session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The user typed the escape key.
    Detached,
    /// The pty closed: the domain is gone.
    Closed,
}

/// Waits until xenconsoled has written the console's pty path, using a xenstore watch.
pub fn wait_tty(xs: &Xs, domid: DomId, timeout: Duration) -> Result<String, ControlError> {
    let path = format!("/local/domain/{domid}/console/tty");
    wait_node(xs, &path, timeout, |tty| !tty.is_empty())?.map_err(|_| {
        ControlError::Unsupported(format!(
            "Could not read tty from store: {path} stayed empty for {}s (is xenconsoled running?)",
            timeout.as_secs()
        ))
    })
}

/// An open console: the pty, already in raw mode.
pub struct Console {
    pty: File,
}

impl Console {
    /// Opens console 0 of `domid` (waiting for its pty as xenconsole does).
    pub fn open(xs: &Xs, domid: DomId) -> Result<Console, ControlError> {
        let tty = wait_tty(xs, domid, TTY_TIMEOUT)?;
        let pty = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(rustix::fs::OFlags::NOCTTY.bits() as i32)
            .open(&tty)
            .map_err(|e| ControlError::File {
                path: tty.clone(),
                message: e.to_string(),
            })?;
        if let Ok(mut t) = termios::tcgetattr(&pty) {
            t.make_raw();
            let _ = termios::tcsetattr(&pty, OptionalActions::Now, &t);
        }
        Ok(Console { pty })
    }

    /// Copies stdin to the guest and the guest to stdout until `escape` or the pty closes.
    pub fn run(mut self, escape: u8) -> io::Result<Ended> {
        let stdin = io::stdin();
        let _raw = RawTerminal::enter(&stdin);
        let mut stdout = io::stdout();
        let mut stdin_open = true;
        let mut buf = [0u8; 4096];
        loop {
            let mut fds = vec![PollFd::new(&self.pty, PollFlags::IN)];
            if stdin_open {
                fds.push(PollFd::new(&stdin, PollFlags::IN));
            }
            match poll(&mut fds, None) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
            let pty_ready = fds[0].revents();
            let stdin_ready = fds
                .get(1)
                .map(|f| f.revents())
                .unwrap_or(PollFlags::empty());
            drop(fds);
            if pty_ready.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR) {
                match self.pty.read(&mut buf) {
                    Ok(0) => return Ok(Ended::Closed),
                    Ok(n) => {
                        stdout.write_all(&buf[..n])?;
                        stdout.flush()?;
                    }
                    // EIO: xenconsoled closed the master, the domain is gone.
                    Err(e) if e.raw_os_error() == Some(rustix::io::Errno::IO.raw_os_error()) => {
                        return Ok(Ended::Closed);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if stdin_ready.intersects(PollFlags::IN | PollFlags::HUP) {
                let n = stdin.lock().read(&mut buf)?;
                if n == 0 {
                    // No more input (a pipe): keep showing the guest's output.
                    stdin_open = false;
                    continue;
                }
                let input = &buf[..n];
                if let Some(pos) = input.iter().position(|&b| b == escape) {
                    self.pty.write_all(&input[..pos])?;
                    return Ok(Ended::Detached);
                }
                self.pty.write_all(input)?;
            }
        }
    }
}

/// The user's terminal in raw mode for as long as this lives (no-op when stdin is not a tty).
struct RawTerminal<'a> {
    fd: std::os::fd::BorrowedFd<'a>,
    saved: Option<Termios>,
}

impl<'a> RawTerminal<'a> {
    fn enter(stdin: &'a io::Stdin) -> RawTerminal<'a> {
        let fd = stdin.as_fd();
        let saved = termios::isatty(fd)
            .then(|| termios::tcgetattr(fd).ok())
            .flatten();
        if let Some(orig) = &saved {
            let mut raw = orig.clone();
            raw.make_raw();
            let _ = termios::tcsetattr(fd, OptionalActions::Flush, &raw);
        }
        RawTerminal { fd, saved }
    }
}

impl Drop for RawTerminal<'_> {
    fn drop(&mut self) {
        if let Some(orig) = &self.saved {
            let _ = termios::tcsetattr(self.fd, OptionalActions::Flush, orig);
        }
    }
}
