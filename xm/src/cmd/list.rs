//! `xm list [-l] [--json] [--state=S] [DOMAIN...]`: xm's table byte for byte (sorted by name, or in the
//! order domains were named), `-l` as xend's `(domain ...)` SXP (see [`record`]), `--json` for
//! scripts.

use domcfg::sxp;
use xm::xen::domain::{self, DomainSummary};
use xm::xen::{ControlError, Host, record};

#[derive(Debug, clap::Args)]
#[command(override_usage = "xm list [options] [Domain, ...]")]
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
    let rows = if args.domains.is_empty() {
        domain::sort_by_name(&mut rows);
        rows
    } else {
        args.domains
            .iter()
            .map(|w| {
                domain::lookup(&rows, w)
                    .cloned()
                    .ok_or_else(|| ControlError::NoSuchDomain(w.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    let mut out = String::new();
    if args.json {
        out = json(&rows);
        out.push('\n');
    } else if args.long {
        for r in &rows {
            out.push_str(&sxp::render(&record::domain_record(&host, r)));
        }
    } else {
        out.push_str(&domain::list_header());
        out.push('\n');
        for r in &rows {
            out.push_str(&domain::list_row(r));
            out.push('\n');
        }
    }
    print!("{out}");
    Ok(())
}

fn json(rows: &[DomainSummary]) -> String {
    let v: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "name": r.name,
                "domid": r.domid,
                "uuid": domain::uuid_string(&r.uuid),
                "mem": r.mem_mib,
                "vcpus": r.vcpus,
                "state": r.state,
                "cpu_time": r.cpu_time,
            })
        })
        .collect();
    serde_json::to_string_pretty(&v).unwrap_or_default()
}
