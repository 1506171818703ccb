//! After creation: asking a guest to shut down or reboot (`control/shutdown`, as xend did),
//! waiting for that to finish (`@releaseDomain` watches, not polling), and the per-domain
//! monitor that carries out `on_poweroff` / `on_reboot` / `on_crash` when the guest stops — the
//! job xend did, and that `xl create` leaves to a daemonized child.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::create;
use super::domain::DomainSummary;
use super::domain_plan::{DomainPlan, stored_plan};
use super::error::ControlError;
use super::host::Host;
use super::xc::{DomId, DomainInfo, Shutdown, Trigger};

/// What `xm shutdown` asks for; the word written to `control/shutdown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Poweroff,
    Reboot,
    Halt,
    /// Suspend for a save (the domain stops with `SHUTDOWN_suspend`).
    Suspend,
}

impl Request {
    pub fn as_str(self) -> &'static str {
        match self {
            Request::Poweroff => "poweroff",
            Request::Reboot => "reboot",
            Request::Halt => "halt",
            Request::Suspend => "suspend",
        }
    }
}

/// Writes the request where the guest's PV `manage` driver watches for it.
pub fn request(host: &Host, domid: DomId, req: Request) -> Result<(), ControlError> {
    if domid == 0 {
        return Err(ControlError::Unsupported(
            "Domain 0 cannot be shutdown".to_string(),
        ));
    }
    let info = host
        .xc
        .domain_info(domid)?
        .ok_or_else(|| ControlError::NoSuchDomain(domid.to_string()))?;
    if info.shutdown || info.dying {
        return Err(ControlError::Unsupported(
            "Domain cannot be shutdown".to_string(),
        ));
    }
    let node = format!("/local/domain/{domid}/control/shutdown");
    write_control(host, &node, req.as_str())?
        .then_some(())
        .ok_or_else(|| {
            ControlError::Unsupported(format!(
                "Domain {domid} has no control/shutdown node to ask it with (was its create interrupted? xm destroy removes it)"
            ))
        })
}

/// Writes `value` into the control node `node` if it exists (one transaction); false if it
/// does not. Only into a node the domain was built with: writing blindly would create a home
/// for a domain that has none (a create killed half-way), which nothing would ever remove.
fn write_control(host: &Host, node: &str, value: &str) -> Result<bool, ControlError> {
    Ok(host.xs.transaction(|tx| {
        if tx.try_read(node)?.is_none() {
            return Ok(false);
        }
        tx.write(node, value)?;
        Ok(true)
    })?)
}

/// `xm sysrq`: the magic SysRq key `key` for the guest, written where its PV `manage` driver
/// watches (`control/sysrq`), only into a domain that has the node.
pub fn sysrq(host: &Host, domid: DomId, key: &str) -> Result<(), ControlError> {
    let mut chars = key.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        return Err(ControlError::Invalid(format!(
            "a sysrq is one letter, not '{key}'"
        )));
    };
    if !c.is_ascii_graphic() {
        return Err(ControlError::Invalid(format!(
            "a sysrq is one letter, not '{key}'"
        )));
    }
    let node = format!("/local/domain/{domid}/control/sysrq");
    write_control(host, &node, &c.to_string())?
        .then_some(())
        .ok_or_else(|| {
            ControlError::Unsupported(format!(
                "Domain {domid} has no control/sysrq node (dom0 and domains xm or xl did not \
             build take no sysrq this way)"
            ))
        })
}

/// `xm trigger`: `nmi`, `reset`, `init` or `power` for one vcpu, through Xen's
/// `XEN_DOMCTL_sendtrigger`. Xen 4.17 takes only `nmi` for a PV domain (the others act on an
/// HVM guest's emulated platform); `s3resume` is an HVM guest's ACPI state, which this xm does
/// not build.
pub fn trigger(host: &Host, domid: DomId, name: &str, vcpu: u32) -> Result<(), ControlError> {
    let code = match name {
        "nmi" => Trigger::Nmi,
        "reset" => Trigger::Reset,
        "init" => Trigger::Init,
        "power" => Trigger::Power,
        "s3resume" => {
            return Err(ControlError::Unsupported(
                "trigger s3resume is for HVM guests (their ACPI sleep state), which this xm \
                 does not build"
                    .into(),
            ));
        }
        other => {
            return Err(ControlError::Invalid(format!(
                "unknown trigger '{other}': it is nmi, reset, init, s3resume or power"
            )));
        }
    };
    host.xc.send_trigger(domid, code, vcpu).map_err(|e| {
        if name == "nmi" {
            ControlError::Xc(e)
        } else {
            ControlError::Unsupported(format!(
                "Xen refused trigger {name} for domain {domid} (a PV domain takes only nmi): {e}"
            ))
        }
    })
}

/// How often `-w` looks whether a dying domain has gone.
const DYING_POLL: Duration = Duration::from_millis(10);

/// How long `-w` waits for a rebooting domain to come back before giving up on it (xm: 30 s).
pub const REBOOT_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether a listed domain has shut down for good: stopped (not suspended for a save), and no
/// monitor will act on it because its action is `preserve` (or xm keeps no plan for it, so
/// nothing of xm's will). Such a domain stays listed until `xm destroy`.
fn stays_shut_down(host: &Host, info: &DomainInfo) -> bool {
    if !info.shutdown || info.dying || info.suspended() {
        return false;
    }
    match stored_plan(&host.xs, info.domid) {
        Some(plan) => matches!(action_for(&plan, info), Some("preserve") | None),
        None => true,
    }
}

