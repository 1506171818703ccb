//! Commands on the hypervisor itself: `xm dmesg`, `xm debug-keys`, `xm top`.

use std::io::Write;

use xm::xen::{ControlError, Host};

#[derive(clap::Args)]
pub struct DmesgArgs {
    /// Clear Xen's message buffer after printing it.
    #[arg(short, long)]
    clear: bool,
}

/// `xm dmesg [-c]`: Xen's console ring, as it is (xm printed xend's copy of it).
pub fn dmesg(args: &DmesgArgs) -> Result<(), ControlError> {
    let host = Host::open()?;
    let text = host.xc.read_console_ring(args.clear)?;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&text);
    let _ = out.flush();
    Ok(())
}

/// `xm debug-keys KEYS`: as if typed on Xen's serial console; the answer is in `xm dmesg`.
pub fn debug_keys(keys: &str) -> Result<(), ControlError> {
    Host::open()?.xc.send_debug_keys(keys)?;
    Ok(())
}

/// `xm top`: runs xentop, as xm did.
pub fn top() -> Result<(), ControlError> {
    let status = std::process::Command::new("xentop").status().map_err(|e| {
        ControlError::Unsupported(format!(
            "cannot run xentop ({e}): it comes with Debian's xen-utils"
        ))
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(ControlError::Unsupported(format!("xentop: {status}")))
    }
}
