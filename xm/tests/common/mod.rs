//! What the host tests that run the `xm` binary share.

use std::path::Path;
use std::process::Command;

/// `xm ARGS`: (stdout, stderr, exit status).
pub fn xm(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_xm"))
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// This host is a Xen dom0 (commands would reach the hypervisor).
#[allow(dead_code)]
pub fn on_dom0() -> bool {
    Path::new("/dev/xen/privcmd").exists() || Path::new("/proc/xen/privcmd").exists()
}
