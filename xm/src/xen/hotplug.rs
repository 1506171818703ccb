//! Devices added to and removed from a running domain (`xm block-attach`/`block-detach`,
//! `network-attach`/`network-detach`) and listed (`block-list`, `network-list`). They get the
//! same nodes, permissions and hotplug scripts as at create ([`super::device`]). The device id
//! is claimed and the nodes written in one transaction, so two attaches cannot take the same
//! one. A removal asks the guest to let go first (the backend goes to Closing, the frontend
//! answers Closed); `-f` removes the device even if the guest holds it. The kept plan follows,
//! so a restarted domain has the devices it had.

use std::time::Duration;

use domcfg::sxp::Sxp;

use super::device::{self, Device, Kind};
use super::domain_plan::update_plan_in;
use super::error::ControlError;
use super::host::Host;
use super::layout;
use super::watch::wait_node;
use super::xc::DomId;

/// How long a guest has to let go of a device before a removal without `-f` gives up (xl:
/// 10 s).
pub const DETACH_TIMEOUT: Duration = Duration::from_secs(10);

/// Adds `dev` to the running domain `domid`: claims its id, writes its nodes, runs its hotplug
/// script; on failure removes what it wrote.
pub fn attach(host: &Host, domid: DomId, dev: &Device) -> Result<(), ControlError> {
    let nodes = device::nodes(dev, domid);
    let taken = host.xs.transaction(|tx| {
        let front = tx.try_read(&dev.frontend_path(domid))?;
        let back = tx.try_read(&dev.backend_path(domid))?;
        if front.is_some() || back.is_some() {
            return Ok(true);
        }
        layout::write_nodes(tx, &nodes)?;
        update_plan_in(tx, domid, |p| p.devices.push(dev.clone()))?;
        Ok(false)
    })?;
    if taken {
        return Err(ControlError::Invalid(format!(
            "Device {} ({}) is already connected to domain {domid}",
            dev.devid,
            dev.kind.as_str()
        )));
    }
    if let Err(e) = device::hotplug(&host.xs, dev, domid) {
        remove(host, domid, dev);
        return Err(e);
    }
    Ok(())
}

/// The lowest vif id `domid` does not use.
pub fn free_vif_id(host: &Host, domid: DomId) -> Result<u32, ControlError> {
    let used: Vec<u32> = host
        .xs
        .directory(&format!("/local/domain/{domid}/device/vif"))
        .unwrap_or_default()
        .iter()
        .filter_map(|d| d.parse().ok())
        .collect();
    Ok((0..).find(|i| !used.contains(i)).unwrap_or(0))
}

/// Removes device `devid` of `kind` from `domid`: asks the guest to let go and waits up to
/// [`DETACH_TIMEOUT`] for it (unless `force`), then undoes the hotplug script's work and
/// removes the nodes.
pub fn detach(
    host: &Host,
    domid: DomId,
    kind: Kind,
    devid: u32,
    force: bool,
) -> Result<(), ControlError> {
    let dev = Device {
        kind,
        devid,
        backend_domid: 0,
        front: vec![],
        back: vec![],
    };
    let back = dev.backend_path(domid);
    if host.xs.try_read(&back)?.is_none() {
        return Err(ControlError::Invalid(format!(
            "Device {devid} ({}) is not connected to domain {domid}",
            kind.as_str()
        )));
    }
    // Closing: the guest's frontend closes its end (a disk it has mounted it refuses to).
    host.xs.write(&format!("{back}/state"), "5")?;
    let front_state = format!("{}/state", dev.frontend_path(domid));
    // (A frontend that is gone, read as empty, has let go too.)
    let closed = matches!(
        wait_node(&host.xs, &front_state, DETACH_TIMEOUT, |v| v == "6"
            || v.is_empty()),
        Ok(Ok(_))
    );
    if !closed && !force {
        // Leave it as it was: the guest still uses it.
        let _ = host.xs.write(&format!("{back}/state"), "4");
        return Err(ControlError::Invalid(format!(
            "Device {devid} ({}) could not be disconnected: domain {domid} did not let go of \
             it within {} s (it may be in use; -f removes it anyway)",
            kind.as_str(),
            DETACH_TIMEOUT.as_secs()
        )));
    }
    remove(host, domid, &dev);
    Ok(())
}

