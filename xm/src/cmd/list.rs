//! `xm list [-l] [--json] [--state=S] [DOMAIN...]`: xm's table byte for byte (sorted by name, or in the
//! order domains were named), `-l` as xend's `(domain ...)` SXP (see [`record`]), `--json` for
//! scripts.

use domcfg::sxp;
use xm::xen::domain::{self, DomainSummary};
use xm::xen::domain_plan::DomainPlan;
use xm::xen::managed::{self, Managed, Rest};
use xm::xen::{ControlError, Host, record};

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The output for xm list presented as SXP, one `(domain ...)` per domain.
    #[arg(short = 'l', long)]
    pub long: bool,
    /// The rows as JSON (for scripts).
    #[arg(long)]
    pub json: bool,
    /// Only domains in this state: running, blocked, paused, shutdown, crashed or dying.
    #[arg(long, value_name = "state")]
    pub state: Option<String>,
    /// Domains by name or id; all when none are given.
    #[arg(value_name = "Domain")]
    pub domains: Vec<String>,
}

/// The position of a state's letter in the `rbpscd` string.
fn state_index(state: &str) -> Result<usize, ControlError> {
    const STATES: [&str; 6] = [
        "running", "blocked", "paused", "shutdown", "crashed", "dying",
    ];
    STATES.iter().position(|s| *s == state).ok_or_else(|| {
        ControlError::Invalid(format!(
            "unknown state '{state}': it is one of {}",
            STATES.join(", ")
        ))
    })
}

/// One line of the list: a live domain, or a managed one that is not running.
enum Entry {
    Live(DomainSummary),
    Managed(Box<DomainPlan>, Rest),
}

impl Entry {
    fn name(&self) -> &str {
        match self {
            Entry::Live(r) => &r.name,
            Entry::Managed(p, _) => &p.name,
        }
    }
}

pub fn run(args: &ListArgs) -> Result<(), ControlError> {
    let wanted = match &args.state {
        Some(_) if !args.domains.is_empty() => {
            return Err(ControlError::Invalid(
                "You may specify either a state or a particular VM, but not both".into(),
            ));
        }
        Some(s) => Some(state_index(s)?),
        None => None,
    };
    let host = Host::open()?;
    let mut rows = host.domains()?;
    if let Some(i) = wanted {
        rows.retain(|r| r.state.as_bytes().get(i).is_some_and(|&c| c != b'-'));
    }
    // Managed domains that are not running are listed too (as xm did), unless a state
    // was asked for.
    let managed = Managed::open();
    let resting: Vec<Entry> = if wanted.is_some() {
        Vec::new()
    } else {
        managed
            .all()
            .into_iter()
            .filter(|p| !rows.iter().any(|r| r.name == p.name))
            .map(|p| {
                let rest = managed.rest(&p.name);
                Entry::Managed(Box::new(p), rest)
            })
            .collect()
    };
    let entries: Vec<Entry> = if args.domains.is_empty() {
        let mut all: Vec<Entry> = rows.into_iter().map(Entry::Live).chain(resting).collect();
        all.sort_by(|a, b| a.name().as_bytes().cmp(b.name().as_bytes()));
        all
    } else {
        let mut resting = resting;
        args.domains
            .iter()
            .map(|w| {
                if let Some(r) = domain::lookup(&rows, w) {
                    return Ok(Entry::Live(r.clone()));
                }
                resting
                    .iter()
                    .position(|e| e.name() == w)
                    .map(|i| resting.remove(i))
                    .ok_or_else(|| ControlError::NoSuchDomain(w.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    let mut out = String::new();
    if args.json {
        out = json(&entries);
        out.push('\n');
    } else if args.long {
        for e in &entries {
            let r = match e {
                Entry::Live(r) => record::domain_record(&host, r),
                Entry::Managed(p, rest) => record::managed_record(p, *rest == Rest::Suspended),
            };
            out.push_str(&sxp::render(&r));
        }
    } else {
        out.push_str(&domain::list_header());
        out.push('\n');
        for e in &entries {
            out.push_str(&match e {
                Entry::Live(r) => domain::list_row(r),
                Entry::Managed(p, rest) => managed::list_row(p, *rest),
            });
            out.push('\n');
        }
    }
    print!("{out}");
    Ok(())
}

fn json(entries: &[Entry]) -> String {
    let v: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| match e {
            Entry::Live(r) => serde_json::json!({
                "name": r.name,
                "domid": r.domid,
                "uuid": domain::uuid_string(&r.uuid),
                "mem": r.mem_mib,
                "vcpus": r.vcpus,
                "state": r.state,
                "cpu_time": r.cpu_time,
            }),
            Entry::Managed(p, rest) => serde_json::json!({
                "name": p.name,
                "domid": null,
                "uuid": p.uuid.map(|u| domain::uuid_string(&u)),
                "mem": p.memory_mib,
                "vcpus": p.vcpus,
                "state": if *rest == Rest::Suspended { "suspended" } else { "halted" },
                "cpu_time": 0.0,
            }),
        })
        .collect();
    serde_json::to_string_pretty(&v).unwrap_or_default()
}
