//! PV PCI passthrough on the real Xen, in the lab's PCI machine (`run-tests --pci`: QEMU q35
//! with an emulated Intel IOMMU, Xen booted with `iommu=1`, QEMU's `edu` device at
//! 0000:06:02.0 — the seed's `pci = ['06.02.0']` — bound to xen-pciback in dom0 with
//! `passthrough=1`, so the guest sees it at the same address). On demand and in `tests/run`;
//! excluded from the default boot, which has no IOMMU.

use std::time::Duration;

use lab_tests::*;

const EDU: &str = "0000:06:02.0";
const BOOT: Duration = Duration::from_secs(180);

/// Loads pcifront in the guest, waits for the device and prints its vendor and device ids
/// (config space, through pcifront and pciback), then the identification register at the
/// start of its BAR 0 (memory the domain was granted, read through /dev/mem).
const READ_IDS: &str = "modprobe xen-pcifront; d=/sys/bus/pci/devices/0000:06:02.0; \
    i=0; while [ ! -e $d/device ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done; \
    cat $d/vendor $d/device; echo 1 > $d/enable; devmem $(cut -d' ' -f1 $d/resource | head -1) 32";
/// What [`READ_IDS`] prints for QEMU's edu device (its BAR 0 starts with 0x010000ed:
/// version 1.0, and 0xed).
const EDU_IDS: &str = "0x1234\n0x11e8\n0x010000ED";

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `xm pci-list-assignable-devices`: is EDU on it? (The machine has a second edu device,
/// 0000:06:03.0, for the grid's SE, always listed here.)
fn edu_assignable() -> bool {
    let out = xm(&["pci-list-assignable-devices"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list = text(&out.stdout);
    assert!(list.contains("0000:06:03.0\n"), "{list}");
    list.lines().any(|l| l == EDU)
}

fn in_pci_machine() -> bool {
    std::path::Path::new(&format!("/sys/bus/pci/devices/{EDU}")).exists()
}

#[test]
fn the_seeds_pci_line_gives_the_guest_the_device_and_destroy_frees_it() {
    require_lab!();
    assert!(in_pci_machine(), "run with tests/lab/run-tests --pci");
    assert!(edu_assignable());

    let name = unique_name("pci");
    let g = Guest::new(&name).cfg("pci = ['06.02.0']").cmd(READ_IDS);
    let cfg = g.write_config();
    let out = xm(&["create", &cfg.to_string_lossy()]);
    let running = Running::adopt(&name);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The guest reads the device's ids from its config space, through pcifront.
    let done = running.wait_cmd(BOOT);
    assert_eq!(done.text.trim(), EDU_IDS, "{}", done.text);
    // Held: not assignable, listed for the domain, refused to a second domain.
    assert!(!edu_assignable());
    let list = text(&xm(&["pci-list", &name]).stdout);
    assert_eq!(list, "domain bus  slot func\n0x0000 0x06 0x02 0x0\n");
    let second = unique_name("pci2");
    let before = store_snapshot();
    let cfg2 = Guest::new(&second).cfg("pci = ['06.02.0']").write_config();
    let out = xm(&["create", &cfg2.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    let domid = running.domid().unwrap();
    assert_eq!(
        text(&out.stderr),
        format!("Error: PCI device {EDU} is not assignable: domain {domid} holds it\n")
    );
    assert!(!domain_exists(&second));
    assert!(store_snapshot().is_subset(&before));

    assert!(xm(&["destroy", &name]).status.success());
    running.wait_gone(Duration::from_secs(60));
    // Free again, for the next domain.
    wait_until(
        Duration::from_secs(20),
        "the device to be assignable again",
        || edu_assignable().then_some(()),
    );
}

#[test]
fn a_device_not_bound_to_pciback_is_refused_before_anything_is_built() {
    require_lab!();
    assert!(in_pci_machine(), "run with tests/lab/run-tests --pci");
    let name = unique_name("pcin");
    let before = store_snapshot();
    // 0000:00:1f.0 is q35's ISA bridge: it exists, but dom0 keeps it.
    let cfg = Guest::new(&name).cfg("pci = ['00:1f.0']").write_config();
    let out = xm(&["create", &cfg.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with(
            "Error: PCI device 0000:00:1f.0 is not assignable: it is not bound to xen-pciback"
        ),
        "{err}"
    );
    assert!(!domain_exists(&name));
    assert!(store_snapshot().is_subset(&before));
}

#[test]
fn pci_detach_and_attach_on_a_running_guest() {
    require_lab!();
    assert!(in_pci_machine(), "run with tests/lab/run-tests --pci");
    let name = unique_name("pcih");
    let g = Guest::new(&name).cfg("pci = ['06.02.0']").cmd(READ_IDS);
    let cfg = g.write_config();
    assert!(xm(&["create", &cfg.to_string_lossy()]).status.success());
    let running = Running::adopt(&name);
    assert_eq!(running.wait_cmd(BOOT).text.trim(), EDU_IDS);

    let out = xm(&["pci-detach", &name, "06:02.0"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&xm(&["pci-list", &name]).stdout), "");
    assert!(edu_assignable());

    let out = xm(&["pci-attach", &name, EDU]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&xm(&["pci-list", &name]).stdout),
        "domain bus  slot func\n0x0000 0x06 0x02 0x0\n"
    );
    assert!(!edu_assignable());
    assert!(xm(&["destroy", &name]).status.success());
    running.wait_gone(Duration::from_secs(60));
}

/// A guest that passes the bootloader and every PCI step: pygrub on the lab's grub-legacy
/// image (shared, so read-only) and the seed's pci line.
fn pygrub_pci_guest(name: &str) -> std::path::PathBuf {
    write_config_file(
        name,
        &format!(
            "name = \"{name}\"\nmemory = 128\nbootloader = \"pygrub\"\n\
             disk = [ 'file:{BOOT_GRUB1_IMAGE},xvda1,r' ]\nroot = \"/dev/xvda1 ro\"\n\
             pci = ['06.02.0']\n"
        ),
    )
}

/// The failpoints (xm/src/xen/failpoint.rs) a create with a bootloader and a PCI function
/// passes beyond those `xm_faults` covers, with the steps next to them.
const PCI_STEPS: &[&str] = &[
    "bootloader",
    "xc_domain_create",
    "xc_domain_set_memory_map",
    "hotplug:vbd",
    "pci",
    "xc_domain_iomem_permission",
    "xc_physdev_map_pirq",
    "xc_assign_device",
    "xc_domain_unpause",
];

#[test]
fn a_pci_create_failing_or_killed_at_any_step_leaves_the_device_assignable() {
    require_lab!();
    assert!(in_pci_machine(), "run with tests/lab/run-tests --pci");
    assert!(failpoints_available());
    assert!(edu_assignable());
    let before = Leftovers::now();
    let ids_before = xm_list_ids();
    for step in PCI_STEPS {
        let name = unique_name("pflt");
        let _guard = Running::adopt(&name);
        let line = create_failing_at(step, &pygrub_pci_guest(&name));
        wait_clean(&before, &format!("failing {step}"));
        assert!(edu_assignable(), "after failing {step}");
        note(&format!("{step}: {line}"));

        let name = unique_name("pkil");
        let _guard = Running::adopt(&name);
        let left = create_killed_at(step, &pygrub_pci_guest(&name), &ids_before);
        wait_clean(
            &before,
            &format!("killed at {step}, then xm destroy {left:?}"),
        );
        assert!(edu_assignable(), "after a kill at {step}");
        note(&format!("{step}: killed, left domains {left:?}, destroyed"));
    }
}

#[test]
fn a_claim_left_by_a_domain_that_has_gone_holds_nothing() {
    require_lab!();
    assert!(in_pci_machine(), "run with tests/lab/run-tests --pci");
    // As a domain's record looks for a moment after it has gone (its monitor removes it right
    // after the domain), or for good when that monitor was killed.
    run_ok("xenstore-write /libxl/pci/0000-06-02-0/domid 4242");
    assert!(edu_assignable(), "a record of a gone domain is no hold");
    let name = unique_name("pcis");
    let cfg = Guest::new(&name).cfg("pci = ['06.02.0']").write_config();
    let out = xm(&["create", &cfg.to_string_lossy()]);
    let running = Running::adopt(&name);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!edu_assignable());
    assert!(xm(&["destroy", &name]).status.success());
    running.wait_gone(Duration::from_secs(60));
    wait_until(
        Duration::from_secs(20),
        "the device to be free again",
        || edu_assignable().then_some(()),
    );
}
