//! Dom0 helper programs the control layer runs (hotplug scripts, the bootloader): each in a
//! process group of its own, with a bound on how long it may take, so no helper that hangs
//! can hang `xm`.

use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// `$var` as a number of seconds where it is a positive number, else `default`: how a user
/// widens a helper's bound (`XM_HOTPLUG_TIMEOUT`, `XM_BOOTLOADER_TIMEOUT`).
pub fn env_seconds(var: &str, default: Duration) -> Duration {
    std::env::var(var)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(default, Duration::from_secs)
}

/// Kills the process group `pid` belongs to (a helper and everything it started), if any.
pub fn kill_group_of(pid: u32) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
        let group = rustix::process::getpgid(Some(pid)).unwrap_or(pid);
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
}

/// Runs a helper in a process group of its own and waits at most `timeout` for it;
/// its exit status and stderr. A script still running then (stuck on a lock, a device, a
/// bridge, a disk) is killed with everything it started, and that is the error.
pub fn run_bounded(mut cmd: Command, timeout: Duration) -> Result<(ExitStatus, String), String> {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| e.to_string())?;
    // Read stderr aside, so a chatty script cannot block on a full pipe while we wait.
    let mut pipe = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(p) = pipe.as_mut() {
            let _ = p.read_to_string(&mut text);
        }
        text
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                kill_group_of(child.id());
                let _ = child.wait();
                return Err(format!(
                    "did not finish within {} s (killed with what it started)",
                    timeout.as_secs()
                ));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    // Something the script left running may still hold the pipe: do not wait for it.
    let stderr = if reader.is_finished() {
        reader.join().unwrap_or_default()
    } else {
        String::new()
    };
    Ok((status, stderr))
}
