//! Split-driver devices as data: a vbd or vif is its frontend keys (what the guest reads), its
//! backend keys (what blkback/netback and the hotplug script read) and its device id. The
//! control layer writes them with [`nodes`], runs the hotplug script with [`hotplug`], and tears
//! them down with [`teardown`] — in libxl 4.17's shape, so Debian's `/etc/xen/scripts` work
//! unchanged.

use std::process::Command;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use xenstore::{Access, Change, Perms, Xs};

use super::error::ControlError;
use super::helper::{env_seconds, run_bounded};
use super::layout::{Node, SplitDevice, backend_keys};
use super::watch::wait_node;
use super::xc::DomId;

/// Where Debian installs Xen's hotplug scripts.
pub const SCRIPT_DIR: &str = "/etc/xen/scripts";

/// How long a backend may take to reach a state, or a hotplug script to report.
pub const DEVICE_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a hotplug script may run before it is killed and the create undone, unless
/// `$XM_HOTPLUG_TIMEOUT` (seconds) says otherwise. Debian's block script holds one lock for
/// all disks while it looks for sharing, so the scripts of creates started together run one
/// after another: under the lab's emulation, five at once took over 30 s for the last one.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// [`SCRIPT_TIMEOUT`], or `$XM_HOTPLUG_TIMEOUT` seconds where that is a positive number.
pub(crate) fn script_timeout() -> Duration {
    env_seconds("XM_HOTPLUG_TIMEOUT", SCRIPT_TIMEOUT)
}

/// The two device kinds xm-rs attaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Vbd,
    Vif,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Vbd => "vbd",
            Kind::Vif => "vif",
        }
    }
}

/// One device of a domain, before it exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub kind: Kind,
    pub devid: u32,
    pub backend_domid: DomId,
    /// Frontend keys besides `backend`, `backend-id` and `state`.
    pub front: Vec<(String, String)>,
    /// Backend keys besides `frontend`, `frontend-id`, `online` and `state`.
    pub back: Vec<(String, String)>,
}

impl Device {
    pub fn frontend_path(&self, domid: DomId) -> String {
        format!(
            "/local/domain/{domid}/device/{}/{}",
            self.kind.as_str(),
            self.devid
        )
    }

    pub fn backend_path(&self, domid: DomId) -> String {
        format!(
            "/local/domain/{}/backend/{}/{domid}/{}",
            self.backend_domid,
            self.kind.as_str(),
            self.devid
        )
    }

    /// A disk: `params` is the device or file the block script attaches (a regular file gets a
    /// loop device, as libxl's `phy` backend does on Linux).
    /// `mode` is xm's `r`, `w` or `w!` (the block script skips its sharing check for `w!`).
    pub fn vbd(devid: u32, vdev: &str, params: &str, mode: &str, cdrom: bool) -> Device {
        let devtype = if cdrom { "cdrom" } else { "disk" };
        Device {
            kind: Kind::Vbd,
            devid,
            backend_domid: 0,
            front: vec![
                ("virtual-device".into(), devid.to_string()),
                ("device-type".into(), devtype.into()),
                ("trusted".into(), "1".into()),
            ],
            back: vec![
                ("script".into(), format!("{SCRIPT_DIR}/block")),
                ("params".into(), params.into()),
                ("type".into(), "phy".into()),
                ("mode".into(), mode.into()),
                ("dev".into(), vdev.into()),
                ("device-type".into(), devtype.into()),
                ("removable".into(), if cdrom { "1" } else { "0" }.into()),
                ("bootable".into(), "1".into()),
            ],
        }
    }

    /// The value of backend key `key`, if the device has it.
    pub fn back_value(&self, key: &str) -> Option<&str> {
        self.back
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// For a vbd, the device or file the backend will open (`params`).
    pub fn params(&self) -> Option<&str> {
        (self.kind == Kind::Vbd)
            .then(|| self.back_value("params"))
            .flatten()
    }

    /// A network interface on a bridge; `vifN.DEVID` in dom0.
    pub fn vif(devid: u32, vif: &VifPlan) -> Device {
        let mut back = vec![
            ("script".into(), vif.script.clone()),
            ("mac".into(), vif.mac.clone()),
            ("bridge".into(), vif.bridge.clone()),
            ("handle".into(), devid.to_string()),
            ("type".into(), "vif".into()),
            ("hotplug-status".into(), String::new()),
        ];
        if let Some(ip) = &vif.ip {
            back.push(("ip".into(), ip.clone()));
        }
        if let Some(rate) = &vif.rate {
            back.push(("rate".into(), rate.clone()));
        }
        if let Some(name) = &vif.vifname {
            back.push(("vifname".into(), name.clone()));
        }
        Device {
            kind: Kind::Vif,
            devid,
            backend_domid: 0,
            front: vec![
                ("handle".into(), devid.to_string()),
                ("mac".into(), vif.mac.clone()),
                ("trusted".into(), "1".into()),
            ],
            back,
        }
    }

    /// The device's name in dom0 as the vif hotplug script expects it (`vifN.M` or `vifname`).
    fn vif_name(&self, domid: DomId) -> String {
        self.back_value("vifname")
            .map_or_else(|| format!("vif{domid}.{}", self.devid), str::to_string)
    }
}

/// A vif with its defaults filled in (bridge `xenbr0`, script `vif-bridge`, a random
/// `00:16:3e` MAC as xend generated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VifPlan {
    pub mac: String,
    pub bridge: String,
    pub script: String,
    pub ip: Option<String>,
    pub rate: Option<String>,
    pub vifname: Option<String>,
}

