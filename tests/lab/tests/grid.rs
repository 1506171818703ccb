//! The seed's grid, as written: the CE, the SE and two worker nodes from `examples/`
//! (copied byte for byte into dom0's `/xmlab/grid`), booting through pygrub from their LVM
//! volumes in `xen0001_guests`, with their own memory sizes, `cpu_weight` and PCI line, on one
//! bridge; then the seed's cold backup of a volume. Runs in the lab's PCI machine
//! (`run-tests --pci`: the CE's and SE's `pci = [...]` need an IOMMU and pciback), with the
//! memory they ask for.
//!
//! Site facts the lab provides (tests/lab/README.md): the VG and LVs (`xmlab-vg`), the PCI
//! function `06.02.0`; the SE's copy names `06.03.0` instead, since one function cannot be
//! in two domains of one host; the SL4.7 node's `/boot/vmlinuz` and `./initrd.img`.

use std::time::Duration;

use lab_tests::*;

const GRID: &str = "/xmlab/grid";
const BOOT: Duration = Duration::from_secs(300);

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `xm ARGS` run in `/xmlab/grid` (the configs are found on xm's search path there).
fn xm_in_grid(args: &str) -> std::process::Output {
    run_timeout(
        &format!("cd {GRID} && {} {args}", xm_path().unwrap().display()),
        600,
    )
}

/// Runs `script` in a running guest through the lab's xenstore command channel; its output
/// (from the guest's console, without the kernel's messages).
fn in_guest(name: &str, script: &str) -> (String, i32) {
    let out = run_timeout(
        &format!(
            "xmlab-guest-cmd -w 120 {name} '{}'",
            script.replace('\'', "'\\''")
        ),
        180,
    );
    // The kernel's messages land on the console too: `[  114.41] pcifront ...`.
    let kernel_message = |l: &&str| {
        l.strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .is_some_and(|(t, _)| t.trim().parse::<f64>().is_ok())
    };
    let output: String = text(&out.stdout)
        .lines()
        .filter(|l| !kernel_message(l))
        .map(|l| format!("{l}\n"))
        .collect();
    (output, out.status.code().unwrap_or(-1))
}

#[test]
fn the_seeds_grid_boots_through_pygrub_reaches_itself_and_shuts_down() {
    require_lab!();
    run_ok("xmlab-vg");
    let nodes = [
        ("ce.ngc6475", "ce.ngc6475", "194.190.165.216", 1024, 2),
        ("se.ngc6475", "se.ngc6475", "194.190.165.176", 512, 2),
        ("wn.tmpl vmid=1", "wn001", "10.165.2.1", 1024, 1),
        ("wn.tmpl vmid=2", "wn002", "10.165.2.2", 1024, 1),
    ];
    let guards: Vec<Running> = nodes
        .iter()
        .map(|(args, name, ..)| {
            let out = xm_in_grid(&format!("create -q {args}"));
            assert!(
                out.status.success(),
                "xm create {args}: {}",
                text(&out.stderr)
            );
            Running::adopt(name)
        })
        .collect();
    for g in &guards {
        g.wait_up(BOOT);
    }
    // The table, with each config's memory and vcpus.
    let list = text(&xm(&["list"]).stdout);
    for (_, name, _, mem, vcpus) in &nodes {
        let row = list
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} missing from\n{list}"));
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols[2], mem.to_string(), "{row}");
        assert_eq!(cols[3], vcpus.to_string(), "{row}");
    }
    // cpu_weight = 512 on the scheduler this Xen runs (tests/run boots the PCI machine with
    // credit on Debian 12, Xen's default credit2 on Debian 13).
    assert_eq!(weight_cap(&scheduler(), "ce.ngc6475").0, 512);
    // Every node reaches every other by the address its config names.
    for (_, name, ..) in &nodes {
        let pings: Vec<String> = nodes
            .iter()
            .filter(|(_, other, ..)| other != name)
            .map(|(_, _, ip, ..)| format!("ping -c 1 -W 5 {ip} >/dev/null && echo ok {ip}"))
            .collect();
        let (out, rc) = in_guest(name, &pings.join("; "));
        assert_eq!(rc, 0, "{name}: {out}");
        assert_eq!(out.matches("ok ").count(), 3, "{name}: {out}");
    }
    // The CE saw its PCI function.
    let (out, rc) = in_guest(
        "ce.ngc6475",
        "modprobe xen-pcifront; sleep 2; cat /sys/bus/pci/devices/0000:06:02.0/device",
    );
    assert_eq!((out.trim(), rc), ("0x11e8", 0));

    let out = xm(&["shutdown", "-a", "-w"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for (_, name, ..) in &nodes {
        assert!(!domain_exists(name), "{name} still there");
    }
}

#[test]
fn cold_backup_of_a_shut_down_guests_volume() {
    require_lab!();
    run_ok("xmlab-vg");
    // The SL4.7 node as written: its kernel from dom0, its whole disk an LV with a partition
    // table. It writes a file into its root partition, then is shut down, and dom0 backs the
    // volume up as the seed did: kpartx, mount, find the file, tar it.
    let out = xm_in_grid("create -q SL4.7_001.orig");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let g = Running::adopt("SL4.7_001");
    g.wait_up(BOOT);
    let (out, rc) = in_guest(
        "SL4.7_001",
        "mount /dev/xvda1 /mnt && echo grid-job-42 > /mnt/result.txt && umount /mnt && echo saved",
    );
    assert_eq!((out.trim(), rc), ("saved", 0));
    let out = xm(&["shutdown", "-w", "SL4.7_001"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    g.wait_gone(Duration::from_secs(60));

    let lv = "/dev/xen0001_guests/SL4.7_001";
    let part = "/dev/mapper/xen0001_guests-SL4.7_001p1";
    let backup = run_ok(&format!(
        "kpartx -a -s {lv} && mkdir -p /mnt/backup && mount -o ro {part} /mnt/backup && \
         find /mnt/backup -name result.txt && tar -C /mnt/backup -czf /tmp/SL4.7_001.tgz . ; \
         rc=$?; umount /mnt/backup; kpartx -d {lv}; exit $rc"
    ));
    assert!(backup.contains("/mnt/backup/result.txt"), "{backup}");
    let content = run_ok("tar -xzOf /tmp/SL4.7_001.tgz ./result.txt");
    assert_eq!(content, "grid-job-42\n");
    assert!(
        !std::path::Path::new(part).exists(),
        "kpartx -d left {part}"
    );
}
