//! `bootloader = "pygrub"` on the real Xen in the lab: Debian's pygrub picks the kernel from
//! the guest's own disk — a grub-legacy `menu.lst` on an LVM volume attached as a partition
//! (the seed's CE), a grub 2 `grub.cfg`, a whole disk with a partition table — and xm builds
//! the domain from what it extracted, with the config's `root=`/`extra` appended. The seed's
//! `/usr/lib/xen-3.0.3-1/bin/pygrub` becomes the host's with one warning; a bootloader that
//! fails leaves nothing behind; a kernel on the command line wins (the seed's install).

use std::collections::BTreeSet;
use std::time::Duration;

use lab_tests::*;

const BOOT: Duration = Duration::from_secs(180);
/// Boot filesystems the image ships (tests/lab/README.md, "Guests that boot through pygrub").
const GRUB2_FS: &str = "/xmlab/guest/boot-grub2.img";
const PARTITIONED_DISK: &str = "/xmlab/guest/disk-partitioned.img";

/// Where xm keeps a bootloader's output while it builds; nothing may stay there.
fn bootloader_dirs() -> BTreeSet<String> {
    std::fs::read_dir("/var/run/xen")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("xm-bootloader.") || n.starts_with("boot_"))
        .collect()
}

/// A private copy of one of the image's boot filesystems (the originals are shared).
fn copy_of(image: &str, name: &str) -> String {
    let path = format!("/tmp/{name}.img");
    run_ok(&format!("cp {image} {path}"));
    path
}

fn config(name: &str, lines: &str) -> String {
    let text = format!("name = \"{name}\"\nmemory = 128\n{lines}");
    write_config_file(name, &text).display().to_string()
}