/// xend's `randomMAC`: Xen's OUI, then three random bytes with the first below 0x80.
pub fn random_mac(random: [u8; 3]) -> String {
    format!(
        "00:16:3e:{:02x}:{:02x}:{:02x}",
        random[0] & 0x7f,
        random[1],
        random[2]
    )
}

/// The nodes of one device: the frontend directory owned by the guest and readable by the
/// backend, the backend directory owned by the backend domain and readable by the guest.
pub fn nodes(dev: &Device, domid: DomId) -> Vec<Node> {
    let front_keys = [
        ("backend-id".to_string(), dev.backend_domid.to_string()),
        ("state".to_string(), "1".to_string()),
    ]
    .into_iter()
    .chain(dev.front.iter().cloned())
    .map(|(k, v)| (k, v, None))
    .collect();
    let mut back_keys = backend_keys(domid);
    back_keys.extend(dev.back.iter().cloned());
    SplitDevice {
        front: dev.frontend_path(domid),
        back: dev.backend_path(domid),
        libxl: format!("/libxl/{domid}/device/{}/{}", dev.kind.as_str(), dev.devid),
        front_perms: Perms::new(domid, Access::None).with(dev.backend_domid, Access::Read),
        front_keys,
        back_perms: Perms::new(dev.backend_domid, Access::None).with(domid, Access::Read),
        back_keys,
    }
    .nodes()
}

