//! A dom0-wide lock around the xenstore transactions that every create touches the same
//! directories in (`/local/domain` for the name claim, dom0's backend directories for the
//! devices). The transactions alone are correct: xenstored makes all but one of the racing
//! commits fail and each runs again. But each retry re-reads every domain's name and rewrites
//! dozens of nodes, so with many creates at once most of xenstored's time went to retries.
//! Taking turns for those two short transactions costs a few milliseconds each.
//!
//! The lock is an optimisation only: where it cannot be had (no `/run`, or a holder stuck for
//! [`WAIT`]), the create goes on without it and the transactions keep it correct.

use std::fs::{File, OpenOptions};
use std::time::{Duration, Instant};

use rustix::fs::{FlockOperation, flock};

/// Where the lock lives (a tmpfs: it goes with the host's reboot).
pub const PATH: &str = "/run/xm/store.lock";

/// The longest a create waits for its turn before going on without it.
pub const WAIT: Duration = Duration::from_secs(10);

/// Held while alive; dropping it (or the process dying) lets the next create in.
pub struct StoreLock {
    _file: Option<File>,
}

impl StoreLock {
    /// Waits for the lock, at most [`WAIT`].
    pub fn acquire() -> StoreLock {
        StoreLock {
            _file: Self::try_take(),
        }
    }

    fn try_take() -> Option<File> {
        let _ = std::fs::create_dir_all("/run/xm");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(PATH)
            .ok()?;
        let deadline = Instant::now() + WAIT;
        loop {
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => return Some(file),
                Err(rustix::io::Errno::WOULDBLOCK) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(_) => return None,
            }
        }
    }
}