/// `xm block-configure`: new media in the cdrom `new.devid` of `domid`. A PV guest has no
/// media-change event, so the drive is taken out and put back with the new media (at the same
/// id, so the guest's name for it stays); the guest sees the drive go and come back. Only a
/// cdrom can be reconfigured, and only if the guest lets go of it within [`DETACH_TIMEOUT`].
/// If the new media cannot be attached, the old one is put back.
pub fn configure(host: &Host, domid: DomId, new: &Device) -> Result<(), ControlError> {
    let back = new.backend_path(domid);
    let keys = ["params", "mode", "dev", "device-type"].map(|k| format!("{back}/{k}"));
    let vals: Vec<Option<String>> = host
        .xs
        .read_many(&keys)
        .into_iter()
        .map(|r| r.ok().map(|v| String::from_utf8_lossy(&v).into_owned()))
        .collect();
    let [Some(params), Some(mode), Some(dev), Some(devtype)] =
        <[Option<String>; 4]>::try_from(vals).unwrap_or_default()
    else {
        return Err(ControlError::Invalid(format!(
            "Device {} (vbd) is not connected to domain {domid}",
            new.devid
        )));
    };
    if devtype != "cdrom" {
        return Err(ControlError::Invalid(format!(
            "Device {} ({dev}) of domain {domid} is a {devtype}, not a cdrom: block-configure \
             changes a cdrom's media (use block-detach and block-attach for a disk)",
            new.devid
        )));
    }
    let new = Device::vbd(
        new.devid,
        &dev,
        new.params().unwrap_or_default(),
        new.back_value("mode").unwrap_or(&mode),
        true,
    );
    detach(host, domid, Kind::Vbd, new.devid, false)?;
    // The guest drops its old drive when it sees the nodes gone; if they are back before it
    // looks (its xenbus checks then, not when they went), it keeps the old, closed drive and
    // never takes the new one. So: put the drive back, check that the guest connects to it,
    // and if it does not, take it out again and give the guest longer to look.
    let front_state = format!("{}/state", new.frontend_path(domid));
    let mut failure = None;
    for pause_ms in [200, 1000, 3000] {
        std::thread::sleep(Duration::from_millis(pause_ms));
        if let Err(e) = attach(host, domid, &new) {
            failure = Some(e);
            break;
        }
        let connected = matches!(
            wait_node(&host.xs, &front_state, DETACH_TIMEOUT, |v| v == "4"),
            Ok(Ok(_))
        );
        if connected {
            return Ok(());
        }
        remove(host, domid, &new);
        failure = Some(ControlError::Invalid(format!(
            "domain {domid} did not connect to the new media in {} s",
            DETACH_TIMEOUT.as_secs()
        )));
    }
    let Some(e) = failure else {
        return Ok(());
    };
    let old = Device::vbd(new.devid, &dev, &params, &mode, true);
    Err(match attach(host, domid, &old) {
        Ok(()) => e,
        Err(again) => ControlError::Invalid(format!(
            "{e}; and the old media could not be put back either: {again}"
        )),
    })
}

/// Undoes a device: its hotplug script's work, its nodes and its place in the kept plan.
fn remove(host: &Host, domid: DomId, dev: &Device) {
    device::teardown(&host.xs, std::slice::from_ref(dev), domid);
    let paths = [
        dev.frontend_path(domid),
        dev.backend_path(domid),
        format!("/libxl/{domid}/device/{}/{}", dev.kind.as_str(), dev.devid),
    ];
    let _ = host.xs.transaction(|tx| {
        for p in &paths {
            match tx.rm(p) {
                Err(e) if !e.is_not_found() => return Err(e),
                _ => {}
            }
        }
        update_plan_in(tx, domid, |p| {
            p.devices
                .retain(|d| !(d.kind == dev.kind && d.devid == dev.devid))
        })
    });
}

/// One device as the guest's frontend directory shows it (what `block-list` and
/// `network-list` print; xm read the same keys through xend).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub devid: u32,
    pub backend_id: i64,
    pub handle: i64,
    pub state: i64,
    pub event_channel: i64,
    pub ring_ref: i64,
    pub tx_ring_ref: i64,
    pub rx_ring_ref: i64,
    pub mac: String,
    pub backend: String,
}

