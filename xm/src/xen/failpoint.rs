//! Fault injection for the lab's fault tests: every step of a create (each libxenctrl and
//! libxenguest call, each xenstore transaction, each device's hotplug, the monitor's spawn)
//! passes a named failpoint first. Only a build with `--features failpoints` has them (the
//! `fail` crate, configured from `$FAILPOINTS`, e.g. `FAILPOINTS=xc_domain_create=return`);
//! in any other build [`hit`] is an empty inline function.
//!
//! `return` makes the step fail as if the call had failed, with an error naming the step;
//! `return(hang)` prints `xm: failpoint STEP: hanging` on stderr and stops there until a
//! signal is noted ([`super::interrupt`]; then the step goes on, and the command stops at its
//! next check), so a test can kill -9 or interrupt the command at that step.

use std::fmt;

/// A step failed on purpose (only in a failpoints build).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injected(pub String);

impl fmt::Display for Injected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: injected failure (failpoint)", self.0)
    }
}

impl std::error::Error for Injected {}

/// Passes failpoint `step`: `Err` when a test asked this step to fail.
#[cfg(feature = "failpoints")]
pub fn hit(step: &str) -> Result<(), Injected> {
    fail::fail_point!(step, |arg: Option<String>| {
        if arg.as_deref() == Some("hang") {
            eprintln!("xm: failpoint {step}: hanging");
            while super::interrupt::pending().is_none() {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            return Ok(());
        }
        Err(Injected(step.to_string()))
    });
    Ok(())
}

/// Passes failpoint `step` (none in this build).
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hit(_step: &str) -> Result<(), Injected> {
    Ok(())
}

/// Reads `$FAILPOINTS` and puts a failpoint before every libxenctrl call (the [`super::xc`]
/// wrapper's call hook, named by the call); keep what it returns alive for the life of the
/// process (call once, first thing in `main`).
#[cfg(feature = "failpoints")]
pub fn setup() -> fail::FailScenario<'static> {
    super::xc::set_call_hook(|call| hit(call).map_err(|e| e.to_string()));
    fail::FailScenario::setup()
}

/// What [`setup`] returns in a build without failpoints: nothing to hold.
#[cfg(not(feature = "failpoints"))]
pub struct Scenario;

/// Nothing to read in this build.
#[cfg(not(feature = "failpoints"))]
pub fn setup() -> Scenario {
    Scenario
}
