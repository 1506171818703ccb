//! Disks and NICs added to and removed from running guests (`xm block-attach`/`block-detach`/
//! `block-list`, `network-attach`/`network-detach`/`network-list`) on the real Xen, checked in
//! the guest (sizes, modes, a marker read, a ping over the new NIC) and in dom0 (loop devices,
//! bridge ports), with xm 4.1's list layouts.

use std::time::Duration;

use lab_tests::*;

const IN_GUEST: Duration = Duration::from_secs(60);
/// `xvdb`'s and `xvdc`'s device numbers.
const XVDB: u32 = 51728;
const XVDC: u32 = 51744;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `script` in the guest; its output, trimmed (asserting it succeeded).
fn in_guest(g: &Running, script: &str) -> String {
    let out = g.guest_cmd(script, IN_GUEST);
    assert_eq!(out.rc, 0, "{script}: {}", out.text);
    out.text.trim().to_string()
}

#[test]
fn block_attach_gives_the_guest_a_disk_and_block_detach_takes_it_back() {
    require_lab!();
    let name = unique_name("hpb");
    let g = xm_created(&name, Guest::new(&name));
    let id = g.domid().unwrap();
    let img = scratch_disk(&name, 16);
    run_ok(&format!(
        "printf xm-hotplug-marker | dd of={} conv=notrunc status=none",
        img.display()
    ));

    xm_ok(&[
        "block-attach",
        &name,
        &format!("file:{}", img.display()),
        "xvdb",
        "r",
    ]);
    wait_until(IN_GUEST, "xvdb in the guest", || {
        let out = g.guest_cmd("cat /sys/block/xvdb/size /sys/block/xvdb/ro", IN_GUEST);
        (out.rc == 0).then_some(out.text)
    });
    assert_eq!(
        in_guest(&g, "cat /sys/block/xvdb/size /sys/block/xvdb/ro"),
        "32768\n1"
    );
    assert_eq!(
        in_guest(&g, "head -c 17 /dev/xvdb; echo"),
        "xm-hotplug-marker"
    );
    assert!(run_ok("losetup -a").contains(&img.display().to_string()));
    let list = xm_ok(&["block-list", &name]);
    let rows: Vec<&str> = list.lines().collect();
    assert_eq!(
        rows[0], "Vdev  BE handle state evt-ch ring-ref BE-path",
        "{list}"
    );
    assert!(
        rows[1].starts_with(&format!("{XVDB}  0    0     4 "))
            && rows[1].ends_with(&format!("/local/domain/0/backend/vbd/{id}/{XVDB}  ")),
        "{list}"
    );
    let json = xm_ok(&["block-list", "--json", &name]);
    assert!(json.contains(&format!("\"devid\": {XVDB}")), "{json}");
    // The kept plan has it: a restarted domain gets it again.
    let plan = run_ok(&format!("xenstore-read /libxl/{id}/xm-plan"));
    assert!(plan.contains(&img.display().to_string()), "{plan}");
    // The same name again is refused.
    let out = xm(&[
        "block-attach",
        &name,
        &format!("file:{}", img.display()),
        "xvdb",
        "r",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("already connected"));

    // Detach by name: the guest loses it, dom0 frees the loop device.
    xm_ok(&["block-detach", &name, "xvdb"]);
    assert_eq!(in_guest(&g, "test -e /sys/block/xvdb || echo gone"), "gone");
    wait_until(Duration::from_secs(20), "the loop device to go", || {
        (!run_ok("losetup -a").contains(&img.display().to_string())).then_some(())
    });
    assert_eq!(xm_ok(&["block-list", &name]), "");
    let plan = run_ok(&format!("xenstore-read /libxl/{id}/xm-plan"));
    assert!(!plan.contains(&img.display().to_string()), "{plan}");

    // A guest that does not answer (here: paused) keeps the disk unless -f. (Linux 6.1's
    // blkfront lets go even of a disk in use: it marks it dead.)
    xm_ok(&[
        "block-attach",
        &name,
        &format!("phy:{DOM0_SCRATCH_BLOCKDEV}"),
        "xvdc",
        "w",
    ]);
    wait_until(IN_GUEST, "xvdc in the guest", || {
        let out = g.guest_cmd("cat /sys/block/xvdc/size", IN_GUEST);
        (out.rc == 0).then_some(())
    });
    assert_eq!(in_guest(&g, "cat /sys/block/xvdc/size"), "524288");
    xm_ok(&["pause", &name]);
    let out = xm(&["block-detach", &name, &XVDC.to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("did not let go"),
        "{}",
        text(&out.stderr)
    );
    assert!(xm_ok(&["block-list", &name]).contains(&format!("\n{XVDC}  ")));
    xm_ok(&["block-detach", "-f", &name, &XVDC.to_string()]);
    assert_eq!(xm_ok(&["block-list", &name]), "");
    xm_ok(&["unpause", &name]);
    wait_until(IN_GUEST, "xvdc to leave the guest", || {
        (in_guest(&g, "test -e /sys/block/xvdc || echo gone") == "gone").then_some(())
    });
    let out = xm(&["block-detach", &name, "xvdc"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("is not connected"));

    xm_ok(&["destroy", &name]);
    g.wait_gone(Duration::from_secs(60));
}

#[test]
fn network_attach_gives_the_guest_a_nic_it_pings_over_and_detach_removes_it() {
    require_lab!();
    let name = unique_name("hpn");
    let g = xm_created(&name, Guest::new(&name));
    let id = g.domid().unwrap();
    let mac = "00:16:3e:5a:0b:01";

    let out = xm(&["network-attach", &name, "colour=blue"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "Error: Invalid argument: colour=blue\n");

    xm_ok(&[
        "network-attach",
        &name,
        &format!("bridge={BRIDGE}"),
        &format!("mac={mac}"),
    ]);
    let vif = format!("vif{id}.0");
    assert!(
        run_ok(&format!("ls /sys/class/net/{BRIDGE}/brif")).contains(&vif),
        "{vif} on {BRIDGE}"
    );
    let list = xm_ok(&["network-list", &name]);
    let rows: Vec<&str> = list.lines().collect();
    assert_eq!(
        rows[0],
        "Idx BE     MAC Addr.     handle state evt-ch tx-/rx-ring-ref BE-path"
    );
    assert!(
        rows[1].starts_with(&format!("0   0  {mac}    0     ")),
        "{list}"
    );

    // The guest has the NIC and reaches dom0 over it.
    wait_until(IN_GUEST, "eth0 in the guest", || {
        let out = g.guest_cmd("cat /sys/class/net/eth0/address", IN_GUEST);
        (out.rc == 0).then_some(out.text)
    });
    assert_eq!(in_guest(&g, "cat /sys/class/net/eth0/address"), mac);
    in_guest(
        &g,
        &format!(
            "ip addr add 10.99.0.77/24 dev eth0 && ip link set eth0 up && ping -c 2 -W 5 {DOM0_IP} >/dev/null"
        ),
    );

    // Detach by MAC: gone from the bridge and from the guest.
    xm_ok(&["network-detach", &name, mac]);
    assert!(!run_ok(&format!("ls /sys/class/net/{BRIDGE}/brif")).contains(&vif));
    wait_until(IN_GUEST, "eth0 to leave the guest", || {
        (in_guest(&g, "test -e /sys/class/net/eth0 || echo gone") == "gone").then_some(())
    });
    assert_eq!(xm_ok(&["network-list", &name]), "");
    xm_ok(&["destroy", &name]);
    g.wait_gone(Duration::from_secs(60));
}

#[test]
fn devices_and_sizes_changed_on_a_running_domain_survive_its_reboot() {
    require_lab!();
    let name = unique_name("hpr");
    let g = xm_created(&name, Guest::new(&name).cfg("maxmem = 256"));
    let id = g.domid().unwrap();
    let img = scratch_disk(&name, 16);
    xm_ok(&[
        "block-attach",
        &name,
        &format!("file:{}", img.display()),
        "xvdb",
        "r",
    ]);
    xm_ok(&["network-attach", &name, &format!("bridge={BRIDGE}")]);
    xm_ok(&["mem-set", &name, "200"]);

    // Rebuilt by its monitor from the plan as it is now.
    xm_ok(&["reboot", &name]);
    let new = wait_until(Duration::from_secs(120), "the domain's restart", || {
        g.domid().filter(|&d| d != id)
    });
    wait_until(Duration::from_secs(120), "the restarted guest", || {
        (console_text(&name).matches(GUEST_UP).count() >= 2).then_some(())
    });
    let blocks = xm_ok(&["block-list", &name]);
    assert!(
        blocks.contains(&format!("\n{XVDB}  0    0     4 ")),
        "{blocks}"
    );
    let nics = xm_ok(&["network-list", &name]);
    assert!(
        nics.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("0   0  ")),
        "{nics}"
    );
    assert_eq!(
        in_guest(&g, "cat /sys/block/xvdb/size /sys/block/xvdb/ro"),
        "32768\n1"
    );
    let target = run_ok(&format!("xenstore-read /local/domain/{new}/memory/target"));
    assert_eq!(target.trim(), "204800");
    xm_ok(&["destroy", &name]);
    g.wait_gone(Duration::from_secs(60));
}

/// `hdc`'s device number (IDE 1 master, major 22); the guest calls it `xvdc`.
const HDC: u32 = 5632;

#[test]
fn block_configure_changes_a_cdroms_media_and_the_long_lists_show_the_devices() {
    require_lab!();
    let name = unique_name("hpc");
    let media = |tag: &str, mib: u64| {
        let img = scratch_disk(&format!("{name}-{tag}"), mib);
        run_ok(&format!(
            "printf media-{tag} | dd of={} conv=notrunc status=none",
            img.display()
        ));
        img
    };
    let (a, b) = (media("a", 4), media("b", 8));
    let g = xm_created(
        &name,
        Guest::new(&name)
            .vif()
            .disk(&format!("file:{},hdc:cdrom,r", a.display())),
    );
    let id = g.domid().unwrap();
    wait_until(IN_GUEST, "the cdrom in the guest", || {
        let out = g.guest_cmd("cat /sys/block/xvdc/size", IN_GUEST);
        (out.rc == 0).then_some(())
    });
    assert_eq!(
        in_guest(
            &g,
            "cat /sys/block/xvdc/size /sys/block/xvdc/ro; head -c 7 /dev/xvdc; echo"
        ),
        "8192\n1\nmedia-a"
    );

    // list -l: the record xendomains-style scripts grep, with the devices.
    let long = xm_ok(&["list", "-l", &name]);
    let grepped: Vec<&str> = long
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("(domain") || l.starts_with("(domid") || l.starts_with("(name"))
        .collect();
    assert_eq!(
        grepped,
        [
            "(domain".to_string(),
            format!("(domid {id})"),
            format!("(name {name})")
        ],
        "{long}"
    );
    for want in [
        format!("(uname file:{})", a.display()),
        "(dev hdc:cdrom)".to_string(),
        "(mode r)".to_string(),
        format!("(bridge {BRIDGE})"),
        "(console (protocol vt100) (location ".to_string(),
        "(on_crash ".to_string(),
    ] {
        assert!(long.contains(&want), "{want} missing from\n{long}");
    }
    // block-list -l: the frontend's nodes.
    let blocks = xm_ok(&["block-list", "-l", &name]);
    assert!(blocks.starts_with(&format!("({HDC}\n")), "{blocks}");
    for want in ["(device-type cdrom)", "(state 4)", "(backend-id 0)"] {
        assert!(blocks.contains(want), "{want} missing from\n{blocks}");
    }
    assert!(xm_ok(&["network-list", "-l", &name]).starts_with("(0\n"));

    // New media: the guest reads it at the same name; dom0 lets the old image go.
    xm_ok(&[
        "block-configure",
        &name,
        &format!("file:{}", b.display()),
        "hdc:cdrom",
        "r",
    ]);
    wait_until(IN_GUEST, "the new media in the guest", || {
        let out = g.guest_cmd("cat /sys/block/xvdc/size", IN_GUEST);
        (out.rc == 0 && out.text.trim() == "16384").then_some(())
    });
    assert_eq!(in_guest(&g, "head -c 7 /dev/xvdc; echo"), "media-b");
    let losetup = run_ok("losetup -a");
    assert!(!losetup.contains(&a.display().to_string()), "{losetup}");
    assert!(losetup.contains(&b.display().to_string()), "{losetup}");
    let list = xm_ok(&["block-list", &name]);
    assert_eq!(list.lines().count(), 2, "{list}");
    let plan = run_ok(&format!("xenstore-read /libxl/{id}/xm-plan"));
    assert!(plan.contains(&b.display().to_string()) && !plan.contains(&a.display().to_string()));

    // A disk is not a cdrom: refused, and left attached.
    xm_ok(&[
        "block-attach",
        &name,
        &format!("file:{}", a.display()),
        "xvdb",
        "r",
    ]);
    let out = xm(&[
        "block-configure",
        &name,
        &format!("file:{}", b.display()),
        "xvdb",
        "r",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not a cdrom"),
        "{}",
        text(&out.stderr)
    );
    assert!(xm_ok(&["block-list", &name]).contains(&format!("\n{XVDB}  ")));
    // An unknown domain is exit 3.
    let out = xm(&[
        "block-configure",
        "no-such-domain",
        "file:/x",
        "hdc:cdrom",
        "r",
    ]);
    assert_eq!(out.status.code(), Some(3));

    xm_ok(&["destroy", &name]);
    g.wait_gone(Duration::from_secs(60));
}