/// The devices of `kind` in `domid`'s frontend directory, by id.
pub fn list(host: &Host, domid: DomId, kind: Kind) -> Result<Vec<Listed>, ControlError> {
    let dir = format!("/local/domain/{domid}/device/{}", kind.as_str());
    let mut ids: Vec<u32> = host
        .xs
        .directory(&dir)
        .unwrap_or_default()
        .iter()
        .filter_map(|d| d.parse().ok())
        .collect();
    ids.sort_unstable();
    const KEYS: [&str; 9] = [
        "backend-id",
        "handle",
        "state",
        "event-channel",
        "ring-ref",
        "tx-ring-ref",
        "rx-ring-ref",
        "mac",
        "backend",
    ];
    let mut out = Vec::new();
    for devid in ids {
        let paths: Vec<String> = KEYS.iter().map(|k| format!("{dir}/{devid}/{k}")).collect();
        let values: Vec<Option<String>> = host
            .xs
            .read_many(&paths)
            .into_iter()
            .map(|r| r.ok().map(|v| String::from_utf8_lossy(&v).into_owned()))
            .collect();
        let num = |i: usize, default: i64| {
            values[i]
                .as_deref()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(default)
        };
        let text = |i: usize| values[i].clone().unwrap_or_else(|| "??".to_string());
        out.push(Listed {
            devid,
            backend_id: num(0, -1),
            handle: num(1, 0),
            state: num(2, -1),
            event_channel: num(3, -1),
            ring_ref: num(4, -1),
            tx_ring_ref: num(5, -1),
            rx_ring_ref: num(6, -1),
            mac: text(7),
            backend: text(8),
        });
    }
    Ok(out)
}

/// One device for `block-list -l` / `network-list -l`, as xend's `getDeviceSxprs` gave it:
/// `(DEVID ((key value) ...))` with the frontend directory's keys in the store's order.
pub fn frontend_record(host: &Host, domid: DomId, kind: Kind, devid: u32) -> Sxp {
    let dir = format!("/local/domain/{domid}/device/{}/{devid}", kind.as_str());
    let keys = host.xs.directory(&dir).unwrap_or_default();
    let paths: Vec<String> = keys.iter().map(|k| format!("{dir}/{k}")).collect();
    let pairs = keys
        .iter()
        .zip(host.xs.read_many(&paths))
        .filter_map(|(k, v)| {
            let v = String::from_utf8_lossy(&v.ok()?).into_owned();
            Some(Sxp::pair(k, Sxp::s(v)))
        })
        .collect();
    Sxp::List(vec![Sxp::Int(i64::from(devid)), Sxp::List(pairs)])
}

/// `block-list`'s header, as xm 4.1 printed it.
pub const BLOCK_HEADER: &str = "Vdev  BE handle state evt-ch ring-ref BE-path";
/// `network-list`'s header, as xm 4.1 printed it.
pub const NETWORK_HEADER: &str =
    "Idx BE     MAC Addr.     handle state evt-ch tx-/rx-ring-ref BE-path";

/// One `block-list` line, xm 4.1's layout (trailing spaces and all).
pub fn block_row(d: &Listed) -> String {
    format!(
        "{:<5}  {:<3}  {:<3}   {:<3}    {:<3}    {:<5} {:<30}  ",
        d.devid, d.backend_id, d.handle, d.state, d.event_channel, d.ring_ref, d.backend
    )
}

/// One `network-list` line, xm 4.1's layout.
pub fn network_row(d: &Listed) -> String {
    format!(
        "{:<3} {:<3}{:<17}    {:<3}   {:<3}    {:<3}   {:<5}/{:<5}   {:<30}  ",
        d.devid,
        d.backend_id,
        d.mac,
        d.handle,
        d.state,
        d.event_channel,
        d.tx_ring_ref,
        d.rx_ring_ref,
        d.backend
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed() -> Listed {
        Listed {
            devid: 51728,
            backend_id: 0,
            handle: 0,
            state: 4,
            event_channel: 9,
            ring_ref: 8,
            tx_ring_ref: 768,
            rx_ring_ref: 769,
            mac: "00:16:3e:01:02:03".into(),
            backend: "/local/domain/0/backend/vbd/3/51728".into(),
        }
    }

    #[test]
    fn rows_are_xm_41s_layout() {
        assert_eq!(
            block_row(&listed()),
            "51728  0    0     4      9      8     /local/domain/0/backend/vbd/3/51728  "
        );
        let mut vif = listed();
        vif.devid = 1;
        vif.handle = 1;
        vif.backend = "/local/domain/0/backend/vif/3/1".into();
        assert_eq!(
            network_row(&vif),
            "1   0  00:16:3e:01:02:03    1     4      9     768  /769     \
             /local/domain/0/backend/vif/3/1  "
        );
    }
}
