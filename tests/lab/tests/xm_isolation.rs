//! What a guest can do to other domains through xenstore, tried from inside one with Debian's
//! xenstore tools over its own xenbus ring: nothing. It cannot read or write another guest's
//! home or `/vm` record, nor anything under `/libxl` (where the plan its monitor restarts it
//! from lives), nor rename itself; and its monitor acts on the hypervisor's word about its own
//! domain only.

use std::time::Duration;

use lab_tests::*;

const BOOT: Duration = Duration::from_secs(90);

#[test]
fn a_guest_cannot_reach_other_domains_nor_what_its_monitor_trusts() {
    require_lab!();
    // The victim: another xm domain, paused.
    let victim = unique_name("vic");
    let cfg = pvgrub_config(&victim);
    let o = xm(&["create", "-q", "-p", &cfg.to_string_lossy()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let _victim_guard = Running::adopt(&victim);
    let a = domid(&victim).unwrap();
    let a_vm = run_ok(&format!("xenstore-read /local/domain/{a}/vm"));
    let a_vm = a_vm.trim();

    // The guest: reads and writes where it must not, prints what it got away with, and
    // stays up until it is asked to power off (on_poweroff = destroy: then its monitor
    // destroys it, and only it).
    let script = format!(
        "A=/local/domain/{a};V={a_vm};D=$(xenstore-read domid);M=$(xenstore-read vm)\n\
         xenstore-read name >/dev/null && echo OWN-OK\n\
         for p in $A/name $A/control/shutdown $V/name /libxl/{a}/xm-plan /libxl/$D/xm-plan; do \
         xenstore-read $p >/dev/null 2>&1 && echo R:$p; done\n\
         for p in $A/control/shutdown $A/name /libxl/$D/xm-plan /libxl/{a} $M/on_poweroff \
         $M/name vm name; do xenstore-write $p x 2>/dev/null && echo W:$p; done\n\
         echo CHECKED\n"
    );
    let name = unique_name("atk");
    let cfg = Guest::new(&name).cmd(&script).write_config();
    let o = xm(&["create", "-q", &cfg.to_string_lossy()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let attacker = Running::adopt(&name);
    let b = attacker.domid().unwrap();
    let plan_before = run_ok(&format!("xenstore-read /libxl/{b}/xm-plan"));
    let out = attacker.wait_cmd(BOOT);
    assert!(
        out.text.contains("OWN-OK"),
        "the guest's tools work:\n{}",
        out.text
    );
    assert!(out.text.contains("CHECKED"), "{}", out.text);
    let got: Vec<&str> = out
        .text
        .lines()
        .filter(|l| l.starts_with("R:") || l.starts_with("W:"))
        .collect();
    assert!(got.is_empty(), "the guest got through: {got:?}");

    // What dom0 sees afterwards: nothing changed but the guest's own state.
    assert_eq!(
        run_ok(&format!("xenstore-read /libxl/{b}/xm-plan")),
        plan_before
    );
    assert_eq!(
        run_ok(&format!("xenstore-read /local/domain/{a}/name")).trim(),
        victim
    );
    assert_eq!(
        run_ok(&format!("xenstore-read /local/domain/{a}/control/shutdown")).trim(),
        ""
    );
    // Its poweroff is carried out on it alone.
    let o = xm(&["shutdown", "-w", &name]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    attacker.wait_gone(BOOT);
    assert_eq!(domid(&victim), Some(a), "the victim is untouched");
}
