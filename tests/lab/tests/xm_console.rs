//! `xm create -c` and `xm console` on the real Xen in the lab: the boot output arrives through
//! the console from the very first line, and Ctrl-] (0x1d) detaches leaving the guest running.

use lab_tests::*;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BOOT: Duration = Duration::from_secs(90);

/// A running `xm` whose stdout is collected in the background.
struct Session {
    child: Child,
    out: Arc<Mutex<Vec<u8>>>,
}

impl Session {
    fn start(args: &[&str]) -> Session {
        let mut child = Command::new(xm_path().expect("xm in payload"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn xm");
        let mut stdout = child.stdout.take().unwrap();
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = out.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Session { child, out }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    fn wait_for(&self, marker: &str, timeout: Duration) -> String {
        wait_until(timeout, &format!("`{marker}` on xm's console"), || {
            let t = self.text();
            t.contains(marker).then_some(t)
        })
    }

    /// Types Ctrl-] and waits for xm to exit; returns its exit code.
    fn detach(mut self) -> Option<i32> {
        self.child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(&[0x1d])
            .unwrap();
        let status = wait_until(Duration::from_secs(10), "xm to exit after Ctrl-]", || {
            self.child.try_wait().unwrap()
        });
        status.code()
    }
}

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
    let s = Session::start(&["create", "-c", &cfg.to_string_lossy()]);
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
    let s = Session::start(&["console", &name]);
    std::thread::sleep(Duration::from_millis(500));
    s.child
        .stdin
        .as_ref()
        .unwrap()
        .write_all(b"echo console-$((6*7))\n")
        .unwrap();
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
