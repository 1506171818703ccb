//! `xm block-attach`, `block-detach`, `block-list`, `block-configure`, `network-attach`, `network-detach`,
//! `network-list`.

use domcfg::device::{DiskSpec, VifSpec};
use xm::xen::device::{Device, Kind};
use xm::xen::{ControlError, Host, hotplug, plan};

#[derive(clap::Args)]
pub struct BlockAttachArgs {
    #[arg(value_name = "Domain")]
    domain: String,
    /// What dom0 gives: `phy:VG/LV`, `phy:/dev/sdb`, `file:/path/disk.img`, `tap:aio:...`.
    #[arg(value_name = "BackDev")]
    backdev: String,
    /// The guest's name for it: `xvdb`, `sdb1`, `hdc:cdrom` ...
    #[arg(value_name = "FrontDev")]
    frontdev: String,
    /// `r` or `w` (`w!` to skip the check that no other domain writes it).
    #[arg(value_name = "Mode")]
    mode: String,
    #[arg(value_name = "BackDomain")]
    backend: Option<String>,
}

#[derive(clap::Args)]
pub struct DetachArgs {
    #[arg(value_name = "Domain")]
    domain: String,
    /// The device id (`51728`), or for a disk its name (`xvdb`), for a vif its MAC.
    #[arg(value_name = "DevId")]
    devid: String,
    /// Remove it even if the guest does not let go.
    #[arg(short, long)]
    force: bool,
}

#[derive(clap::Args)]
pub struct ListArgs {
    /// As JSON (for scripts): devid, backend_id, state, event_channel, ring refs, mac (vifs),
    /// backend (its path).
    #[arg(long)]
    json: bool,
    /// Each device's frontend nodes as SXP, as xend showed them.
    #[arg(short, long)]
    long: bool,
    #[arg(value_name = "Domain")]
    domain: String,
}

/// `-l`: one `(DEVID ((key value) ...))` per device.
fn print_long(host: &Host, domid: u32, devs: &[hotplug::Listed], kind: Kind) {
    for d in devs {
        print!(
            "{}",
            domcfg::sxp::render(&hotplug::frontend_record(host, domid, kind, d.devid))
        );
    }
}