/// Waits until `path` holds one of `wanted`; returns the value.
fn wait_value(xs: &Xs, path: &str, wanted: &[&str], timeout: Duration) -> Result<String, String> {
    match wait_node(xs, path, timeout, |v| wanted.contains(&v)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(v)) => Err(format!("{path} is '{v}' after {}s", timeout.as_secs())),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs the device's hotplug script as libxl does on Linux (`block add`, `vif-bridge online`):
/// once the backend driver has picked the device up (state 2, InitWait), with the environment
/// the scripts read; then waits for the script's `hotplug-status`.
pub fn hotplug(xs: &Xs, dev: &Device, domid: DomId) -> Result<(), ControlError> {
    let back = dev.backend_path(domid);
    let fail = |what: String| {
        ControlError::Unsupported(format!(
            "{} {} of domain {domid}: {what}",
            dev.kind.as_str(),
            dev.devid
        ))
    };
    wait_value(xs, &format!("{back}/state"), &["2", "4"], DEVICE_TIMEOUT)
        .map_err(|e| fail(format!("the backend driver did not take the device ({e})")))?;
    run_script(xs, dev, domid, true).map_err(fail)?;
    let status = wait_value(
        xs,
        &format!("{back}/hotplug-status"),
        &["connected", "error"],
        DEVICE_TIMEOUT,
    )
    .map_err(|e| fail(format!("the hotplug script did not report ({e})")))?;
    if status == "error" {
        let why = xs
            .read_string(&format!("{back}/hotplug-error"))
            .unwrap_or_default();
        return Err(fail(format!("hotplug script failed: {why}")));
    }
    Ok(())
}

fn run_script(xs: &Xs, dev: &Device, domid: DomId, add: bool) -> Result<(), String> {
    let back = dev.backend_path(domid);
    let script = xs
        .read_string(&format!("{back}/script"))
        .map_err(|e| e.to_string())?;
    let kind = dev.kind.as_str();
    let mut cmd = Command::new(&script);
    cmd.env("script", &script)
        .env("XENBUS_TYPE", kind)
        .env(
            "XENBUS_PATH",
            format!("backend/{kind}/{domid}/{}", dev.devid),
        )
        .env("XENBUS_BASE_PATH", "backend");
    match dev.kind {
        Kind::Vbd => {
            cmd.arg(if add { "add" } else { "remove" });
        }
        Kind::Vif => {
            cmd.env("netdev", "").env("vif", dev.vif_name(domid));
            cmd.args([if add { "online" } else { "offline" }, "type_if=vif"]);
        }
    }
    let (status, stderr) =
        run_bounded(cmd, script_timeout()).map_err(|e| format!("{script}: {e}"))?;
    if !status.success() {
        // The scripts say why in the store (`fatal` writes hotplug-error) more often than on
        // stderr.
        let why = xs
            .read_string(&format!("{back}/hotplug-error"))
            .unwrap_or_else(|_| stderr.trim().to_string());
        let why = if why.is_empty() {
            "it gave no reason".to_string()
        } else {
            why
        };
        return Err(format!("{script} failed ({status}): {why}"));
    }
    Ok(())
}

/// Closes devices and undoes their hotplug work (loop devices, bridge ports), as libxl's
/// removal does: tell each backend to close (online=0, state=5), give the backend drivers a
/// moment together to let go (a backend whose frontend is gone unregisters without reaching
/// Closed, so the wait is short), then run each script's remove/offline. Best effort: a backend that does not answer is torn down anyway.
pub fn teardown(xs: &Xs, devs: &[Device], domid: DomId) {
    let mut connected = Vec::new();
    for dev in devs {
        let back = dev.backend_path(domid);
        let status = xs
            .try_read(&format!("{back}/hotplug-status"))
            .ok()
            .flatten();
        connected.push(status.is_some_and(|v| v == b"connected"));
        let (online, state) = (format!("{back}/online"), format!("{back}/state"));
        let _ = xs.apply(&[Change::Write(&online, b"0"), Change::Write(&state, b"5")]);
    }
    let deadline = Instant::now() + Duration::from_millis(500);
    for dev in devs {
        let left = deadline.saturating_duration_since(Instant::now());
        let _ = wait_value(
            xs,
            &format!("{}/state", dev.backend_path(domid)),
            &["6"],
            left,
        );
    }
    for (dev, was_connected) in devs.iter().zip(connected) {
        if was_connected {
            let _ = run_script(xs, dev, domid, false);
        }
    }
}

/// The devices dom0 backs for `domid`, read back from the store (kind and id are enough for
/// [`teardown`]).
pub fn existing(xs: &Xs, domid: DomId) -> Vec<Device> {
    let mut out = Vec::new();
    for kind in [Kind::Vbd, Kind::Vif] {
        let dir = format!("/local/domain/0/backend/{}/{domid}", kind.as_str());
        for id in xs.directory(&dir).unwrap_or_default() {
            if let Ok(devid) = id.parse() {
                out.push(Device {
                    kind,
                    devid,
                    backend_domid: 0,
                    front: vec![],
                    back: vec![],
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::layout::find;
    use super::*;

    #[test]
    fn vbd_nodes_follow_libxl() {
        let d = Device::vbd(51728, "xvdb", "/tmp/d.img", "w", false);
        let n = nodes(&d, 4);
        let back = "/local/domain/0/backend/vbd/4/51728";
        let front = "/local/domain/4/device/vbd/51728";
        assert_eq!(find(&n, back).perms.as_ref().unwrap().to_string(), "n0,r4");
        assert_eq!(find(&n, front).perms.as_ref().unwrap().to_string(), "n4,r0");
        assert_eq!(find(&n, &format!("{back}/params")).value, "/tmp/d.img");
        assert_eq!(
            find(&n, &format!("{back}/script")).value,
            "/etc/xen/scripts/block"
        );
        assert_eq!(find(&n, &format!("{back}/frontend")).value, front);
        assert_eq!(find(&n, &format!("{front}/backend")).value, back);
        assert_eq!(find(&n, &format!("{front}/virtual-device")).value, "51728");
        assert_eq!(find(&n, &format!("{back}/mode")).value, "w");
        assert_eq!(
            find(&n, "/libxl/4/device/vbd/51728/params").value,
            "/tmp/d.img"
        );
    }

    #[test]
    fn vif_nodes_carry_mac_bridge_and_script() {
        let plan = VifPlan {
            mac: "00:16:3e:01:02:03".into(),
            bridge: "xenbr0".into(),
            script: "/etc/xen/scripts/vif-bridge".into(),
            ip: Some("10.0.0.2".into()),
            rate: None,
            vifname: None,
        };
        let d = Device::vif(0, &plan);
        let n = nodes(&d, 9);
        assert_eq!(
            find(&n, "/local/domain/0/backend/vif/9/0/bridge").value,
            "xenbr0"
        );
        assert_eq!(
            find(&n, "/local/domain/9/device/vif/0/mac").value,
            "00:16:3e:01:02:03"
        );
        assert_eq!(
            find(&n, "/local/domain/0/backend/vif/9/0/ip").value,
            "10.0.0.2"
        );
        assert_eq!(d.vif_name(9), "vif9.0");
    }

    #[test]
    fn random_macs_stay_in_xens_range() {
        assert_eq!(random_mac([0xff, 0x01, 0xab]), "00:16:3e:7f:01:ab");
    }
}
