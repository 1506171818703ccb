//! A create that fails, or is killed, at any step leaves nothing that `xm destroy` cannot take
//! away. Uses `xm-failpoints` (xm built with `--features failpoints`, shipped by run-tests):
//! every step of a create passes a named failpoint (src/xen/failpoint.rs), and
//! `FAILPOINTS=STEP=return` fails it, `STEP=return(hang)` stops there for a kill -9 or a
//! signal xm should stop at (Ctrl-C, SIGTERM, SIGHUP).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use lab_tests::*;

/// Every failpoint a create with a ramdisk, cpu weight and pinning, a disk and a vif passes,
/// in order. A name here that the code does not have would let the create succeed, which the
/// tests below refuse.
const STEPS: &[&str] = &[
    "xc_domain_create",
    "xc_domain_max_vcpus",
    "xc_domain_setmaxmem",
    "xc_evtchn_alloc_unbound:store",
    "xc_evtchn_alloc_unbound:console",
    "xc_domain_set_memmap_limit",
    "xc_domain_set_tsc_info",
    "xenstore:domain",
    "xc_dom_allocate",
    "xc_dom_kernel_file",
    "xc_dom_module_file",
    "xc_dom_boot_xen_init",
    "xc_dom_parse_image",
    "xc_dom_mem_init",
    "xc_dom_boot_mem_init",
    "xc_dom_build_image",
    "xc_dom_boot_image",
    "xc_dom_gnttab_init",
    "sched:weight-cap",
    "xc_vcpu_setaffinity",
    "xenstore:post-build",
    "xs_introduce",
    "hotplug:vbd",
    "hotplug:vif",
    "xc_domain_unpause",
    "monitor",
];

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A guest that passes every step: kernel and ramdisk, 2 vcpus pinned, a weight, a disk, a vif.
fn faulty_guest(name: &str, disk: &Path) -> PathBuf {
    Guest::new(name)
        .vcpus(2)
        .disk(&format!("file:{},xvdb,w", disk.display()))
        .vif()
        .cfg("cpu_weight = 300")
        .cfg("cpus = \"0-1\"")
        .write_config()
}

#[test]
fn a_create_failing_at_any_step_leaves_nothing() {
    require_lab!();
    assert!(failpoints_available());
    let disk = scratch_disk(&unique_name("fdisk"), 16);
    let before = Leftovers::now();
    for step in STEPS {
        let name = unique_name("flt");
        let cfg = faulty_guest(&name, &disk);
        let _guard = Running::adopt(&name);
        let line = create_failing_at(step, &cfg);
        wait_clean(&before, &format!("failing {step}"));
        note(&format!("{step}: {line}"));
    }
}

#[test]
fn a_create_killed_at_any_step_is_shown_and_destroyed() {
    require_lab!();
    assert!(failpoints_available());
    let disk = scratch_disk(&unique_name("kdisk"), 16);
    let before = Leftovers::now();
    let ids_before = xm_list_ids();
    for step in STEPS {
        let name = unique_name("kil");
        let cfg = faulty_guest(&name, &disk);
        let left = create_killed_at(step, &cfg, &ids_before);
        wait_clean(
            &before,
            &format!("killed at {step}, then xm destroy {left:?}"),
        );
        note(&format!("{step}: left domains {left:?}, destroyed"));
    }
}

