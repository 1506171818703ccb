//! `xm shutdown`, `xm reboot` and the `on_*` actions carried out by xm's per-domain monitor, on
//! the real Xen in the lab. Runs inside dom0 (tests/lab/run-tests); skipped elsewhere.

use lab_tests::*;
use std::time::Duration;

const BOOT: Duration = Duration::from_secs(90);

fn out(o: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn xm_start(g: &Guest, name: &str) -> Running {
    let cfg = g.write_config();
    let o = xm(&["create", "-q", &cfg.to_string_lossy()]);
    assert!(o.status.success(), "{:?}", out(&o));
    let r = Running::adopt(name);
    r.wait_up(BOOT);
    r
}

/// `xm shutdown -w NAME`, which must succeed saying what xm said.
fn shutdown_w(name: &str) {
    let o = xm(&["shutdown", "-w", name]);
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "{stderr}");
    assert_eq!(
        stdout,
        format!("Domain {name} terminated\nAll domains terminated\n")
    );
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn shutdown_w_waits_until_the_domain_is_gone() {
    require_lab!();
    let name = unique_name("sdw");
    let g = xm_start(&Guest::new(&name), &name);
    shutdown_w(&name);
    // -w returns only once the domain no longer exists (xl's returns a moment before).
    assert!(
        !domain_exists(&name),
        "domain still listed after xm shutdown -w"
    );
    drop(g);
}

#[test]
fn shutdown_all_stops_every_guest_but_dom0() {
    require_lab!();
    let a = unique_name("sda");
    let b = unique_name("sda");
    let ga = xm_start(&Guest::new(&a), &a);
    let gb = xm_start(&Guest::new(&b), &b);
    let o = xm(&["shutdown", "-a", "-w"]);
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stdout.contains(&format!("Domain {a} terminated\n")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Domain {b} terminated\n")),
        "{stdout}"
    );
    assert!(stdout.ends_with("All domains terminated\n"), "{stdout}");
    let list = xl_ok(&["list"]);
    assert_eq!(
        list.lines().count(),
        2,
        "only Domain-0 should remain:\n{list}"
    );
    drop((ga, gb));
}

#[test]
fn reboot_w_restarts_the_guest_under_a_new_domid() {
    require_lab!();
    let name = unique_name("rbt");
    let g = xm_start(&Guest::new(&name).cfg("on_reboot = 'restart'"), &name);
    let old = g.domid().unwrap();
    let o = xm(&["reboot", "-w", &name]);
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "{stderr}");
    assert_eq!(
        stdout,
        format!("Domain {name} rebooted\nAll domains rebooted\n")
    );
    let new = g.domid().expect("rebooted domain exists");
    assert_ne!(old, new);
    // The console log appends across the restart: the guest came up a second time.
    wait_until(BOOT, "second boot marker", || {
        (count(&g.console_text(), GUEST_UP) >= 2).then_some(())
    });
}

#[test]
fn on_poweroff_preserve_keeps_the_stopped_domain() {
    require_lab!();
    let name = unique_name("prs");
    let g = xm_start(&Guest::new(&name).cfg("on_poweroff = 'preserve'"), &name);
    // -w returns once the domain has shut down: preserved, it will not go (as xl's -w; Ganeti
    // writes preserve and waits with `timeout T xm shutdown -w`).
    shutdown_w(&name);
    let (text, _) = out(&xm(&["list", &name]));
    let state = text
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().nth(4));
    assert_eq!(state, Some("---s--"), "{text}");
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        domain_exists(&name),
        "preserve must leave the domain in place"
    );
    assert!(xm(&["destroy", &name]).status.success());
    g.wait_gone(Duration::from_secs(10));
}

#[test]
fn on_crash_destroy_removes_a_crashed_guest() {
    require_lab!();
    let name = unique_name("crs");
    // The guest panics on purpose once it is up.
    let g = Guest::new(&name)
        .cfg("on_crash = 'destroy'")
        .cmd("echo c > /proc/sysrq-trigger");
    let cfg = g.write_config();
    let o = xm(&["create", "-q", &cfg.to_string_lossy()]);
    assert!(o.status.success(), "{:?}", out(&o));
    let r = Running::adopt(&name);
    r.wait_gone(BOOT);
    assert!(r.console_text().contains("sysrq"), "{}", r.console_text());
}

#[test]
fn shutdown_argument_errors_are_xms() {
    require_lab!();
    let o = xm(&["shutdown", "-R", "-H", "Domain-0"]);
    assert_eq!(
        (o.status.code(), out(&o).1),
        (Some(1), "Error: Can't specify halt and reboot\n".into())
    );
    let o = xm(&["shutdown"]);
    assert_eq!(
        (o.status.code(), out(&o).1),
        (Some(1), "Error: No domain parameter given\n".into())
    );
    let o = xm(&["shutdown", "ghost"]);
    assert_eq!(o.status.code(), Some(3));
    let o = xm(&["shutdown", "Domain-0"]);
    assert_eq!(
        (o.status.code(), out(&o).1),
        (Some(1), "Error: Domain 0 cannot be shutdown\n".into())
    );
}

/// The monitor is a process of its own: killing it leaves the domain running and manageable,
/// but nobody carries out its on_* actions (a guest reboot leaves it shut down); starting
/// `xm monitor DOMID` again carries out what was pending and goes on watching.
#[test]
fn a_killed_monitor_leaves_the_domain_and_a_restarted_one_takes_over() {
    require_lab!();
    let name = unique_name("mon");
    let g = xm_start(&Guest::new(&name), &name);
    let id = domid(&name).unwrap();
    let monitor_of = |domid: u32| monitors().into_iter().find(|(_, d)| *d == domid);
    let (pid, _) = monitor_of(id).expect("create started a monitor");
    run_ok(&format!("kill -9 {pid}"));
    wait_until(Duration::from_secs(10), "monitor gone", || {
        monitor_of(id).is_none().then_some(())
    });
    // Still there, and xm still manages it.
    for args in [&["pause", &name][..], &["unpause", &name], &["list", &name]] {
        let o = xm(args);
        assert!(o.status.success(), "xm {args:?}: {:?}", out(&o));
    }
    // on_reboot=restart has nobody to carry it out: the guest reboots into a shut-down domain.
    let o = xm(&["reboot", &name]);
    assert!(o.status.success(), "{:?}", out(&o));
    wait_until(BOOT, "the domain shut down for its reboot", || {
        let list = xl_ok(&["list", &name]);
        let state = list.lines().nth(1)?.split_whitespace().nth(4)?.to_string();
        state.contains('s').then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(domid(&name), Some(id), "nothing restarted it");
    // A new monitor does what the old one would have: restart, and keep watching.
    run_ok(&format!(
        "setsid {XM} monitor {id} </dev/null >/dev/null 2>&1 &"
    ));
    let new_id = wait_until(BOOT, "restarted under a new domid", || {
        domid(&name).filter(|d| *d != id)
    });
    wait_until(BOOT, "second boot", || {
        (count(&console_text(&name), GUEST_UP) >= 2).then_some(())
    });
    assert!(
        monitor_of(id).is_some(),
        "the new monitor keeps watching the restarted domain {new_id}: monitors {:?}",
        monitors()
    );
    drop(g);
}
