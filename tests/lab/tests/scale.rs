//! Scale, on demand (`tests/lab/run-tests --scale`): a benchmark, not a timed test. In one lab
//! boot, side by side with xl: (a) `xm list` at 100 domains against its floor (the xenstored
//! reads it must make, pipelined, plus a bare process start) and against `xl list`; (b) 20
//! creates at once, wall time; (c) `shutdown -a -w` of 20 running guests, and how long after
//! the last domain's release each tool returns; (d) peak RSS of `list` at 100 domains.
//! Prints `SCALE ...` lines; asserts only that every command did its job.
//! `XM_LAB_SCALE_PARTS=b tests/lab/run-tests --scale` runs only part (b), and so on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lab_tests::*;

const MANY: usize = 100;
const AT_ONCE: usize = 20;

fn xm_bin() -> String {
    xm_path()
        .expect("xm in payload")
        .to_string_lossy()
        .into_owned()
}

/// Runs `tool create -q [-p] CFG` for every config at once; the wall time of the whole batch.
fn create_at_once(tool: &str, cfgs: &[std::path::PathBuf], paused: bool) -> f64 {
    let program = if tool == "xm" { xm_bin() } else { "xl".into() };
    let t = Instant::now();
    std::thread::scope(|s| {
        for cfg in cfgs {
            let program = &program;
            s.spawn(move || {
                let cfg = cfg.to_string_lossy();
                let mut args = vec!["create", "-q"];
                if paused {
                    args.push("-p");
                }
                args.push(&cfg);
                exec_time(program, &args);
            });
        }
    });
    t.elapsed().as_secs_f64()
}

fn destroy_all_guests() {
    let list = xl_ok(&["list"]);
    let ids: Vec<String> = list
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
        .collect();
    std::thread::scope(|s| {
        for id in &ids {
            s.spawn(move || xl(&["destroy", id]));
        }
    });
    wait_until(Duration::from_secs(120), "all guests gone", || {
        (xl_ok(&["list"]).lines().count() == 2).then_some(())
    });
}

/// Peak resident set of `program args` in KiB, from busybox's `time -v`.
fn peak_rss_kib(program: &str, args: &str) -> Option<u64> {
    let out = run(&format!("time -v {program} {args} >/dev/null"));
    String::from_utf8_lossy(&out.stderr).lines().find_map(|l| {
        l.trim()
            .strip_prefix("Maximum resident set size (kbytes):")
            .and_then(|v| v.trim().parse().ok())
    })
}

