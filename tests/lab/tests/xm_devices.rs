//! Disks and network interfaces of `xm create` on the real Xen in the lab: the guest sees its
//! file-backed disks and answers ping on the bridge; when it goes, the loop devices and the
//! bridge port go too; a device whose hotplug fails leaves nothing behind.

use lab_tests::*;
use std::time::Duration;

const BOOT: Duration = Duration::from_secs(90);

fn xm_create(g: &Guest) -> std::process::Output {
    xm(&["create", "-q", &g.write_config().to_string_lossy()])
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn file_disks_attach_and_loop_devices_are_released() {
    require_lab!();
    let name = unique_name("xdk");
    let img = scratch_disk(&name, 32);
    let g = two_disk_guest(&name, &img);
    let o = xm_create(&g);
    assert!(o.status.success(), "{}", text(&o));
    let r = Running::adopt(&name);
    let id = r.domid().unwrap();
    let out = r.wait_cmd(BOOT);
    assert_two_disks_seen(&r.console_text(), &out);
    // The guest powers itself off; xm's monitor destroys it (on_poweroff defaults to destroy)
    // and the block script frees the loop devices.
    r.wait_gone(Duration::from_secs(30));
    wait_until(Duration::from_secs(20), "loop devices released", || {
        let loops = run_ok("losetup -a || true");
        (!loops.contains(&*img.to_string_lossy())).then_some(())
    });
    // The monitor removes the backend nodes once both disks' remove scripts have run (the
    // second one, for xvdc, may still be running when xvdb's loop device is gone; Debian's
    // block script takes seconds under emulation, more on a loaded host).
    wait_until(Duration::from_secs(60), "backend nodes removed", || {
        (!run(&format!("xenstore-exists /local/domain/0/backend/vbd/{id}"))
            .status
            .success())
        .then_some(())
    });
}

#[test]
fn vif_on_the_bridge_answers_ping_and_leaves_with_the_guest() {
    require_lab!();
    let name = unique_name("xnt");
    let g = Guest::new(&name).vif().ip("10.99.0.61/24");
    let o = xm_create(&g);
    assert!(o.status.success(), "{}", text(&o));
    let r = Running::adopt(&name);
    let console = r.wait_up(BOOT);
    assert!(
        console.contains("XMTEST-NET eth0 10.99.0.61/24"),
        "{console}"
    );
    let id = r.domid().unwrap();
    let ports = run_ok(&format!("ls /sys/class/net/{BRIDGE}/brif"));
    assert!(
        ports.lines().any(|p| p == format!("vif{id}.0")),
        "bridge ports: {ports}"
    );
    wait_until(Duration::from_secs(30), "ping 10.99.0.61", || {
        run("ping -c 1 -W 1 10.99.0.61")
            .status
            .success()
            .then_some(())
    });
    let o = xm(&["shutdown", "-w", &name]);
    assert!(o.status.success(), "{}", text(&o));
    let ports = run_ok(&format!("ls /sys/class/net/{BRIDGE}/brif"));
    assert!(
        !ports.lines().any(|p| p == format!("vif{id}.0")),
        "bridge ports: {ports}"
    );
}

#[test]
fn a_missing_disk_is_refused_before_anything_is_built() {
    require_lab!();
    let name = unique_name("xnd");
    let o = xm_create(&Guest::new(&name).disk("phy:/dev/no-such-disk,xvdb,w"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("Error: /dev/no-such-disk: disk does not exist"),
        "{err}"
    );
    assert!(!domain_exists(&name));
}

#[test]
fn a_disk_the_hotplug_script_refuses_fails_the_create_and_leaves_nothing() {
    require_lab!();
    let name = unique_name("xbd");
    // The block script will not attach a read-only file read-write.
    let img = scratch_disk(&name, 8);
    run_ok(&format!("chmod 0444 {}", img.display()));
    let entries = || -> std::collections::BTreeSet<String> {
        ["/local/domain", "/vm", "/local/domain/0/backend/vbd"]
            .iter()
            .flat_map(|dir| {
                let out = run_ok(&format!("xenstore-list {dir} 2>/dev/null || true"));
                out.lines()
                    .map(|e| format!("{dir}/{e}"))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let before = entries();
    let o = xm_create(&Guest::new(&name).disk(&format!("file:{},xvdb,w", img.display())));
    assert!(!o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.lines()
            .any(|l| l.starts_with("Error: ") && l.contains("read-only")),
        "{err}"
    );
    assert!(!domain_exists(&name));
    // Earlier tests' domains may still be going away; nothing may have been added.
    let added: Vec<_> = entries().difference(&before).cloned().collect();
    assert!(added.is_empty(), "left behind: {added:?}: {err}");
    let loops = run_ok("losetup -a || true");
    assert!(!loops.contains(&*img.to_string_lossy()), "{loops}");
}

#[test]
fn pci_passthrough_without_an_iommu_is_refused_before_anything_is_built() {
    require_lab!();
    // The default lab machine has no IOMMU (the PCI tests boot one: run-tests --pci).
    let name = unique_name("nopci");
    let before = store_snapshot();
    let cfg = Guest::new(&name).cfg("pci = ['06.02.0']").write_config();
    let out = xm(&["create", &cfg.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("Error: passthrough not supported on this platform: Xen has no IOMMU"),
        "{err}"
    );
    assert!(!domain_exists(&name));
    assert!(store_snapshot().is_subset(&before));
}
