//! `xm dump-core`: a domain's memory and vcpu state as an ELF core file (`crash` and gdb read
//! it), taken with the domain paused unless live, then optionally crashed or reset as xend did.

use std::path::{Path, PathBuf};

use super::error::ControlError;
use super::host::Host;
use super::xc::{DomId, Shutdown};

/// Where xend put cores when no file was named.
pub const DUMP_DIR: &str = "/var/xen/dump";

/// What follows the dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// The domain goes on (unpaused again, if it was paused for the dump).
    Continue,
    /// It crashes (its `on_crash` follows).
    Crash,
    /// It is reset (its `on_reboot` follows).
    Reset,
}

/// xend's default core file: `DUMP_DIR/YYYY-MMDD-HHMM.SS-NAME.DOMID.core`, with `stamp` the
/// local time in that form.
pub fn default_path(stamp: &str, name: &str, domid: DomId) -> PathBuf {
    PathBuf::from(format!("{DUMP_DIR}/{stamp}-{name}.{domid}.core"))
}

/// Dumps `domid` into `path`; with `live` the domain keeps running while it is read.
pub fn dump(
    host: &Host,
    domid: DomId,
    path: &Path,
    live: bool,
    after: After,
) -> Result<(), ControlError> {
    if domid == 0 {
        return Err(ControlError::Unsupported(
            "Cannot dump core of Domain-0".to_string(),
        ));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| ControlError::File {
            path: dir.display().to_string(),
            message: format!("cannot make the directory for the core file: {e}"),
        })?;
    }
    let info = host
        .xc
        .domain_info(domid)?
        .ok_or_else(|| ControlError::NoSuchDomain(domid.to_string()))?;
    let pause = !live && !info.paused;
    if pause {
        host.xc.domain_pause(domid)?;
    }
    let dumped = host.xc.dump_core(domid, path);
    let followed = match (&dumped, after) {
        (Ok(()), After::Crash) => host.xc.domain_shutdown(domid, Shutdown::Crash),
        (Ok(()), After::Reset) => host.xc.domain_shutdown(domid, Shutdown::Reboot),
        _ => Ok(()),
    };
    if pause {
        let _ = host.xc.domain_unpause(domid);
    }
    dumped?;
    followed?;
    Ok(())
}
