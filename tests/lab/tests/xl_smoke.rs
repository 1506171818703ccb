//! Smoke test of the lab itself, with Debian's own `xl`: if these fail, the lab is broken,
//! not xm. Runs inside dom0 (tests/lab/run-tests); skipped elsewhere.

use lab_tests::*;
use std::time::Duration;

// Generous: under TCG on a loaded 2-core host a guest boot can take 10x longer than idle.
const BOOT: Duration = Duration::from_secs(120);
const GONE: Duration = Duration::from_secs(60);

#[test]
fn xl_info_reports_the_images_xen_release() {
    require_lab!();
    let info = xl_ok(&["info"]);
    let field = |k: &str| {
        info.lines()
            .find(|l| l.split(':').next().is_some_and(|f| f.trim() == k))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| panic!("no `{k}` in xl info:\n{info}"))
    };
    // The image's release (4.17 on Debian 12, 4.20 on Debian 13), as build-image recorded it.
    let release = xen_release();
    let (major, minor) = release.split_once('.').expect("XEN=MAJOR.MINOR");
    assert_eq!(field("xen_major"), major);
    assert_eq!(field("xen_minor"), minor);
    assert_eq!(field("nr_cpus"), "2");
    let list = xl_ok(&["list"]);
    assert!(list.lines().any(|l| l.starts_with("Domain-0 ")), "{list}");
}

#[test]
fn pv_guest_console_marker_then_shutdown_w() {
    require_lab!();
    let name = unique_name("smoke");
    let g = Guest::new(&name).start();
    let console = g.wait_up(BOOT);
    assert!(console.contains(&format!("name={name}")), "{console}");
    assert!(
        xl_ok(&["list"])
            .lines()
            .any(|l| l.starts_with(&format!("{name} ")))
    );
    // `xl shutdown -w` returns once the guest has shut down; the domain is destroyed a moment later.
    let out = xl_ok(&["shutdown", "-w", &name]);
    println!("{out}");
    g.wait_gone(GONE);
}

#[test]
fn vif_guest_answers_ping() {
    require_lab!();
    let name = unique_name("ping");
    let g = Guest::new(&name).vif().ip("10.99.0.50/24").start();
    let console = g.wait_up(BOOT);
    assert!(
        console.contains("XMTEST-NET eth0 10.99.0.50/24"),
        "{console}"
    );
    // The first packets can race the bridge port's forwarding state: retry for a while.
    let ok = wait_until(Duration::from_secs(30), "ping 10.99.0.50", || {
        let out = run("ping -c 1 -W 1 10.99.0.50");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    });
    println!("{ok}");
    run_ok("ping -c 3 -W 2 10.99.0.50");
    xl_ok(&["shutdown", "-w", &name]);
    g.wait_gone(GONE);
}

#[test]
fn file_disks_are_visible_in_guest() {
    require_lab!();
    let name = unique_name("disk");
    let img = scratch_disk(&name, 32);
    let g = two_disk_guest(&name, &img).start();
    let out = g.wait_cmd(BOOT);
    assert_two_disks_seen(&g.console_text(), &out);
    // The guest powers itself off; xl's monitor destroys the domain (on_poweroff=destroy).
    g.wait_gone(GONE);
}
