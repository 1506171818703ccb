//! `xm save` and `xm restore`: a domain to a file and back, over libxenguest's save/restore
//! stream, in xend's checkpoint layout ([`super::savefile`]).
//!
//! Save: the guest is asked to suspend (`control/shutdown` = `suspend`; its PV `manage` driver
//! acknowledges and the domain shuts down with `SHUTDOWN_suspend`) when libxenguest is ready
//! for it; libxenguest writes its memory and vcpu state after the header. Not live: nothing
//! needs log-dirty tracking, which Debian's hypervisors cannot give a PV guest (no shadow
//! paging). Then the domain is destroyed as `xm destroy` does, or, with `-c`, resumed in
//! place (its suspend call returns "cancelled", so it keeps its devices). A save that fails
//! resumes the guest and removes the file.
//!
//! Restore: the header and the stream's records are checked before anything is made; then
//! the domain is created from the saved plan as `xm create` would (same name, UUID, devices,
//! `on_*` actions), with libxenguest's restore in place of the kernel build, so any failure
//! is undone the same way. The guest's frontends reconnect to the new backends when it
//! resumes.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

use super::create::{self, Created, Image};
use super::domain::DomainSummary;
use super::domain_plan::{DomainPlan, stored_plan};
use super::error::ControlError;
use super::host::Host;
use super::interrupt;
use super::lifecycle::{self, Request};
use super::record;
use super::savefile;
use super::trace::StepTimer;
use super::xc::DomId;

/// How long a guest has to suspend once asked (libxl waits 60 s).
pub const SUSPEND_TIMEOUT: Duration = Duration::from_secs(60);

/// Saves domain `domid` to `path`. `checkpoint` (`-c`): the domain keeps running afterwards.
pub fn save(host: &Host, domid: DomId, path: &Path, checkpoint: bool) -> Result<(), ControlError> {
    let (row, plan) = streamable(host, domid, "saved")?;
    let record = record::domain_record_with(host, &row, &plan);
    let file_error = |e: std::io::Error| ControlError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let trace = StepTimer::from_env();
    let mut file = File::create(path).map_err(file_error)?;
    // Interrupted while libxenguest wrote the memory: the guest carries on, as after a failure.
    let result = write_save(host, domid, &mut file, &record, &plan, &trace)
        .and_then(|()| Ok(interrupt::check("fsync")?));
    if let Err(e) = result {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(resume_after(host, domid, e));
    }
    file.sync_all().map_err(file_error)?;
    drop(file);
    trace.step("fsync");
    // The file is whole: from here the save finishes, whatever the signal.
    interrupt::disarm();
    if checkpoint {
        resume(host, domid)?;
    } else {
        host.destroy(domid)?;
    }
    trace.step(if checkpoint { "resume" } else { "destroy" });
    Ok(())
}

/// What saving or migrating domain `domid` (`what`: "saved", "migrated") needs, checked
/// before the guest is touched: a running guest (it must suspend itself; xend refused others
/// too), the plan xm built it from, no PCI functions (as xl: their state is in the hardware,
/// not in the stream). Its row and plan.
pub fn streamable(
    host: &Host,
    domid: DomId,
    what: &str,
) -> Result<(DomainSummary, DomainPlan), ControlError> {
    if domid == 0 {
        return Err(ControlError::Unsupported(format!(
            "Domain-0 cannot be {what}"
        )));
    }
    let row = host
        .domains()?
        .into_iter()
        .find(|d| d.domid == domid)
        .ok_or_else(|| ControlError::NoSuchDomain(domid.to_string()))?;
    if row.state.contains('p') || row.state.contains('s') || row.state.contains('c') {
        return Err(ControlError::Unsupported(format!(
            "domain {domid} is not running (state {}): it must suspend itself to be {what} \
             (unpause it first)",
            row.state
        )));
    }
    let Some(plan) = stored_plan(&host.xs, domid) else {
        return Err(ControlError::Unsupported(format!(
            "domain {domid} was not built by xm, so xm has no plan to build it again from"
        )));
    };
    if !plan.pci.is_empty() {
        return Err(ControlError::Unsupported(format!(
            "domain {domid} has PCI devices passed through: it cannot be {what} (pci-detach \
             them first)"
        )));
    }
    Ok((row, plan))
}

