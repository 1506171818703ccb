//! A domain's scheduling parameters. Xen schedules each domain with the scheduler of the cpupool
//! it runs in: credit2 by default since Xen 4.12, credit where the host boots `sched=credit`,
//! and rtds, null or arinc653 by choice. xm's `cpu_weight` and `cpu_cap` mean the same on
//! credit and credit2 (a relative weight, and a cap in percent of one cpu); the others have
//! neither, so a config that sets them is started anyway, with one warning naming the scheduler.

use super::error::ControlError;
pub use super::xc::Scheduler;
use super::xc::{DomId, Xc};

/// The weight range credit and credit2 accept (`xl sched-credit -w`).
pub const WEIGHT_RANGE: std::ops::RangeInclusive<u64> = 1..=65535;

/// The largest cap for a domain with `max_vcpus` vcpus: 100 (percent) per vcpu, as Xen and
/// libxl check it; 0 means no cap.
pub fn max_cap(max_vcpus: u32) -> u64 {
    100 * u64::from(max_vcpus)
}

/// Schedulers, as far as weight and cap go.
impl Scheduler {
    /// The scheduler of the cpupool `domid` runs in.
    pub fn of_domain(xc: &Xc, domid: DomId) -> Result<Scheduler, ControlError> {
        let info = xc
            .domain_info(domid)?
            .ok_or_else(|| ControlError::NoSuchDomain(domid.to_string()))?;
        Ok(xc.cpupool_sched_id(info.cpupool)?)
    }

    /// The scheduler of the host's default pool (Pool-0: what `sched=` on Xen's command line
    /// chose), as `xm info` and the `sched-*` commands name it.
    pub fn of_host(xc: &Xc) -> Result<Scheduler, ControlError> {
        Ok(xc.sched_id()?)
    }

    /// Whether this scheduler has a weight and a cap.
    pub fn has_weight_cap(self) -> bool {
        matches!(self, Scheduler::Credit | Scheduler::Credit2)
    }
}

/// `domid`'s weight and cap, asked of the scheduler it runs under; `None` where that scheduler
/// has neither (or the domain did not answer: dying, or gone).
pub fn weight_cap(xc: &Xc, domid: DomId) -> Option<(u16, u16)> {
    let sched = Scheduler::of_domain(xc, domid).ok()?;
    weight_cap_under(xc, sched, domid).ok()?
}

/// `domid`'s weight and cap under `sched` (`None`: that scheduler has neither).
pub fn weight_cap_under(
    xc: &Xc,
    sched: Scheduler,
    domid: DomId,
) -> Result<Option<(u16, u16)>, ControlError> {
    Ok(match sched {
        Scheduler::Credit => Some(xc.sched_credit_get(domid)?),
        Scheduler::Credit2 => Some(xc.sched_credit2_get(domid)?),
        _ => None,
    })
}

/// Sets what of `weight` and `cap` is given on `domid`, keeping the other as it is. Returns a
/// warning instead when the domain's scheduler has neither.
pub fn set_weight_cap(
    xc: &Xc,
    domid: DomId,
    weight: Option<u16>,
    cap: Option<u16>,
) -> Result<Option<String>, ControlError> {
    if weight.is_none() && cap.is_none() {
        return Ok(None);
    }
    let sched = Scheduler::of_domain(xc, domid)?;
    match (sched, weight_cap_under(xc, sched, domid)?) {
        (Scheduler::Credit, Some((w, c))) => {
            xc.sched_credit_set(domid, weight.unwrap_or(w), cap.unwrap_or(c))?;
        }
        (Scheduler::Credit2, Some((w, c))) => {
            xc.sched_credit2_set(domid, weight.unwrap_or(w), cap.unwrap_or(c))?;
        }
        (other, _) => {
            let set: Vec<&str> = [("cpu_weight", weight.is_some()), ("cpu_cap", cap.is_some())]
                .into_iter()
                .filter_map(|(k, on)| on.then_some(k))
                .collect();
            return Ok(Some(format!(
                "the {} scheduler has no weight or cap: {} ignored",
                other.name(),
                set.join(" and ")
            )));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedulers_by_id() {
        assert_eq!(Scheduler::from_raw(5), Scheduler::Credit);
        assert_eq!(Scheduler::from_raw(6), Scheduler::Credit2);
        assert_eq!(Scheduler::from_raw(8).name(), "rtds");
        assert_eq!(Scheduler::from_raw(9).name(), "null");
        assert_eq!(Scheduler::from_raw(4).name(), "sedf");
        assert_eq!(Scheduler::from_raw(42).name(), "unknown");
        assert!(Scheduler::Credit2.has_weight_cap() && !Scheduler::Rtds.has_weight_cap());
    }

    #[test]
    fn cap_is_a_percentage_per_vcpu() {
        assert_eq!(max_cap(1), 100);
        assert_eq!(max_cap(4), 400);
    }
}
