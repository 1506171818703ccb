//! Waiting for a xenstore node to reach a value, woken by a watch rather than polling: how the
//! control layer waits for xenconsoled's pty, a backend driver's state, a hotplug script's
//! status.

use std::time::{Duration, Instant};

use xenstore::Xs;

/// Waits until the node at `path` (its value trimmed; a missing node reads as "") satisfies
/// `accept`, and returns that value. `Ok(Err(last))` means `timeout` passed first, with the
/// last value seen.
pub fn wait_node(
    xs: &Xs,
    path: &str,
    timeout: Duration,
    accept: impl Fn(&str) -> bool,
) -> xenstore::Result<Result<String, String>> {
    let watch = xs.watch(path, &format!("xm-wait-{path}"))?;
    let deadline = Instant::now() + timeout;
    loop {
        let value = xs
            .try_read(path)?
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .unwrap_or_default();
        if accept(&value) {
            return Ok(Ok(value));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || watch.recv_timeout(left)?.is_none() {
            return Ok(Err(value));
        }
    }
}
