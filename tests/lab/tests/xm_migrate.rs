//! `xm migrate` on the real Xen, to this same host (the lab has one): the ssh command is a
//! stand-in (`-s`) that runs the remote command here, so the whole conversation, the stream
//! and the hand-over are the real ones. A guest with a counter on its console, a NIC and a
//! disk moves: the counter goes on without a reboot, it answers at its address, and only one
//! copy is left. Refusals (no xm there, name taken, a failure while building or starting
//! there, -l on a hypervisor without shadow paging) leave the guest running where it was.

use std::time::{Duration, Instant};

use lab_tests::*;

const IN_GUEST: Duration = Duration::from_secs(60);

/// A stand-in for ssh: `fakessh HOST CMD...` runs CMD here, with the lab's xm first on PATH
/// (and `$FAKESSH_FAILPOINTS` as the receiver's failpoints, through the failpoints build).
fn fake_ssh() -> String {
    let path = "/tmp/xmlab/fakessh";
    std::fs::create_dir_all("/tmp/xmlab").unwrap();
    std::fs::write(
        path,
        "#!/bin/sh\nshift\nif [ -n \"$FAKESSH_FAILPOINTS\" ]; then shift; \
         FAILPOINTS=$FAKESSH_FAILPOINTS exec /xmlab/payload/bin/xm-failpoints \"$@\"; fi\n\
         PATH=/xmlab/payload/bin:$PATH exec \"$@\"\n",
    )
    .unwrap();
    run_ok(&format!("chmod +x {path}"));
    path.to_string()
}

/// The guest's console as logged: xenconsoled names a domain's log when it first sees it,
/// so a migrated-in domain's goes on in NAME--incoming's file.
fn console(name: &str) -> String {
    console_text(name) + &console_text(&format!("{name}--incoming"))
}

fn last_seen_tick(name: &str) -> Option<(u64, Instant)> {
    ticks(&console(name)).last().map(|&t| (t, Instant::now()))
}

fn names() -> Vec<String> {
    xm_ok(&["list"])
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

/// The guest is still the same live domain, its counter going on.
fn still_here(g: &Running, id: u32) {
    assert_eq!(g.domid(), Some(id));
    let (at, _) = last_seen_tick(&g.name).unwrap();
    wait_until(IN_GUEST, "the counter to go on", || {
        last_seen_tick(&g.name).filter(|(t, _)| *t > at + 1)
    });
    // Not paused, shut down, crashed or dying. Its one vCPU may be running, blocked, or
    // runnable and waiting for a CPU (`------`: under TCG with dom0 busy, that happens).
    let list = xm_ok(&["list", &g.name]);
    let state = list
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().nth(4))
        .unwrap_or("");
    assert!(state.len() == 6 && &state[2..] == "----", "{list}");
}