/// After a save or migration failed with `e`: if the guest had suspended, it carries on
/// ([`resume`]). Returns the error to report.
pub fn resume_after(host: &Host, domid: DomId, e: ControlError) -> ControlError {
    let suspended = host
        .xc
        .domain_info(domid)
        .ok()
        .flatten()
        .is_some_and(|i| i.suspended());
    if suspended && let Err(r) = resume(host, domid) {
        return ControlError::Invalid(format!("{e}; and resuming the guest failed: {r}"));
    }
    e
}

/// Lets a suspended guest carry on (its suspend call returns "cancelled") and tells
/// xenstored, which then fires `@releaseDomain` again at the domain's next shutdown (the
/// monitor waits on it).
pub fn resume(host: &Host, domid: DomId) -> Result<(), ControlError> {
    host.xc.domain_resume(domid)?;
    host.xs.resume(domid)?;
    Ok(())
}

/// The header, then libxenguest's stream (which suspends the guest on the way).
fn write_save(
    host: &Host,
    domid: DomId,
    file: &mut File,
    record: &domcfg::sxp::Sxp,
    plan: &DomainPlan,
    trace: &StepTimer,
) -> Result<(), ControlError> {
    let io = |e: std::io::Error| ControlError::Invalid(format!("writing the header: {e}"));
    let mut header = BufWriter::new(&mut *file);
    savefile::write_header(&mut header, record, plan).map_err(io)?;
    header.flush().map_err(io)?;
    drop(header);
    trace.step("header");
    let mut asked = Ok(());
    let saved = host.xc.domain_save(domid, file.as_fd(), false, &mut || {
        trace.step("xc_domain_save: ready to suspend");
        asked = interrupt::check("suspend")
            .map_err(ControlError::from)
            .and_then(|()| suspend_guest(host, domid))
            .and_then(|()| super::failpoint::hit("save:suspended").map_err(Into::into));
        trace.step("guest suspended");
        asked.is_ok()
    });
    trace.step("xc_domain_save: memory written");
    // The guest's refusal explains libxenguest's failure better than its own words.
    asked?;
    Ok(saved?)
}

/// Asks the guest to suspend and waits until the domain has (up to [`SUSPEND_TIMEOUT`]).
pub fn suspend_guest(host: &Host, domid: DomId) -> Result<(), ControlError> {
    let watch = host
        .xs
        .watch("@releaseDomain", &format!("xm-suspend-{domid}"))?;
    lifecycle::request(host, domid, Request::Suspend)?;
    let deadline = Instant::now() + SUSPEND_TIMEOUT;
    loop {
        let info = host
            .xc
            .domain_info(domid)?
            .ok_or_else(|| ControlError::NoSuchDomain(domid.to_string()))?;
        if info.suspended() {
            return Ok(());
        }
        if info.shutdown {
            return Err(ControlError::Invalid(format!(
                "domain {domid} shut down (reason {}) instead of suspending",
                info.shutdown_reason.raw()
            )));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            // Take the request back, so the guest does not suspend later on its own.
            let _ = host
                .xs
                .write(&format!("/local/domain/{domid}/control/shutdown"), "");
            return Err(ControlError::Invalid(format!(
                "domain {domid} did not suspend within {} s (does its kernel have Xen's \
                 suspend support?)",
                SUSPEND_TIMEOUT.as_secs()
            )));
        }
        watch.recv_timeout(left.min(Duration::from_secs(1)))?;
    }
}

/// Restores the domain saved in `path`; `paused` (`-p`) leaves it paused.
pub fn restore(host: &Host, path: &Path, paused: bool) -> Result<Created, ControlError> {
    let refused = |why: String| ControlError::File {
        path: path.display().to_string(),
        message: format!("cannot restore from it: {why}"),
    };
    let mut file = File::open(path).map_err(|e| refused(e.to_string()))?;
    let header = savefile::read_header(&mut file).map_err(|e| refused(e.0))?;
    savefile::check_stream(&mut file).map_err(|e| refused(e.0))?;
    create::create_from(host, &header.plan, paused, Image::Restore(file.as_fd()))
}
