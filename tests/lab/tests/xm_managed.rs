//! Managed domains (`xm new`, `start`, `suspend`, `resume`, `delete`) on the real Xen: a
//! domain defined once, listed while halted as xm listed it (no id, no state, memory from its
//! config), started, suspended to its image and resumed, shut down (listed again), deleted.

use std::time::Duration;

use lab_tests::*;

/// The `xm list` row of a managed domain that is not running.
fn resting_row(name: &str, state: &str) -> String {
    format!(
        "{name:<40} {:>5} {:>5} {:>5} {state:>10} {:>8}",
        "", 128, 1, "0.0"
    )
}

#[test]
fn a_managed_domain_is_defined_started_suspended_resumed_and_deleted() {
    require_lab!();
    // dom0's root file system is small (a suspended image is the guest's memory): the
    // default directory goes on a tmpfs, as /var/lib would be a real disk on a host.
    run_ok(
        "mkdir -p /var/lib/xm/domains && (mountpoint -q /var/lib/xm/domains || \
         mount -t tmpfs -o size=512m tmpfs /var/lib/xm/domains)",
    );
    let name = unique_name("mg");
    let cfg = Guest::new(&name).write_config();
    let before = Leftovers::now();
    xm_ok(&["new", &cfg.to_string_lossy()]);
    let list = xm_ok(&["list"]);
    assert!(list.lines().any(|l| l == resting_row(&name, "")), "{list}");
    assert_eq!(
        xm_ok(&["list", &name]).lines().nth(1),
        Some(resting_row(&name, "").as_str())
    );
    let long = xm_ok(&["list", "-l", &name]);
    assert!(
        long.contains("    (status 0)\n") && long.contains(&format!("    (name {name})\n")),
        "{long}"
    );
    // Not in the hypervisor: commands on live domains do not see it.
    xm_fails(&["destroy", &name], 3);
    xm_fails(&["start", "no-such-managed-domain"], 3);

    xm_ok(&["start", &name]);
    let g = Running::adopt(&name);
    g.wait_up(Duration::from_secs(120));
    let id = g.domid().unwrap();
    let err = xm_fails(&["start", &name], 1);
    assert!(err.contains("already running"), "{err}");
    let err = xm_fails(&["delete", &name], 1);
    assert!(err.contains("is running"), "{err}");
    // Its UUID is the one it was defined with, every time.
    let uuid = run_ok(&format!("xenstore-read /local/domain/{id}/vm"));
    assert!(
        long.contains(&format!(
            "(uuid {})",
            uuid.trim().trim_start_matches("/vm/")
        )),
        "{long}\n{uuid}"
    );

    xm_ok(&["suspend", &name]);
    xm_fails(&["domid", &name], 3);
    let list = xm_ok(&["list"]);
    assert!(
        list.lines().any(|l| l == resting_row(&name, "---s--")),
        "{list}"
    );
    let err = xm_fails(&["start", &name], 1);
    assert!(err.contains("suspended"), "{err}");
    xm_ok(&["resume", &name]);
    let back = wait_until(Duration::from_secs(10), "the resumed domain", || g.domid());
    assert_ne!(back, id);
    assert_eq!(
        console_text(&name).matches(GUEST_UP).count(),
        1,
        "resumed, not rebooted"
    );
    let out = g.guest_cmd("echo resumed", Duration::from_secs(60));
    assert!(out.has_line("resumed"), "{}", out.text);
    let err = xm_fails(&["resume", &name], 1);
    assert!(err.contains("not suspended"), "{err}");

    xm_ok(&["shutdown", "-w", &name]);
    let list = xm_ok(&["list"]);
    assert!(list.lines().any(|l| l == resting_row(&name, "")), "{list}");
    xm_ok(&["delete", &name]);
    xm_fails(&["list", &name], 3);
    assert!(!xm_ok(&["list"]).contains(&name));
    wait_clean(&before, "a managed domain, deleted");
}
