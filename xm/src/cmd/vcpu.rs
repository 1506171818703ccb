//! `xm vcpu-list`, `vcpu-set`, `vcpu-pin`.

use xm::xen::domain::DomainSummary;
use xm::xen::vcpu;
use xm::xen::{ControlError, Host};

#[derive(clap::Args)]
pub struct ListArgs {
    /// The vcpus as JSON (for scripts): name, domid, vcpu, online, running, blocked, cpu,
    /// cpu_time (seconds), affinity (cpu numbers).
    #[arg(long)]
    json: bool,
    /// Domains to list (all when none is given).
    #[arg(value_name = "Domain")]
    domains: Vec<String>,
}

#[derive(clap::Args)]
pub struct SetArgs {
    #[arg(value_name = "Domain")]
    domain: String,
    #[arg(value_name = "vCPUs")]
    vcpus: u32,
}

#[derive(clap::Args)]
pub struct PinArgs {
    #[arg(value_name = "Domain")]
    domain: String,
    /// A vcpu number, or `all`.
    #[arg(value_name = "VCPU|all")]
    vcpu: String,
    /// Physical cpus: `all`, or numbers and ranges such as `0-3,6` (`^N` leaves one out).
    #[arg(value_name = "CPUs|all")]
    cpus: String,
}

/// The domains named, in the order given, or all of them by domid.
fn domains(host: &Host, words: &[String]) -> Result<Vec<DomainSummary>, ControlError> {
    if words.is_empty() {
        let mut all = host.domains()?;
        all.sort_by_key(|d| d.domid);
        return Ok(all);
    }
    words.iter().map(|w| host.find(w)).collect()
}

pub fn list(args: &ListArgs) -> Result<(), ControlError> {
    let host = Host::open()?;
    let doms = domains(&host, &args.domains)?;
    let nr_cpus = host.xc.physinfo()?.nr_cpus;
    let mut out = vec![vcpu::list_header()];
    let mut json = Vec::new();
    for d in &doms {
        let Some(info) = host.xc.domain_info(d.domid)? else {
            continue; // gone since it was listed
        };
        for v in vcpu::list(&host, d.domid, info.max_vcpu_id)? {
            out.push(vcpu::list_row(&d.name, d.domid, &v, nr_cpus));
            json.push(serde_json::json!({
                "name": d.name,
                "domid": d.domid,
                "vcpu": v.info.number,
                "online": v.info.online,
                "running": v.info.running,
                "blocked": v.info.blocked,
                "cpu": v.info.cpu,
                "cpu_time": v.info.cpu_time as f64 / 1e9,
                "affinity": v.affinity.iter().filter(|&&c| c < nr_cpus).collect::<Vec<_>>(),
            }));
        }
    }
    super::print_rows(&out, &json, args.json);
    Ok(())
}

pub fn set(args: &SetArgs) -> Result<(), ControlError> {
    let host = Host::open()?;
    let (d, info) = host.find_with_info(&args.domain)?;
    vcpu::set_online(&host, d.domid, args.vcpus, info.max_vcpu_id + 1)
}

pub fn pin(args: &PinArgs) -> Result<(), ControlError> {
    let host = Host::open()?;
    let (d, info) = host.find_with_info(&args.domain)?;
    let which =
        match args.vcpu.as_str() {
            "all" => None,
            n => Some(n.parse::<u32>().map_err(|_| {
                ControlError::Invalid(format!("'{n}' is not a vcpu number (or all)"))
            })?),
        };
    let cpus = vcpu::parse_cpus(&args.cpus, host.xc.physinfo()?.nr_cpus)?;
    vcpu::pin(&host, d.domid, which, info.max_vcpu_id, &cpus)
}
