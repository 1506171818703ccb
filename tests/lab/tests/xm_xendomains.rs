//! The boot-time script (`scripts/xendomains`, run by `xm-domains.service`) on the real Xen:
//! its start and stop actions with xendomains' knobs. Start creates the domains of the auto
//! directory (configs and links), stop saves them, the next start restores them where they
//! stopped (and removes the saved files), and without a save directory stop shuts them down.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lab_tests::*;

const SCRIPT: &str = "/xmlab/payload/bin/xendomains";

/// Runs `xendomains ACTION` with the knobs in `defaults`; (exit code, stdout + stderr).
fn xendomains(action: &str, defaults: &Path) -> (i32, String) {
    let xm = xm_path().unwrap();
    let out = run(&format!(
        "XM={} XENDOMAINS_CONFIG={} {SCRIPT} {action}",
        xm.display(),
        defaults.display()
    ));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn write_defaults(path: &Path, auto: &Path, save: &str) {
    std::fs::write(
        path,
        format!(
            "XENDOMAINS_AUTO={}\nXENDOMAINS_SAVE={save}\nXENDOMAINS_AUTO_ONLY=true\n\
             XENDOMAINS_CREATE_USLEEP=0\nXENDOMAINS_STOP_MAXWAIT=120\n",
            auto.display()
        ),
    )
    .unwrap();
}

#[test]
fn start_creates_the_auto_domains_stop_saves_them_and_start_restores_them() {
    require_lab!();
    let a = unique_name("xda");
    let b = unique_name("xdb");
    let dir = PathBuf::from(format!("/tmp/xmlab/{a}"));
    let auto = dir.join("auto");
    let save = dir.join("save");
    std::fs::create_dir_all(&auto).unwrap();
    // One config in the directory, one linked to it (as admins do).
    let cfg_a = Guest::new(&a).write_config();
    std::fs::copy(&cfg_a, auto.join(format!("{a}.cfg"))).unwrap();
    let cfg_b = Guest::new(&b).write_config();
    std::os::unix::fs::symlink(&cfg_b, auto.join(b.as_str())).unwrap();
    let defaults = dir.join("xendomains");
    write_defaults(&defaults, &auto, &save.display().to_string());
    let before = Leftovers::now();

    let (rc, out) = xendomains("start", &defaults);
    assert_eq!(rc, 0, "{out}");
    assert!(
        out.contains(&format!("started {a}")) && out.contains(&format!("started {b}")),
        "{out}"
    );
    let (ga, gb) = (Running::adopt(&a), Running::adopt(&b));
    ga.wait_up(Duration::from_secs(120));
    gb.wait_up(Duration::from_secs(120));
    assert_eq!(xendomains("status", &defaults).0, 0);
    // Again: nothing new.
    let ids = xm_list_ids();
    let (rc, out) = xendomains("start", &defaults);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains(&format!("{a} is running already")), "{out}");
    assert_eq!(xm_list_ids(), ids);

    start_ticks(&ga);

    // Stop: both saved, in files xendomains recognises, and gone.
    let (rc, out) = xendomains("stop", &defaults);
    assert_eq!(rc, 0, "{out}");
    for name in [&a, &b] {
        assert!(out.contains(&format!("saved {name}")), "{out}");
        let head = run_ok(&format!("head -c 16 {}/{name}", save.display()));
        assert_eq!(head, "LinuxGuestRecord");
        xm_fails(&["list", name], 3);
    }
    let (rc, out) = xendomains("status", &defaults);
    assert_ne!(rc, 0, "{out}");
    wait_clean(&before, "saved domains");
    let stopped_at = last_tick(&a).unwrap();

    // Start: restored where they stopped (no second boot), the files gone.
    let (rc, out) = xendomains("start", &defaults);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains(&format!("restored {a}")), "{out}");
    assert!(out.contains(&format!("{b} is running already")), "{out}");
    wait_until(Duration::from_secs(60), "the counter to go on", || {
        last_tick(&a).filter(|&t| t > stopped_at + 1)
    });
    assert_eq!(console_text(&a).matches(GUEST_UP).count(), 1);
    assert_eq!(std::fs::read_dir(&save).unwrap().count(), 0);

    // Without a save directory, stop shuts them down (--halt --wait) and waits.
    write_defaults(&defaults, &auto, "");
    let (rc, out) = xendomains("stop", &defaults);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains(&format!("shut down {a}")), "{out}");
    for name in [&a, &b] {
        xm_fails(&["list", name], 3);
    }
    wait_clean(&before, "domains shut down");
}