/// Waits until every domain in `doms` is gone, or has shut down and is preserved, calling
/// `done(name)` as each does (xm's `wait_shutdown`; xl's `-w` returns at the shutdown too).
/// Woken by `@releaseDomain`, which xenstored fires at a shutdown as at a death; re-checks at
/// least once a second.
pub fn wait_terminated(
    host: &Host,
    doms: &[DomainSummary],
    mut done: impl FnMut(&str),
) -> Result<(), ControlError> {
    let watch = host.xs.watch("@releaseDomain", "xm-shutdown-wait")?;
    let mut waiting: BTreeMap<DomId, &str> =
        doms.iter().map(|d| (d.domid, d.name.as_str())).collect();
    while !waiting.is_empty() {
        let listed = host.xc.domain_list()?;
        waiting.retain(|id, name| {
            let gone = match listed.iter().find(|i| i.domid == *id) {
                None => true,
                Some(info) => stays_shut_down(host, info),
            };
            if gone {
                done(name);
            }
            !gone
        });
        // xenstored fires @releaseDomain when a domain starts dying; the hypervisor lists it
        // until its last page is freed, a moment later, with no event of its own: look again
        // soon while one is dying, instead of at the next tick.
        let dying = listed
            .iter()
            .any(|i| i.dying && waiting.contains_key(&i.domid));
        if !waiting.is_empty() {
            watch.recv_timeout(if dying {
                DYING_POLL
            } else {
                Duration::from_secs(1)
            })?;
        }
    }
    Ok(())
}

/// Waits until each domain in `doms` runs again under a new domid (xm's `wait_reboot`);
/// `done(name, rebooted)` reports each, `rebooted = false` if it did not come back in time.
pub fn wait_rebooted(
    host: &Host,
    doms: &[DomainSummary],
    mut done: impl FnMut(&str, bool),
) -> Result<(), ControlError> {
    let watch = host.xs.watch("@introduceDomain", "xm-reboot-wait")?;
    let mut waiting: Vec<(&DomainSummary, Option<Instant>)> =
        doms.iter().map(|d| (d, None)).collect();
    while !waiting.is_empty() {
        // Names are all it matches on: no memory targets read on each wake-up.
        let now = host.names()?;
        waiting.retain_mut(|(d, missing_since)| {
            match now.iter().find(|(_, name)| *name == d.name) {
                Some((domid, _)) if *domid != d.domid => {
                    done(&d.name, true);
                    return false;
                }
                Some(_) => *missing_since = None,
                None => {
                    let since = *missing_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > REBOOT_TIMEOUT {
                        done(&d.name, false);
                        return false;
                    }
                }
            }
            true
        });
        if !waiting.is_empty() {
            watch.recv_timeout(Duration::from_secs(1))?;
        }
    }
    Ok(())
}

/// What a stopped domain's config says to do, from the `SHUTDOWN_*` reason.
fn action_for<'p>(plan: &'p DomainPlan, info: &DomainInfo) -> Option<&'p str> {
    match info.shutdown_reason {
        Shutdown::Poweroff => Some(&plan.on_poweroff),
        Shutdown::Reboot => Some(&plan.on_reboot),
        Shutdown::Crash => Some(&plan.on_crash),
        // A watchdog firing is a reboot that the guest did not ask for.
        Shutdown::Watchdog => Some(&plan.on_reboot),
        // Soft reset is not done here; a suspended domain is being saved (see `monitor`).
        _ => None,
    }
}

/// The per-domain monitor (`xm` re-executed as a detached child of `xm create`). Sleeps on
/// `@releaseDomain`; when its domain stops, carries out the matching `on_*` action: `destroy`
/// (and the coredump variants, without a dump), `restart` / `rename-restart` (destroy, then
/// build again from the stored plan and keep watching the new domid), `preserve` (leave it,
/// exit). Exits when the domain is gone.
pub fn monitor(host: &Host, mut domid: DomId) -> Result<(), ControlError> {
    let watch = host
        .xs
        .watch("@releaseDomain", &format!("xm-monitor-{domid}"))?;
    let Some(mut plan) = stored_plan(&host.xs, domid) else {
        return Err(ControlError::Unsupported(format!(
            "domain {domid} has no stored xm plan"
        )));
    };
    loop {
        let Some(info) = host.xc.domain_info(domid)? else {
            return Ok(());
        };
        if info.shutdown && !info.dying {
            // The plan as it is now: mem-set, vcpu-set, rename and device hotplug change it
            // while the domain runs, and the restarted domain must have what it had.
            if let Some(now) = stored_plan(&host.xs, domid) {
                plan = now;
            }
            if info.suspended() {
                // Being saved: `xm save` destroys it (and this monitor then exits) or
                // resumes it (`-c`, or a failed save), and its actions hold again.
                watch.recv_timeout(Duration::from_secs(1))?;
                continue;
            }
            match action_for(&plan, &info) {
                Some("preserve") | None => return Ok(()),
                Some("restart") | Some("rename-restart") => {
                    host.destroy(domid)?;
                    let created = create::create(host, &plan, false, false)?;
                    domid = created.domid;
                    plan = stored_plan(&host.xs, domid).unwrap_or(plan);
                    continue;
                }
                Some(_) => {
                    host.destroy(domid)?;
                    return Ok(());
                }
            }
        }
        watch.recv_timeout(Duration::from_secs(5))?;
    }
}
