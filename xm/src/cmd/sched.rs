//! `xm sched-credit`, `xm sched-credit2`: show or set domains' weight (and cap).

use xm::xen::domain::{self, DomainSummary};
use xm::xen::sched::{self, Scheduler};
use xm::xen::{ControlError, Host};

#[derive(clap::Args)]
pub struct CreditArgs {
    /// The domain to show or change (all domains are shown without it).
    #[arg(short = 'd', long = "domain", value_name = "Domain")]
    domain: Option<String>,
    /// Relative weight (1-65535).
    #[arg(short, long)]
    weight: Option<u64>,
    /// Cap in percent of one cpu (0: none).
    #[arg(short, long)]
    cap: Option<u64>,
    /// The table as JSON (for scripts): name, domid, weight, cap.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct Credit2Args {
    /// The domain to show or change (all domains are shown without it).
    #[arg(short = 'd', long = "domain", value_name = "Domain")]
    domain: Option<String>,
    /// Relative weight (1-65535).
    #[arg(short, long)]
    weight: Option<u64>,
    /// Cap in percent of one cpu (0: none), as xl's sched-credit2 -c.
    #[arg(short, long)]
    cap: Option<u64>,
    /// The table as JSON (for scripts): name, domid, weight, cap.
    #[arg(long)]
    json: bool,
}

pub fn credit(args: &CreditArgs) -> Result<(), ControlError> {
    run(
        Scheduler::Credit,
        &args.domain,
        args.weight,
        args.cap,
        args.json,
    )
}

pub fn credit2(args: &Credit2Args) -> Result<(), ControlError> {
    run(
        Scheduler::Credit2,
        &args.domain,
        args.weight,
        args.cap,
        args.json,
    )
}

fn run(
    wanted: Scheduler,
    domain: &Option<String>,
    weight: Option<u64>,
    cap: Option<u64>,
    json: bool,
) -> Result<(), ControlError> {
    let host = Host::open()?;
    // As xm: the command of the scheduler Xen runs, or an error naming the one it runs.
    let running = Scheduler::of_host(&host.xc)?;
    if running != wanted {
        return Err(ControlError::Invalid(format!(
            "Xen is running with the {} scheduler",
            running.name()
        )));
    }
    if weight.is_none() && cap.is_none() {
        let doms: Vec<DomainSummary> = match domain {
            Some(word) => vec![host.find(word)?],
            None => {
                let mut all = host.domains()?;
                domain::sort_by_name(&mut all);
                all
            }
        };
        let mut out = vec![header(wanted)];
        let mut rows = Vec::new();
        for d in &doms {
            let (w, c) = sched::weight_cap_under(&host.xc, wanted, d.domid)
                .ok()
                .flatten()
                .map(|(w, c)| (i64::from(w), i64::from(c)))
                // A domain that does not answer (dying, in another pool) shows -1, as in xm.
                .unwrap_or((-1, -1));
            out.push(row(wanted, &d.name, d.domid, w, c));
            rows.push(serde_json::json!({"name": d.name, "domid": d.domid, "weight": w, "cap": c}));
        }
        super::print_rows(&out, &rows, json);
        return Ok(());
    }
    let Some(word) = domain else {
        return Err(ControlError::Invalid("No domain given.".into()));
    };
    let (d, info) = host.find_with_info(word)?;
    if let Some(w) = weight.filter(|w| !sched::WEIGHT_RANGE.contains(w)) {
        return Err(ControlError::Invalid(format!(
            "weight {w} is out of range: it is 1 to 65535"
        )));
    }
    let max_cap = sched::max_cap(info.max_vcpu_id + 1);
    if let Some(c) = cap.filter(|&c| c > max_cap) {
        return Err(ControlError::Invalid(format!(
            "cap {c} is out of range: it is 0 (none) to {max_cap} for {} vcpus",
            info.max_vcpu_id + 1
        )));
    }
    // Both fit in u16: the checks above bound them.
    let warning = sched::set_weight_cap(
        &host.xc,
        d.domid,
        weight.map(|w| w as u16),
        cap.map(|c| c as u16),
    )?;
    if let Some(w) = warning {
        eprintln!("Warning: {w}");
    }
    Ok(())
}

fn header(s: Scheduler) -> String {
    match s {
        Scheduler::Credit => format!("{:<33} {:>4} {:>6} {:>4}", "Name", "ID", "Weight", "Cap"),
        _ => format!("{:<33} {:>4} {:>6}", "Name", "ID", "Weight"),
    }
}

fn row(s: Scheduler, name: &str, domid: u32, weight: i64, cap: i64) -> String {
    match s {
        Scheduler::Credit => format!("{name:<32} {domid:>5} {weight:>6} {cap:>4}"),
        _ => format!("{name:<32} {domid:>5} {weight:>6}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_xm_41s_layout() {
        assert_eq!(
            header(Scheduler::Credit),
            "Name                                ID Weight  Cap"
        );
        assert_eq!(
            row(Scheduler::Credit, "Domain-0", 0, 256, 0),
            "Domain-0                             0    256    0"
        );
        assert_eq!(
            header(Scheduler::Credit2),
            "Name                                ID Weight"
        );
        assert_eq!(
            row(Scheduler::Credit2, "ce", 7, 512, 0),
            "ce                                   7    512"
        );
    }
}
