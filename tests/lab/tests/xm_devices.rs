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
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn file_disks_attach_and_loop_devices_are_released() {
    require_lab!();
    let name = unique_name("xdk");
    let img = scratch_disk(&name, 32);
    let g = Guest::new(&name)
        .disk(&format!("file:{},xvdb,w", img.display()))
        .disk(&format!("file:{GUEST_EXT4_IMAGE},xvdc,r"))
        .cmd("cat /sys/block/xvdb/size; mount -o ro /dev/xvdc /mnt && cat /mnt/xmlab/README")
        .then("poweroff");
    let o = xm_create(&g);
    assert!(o.status.success(), "{}", text(&o));
    let r = Running::adopt(&name);
    let out = r.wait_cmd(BOOT);
    let console = r.console_text();
    assert!(console.contains("XMTEST-DISK xvdb sectors=65536 ro=0"), "{console}");
    assert!(console.contains("XMTEST-DISK xvdc sectors=32768 ro=1"), "{console}");
    assert_eq!(out.rc, 0, "{out:?}");
    assert!(out.text.contains("xmlab scratch disk"), "{out:?}");
    // The guest powers itself off; xm's monitor destroys it (on_poweroff defaults to destroy)
    // and the block script frees the loop devices.
    r.wait_gone(Duration::from_secs(30));
    wait_until(Duration::from_secs(20), "loop devices released", || {
        let loops = run_ok("losetup -a || true");
        (!loops.contains(&*img.to_string_lossy())).then_some(())
    });
    let id_gone = run_ok("xenstore-ls /local/domain/0/backend 2>/dev/null || true");
    assert!(!id_gone.contains(&name), "{id_gone}");
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
    assert!(console.contains("XMTEST-NET eth0 10.99.0.61/24"), "{console}");
    let id = r.domid().unwrap();
    let ports = run_ok(&format!("ls /sys/class/net/{BRIDGE}/brif"));
    assert!(ports.lines().any(|p| p == format!("vif{id}.0")), "bridge ports: {ports}");
    wait_until(Duration::from_secs(30), "ping 10.99.0.61", || {
        run("ping -c 1 -W 1 10.99.0.61").status.success().then_some(())
    });
    let o = xm(&["shutdown", "-w", &name]);
    assert!(o.status.success(), "{}", text(&o));
    let ports = run_ok(&format!("ls /sys/class/net/{BRIDGE}/brif"));
    assert!(!ports.lines().any(|p| p == format!("vif{id}.0")), "bridge ports: {ports}");
}

#[test]
fn a_disk_that_cannot_attach_fails_the_create_and_leaves_nothing() {
    require_lab!();
    let name = unique_name("xbd");
    let before = run_ok("xenstore-ls /local/domain | grep -c . ; xenstore-ls /vm | grep -c . ; true");
    let g = Guest::new(&name).disk("phy:/dev/no-such-disk,xvdb,w");
    let o = xm_create(&g);
    assert!(!o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.lines().any(|l| l.starts_with("Error: ") && l.contains("no-such-disk")), "{err}");
    assert!(!domain_exists(&name));
    let after = run_ok("xenstore-ls /local/domain | grep -c . ; xenstore-ls /vm | grep -c . ; true");
    assert_eq!(before, after, "xenstore changed: {err}");
    let backends = run_ok("xenstore-ls /local/domain/0/backend 2>/dev/null || true");
    assert!(!backends.contains("no-such-disk"), "{backends}");
}