/// kill -9 where it really lands: at moments spread evenly over a whole create through pygrub
/// with a file disk and a vif (the bootloader, the block script's losetup and the vif script
/// included), not at the steps the code chose. After each, `xm destroy` of whatever `xm list`
/// shows leaves nothing: no domain, store node, loop device, vif, monitor, bootloader
/// directory or QEMU. (A block script a killed xm left running used to attach its loop device,
/// or write its backend's nodes again, after destroy had read the store.) `XM_LAB_KILL_MOMENTS`
/// sets how many moments (50), `XM_LAB_KILL_OFFSET` where in each of their equal slices of the
/// create the kill lands (0.5, the middle): tests/run takes 25 at 0.25 on Debian 12 and 25 at
/// 0.75 on Debian 13, 50 evenly spread moments between them.
#[test]
fn a_create_killed_at_moments_spread_over_it_leaves_nothing_after_destroy() {
    require_lab!();
    let moments: u32 = std::env::var("XM_LAB_KILL_MOMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let offset: f64 = std::env::var("XM_LAB_KILL_OFFSET")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|o: &f64| (0.0..1.0).contains(o))
        .unwrap_or(0.5);
    let img = format!("/tmp/xmlab/disks/{}.img", unique_name("kmom"));
    std::fs::create_dir_all("/tmp/xmlab/disks").unwrap();
    run_ok(&format!("cp {BOOT_GRUB2_IMAGE} {img}"));
    let cfg = |name: &str| {
        write_config_file(
            name,
            &format!(
                "name = \"{name}\"\nmemory = 128\nbootloader = \"pygrub\"\n\
                 disk = [ 'file:{img},xvda,w' ]\nvif = [ 'bridge={BRIDGE}' ]\n\
                 on_poweroff = 'destroy'\non_crash = 'destroy'\n"
            ),
        )
    };
    let before = Leftovers::now();
    let ids_before = xm_list_ids();
    // How long a whole create takes here, now.
    let name = unique_name("kmo");
    let t = Instant::now();
    xm_ok(&["create", "-q", &cfg(&name).to_string_lossy()]);
    let whole = t.elapsed();
    xm_ok(&["destroy", &name]);
    wait_clean(&before, "a whole create, destroyed");
    note(&format!(
        "a whole create: {:.2} s; {moments} kills spread over it",
        whole.as_secs_f64()
    ));
    let mut landed = Vec::new();
    for i in 0..moments {
        let at = whole.mul_f64((f64::from(i) + offset) / f64::from(moments));
        let name = unique_name("kmo");
        let mut child = Command::new(xm_path().unwrap())
            .args(["create", "-q", &cfg(&name).to_string_lossy()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(at);
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill();
        let _ = child.wait();
        let left: Vec<u32> = xm_list_ids().difference(&ids_before).copied().collect();
        for id in &left {
            let out = xm(&["destroy", &id.to_string()]);
            assert!(
                out.status.success(),
                "killed at {:.2} s: destroy {id}: {}",
                at.as_secs_f64(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        wait_clean(
            &before,
            &format!(
                "killed at {:.2} s, then xm destroy {left:?}",
                at.as_secs_f64()
            ),
        );
        landed.push(format!(
            "{:.2}s:{}",
            at.as_secs_f64(),
            if finished {
                "done"
            } else if left.is_empty() {
                "none"
            } else {
                "dom"
            }
        ));
    }
    note(&format!(
        "kills (moment: what was there): {}",
        landed.join(" ")
    ));
    std::fs::remove_file(&img).unwrap();
}

/// Ctrl-C (SIGINT), `kill` (SIGTERM) or a closed terminal (SIGHUP) in the middle of a create:
/// xm stops at its next step and undoes what it did, as for a failure there. Nothing is left,
/// with no `xm destroy` needed, and xm says which signal stopped it.
#[test]
fn a_create_interrupted_at_any_step_undoes_itself() {
    require_lab!();
    assert!(failpoints_available());
    let disk = scratch_disk(&unique_name("idisk"), 16);
    let before = Leftovers::now();
    let ids_before = xm_list_ids();
    let signals = ["INT", "TERM", "HUP"];
    for (i, step) in STEPS.iter().enumerate() {
        let signal = signals[i % signals.len()];
        let name = unique_name("int");
        let cfg = faulty_guest(&name, &disk);
        let _guard = Running::adopt(&name);
        let (rc, err) = xm_interrupted_at(step, &format!("create -q {}", cfg.display()), signal);
        assert_eq!(rc, Some(1), "{step}, SIG{signal}: {err}");
        assert!(
            err.contains(&format!(
                "Error: interrupted by SIG{signal} (stopped before "
            )),
            "{step}, SIG{signal}: {err}"
        );
        assert_eq!(
            xm_list_ids(),
            ids_before,
            "{step}, SIG{signal}: a domain is left"
        );
        wait_clean(&before, &format!("interrupted at {step} by SIG{signal}"));
        note(&format!(
            "{step}, SIG{signal}: {}",
            err.lines().find(|l| l.starts_with("Error: ")).unwrap_or("")
        ));
    }
}

/// A domain whose xenstore nodes are missing or malformed does not break the commands that
/// walk every domain.
#[test]
fn list_and_shutdown_all_survive_a_domain_without_its_nodes() {
    require_lab!();
    let broken = unique_name("brk");
    let cfg = pvgrub_config(&broken);
    let out = xm(&["create", "-q", "-p", &cfg.to_string_lossy()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let _guard = Running::adopt(&broken);
    let id = domid(&broken).unwrap();
    // Malformed memory target and vm path, no name, no control node.
    run_ok(&format!(
        "xenstore-write /local/domain/{id}/memory/target garbage /local/domain/{id}/vm nowhere; \
         xenstore-rm /local/domain/{id}/name; xenstore-rm /local/domain/{id}/control"
    ));
    assert!(xm_list_ids().contains(&id));
    let out = xm(&["list", "-l"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // -a asks the others and names the one it cannot ask.
    let out = xm(&["shutdown", "-a"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("(id {id}) skipped")),
        "{}",
        stderr(&out)
    );
    // No node was made for it on the way.
    assert!(
        !run(&format!("xenstore-exists /local/domain/{id}/control"))
            .status
            .success()
    );
    let out = xm(&["destroy", &id.to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !run(&format!("xenstore-exists /local/domain/{id}"))
            .status
            .success()
    );
}

/// A hotplug script that never finishes is killed (with what it started) after a bounded
/// wait; the create fails naming the device and the script, and is undone.
#[test]
fn a_hotplug_script_that_never_finishes_is_killed_and_the_create_undone() {
    require_lab!();
    let script = "/tmp/xmlab/hang-vif-script";
    std::fs::create_dir_all("/tmp/xmlab").unwrap();
    std::fs::write(script, "#!/bin/sh\nsleep 86399\n").unwrap();
    run_ok(&format!("chmod 755 {script}"));
    let before = Leftovers::now();
    let name = unique_name("hng");
    let cfg = Guest::new(&name)
        .vif_spec(&format!("bridge={BRIDGE},script={script}"))
        .write_config();
    // The bound is 120 s unless XM_HOTPLUG_TIMEOUT says otherwise: 10 s here.
    let out = run(&format!(
        "XM_HOTPLUG_TIMEOUT=10 {XM} create {}",
        cfg.display()
    ));
    let _guard = Running::adopt(&name);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("vif 0 of domain")
            && err.contains(script)
            && err.contains("did not finish within 10 s"),
        "{err}"
    );
    assert_eq!(
        run_ok("pgrep -f 'sleep 86399' || true"),
        "",
        "the script's child lives on"
    );
    wait_clean(&before, "a stuck hotplug script");
}

/// xenstored stopped (SIGSTOP): a command gives up after the documented reply timeout with
/// an error naming xenstored, and a create is undone (its domain destroyed through the
/// hypervisor even though the store cannot be asked).
#[test]
fn a_xenstored_that_does_not_answer_is_named_after_a_bounded_wait() {
    require_lab!();
    let name = unique_name("xsd");
    let cfg = pvgrub_config(&name);
    let before = Leftovers::now();
    let pid = run_ok("pidof xenstored").trim().to_string();
    assert!(!pid.is_empty());
    // Both commands at once while xenstored is stopped, then it goes on.
    let out = run(&format!(
        "kill -STOP {pid}; \
         {XM} list >/tmp/xmlab/xsd-list.out 2>&1 & l=$!; \
         {XM} create -q {} >/tmp/xmlab/xsd-create.out 2>&1 & c=$!; \
         wait $l; echo list=$?; wait $c; echo create=$?; kill -CONT {pid}",
        cfg.display()
    ));
    let _guard = Running::adopt(&name);
    let codes = String::from_utf8_lossy(&out.stdout).into_owned();
    let list = std::fs::read_to_string("/tmp/xmlab/xsd-list.out").unwrap_or_default();
    let create = std::fs::read_to_string("/tmp/xmlab/xsd-create.out").unwrap_or_default();
    assert!(
        codes.contains("list=1") && codes.contains("create=1"),
        "{codes}\n{list}\n{create}"
    );
    for text in [&list, &create] {
        assert!(
            text.contains("xenstored did not answer within 30 s"),
            "{text}"
        );
    }
    // The create's domain is gone, and nothing else was left.
    wait_clean(&before, "a create while xenstored was stopped");
}

/// Another Xen release than the one xm was built for (failpoint `xen_release` makes the
/// running one read 0.0): one line naming both, exit 1, and nothing done.
#[test]
fn another_hypervisor_release_is_refused_in_one_line_before_anything() {
    require_lab!();
    assert!(failpoints_available());
    let before = Leftovers::now();
    let cfg = pvgrub_config(&unique_name("rel"));
    for args in ["list", "info", &format!("create -p {}", cfg.display())] {
        let out = run(&format!(
            "FAILPOINTS='xen_release=return' {XM_FAILPOINTS} {args}"
        ));
        assert_eq!(out.status.code(), Some(1), "{args}");
        assert_eq!(
            stderr(&out),
            format!(
                "Error: this xm was built for Xen {}, but the hypervisor is Xen 0.0: \
                 use an xm built for Xen 0.0\n",
                xen_release()
            ),
            "{args}"
        );
        // Nothing but create's `Using config file` line, which comes before the check.
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.lines().all(|l| l.starts_with("Using config file")),
            "{args}: {stdout}"
        );
    }
    let now = Leftovers::now();
    assert!(
        now.adds_nothing_to(&before),
        "{now:#?}\nbefore:\n{before:#?}"
    );
}

/// xenconsoled not answering (SIGSTOP): `xm create -c` gives up after its documented 5 s,
/// names xenconsoled, and destroys the domain it made.
#[test]
fn create_c_without_xenconsoled_names_it_and_leaves_nothing() {
    require_lab!();
    let before = Leftovers::now();
    let name = unique_name("xcd");
    let cfg = pvgrub_config(&name);
    let pid = run_ok("pidof xenconsoled").trim().to_string();
    let out = run(&format!(
        "kill -STOP {pid}; {XM} create -c {} </dev/null; rc=$?; kill -CONT {pid}; exit $rc",
        cfg.display()
    ));
    let _guard = Running::adopt(&name);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("stayed empty for 5s (is xenconsoled running?)"),
        "{err}"
    );
    wait_clean(&before, "create -c without xenconsoled");
}
