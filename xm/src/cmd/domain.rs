//! Commands on existing domains: `destroy`, `pause`, `unpause`, `domid`, `domname`, `rename`,
//! `sysrq`, `uptime`.

use xm::xen::{ControlError, Host};

pub fn destroy(word: &str) -> Result<(), ControlError> {
    let host = Host::open()?;
    let d = host.find(word)?;
    host.destroy(d.domid)
}

pub fn pause(word: &str) -> Result<(), ControlError> {
    let host = Host::open()?;
    let d = host.find(word)?;
    host.pause(d.domid)
}

pub fn unpause(word: &str) -> Result<(), ControlError> {
    let host = Host::open()?;
    let d = host.find(word)?;
    host.unpause(d.domid)
}

/// `xm domid NAME`: prints the id.
pub fn domid(word: &str) -> Result<(), ControlError> {
    let d = Host::open()?.find(word)?;
    println!("{}", d.domid);
    Ok(())
}

/// `xm domname ID`: prints the name.
pub fn domname(word: &str) -> Result<(), ControlError> {
    let d = Host::open()?.find(word)?;
    println!("{}", d.name);
    Ok(())
}

#[derive(clap::Args)]
pub struct RenameArgs {
    #[arg(value_name = "Domain")]
    domain: String,
    #[arg(value_name = "NewDomainName")]
    new_name: String,
}

/// `xm rename DOMAIN NEW`.
pub fn rename(args: &RenameArgs) -> Result<(), ControlError> {
    let host = Host::open()?;
    let d = host.find(&args.domain)?;
    host.rename(d.domid, &args.new_name)
}

#[derive(clap::Args)]
pub struct SysrqArgs {
    #[arg(value_name = "Domain")]
    domain: String,
    #[arg(value_name = "letter")]
    key: String,
}

/// `xm sysrq DOMAIN KEY`.
pub fn sysrq(args: &SysrqArgs) -> Result<(), ControlError> {
    let host = Host::open()?;
    let d = host.find(&args.domain)?;
    xm::xen::lifecycle::sysrq(&host, d.domid, &args.key)
}

#[derive(clap::Args)]
pub struct UptimeArgs {
    /// One line per domain, as uptime(1) prints it.
    #[arg(short, long)]
    short: bool,
    /// As JSON (for scripts): name, domid, uptime (seconds).
    #[arg(long)]
    json: bool,
    /// Domains to show (all when none is given).
    #[arg(value_name = "Domain")]
    domains: Vec<String>,
}

/// `xm uptime [-s] [DOMAIN...]`: in `xm list`'s order when no domain is named.
pub fn uptime(args: &UptimeArgs) -> Result<(), ControlError> {
    use xm::xen::domain;
    let host = Host::open()?;
    let doms = if args.domains.is_empty() {
        let mut all = host.domains()?;
        domain::sort_by_name(&mut all);
        all
    } else {
        args.domains
            .iter()
            .map(|w| host.find(w))
            .collect::<Result<_, _>>()?
    };
    let now = args.short.then(|| local_time("+%T"));
    let mut out = Vec::new();
    if !args.short {
        out.push(domain::uptime_header());
    }
    let mut json = Vec::new();
    for d in &doms {
        let up = host.uptime(d.domid).unwrap_or(0.0);
        out.push(domain::uptime_row(&d.name, d.domid, up, now.as_deref()));
        json.push(serde_json::json!({"name": d.name, "domid": d.domid, "uptime": up.round()}));
    }
    super::print_rows(&out, &json, args.json);
    Ok(())
}

/// `xm reset DOMAIN`: stop the domain at once as if it had rebooted itself; its
/// `on_reboot` (restart, by default) follows, through its monitor.
pub fn reset(word: &str) -> Result<(), ControlError> {
    let host = Host::open()?;
    let d = host.find(word)?;
    if d.domid == 0 {
        return Err(ControlError::Unsupported(
            "Domain 0 cannot be reset".to_string(),
        ));
    }
    host.xc
        .domain_shutdown(d.domid, xm::xen::xc::Shutdown::Reboot)?;
    Ok(())
}

/// `xm domstate DOMAIN`: one word for the domain's state, from its `rbpscd` flags: crashed,
/// shutdown (dying), shutoff (shut down, not yet gone), paused, running, idle (blocked).
pub fn domstate(word: &str) -> Result<(), ControlError> {
    let d = Host::open()?.find(word)?;
    println!("{}", state_word(&d.state));
    Ok(())
}

fn state_word(rbpscd: &str) -> &'static str {
    let has = |c: char| rbpscd.contains(c);
    if has('c') {
        "crashed"
    } else if has('d') {
        "shutdown"
    } else if has('s') {
        "shutoff"
    } else if has('p') {
        "paused"
    } else if has('b') && !has('r') {
        "idle"
    } else {
        "running"
    }
}

#[cfg(test)]
mod tests {
    use super::state_word;

    #[test]
    fn states_are_one_word() {
        assert_eq!(state_word("r-----"), "running");
        assert_eq!(state_word("------"), "running");
        assert_eq!(state_word("-b----"), "idle");
        assert_eq!(state_word("--p---"), "paused");
        assert_eq!(state_word("-b-s--"), "shutoff");
        assert_eq!(state_word("---sc-"), "crashed");
        assert_eq!(state_word("-----d"), "shutdown");
    }
}

#[derive(clap::Args)]
pub struct TriggerArgs {
    #[arg(value_name = "Domain")]
    domain: String,
    /// nmi, reset, init, s3resume or power.
    #[arg(value_name = "trigger")]
    trigger: String,
    #[arg(value_name = "VCPU", default_value_t = 0)]
    vcpu: u32,
}

/// `xm trigger DOMAIN TRIGGER [VCPU]`.
pub fn trigger(args: &TriggerArgs) -> Result<(), ControlError> {
    let host = Host::open()?;
    let d = host.find(&args.domain)?;
    xm::xen::lifecycle::trigger(&host, d.domid, &args.trigger, args.vcpu)
}

#[derive(clap::Args)]
pub struct DumpCoreArgs {
    /// Dump core without pausing the domain.
    #[arg(short = 'L', long)]
    live: bool,
    /// Crash domain after dumping core.
    #[arg(short = 'C', long, conflicts_with = "reset")]
    crash: bool,
    /// Reset domain after dumping core.
    #[arg(short = 'R', long)]
    reset: bool,
    #[arg(value_name = "Domain")]
    domain: String,
    /// The core file (default: /var/xen/dump/DATE-NAME.ID.core, as xend named it).
    #[arg(value_name = "Filename")]
    filename: Option<std::path::PathBuf>,
}

/// `xm dump-core [-L] [-C|-R] DOMAIN [FILE]`.
pub fn dump_core(args: &DumpCoreArgs) -> Result<(), ControlError> {
    use xm::xen::dumpcore::{self, After};
    let host = Host::open()?;
    let d = host.find(&args.domain)?;
    let path = match &args.filename {
        Some(p) => std::path::absolute(p).unwrap_or_else(|_| p.clone()),
        None => dumpcore::default_path(&local_time("+%Y-%m%d-%H%M.%S"), &d.name, d.domid),
    };
    let after = if args.crash {
        After::Crash
    } else if args.reset {
        After::Reset
    } else {
        After::Continue
    };
    println!("Dumping core of domain: {} ...", args.domain);
    dumpcore::dump(&host, d.domid, &path, args.live, after)
}

/// The local time in `date`'s FORMAT (UTC seconds since the epoch if `date` cannot be run).
fn local_time(format: &str) -> String {
    std::process::Command::new("date")
        .arg(format)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
                .to_string()
        })
}