fn print_json(devs: &[hotplug::Listed], kind: Kind) {
    let v: Vec<serde_json::Value> = devs
        .iter()
        .map(|d| match kind {
            Kind::Vbd => serde_json::json!({
                "devid": d.devid, "backend_id": d.backend_id, "state": d.state,
                "event_channel": d.event_channel, "ring_ref": d.ring_ref, "backend": d.backend,
            }),
            Kind::Vif => serde_json::json!({
                "devid": d.devid, "backend_id": d.backend_id, "mac": d.mac, "handle": d.handle,
                "state": d.state, "event_channel": d.event_channel,
                "tx_ring_ref": d.tx_ring_ref, "rx_ring_ref": d.rx_ring_ref, "backend": d.backend,
            }),
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
}

#[derive(clap::Args)]
pub struct NetworkAttachArgs {
    #[arg(value_name = "Domain")]
    domain: String,
    /// `type=`, `mac=`, `bridge=`, `ip=`, `script=`, `backend=`, `vifname=`, `rate=`,
    /// `model=`, `accel=`, as in a config's vif entry.
    #[arg(value_name = "key=value")]
    settings: Vec<String>,
}

/// xm 4.1's `network-attach` keys.
const VIF_KEYS: [&str; 10] = [
    "type", "mac", "bridge", "ip", "script", "backend", "vifname", "rate", "model", "accel",
];

/// The device a `block-attach`/`block-configure` line describes.
fn disk_device(args: &BlockAttachArgs, what: &str) -> Result<Device, ControlError> {
    let mut spec = format!("{},{},{}", args.backdev, args.frontdev, args.mode);
    if let Some(b) = &args.backend {
        spec.push_str(&format!(",{b}"));
    }
    let disk =
        DiskSpec::parse(&spec).map_err(|e| ControlError::Invalid(format!("{what} {spec}: {e}")))?;
    plan::vbd(&disk)
}

pub fn block_configure(args: &BlockAttachArgs) -> Result<(), ControlError> {
    let dev = disk_device(args, "block-configure")?;
    let host = Host::open()?;
    let d = host.find(&args.domain)?;
    hotplug::configure(&host, d.domid, &dev)
}

pub fn block_attach(args: &BlockAttachArgs) -> Result<(), ControlError> {
    let dev = disk_device(args, "block-attach")?;
    let host = Host::open()?;
    let d = host.find(&args.domain)?;
    hotplug::attach(&host, d.domid, &dev)
}

pub fn block_detach(args: &DetachArgs) -> Result<(), ControlError> {
    let host = Host::open()?;
    let d = host.find(&args.domain)?;
    let devid = match args.devid.parse::<u32>() {
        Ok(n) => n,
        Err(_) => domcfg::device::vdev::blkdev_name_to_number(&args.devid)
            .map(|(n, _)| n)
            .ok_or_else(|| {
                ControlError::Invalid(format!("'{}' is not a disk's id or name", args.devid))
            })?,
    };
    hotplug::detach(&host, d.domid, Kind::Vbd, devid, args.force)
}

pub fn block_list(args: &ListArgs) -> Result<(), ControlError> {
    let host = Host::open()?;
    let d = host.find(&args.domain)?;
    let devs = hotplug::list(&host, d.domid, Kind::Vbd)?;
    if args.json {
        print_json(&devs, Kind::Vbd);
        return Ok(());
    }
    if args.long {
        print_long(&host, d.domid, &devs, Kind::Vbd);
        return Ok(());
    }
    // As xm: the header only above a first device.
    if !devs.is_empty() {
        println!("{}", hotplug::BLOCK_HEADER);
    }
    for dev in &devs {
        println!("{}", hotplug::block_row(dev));
    }
    Ok(())
}

pub fn network_attach(args: &NetworkAttachArgs) -> Result<(), ControlError> {
    for a in &args.settings {
        match a.split_once('=') {
            Some((k, v)) if VIF_KEYS.contains(&k) && !v.is_empty() => {}
            _ => return Err(ControlError::Invalid(format!("Invalid argument: {a}"))),
        }
    }
    let spec = args.settings.join(",");
    let vif = VifSpec::parse(&spec)
        .map_err(|e| ControlError::Invalid(format!("network-attach {spec}: {e}")))?;
    let vif = plan::vif_plan(&vif)?;
    let host = Host::open()?;
    let d = host.find(&args.domain)?;
    let devid = hotplug::free_vif_id(&host, d.domid)?;
    let dev = Device::vif(devid, &vif);
    hotplug::attach(&host, d.domid, &dev)
}

pub fn network_detach(args: &DetachArgs) -> Result<(), ControlError> {
    let host = Host::open()?;
    let d = host.find(&args.domain)?;
    let devid = match args.devid.parse::<u32>() {
        Ok(n) => n,
        Err(_) => hotplug::list(&host, d.domid, Kind::Vif)?
            .into_iter()
            .find(|v| v.mac.eq_ignore_ascii_case(&args.devid))
            .map(|v| v.devid)
            .ok_or_else(|| {
                ControlError::Invalid(format!(
                    "domain {} has no vif with id or MAC '{}'",
                    d.domid, args.devid
                ))
            })?,
    };
    hotplug::detach(&host, d.domid, Kind::Vif, devid, args.force)
}

pub fn network_list(args: &ListArgs) -> Result<(), ControlError> {
    let host = Host::open()?;
    let d = host.find(&args.domain)?;
    let devs = hotplug::list(&host, d.domid, Kind::Vif)?;
    if args.json {
        print_json(&devs, Kind::Vif);
        return Ok(());
    }
    if args.long {
        print_long(&host, d.domid, &devs, Kind::Vif);
        return Ok(());
    }
    if !devs.is_empty() {
        println!("{}", hotplug::NETWORK_HEADER);
    }
    for dev in &devs {
        println!("{}", hotplug::network_row(dev));
    }
    Ok(())
}
