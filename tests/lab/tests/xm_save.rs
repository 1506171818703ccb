//! `xm save` and `xm restore` on the real Xen: a guest with a counter on its console, a NIC and
//! a disk is saved to a file in xend's layout and restored; the counter carries on without a
//! reboot, the guest answers over its NIC and reads its disk, its `on_*` actions still hold.
//! `save -c` keeps the guest running; bad files are refused before any domain is made.

use std::path::PathBuf;
use std::time::Duration;

use lab_tests::*;

const IN_GUEST: Duration = Duration::from_secs(60);

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn save_path(name: &str) -> PathBuf {
    let dir = PathBuf::from("/tmp/xmlab/save");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{name}.chk"))
}

#[test]
fn save_then_restore_brings_the_same_guest_back_where_it_stopped() {
    require_lab!();
    let name = unique_name("sv");
    let img = marked_disk(&name, "xm-save-marker");
    let ip = "10.99.0.81";
    let before = Leftovers::now();
    let g = xm_created(
        &name,
        Guest::new(&name)
            .memory(128)
            .vif()
            .ip(&format!("{ip}/24"))
            .disk(&format!("file:{},xvdb,r", img.display()))
            .cfg("on_poweroff = \"destroy\""),
    );
    let id = g.domid().unwrap();
    let uuid = run_ok(&format!("xenstore-read /local/domain/{id}/vm"));
    let ticks = start_ticks(&g);

    let file = save_path(&name);
    let file_s = file.display().to_string();
    // Quiet, as xm was (libxenguest's progress lines are not shown).
    let out = xm(&["save", &name, &file_s]);
    assert!(
        out.status.success() && out.stderr.is_empty() && out.stdout.is_empty(),
        "{}",
        text(&out.stderr)
    );
    // Gone, and all of it: store nodes, loop device, vif, monitor.
    xm_fails(&["list", &name], 3);
    wait_clean(&before, "a saved domain");
    // xend's layout: the signature, the record scripts grep, then the stream.
    assert_eq!(run_ok(&format!("head -c 16 {file_s}")), "LinuxGuestRecord");
    let record = run_ok(&format!("head -c 4096 {file_s} | strings | head -40"));
    assert!(record.contains(&format!("(name {name})")), "{record}");
    assert!(record.contains("(device"), "{record}");
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size > 128 << 20, "a 128 MiB guest's save is {size} bytes");
    let stopped_at = last_tick(&name).unwrap();
    assert!(stopped_at >= ticks);

    let out = xm(&["restore", &file_s]);
    assert!(
        out.status.success() && out.stderr.is_empty() && out.stdout.is_empty(),
        "{}",
        text(&out.stderr)
    );
    let new = wait_until(Duration::from_secs(10), "the restored domain", || g.domid());
    assert_ne!(new, id);
    // The same domain: name, UUID; the counter goes on, and the guest did not boot again.
    assert_eq!(
        run_ok(&format!("xenstore-read /local/domain/{new}/vm")),
        uuid
    );
    wait_until(IN_GUEST, "the counter to go on", || {
        last_tick(&name).filter(|&t| t > stopped_at + 2)
    });
    assert_eq!(console_text(&name).matches(GUEST_UP).count(), 1);
    // Its devices reconnected: the disk reads, the NIC answers.
    let out = g.guest_cmd("head -c 14 /dev/xvdb; echo", IN_GUEST);
    assert!(
        out.rc == 0 && out.has_line("xm-save-marker"),
        "{}",
        out.text
    );
    run_ok(&format!("ping -c 2 -W 5 {ip} >/dev/null"));
    let list = xm_ok(&["list", &name]);
    assert!(
        list.lines().nth(1).is_some_and(|l| l.contains(" 128 ")),
        "{list}"
    );
    // Its on_* actions hold: the monitor came back with it.
    xm_ok(&["shutdown", "-w", &name]);
    xm_fails(&["list", &name], 3);
    wait_clean(&before, "the restored domain, shut down");
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn save_c_keeps_the_guest_running_and_bad_files_are_refused_before_anything_is_made() {
    require_lab!();
    let name = unique_name("svc");
    let g = xm_created(&name, Guest::new(&name).memory(128));
    let id = g.domid().unwrap();
    let ticks = start_ticks(&g);
    let file = save_path(&name);
    let file_s = file.display().to_string();

    xm_ok(&["save", "-c", &name, &file_s]);
    assert_eq!(g.domid(), Some(id));
    wait_until(IN_GUEST, "the counter to go on", || {
        last_tick(&name).filter(|&t| t > ticks + 2)
    });
    let out = g.guest_cmd("echo still-here", IN_GUEST);
    assert!(out.has_line("still-here"), "{}", out.text);
    // A paused guest cannot suspend itself: refused at once, the guest untouched.
    xm_ok(&["pause", &name]);
    let err = xm_fails(
        &[
            "save",
            &name,
            &save_path(&format!("{name}-p")).display().to_string(),
        ],
        1,
    );
    assert!(err.contains("not running"), "{err}");
    assert!(!save_path(&format!("{name}-p")).exists());
    xm_ok(&["unpause", &name]);

    // A copy of a running domain is refused while the original runs (its name and UUID).
    let ids = xm_list_ids();
    let err = xm_fails(&["restore", &file_s], 1);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(xm_list_ids(), ids);

    // Truncated, corrupt and foreign files: refused with the reason, nothing made.
    let before = Leftovers::now();
    let size = std::fs::metadata(&file).unwrap().len();
    let bad = |what: &str, cmd: String, expect: &str| {
        let path = save_path(&format!("{name}-{what}"));
        run_ok(&cmd.replace("OUT", &path.display().to_string()));
        let err = xm_fails(&["restore", &path.display().to_string()], 1);
        assert!(err.contains(expect), "{what}: {err}");
        assert_eq!(xm_list_ids(), ids, "{what}");
        std::fs::remove_file(&path).unwrap();
    };
    bad(
        "cut",
        format!("head -c {} {file_s} > OUT", size / 2),
        "truncated",
    );
    bad("head", format!("head -c 18 {file_s} > OUT"), "truncated");
    bad("elf", "cp /bin/true OUT".into(), "LinuxGuestRecord");
    bad(
        "zeroed",
        format!(
            "cp {file_s} OUT && dd if=/dev/zero of=OUT bs=1 seek=20 count=8 conv=notrunc status=none"
        ),
        "corrupt",
    );
    wait_clean(&before, "refused restores");
    let out = xm(&["restore", "/nonexistent/x.chk"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "Error: xm restore: Unable to read file /nonexistent/x.chk\n"
    );
    let out = xm(&["save", &name, "/nonexistent/x.chk"]);
    assert_eq!(
        text(&out.stderr),
        "Error: xm save: Unable to create file /nonexistent/x.chk\n"
    );
    assert_eq!(g.domid(), Some(id));
    xm_fails(&["save", "no-such-domain", &file_s], 3);

    // After the checkpoint its monitor still acts: a reboot comes back as a new domain.
    let out = xm(&["reboot", "-w", &name]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(g.domid().is_some_and(|d| d != id));
    // Once the original is gone, the checkpoint restores.
    xm_ok(&["destroy", &name]);
    g.wait_gone(Duration::from_secs(60));
    xm_ok(&["restore", "-p", &file_s]);
    let list = xm_ok(&["list", &name]);
    assert!(list.contains("--p---") || list.contains(" p"), "{list}");
    xm_ok(&["unpause", &name]);
    let out = g.guest_cmd("echo restored", IN_GUEST);
    assert!(out.has_line("restored"), "{}", out.text);
    xm_ok(&["destroy", &name]);
    g.wait_gone(Duration::from_secs(60));
    std::fs::remove_file(&file).unwrap();
}

/// `xm-failpoints ARGS` with failpoint `step` set to `action`; its output.
fn xm_failing(step: &str, action: &str, args: &str) -> std::process::Output {
    run(&format!(
        "FAILPOINTS='{step}={action}' {XM_FAILPOINTS} {args}"
    ))
}

#[test]
fn a_save_or_restore_failing_or_killed_at_any_step_leaves_the_guest_or_nothing() {
    require_lab!();
    assert!(failpoints_available());
    let name = unique_name("svf");
    let img = scratch_disk(&name, 8);
    let before = Leftovers::now();
    let g = xm_created(
        &name,
        Guest::new(&name)
            .vif()
            .disk(&format!("file:{},xvdb,r", img.display())),
    );
    let id = g.domid().unwrap();
    let ticks = start_ticks(&g);
    let file = save_path(&name);
    let file_s = file.display().to_string();

    // A save that fails before or after the guest suspended: the guest runs on, no file.
    for step in ["xc_domain_save", "save:suspended"] {
        let out = xm_failing(step, "return", &format!("save {name} {file_s}"));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{step}: {err}");
        assert!(err.contains(step), "{step}: {err}");
        assert!(!file.exists(), "{step}: the file is left");
        assert_eq!(g.domid(), Some(id), "{step}");
        let at = last_tick(&name).unwrap();
        wait_until(IN_GUEST, "the counter to go on", || {
            last_tick(&name).filter(|&t| t > at + 1)
        });
        assert!(at >= ticks);
        let out = g.guest_cmd("head -c 3 /dev/xvdb | wc -c", IN_GUEST);
        assert!(out.has_line("3"), "{step}: {}", out.text);
    }

    // Interrupted before or after the guest suspended (Ctrl-C, kill): the same.
    for (step, signal) in [("xc_domain_save", "TERM"), ("save:suspended", "INT")] {
        let (rc, err) = xm_interrupted_at(step, &format!("save {name} {file_s}"), signal);
        assert_eq!(rc, Some(1), "{step}: {err}");
        assert!(
            err.contains(&format!("interrupted by SIG{signal}")),
            "{step}: {err}"
        );
        assert!(!file.exists(), "{step}: the file is left");
        assert_eq!(g.domid(), Some(id), "{step}");
        let at = last_tick(&name).unwrap();
        wait_until(IN_GUEST, "the counter to go on", || {
            last_tick(&name).filter(|&t| t > at + 1)
        });
    }

    xm_ok(&["save", &name, &file_s]);
    wait_clean(&before, "the saved domain");
    // A restore that fails at any step, or is killed there, leaves nothing once destroyed.
    for step in [
        "xc_domain_create",
        "xenstore:domain",
        "xc_domain_restore",
        "xenstore:post-build",
        "xs_introduce",
        "hotplug:vbd",
        "hotplug:vif",
        "xc_domain_unpause",
        "monitor",
    ] {
        let ids = xm_list_ids();
        let out = xm_failing(step, "return", &format!("restore {file_s}"));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{step}: {err}");
        assert!(err.contains(step), "{step}: {err}");
        assert_eq!(xm_list_ids(), ids, "{step}: a domain is left");
        wait_clean(&before, &format!("a restore failing at {step}"));
    }
    for step in ["xc_domain_restore", "hotplug:vif"] {
        xm_killed_at(step, &format!("restore {file_s}"), &xm_list_ids());
        wait_clean(&before, &format!("a restore killed at {step}"));
    }
    // Interrupted: it undoes itself, with no xm destroy.
    for (step, signal) in [("xc_domain_restore", "INT"), ("monitor", "HUP")] {
        let ids = xm_list_ids();
        let (rc, err) = xm_interrupted_at(step, &format!("restore {file_s}"), signal);
        assert_eq!(rc, Some(1), "{step}: {err}");
        assert!(
            err.contains(&format!("interrupted by SIG{signal}")),
            "{step}: {err}"
        );
        assert_eq!(xm_list_ids(), ids, "{step}: a domain is left");
        wait_clean(&before, &format!("a restore interrupted at {step}"));
    }
    // The file is still good.
    xm_ok(&["restore", &file_s]);
    let out = g.guest_cmd("head -c 3 /dev/xvdb | wc -c", IN_GUEST);
    assert!(out.has_line("3"), "{}", out.text);
    xm_ok(&["destroy", &name]);
    g.wait_gone(Duration::from_secs(60));
    wait_clean(&before, "the restored domain, destroyed");
    std::fs::remove_file(&file).unwrap();
}