/// `extra` that runs `script` in the guest (the lab init's `xmtest.cmd`).
fn extra_running(script: &str) -> String {
    let cmdline = Guest::new("x").cmd(script).cmdline();
    let cmd = cmdline
        .split_whitespace()
        .find(|w| w.starts_with("xmtest.cmd="))
        .unwrap()
        .to_string();
    format!("extra = \"{cmd}\"")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn seed_pygrub_path_boots_grub_legacy_from_an_lv_attached_as_a_partition() {
    require_lab!();
    run_ok("xmlab-vg");
    let name = unique_name("blce");
    let cfg = config(
        &name,
        &format!(
            "bootloader = \"/usr/lib/xen-3.0.3-1/bin/pygrub\"\n\
             disk = [ 'phy:xen0001_guests/ce.ngc6475.boot,xvdc1,w',\n\
                      'phy:xen0001_guests/ce.ngc6475.root,xvdc2,w' ]\n\
             root = \"/dev/xvdc2 ro\"\n{}\n",
            extra_running("cat /proc/cmdline; ls /sys/block")
        ),
    );
    let before = bootloader_dirs();
    let out = xm(&["create", &cfg]);
    let g = Running::adopt(&name);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // One warning line, naming both the configured and the host's pygrub.
    assert_eq!(
        text(&out.stderr),
        format!(
            "Warning: bootloader /usr/lib/xen-3.0.3-1/bin/pygrub does not exist: using this \
             host's {}\n",
            pygrub()
        )
    );
    let done = g.wait_cmd(BOOT);
    assert_eq!(done.rc, 0, "{}", done.text);
    let cmdline = done.text.lines().next().unwrap_or("");
    // The menu entry's arguments, then the config's root= and extra, as xm did.
    let menu = cmdline.find("console=hvc0").expect("menu.lst's args");
    let root = cmdline
        .find("root=/dev/xvdc2 ro")
        .expect("the config's root=");
    assert!(menu < root, "{cmdline}");
    assert!(cmdline.contains("xmtest.cmd="), "{cmdline}");
    assert!(done.text.contains("xvdc1") && done.text.contains("xvdc2"));
    // The kernel and initrd pygrub extracted are gone once the domain is built.
    assert_eq!(bootloader_dirs(), before);
    let list = text(&xm(&["list", &name]).stdout);
    assert!(list.contains(&name), "{list}");
    assert!(xm(&["shutdown", "-w", &name]).status.success());
    g.wait_gone(Duration::from_secs(60));
}

#[test]
fn grub2_menu_on_a_file_image_boots_and_every_reboot_runs_the_bootloader_again() {
    require_lab!();
    let name = unique_name("blg2");
    let img = copy_of(GRUB2_FS, &name);
    let cfg = config(
        &name,
        &format!(
            "bootloader = \"pygrub\"\ndisk = [ 'file:{img},xvda1,w' ]\n\
             root = \"/dev/xvda1 ro\"\non_reboot = 'restart'\n"
        ),
    );
    let out = xm(&["create", &cfg]);
    let g = Running::adopt(&name);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    g.wait_up(BOOT);
    let first = g.domid().unwrap();
    assert!(xm(&["reboot", &name]).status.success());
    // The monitor rebuilt it (a new domid) through pygrub again: a second boot.
    wait_until(BOOT, "the guest's second boot", || {
        let t = console_text(&name);
        (t.matches(GUEST_UP).count() >= 2).then_some(())
    });
    let second = g.domid().expect("running after reboot");
    assert_ne!(first, second);
    assert!(bootloader_dirs().is_empty(), "{:?}", bootloader_dirs());
    assert!(xm(&["destroy", &name]).status.success());
    g.wait_gone(Duration::from_secs(60));
}

#[test]
fn a_whole_disk_is_read_through_its_partition_table() {
    require_lab!();
    let name = unique_name("blpt");
    let img = copy_of(PARTITIONED_DISK, &name);
    let cfg = config(
        &name,
        &format!(
            "bootloader = \"pygrub\"\ndisk = [ 'file:{img},xvda,w' ]\nroot = \"/dev/xvda1 ro\"\n\
             {}\n",
            extra_running("ls /sys/block/xvda")
        ),
    );
    let out = xm(&["create", &cfg]);
    let g = Running::adopt(&name);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let done = g.wait_cmd(BOOT);
    // The guest sees the disk with its partition.
    assert!(done.text.contains("xvda1"), "{}", done.text);
    assert!(xm(&["destroy", &name]).status.success());
    g.wait_gone(Duration::from_secs(60));
}

#[test]
fn a_bootloader_that_fails_leaves_nothing_and_says_why() {
    require_lab!();
    let name = unique_name("blno");
    let blank = scratch_disk(&name, 16);
    let cfg = config(
        &name,
        &format!(
            "bootloader = \"pygrub\"\ndisk = [ 'file:{},xvda,w' ]\n",
            blank.display()
        ),
    );
    let store = store_snapshot();
    let out = xm(&["create", &cfg]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    // The step (the bootloader, on which disk) and pygrub's own last word. (A bare
    // `pygrub` is looked up as xm did: /usr/bin first, Debian's wrapper, then Xen's dirs.)
    assert!(err.starts_with("Error: bootloader /"), "{err}");
    assert!(
        err.contains(&format!(
            "pygrub on {} failed (exit status: 1): ",
            blank.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("Unable to find partition containing kernel"),
        "{err}"
    );
    assert!(!domain_exists(&name));
    assert!(store_snapshot().is_subset(&store), "{store:?}");
    assert!(bootloader_dirs().is_empty(), "{:?}", bootloader_dirs());

    // Any other missing bootloader is an error before anything is made.
    let cfg = config(
        &name,
        &format!(
            "bootloader = \"/usr/lib/xen/bin/no-such-loader\"\ndisk = [ 'file:{},xvda,w' ]\n",
            blank.display()
        ),
    );
    let out = xm(&["create", &cfg]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "Error: bootloader /usr/lib/xen/bin/no-such-loader does not exist\n"
    );
    assert!(!domain_exists(&name));
}

#[test]
fn the_seeds_install_a_kernel_on_the_command_line_wins_over_the_bootloader() {
    require_lab!();
    // A new guest: its config boots through pygrub, its disk is still blank; the installer
    // kernel comes from the command line, as in `xm create SLC4Xguest -c kernel=... ramdisk=...`.
    let name = unique_name("blin");
    let disk = scratch_disk(&name, 16);
    let cfg = config(
        &name,
        &format!(
            "bootloader = \"/usr/lib/xen-3.0.3-1/bin/pygrub\"\n\
             disk = [ 'file:{},xvda,w' ]\n",
            disk.display()
        ),
    );
    let install = Guest::new(&name)
        .kernel_args("")
        .cmd("echo installed-by-xm-create > /dev/xvda; sync")
        .cmdline();
    let s = XmSession::start(&[
        "create",
        &cfg,
        "-c",
        &format!("kernel={GUEST_KERNEL}"),
        &format!("ramdisk={GUEST_RAMDISK}"),
        &format!("extra={install}"),
    ]);
    let g = Running::adopt(&name);
    // The installer's first console line reaches `-c`. (Had the bootloader run, it would
    // have failed on the blank disk.)
    let shown = s.wait_for("Linux version", BOOT);
    assert!(shown.contains(&format!("Started domain {name}")), "{shown}");
    let done = s.wait_for(CMD_END, BOOT);
    assert!(done.contains("XMTEST-CMD-END rc=0"), "{done}");
    assert_eq!(s.detach(), Some(0));
    assert!(xm(&["destroy", &name]).status.success());
    g.wait_gone(Duration::from_secs(60));
    // The disk got written.
    let head = run_ok(&format!("head -c 23 {}", disk.display()));
    assert_eq!(head, "installed-by-xm-create\n");
}

#[test]
fn create_c_on_a_terminal_shows_the_bootloaders_menu_and_boots_the_entry_chosen() {
    require_lab!();
    // As at an admin's shell: `xm create -c` on a terminal runs pygrub without -q, so its menu
    // is shown and waits for a key; the guest boots the entry picked.
    let name = unique_name("blmenu");
    let cfg = config(
        &name,
        &format!(
            "bootloader = \"pygrub\"\ndisk = [ 'file:{BOOT_GRUB1_IMAGE},xvda1,r' ]\n\
             root = \"/dev/xvda1 ro\"\n{}\n",
            extra_running("cat /proc/cmdline")
        ),
    );
    let before = bootloader_dirs();
    let s = XmSession::start_on_terminal(&["create", "-c", &cfg]);
    let g = Running::adopt(&name);
    // pygrub's menu, both menu.lst titles; it counts down menu.lst's `timeout=3`.
    let menu = s.wait_for("Will boot selected entry in", BOOT);
    assert!(menu.contains("pyGRUB"), "{menu}");
    assert!(menu.contains("xmlab, entry 1"), "{menu}");
    // The domain is built from the entry chosen, so it does not exist while the menu is up.
    assert!(
        !domain_exists(&name),
        "a domain before the bootloader returned"
    );
    // Down (vt100's keypad sequence), then Enter: the second entry.
    s.type_in(b"\x1bOB");
    std::thread::sleep(Duration::from_millis(500));
    s.type_in(b"\r");
    let shown = s.wait_for(CMD_END, BOOT);
    let done = parse_cmd_output(&shown).expect("the guest's command output");
    assert_eq!(done.rc, 0, "{}", done.text);
    let cmdline = done.text.lines().next().unwrap_or("");
    assert!(cmdline.contains("xmlab.entry=1"), "{cmdline}");
    assert!(cmdline.contains("root=/dev/xvda1 ro"), "{cmdline}");
    assert_eq!(s.detach(), Some(0));
    assert_eq!(bootloader_dirs(), before);
    assert!(xm(&["destroy", &name]).status.success());
    g.wait_gone(Duration::from_secs(60));
}
