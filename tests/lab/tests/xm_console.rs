//! `xm create -c` and `xm console` on the real Xen in the lab: the boot output arrives through
//! the console from the very first line, and Ctrl-] (0x1d) detaches leaving the guest running.

use lab_tests::*;
use std::time::Duration;

const BOOT: Duration = Duration::from_secs(90);

#[test]
fn create_c_shows_boot_from_first_line_and_ctrl_bracket_detaches() {
    require_lab!();
    let name = unique_name("xcc");
    // After boot the guest runs an interactive shell on its console (hvc0).
    // Not `quiet`, so the kernel's first line (its banner) is on the console.
    let cfg = Guest::new(&name)
        .kernel_args("")
        .cmd("sh -i")
        .write_config();
    let s = XmSession::start(&["create", "-c", &cfg.to_string_lossy()]);
    let g = Running::adopt(&name);
    let text = s.wait_for(GUEST_UP, BOOT);
    // The guest kernel's first line reached us: nothing was lost before the attach.
    assert!(
        text.contains("Linux version"),
        "no kernel banner in:\n{text}"
    );
    assert!(
        text.contains(&format!("Started domain {name} (id=")),
        "{text}"
    );
    assert_eq!(s.detach(), Some(0));
    assert!(
        g.domid().is_some(),
        "detaching must leave the guest running"
    );

    // Attach again with `xm console`, see the guest answer, detach again.
    let s = XmSession::start(&["console", &name]);
    std::thread::sleep(Duration::from_millis(500));
    s.type_in(b"echo console-$((6*7))\n");
    s.wait_for("console-42", Duration::from_secs(20));
    assert_eq!(s.detach(), Some(0));
    assert!(xm(&["destroy", &name]).status.success());
    g.wait_gone(Duration::from_secs(10));
}

#[test]
fn console_of_unknown_domain_exits_3_and_q_is_silent() {
    require_lab!();
    let out = xm(&["console", "no-such-dom"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: Domain 'no-such-dom' does not exist.\n"
    );
    let out = xm(&["console", "-q", "no-such-dom"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.is_empty());
}
