//! `xm list [-l] [--json] [--state=S] [DOMAIN...]`: xm's table byte for byte (sorted by name, or in the
//! order domains were named), `-l` as xend's `(domain ...)` SXP, `--json` for scripts.

use domcfg::sxp::{self, Sxp};
use xm::xen::domain::{self, DomainSummary};
use xm::xen::{ControlError, Host};

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
            out.push_str(&sxp::render(&long_form(&host, r)));
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

/// The `(domain ...)` SXP of `xm list -l`: the row's facts plus what the domain's `/vm` node
/// records (actions, start time, image).
fn long_form(host: &Host, r: &DomainSummary) -> Sxp {
    let uuid = domain::uuid_string(&r.uuid);
    let vm = format!("/vm/{uuid}");
    let dom = format!("/local/domain/{}", r.domid);
    let keys = [
        format!("{vm}/on_poweroff"),
        format!("{vm}/on_reboot"),
        format!("{vm}/on_crash"),
        format!("{vm}/start_time"),
        format!("{vm}/image/kernel"),
        format!("{vm}/image/ramdisk"),
        format!("{vm}/image/cmdline"),
        format!("{dom}/memory/static-max"),
        format!("{dom}/store/ring-ref"),
        format!("{dom}/console/ring-ref"),
    ];
    let vals: Vec<Option<String>> = host
        .xs
        .read_many(&keys)
        .into_iter()
        .map(|r| r.ok().map(|b| String::from_utf8_lossy(&b).into_owned()))
        .collect();
    let text = |i: usize| vals[i].clone();
    let mut d = vec![
        Sxp::pair("domid", Sxp::Int(i64::from(r.domid))),
        Sxp::pair("uuid", Sxp::s(uuid.clone())),
        Sxp::pair("vcpus", Sxp::Int(i64::from(r.vcpus))),
        Sxp::pair("name", Sxp::s(r.name.clone())),
        Sxp::pair("memory", Sxp::Int(r.mem_mib as i64)),
    ];
    if let Some(max) = text(7).and_then(|t| t.parse::<i64>().ok()) {
        d.push(Sxp::pair("maxmem", Sxp::Int(max / 1024)));
    }
    if let Ok((weight, cap)) = host.xc.sched_credit_get(r.domid) {
        d.push(Sxp::pair("cpu_weight", Sxp::Int(i64::from(weight))));
        d.push(Sxp::pair("cpu_cap", Sxp::Int(i64::from(cap))));
    }
    for (i, key) in ["on_poweroff", "on_reboot", "on_crash"].iter().enumerate() {
        if let Some(v) = text(i) {
            d.push(Sxp::pair(key, Sxp::s(v)));
        }
    }
    d.push(Sxp::pair("state", Sxp::s(r.state.clone())));
    d.push(Sxp::pair("cpu_time", Sxp::Float(r.cpu_time)));
    d.push(Sxp::pair("online_vcpus", Sxp::Int(i64::from(r.vcpus))));
    if let Some(t) = text(3) {
        d.push(Sxp::pair("start_time", Sxp::s(t)));
    }
    if r.domid != 0 {
        let mut image = vec![Sxp::s("linux")];
        for (i, key) in [(4, "kernel"), (5, "ramdisk"), (6, "args")] {
            if let Some(v) = text(i) {
                image.push(Sxp::pair(key, Sxp::s(v)));
            }
        }
        d.push(Sxp::pair("image", Sxp::List(image)));
    }
    for (i, key) in [(8, "store_mfn"), (9, "console_mfn")] {
        if let Some(v) = text(i).and_then(|t| t.parse::<i64>().ok()) {
            d.push(Sxp::pair(key, Sxp::Int(v)));
        }
    }
    Sxp::node("domain", d)
}