/// (a) and (d), with MANY paused PV GRUB domains.
fn list_at_scale() {
    let names: Vec<String> = (0..MANY).map(|i| format!("scale-{i:03}")).collect();
    for chunk in names.chunks(10) {
        let cfgs: Vec<_> = chunk
            .iter()
            .map(|n| pvgrub_config_with(n, "memory = 32\n"))
            .collect();
        create_at_once("xm", &cfgs, true);
    }
    let listed = String::from_utf8_lossy(&xm(&["list"]).stdout)
        .lines()
        .count();
    assert_eq!(listed, 2 + MANY, "header + Domain-0 + {MANY} guests");

    let xm = xm_bin();
    let (mut xm_t, mut xl_t) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        xm_t.push(exec_time(&xm, &["list"]));
        xl_t.push(exec_time("xl", &["list"]));
    }
    let (xm_t, xl_t) = (median(xm_t), median(xl_t));
    // The floor: what xm list must ask xenstored (each domain's name and memory target),
    // pipelined on one connection, plus starting any process at all.
    let xs = xenstore::Xs::open().expect("xenstored");
    let paths: Vec<String> = xs
        .directory("/local/domain")
        .unwrap()
        .iter()
        .flat_map(|d| {
            [
                format!("/local/domain/{d}/name"),
                format!("/local/domain/{d}/memory/target"),
            ]
        })
        .collect();
    let reads = median(
        (0..15)
            .map(|_| {
                let t = Instant::now();
                let _ = xs.read_many(&paths);
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    let start = median((0..15).map(|_| exec_time("true", &[])).collect());
    let floor = reads + start;
    println!(
        "SCALE (a) list, {} domains: xm {:.1} ms, xl {:.1} ms, xm/xl {:.3}; floor {:.1} ms \
         ({} reads pipelined {:.1} ms + process start {:.1} ms), xm/floor {:.3}",
        MANY + 1,
        xm_t * 1e3,
        xl_t * 1e3,
        xm_t / xl_t,
        floor * 1e3,
        paths.len(),
        reads * 1e3,
        start * 1e3,
        xm_t / floor
    );
    let rss = |p: &str| peak_rss_kib(p, "list").map_or("n/a".into(), |k| format!("{k} KiB"));
    println!(
        "SCALE (d) peak RSS of list at {} domains: xm {}, xl {}",
        MANY + 1,
        rss(&xm),
        rss("xl")
    );
    destroy_all_guests();
}

/// (b): AT_ONCE paused creates at once, three rounds per tool, alternating.
fn creates_at_once() {
    let (mut xm_t, mut xl_t) = (Vec::new(), Vec::new());
    for round in 0..3 {
        for tool in ["xm", "xl"] {
            let cfgs: Vec<_> = (0..AT_ONCE)
                .map(|i| pvgrub_config_with(&format!("par-{tool}-{round}-{i:02}"), "memory = 32\n"))
                .collect();
            let t = create_at_once(tool, &cfgs, true);
            let up = xl_ok(&["list"]).lines().count() - 2;
            assert_eq!(up, AT_ONCE, "{tool} round {round}");
            match tool {
                "xm" => xm_t.push(t),
                _ => xl_t.push(t),
            }
            destroy_all_guests();
        }
    }
    let (a, b) = (median(xm_t), median(xl_t));
    println!(
        "SCALE (b) {AT_ONCE} creates at once (paused, PV GRUB): xm {:.2} s, xl {:.2} s, xm/xl {:.3}",
        a,
        b,
        a / b
    );
}

/// (c): AT_ONCE running Linux guests, then `TOOL shutdown -a -w`; its wall time, and when it
/// returned against the last `@releaseDomain`; `None` if the command failed (printed).
fn shutdown_all(tool: &str) -> Option<(f64, f64)> {
    let names: Vec<String> = (0..AT_ONCE).map(|i| format!("sd-{tool}-{i:02}")).collect();
    let cfgs: Vec<_> = names
        .iter()
        .map(|n| Guest::new(n).memory(128).write_config())
        .collect();
    create_at_once(tool, &cfgs, false);
    for n in &names {
        wait_console(n, GUEST_UP, Duration::from_secs(300));
    }
    let xs = xenstore::Xs::open().expect("xenstored");
    let watch = xs.watch("@releaseDomain", "scale-release").unwrap();
    while watch
        .recv_timeout(Duration::from_millis(200))
        .unwrap()
        .is_some()
    {}
    let last = Arc::new(Mutex::new(None::<Instant>));
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (last, stop) = (Arc::clone(&last), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(Some(_)) = watch.recv_timeout(Duration::from_millis(50)) {
                    *last.lock().unwrap() = Some(Instant::now());
                }
            }
        })
    };
    let program = if tool == "xm" { xm_bin() } else { "xl".into() };
    let t0 = Instant::now();
    let out = std::process::Command::new(&program)
        .args(["shutdown", "-a", "-w"])
        .output()
        .unwrap();
    let returned = Instant::now();
    // Releases still to come would show up here.
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(3).collect();
        println!(
            "SCALE (c) {tool} shutdown -a -w FAILED ({}) after {:.2} s: {tail:?}; dom0 segfaults so far: {}",
            out.status,
            (returned - t0).as_secs_f64(),
            dom0_segfaults()
        );
        destroy_all_guests();
        return None;
    }
    let last = last.lock().unwrap().expect("no @releaseDomain seen");
    let lag = if returned >= last {
        (returned - last).as_secs_f64()
    } else {
        -(last - returned).as_secs_f64()
    };
    destroy_all_guests();
    let took = (returned - t0).as_secs_f64();
    println!(
        "SCALE (c) {tool} shutdown -a -w of {AT_ONCE} running guests: {took:.2} s, returned {:+.0} ms after the last release",
        lag * 1e3
    );
    Some((took, lag))
}

/// Whether part `p` (a, b or c; (d) comes with (a)) is to run: all of them, unless
/// `XM_LAB_SCALE_PARTS` (e.g. `b`) names some.
fn part(p: char) -> bool {
    std::env::var("XM_LAB_SCALE_PARTS").map_or(true, |parts| parts.contains(p))
}

#[test]
fn scale_against_xl() {
    require_lab!();
    if part('a') {
        list_at_scale();
    }
    if part('b') {
        creates_at_once();
    }
    if !part('c') {
        return;
    }
    let xm_c = shutdown_all("xm");
    let xl_c = shutdown_all("xl");
    if let (Some((a, _)), Some((b, _))) = (xm_c, xl_c) {
        println!("SCALE (c) shutdown -a -w, xm/xl {:.3}", a / b);
    }
    assert!(xm_c.is_some(), "xm shutdown -a -w failed");
}
