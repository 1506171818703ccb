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
    let now = args.short.then(local_time_of_day);
    let mut out = Vec::new();
    if !args.short {
        out.push(domain::uptime_header());
    }
    for d in &doms {
        let up = host.uptime(d.domid).unwrap_or(0.0);
        out.push(domain::uptime_row(&d.name, d.domid, up, now.as_deref()));
    }
    println!("{}", out.join("\n"));
    Ok(())
}

/// `HH:MM:SS` now, in the local time zone (`date +%T`; UTC if that cannot be run).
fn local_time_of_day() -> String {
    std::process::Command::new("date")
        .arg("+%T")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| {
            let s = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
                % 86400;
            format!("{:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
        })
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
        .domain_shutdown(d.domid, xenctrl_sys::SHUTDOWN_reboot)?;
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