#[test]
fn migrate_moves_a_running_guest_and_refusals_leave_it_where_it_was() {
    require_lab!();
    assert!(failpoints_available());
    let ssh = fake_ssh();
    let name = unique_name("mig");
    let img = marked_disk(&name, "xm-migrate-marker");
    let ip = "10.99.0.83";
    let g = xm_created(
        &name,
        Guest::new(&name)
            .vif()
            .ip(&format!("{ip}/24"))
            .disk(&format!("file:{},xvdb,r", img.display())),
    );
    let id = g.domid().unwrap();
    start_ticks(&g);

    // -l on Debian's hypervisor (no shadow paging): one line, nothing touched.
    let err = xm_fails(&["migrate", "-l", "-s", &ssh, &name, "localhost"], 1);
    assert!(
        err.contains("shadow paging") && err.lines().count() == 1,
        "{err}"
    );
    still_here(&g, id);
    // No xm over there.
    let err = xm_fails(&["migrate", "-s", "/bin/false", &name, "elsewhere"], 1);
    assert!(err.contains("did not start xm migrate-receive"), "{err}");
    still_here(&g, id);
    // The name is taken there (by another domain called NAME--incoming).
    let squatter = format!("{name}--incoming");
    let cfg = Guest::new(&squatter).write_config();
    xl_ok(&["create", "-q", "-p", &cfg.to_string_lossy()]);
    let err = xm_fails(&["migrate", "-s", &ssh, &name, "localhost"], 1);
    assert!(
        err.contains("refused") && err.contains("already exists"),
        "{err}"
    );
    xl_ok(&["destroy", &squatter]);
    still_here(&g, id);
    // The receiver fails while building, and after it was told to start: the guest is
    // resumed here under its own name, nothing is left over there.
    // (The first with the stream as it is, the others compressed, the default.)
    for (step, how) in [
        ("xc_domain_restore", "--no-compress"),
        ("hotplug:vif", ""),
        ("migrate-receive:go", ""),
    ] {
        let out = run(&format!(
            "FAKESSH_FAILPOINTS='{step}=return' {} migrate {how} -s {ssh} {name} localhost",
            xm_path().unwrap().display()
        ));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{step}: {err}");
        assert!(err.contains(step), "{step}: {err}");
        assert_eq!(
            names().iter().filter(|n| n.starts_with(&name)).count(),
            1,
            "{step}"
        );
        still_here(&g, id);
    }

    // Interrupted (Ctrl-C) while the guest is suspended and sent: it carries on here, and the
    // copy over there (its receiver stopped too) is destroyed.
    let (rc, err) = xm_interrupted_at(
        "migrate:suspended",
        &format!("migrate -s {ssh} {name} localhost"),
        "INT",
    );
    assert_eq!(rc, Some(1), "{err}");
    assert!(err.contains("interrupted by SIG"), "{err}");
    wait_until(IN_GUEST, "one copy of the guest", || {
        (names().iter().filter(|n| n.starts_with(&name)).count() == 1).then_some(())
    });
    still_here(&g, id);

    // The real thing.
    let before = last_seen_tick(&name).unwrap();
    let t = Instant::now();
    let out = run(&format!(
        "XM_TRACE_CREATE=1 {} migrate -s {ssh} {name} localhost",
        xm_path().unwrap().display()
    ));
    let total = t.elapsed();
    let stream = String::from_utf8_lossy(&out.stderr)
        .lines()
        .find(|l| l.contains("stream sent:"))
        .map(str::to_string);
    assert!(stream.is_some(), "the stream is compressed by default");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new = g.domid().unwrap();
    assert_ne!(new, id);
    assert_eq!(names().iter().filter(|n| n.starts_with(&name)).count(), 1);
    let (_, seen) = wait_until(IN_GUEST, "the counter on the new domain", || {
        let incoming = console_text(&format!("{name}--incoming"));
        incoming
            .lines()
            .any(|l| l.trim().starts_with("XMTICK "))
            .then(Instant::now)
            .map(|t| (0, t))
    });
    wait_until(IN_GUEST, "a few more ticks", || {
        last_seen_tick(&name).filter(|(t, _)| *t > before.0 + 3)
    });
    // Every tick from 0 to the last, none missing: the guest went on where it was. (A
    // tick may be logged twice: a copy built by a refused attempt read the same console ring
    // before it was destroyed.)
    let ticks: std::collections::BTreeSet<u64> = ticks(&console(&name)).into_iter().collect();
    let last = *ticks.last().unwrap();
    assert_eq!(ticks.len() as u64, last + 1, "ticks missing: {ticks:?}");
    assert_eq!(console(&name).matches(GUEST_UP).count(), 1, "no reboot");
    println!(
        "MEASURE migrate (localhost, 128 MiB, non-live): total {:.2} s; console ticks stopped for {:.2} s; {}",
        total.as_secs_f64(),
        (seen - before.1).as_secs_f64(),
        stream.unwrap_or_default().trim()
    );
    // (Its console output goes to NAME--incoming's log now: the exit status says it.)
    let out = g.guest_cmd(
        "test \"$(head -c 17 /dev/xvdb)\" = xm-migrate-marker",
        IN_GUEST,
    );
    assert_eq!(out.rc, 0, "the disk after the migration");
    run_ok(&format!("ping -c 2 -W 5 {ip} >/dev/null"));
    // Its monitor came along: a shutdown is carried out.
    xm_ok(&["shutdown", "-w", &name]);
    xm_fails(&["list", &name], 3);
}
