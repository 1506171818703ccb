//! Ctrl-C (SIGINT), SIGTERM and SIGHUP while a command changes the host: a create, restore,
//! start or resume, a save, a migration. Killed outright in the middle of one, xm would leave
//! a half-built domain, or a guest suspended for good. Instead, once [`arm`]ed, the first such
//! signal is only noted: the command stops at its next step ([`check`]) and undoes what it did,
//! exactly as when that step fails. After [`disarm`] (the command got past the point where
//! stopping would undo anything), or at a second signal, the signal acts as it always does.
//!
//! Long steps are not cut short by this module: a bootloader or hotplug script finishes (or
//! times out), libxenguest finishes writing memory. A migration also stops its ssh, so that
//! the stream breaks at once (see `migrate`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

const SIGNALS: [(i32, &str); 3] = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")];

struct Flags {
    /// The signal that arrived (0: none yet).
    got: Arc<AtomicUsize>,
    /// Set by the first signal, or by [`disarm`]: the next one takes its default action.
    act_now: Arc<AtomicBool>,
}

static FLAGS: OnceLock<Option<Flags>> = OnceLock::new();

/// From now on, the first SIGINT/SIGTERM/SIGHUP is noted for [`check`] instead of ending xm.
/// Calling it again does nothing. If the handlers cannot be installed, signals keep their
/// default action (as before this module existed).
pub fn arm() {
    FLAGS.get_or_init(|| {
        let flags = Flags {
            got: Arc::new(AtomicUsize::new(0)),
            act_now: Arc::new(AtomicBool::new(false)),
        };
        for (signal, _) in SIGNALS {
            // The order matters: the default action is taken if `act_now` was already set
            // when the signal came; only then is it set (and the signal noted).
            let installed =
                signal_hook::flag::register_conditional_default(signal, Arc::clone(&flags.act_now))
                    .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&flags.act_now)))
                    .and_then(|_| {
                        signal_hook::flag::register_usize(
                            signal,
                            Arc::clone(&flags.got),
                            signal as usize,
                        )
                    });
            if installed.is_err() {
                return None;
            }
        }
        Some(flags)
    });
}

/// Past the point of no return: any signal from now on acts as it always does.
pub fn disarm() {
    if let Some(Some(flags)) = FLAGS.get() {
        flags.act_now.store(true, Ordering::SeqCst);
    }
}

/// The name of the signal that arrived since [`arm`], if one did.
pub fn pending() -> Option<&'static str> {
    let Some(Some(flags)) = FLAGS.get() else {
        return None;
    };
    let got = flags.got.load(Ordering::SeqCst);
    SIGNALS
        .iter()
        .find(|(signal, _)| *signal as usize == got)
        .map(|(_, name)| *name)
}

/// SIGINT, SIGTERM or SIGHUP arrived; the command stopped before `step` (and undoes what it
/// had done, as for a failure there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    pub signal: &'static str,
    pub step: String,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "interrupted by {} (stopped before {})",
            self.signal, self.step
        )
    }
}

impl std::error::Error for Interrupted {}

/// Before step `step`: an error if a signal arrived, so the command stops and undoes.
pub fn check(step: &str) -> Result<(), Interrupted> {
    match pending() {
        None => Ok(()),
        Some(signal) => Err(Interrupted {
            signal,
            step: step.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test (the handlers are per process): a signal is noted, not fatal; the step
    /// check then fails naming it; after disarm a signal would act by default (not sent).
    #[test]
    fn the_first_signal_is_noted_and_fails_the_next_step() {
        assert_eq!(pending(), None);
        assert!(check("before arm").is_ok());
        arm();
        arm();
        assert!(check("armed").is_ok());
        rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::TERM)
            .unwrap();
        // Delivered to this thread or another: give it a moment to land.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while pending().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(pending(), Some("SIGTERM"));
        let e = check("xc_domain_create").unwrap_err();
        assert_eq!(
            e.to_string(),
            "interrupted by SIGTERM (stopped before xc_domain_create)"
        );
        disarm();
    }
}
