//! What a killed `xm` can leave on dom0 beside a half-built domain, and how destroying the
//! domain clears it. Hotplug scripts run in process groups of their own (so that a bound can
//! kill one with everything it started), which also means they outlive an `xm` killed with
//! SIGKILL: a block script may still be between `losetup` and writing the loop device's name
//! into the store. [`wait_for_scripts`] lets such scripts finish before the domain's devices
//! are read back and torn down, and [`release_loops`] detaches the loop devices on the
//! domain's images that no backend records (those the script attached but had no time to
//! write down), holding the scripts' own `block` lock so that no other domain's script is in
//! that window meanwhile.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::fs::{FlockOperation, flock};

use super::helper::{kill_group_of, run_bounded};
use super::xc::DomId;
use crate::xen::device::script_timeout;

/// How often [`wait_for_scripts`] looks again.
const POLL: Duration = Duration::from_millis(20);

/// The processes whose environment names one of `domid`'s backends (`XENBUS_PATH` is
/// `backend/vbd/DOMID/...` or `backend/vif/DOMID/...`): hotplug scripts and what they run.
fn scripts_for(domid: DomId) -> Vec<u32> {
    let wanted = [
        format!("XENBUS_PATH=backend/vbd/{domid}/"),
        format!("XENBUS_PATH=backend/vif/{domid}/"),
    ];
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let me = std::process::id();
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
                env.split(|b| *b == 0)
                    .any(|var| wanted.iter().any(|w| var.starts_with(w.as_bytes())))
            })
        })
        .collect()
}

/// Waits until no hotplug script for `domid` runs (one a killed `xm` left behind finishes
/// what it began, so its work is in the store to undo), at most the scripts' own bound; then
/// kills what is left, with everything it started.
pub fn wait_for_scripts(domid: DomId) {
    if scripts_for(domid).is_empty() {
        return;
    }
    let deadline = Instant::now() + script_timeout();
    loop {
        let left = scripts_for(domid);
        if left.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            left.into_iter().for_each(kill_group_of);
            break;
        }
        std::thread::sleep(POLL);
    }
}

/// The hotplug scripts' `block` lock (`/var/run/xen-hotplug/block`, Xen's `locking.sh`):
/// held while a block script finds a loop device, attaches it and writes it into the store.
/// The protocol is theirs: open (creating), `flock`, check that the file locked is still the
/// one at the path, and release by unlinking it.
struct BlockLock {
    path: PathBuf,
    _file: File,
}

impl BlockLock {
    const PATH: &'static str = "/var/run/xen-hotplug/block";

    /// The lock, waiting at most `bound` for it; `None` if it cannot be had.
    fn take(bound: Duration) -> Option<BlockLock> {
        let path = PathBuf::from(Self::PATH);
        let deadline = Instant::now() + bound;
        std::fs::create_dir_all(path.parent()?).ok()?;
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .ok()?;
            while flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
                if Instant::now() >= deadline {
                    return None;
                }
                std::thread::sleep(POLL);
            }
            // Still the file at the path (its holder before us unlinks it to release)?
            let held = rustix::fs::fstat(&file).ok()?;
            if let Ok(now) = rustix::fs::stat(&path)
                && (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)
            {
                return Some(BlockLock { path, _file: file });
            }
        }
    }
}

impl Drop for BlockLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The loop devices attached to `image` (by `/sys/block/loopN/loop/backing_file`).
fn loops_on(image: &Path) -> Vec<String> {
    let Ok(image) = image.canonicalize() else {
        return Vec::new();
    };
    let Ok(dir) = std::fs::read_dir("/sys/block") else {
        return Vec::new();
    };
    let mut out: Vec<String> = dir
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let backing =
                std::fs::read_to_string(format!("/sys/block/{name}/loop/backing_file")).ok()?;
            (Path::new(backing.trim_end()) == image).then(|| format!("/dev/{name}"))
        })
        .collect();
    out.sort();
    out
}

/// Detaches the loop devices on `images` that no backend in the store records (`in_use`
/// returns the `node`s that dom0's vbd backends hold, read under the lock).
pub fn release_loops(images: &[PathBuf], in_use: impl FnOnce() -> Vec<String>) {
    if images.iter().all(|i| loops_on(i).is_empty()) {
        return;
    }
    // A script of another domain's may be between its losetup and its store write: wait for
    // it to finish under the lock.
    let Some(_lock) = BlockLock::take(script_timeout()) else {
        return;
    };
    let recorded = in_use();
    for image in images {
        for dev in loops_on(image)
            .into_iter()
            .filter(|d| !recorded.contains(d))
        {
            let mut cmd = std::process::Command::new("losetup");
            cmd.args(["-d", &dev]);
            let _ = run_bounded(cmd, Duration::from_secs(10));
        }
    }
}
