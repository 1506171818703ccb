//! `xm migrate DOMAIN HOST` and its other end, `xm migrate-receive`, run on HOST through ssh
//! (as `xl migrate` does): no daemon, the stream goes over ssh's stdin and stdout.
//!
//! The conversation (text lines, except the header and the stream):
//!
//! ```text
//! receiver: xm-rs migrate-receive 1          (there is an xm on HOST)
//! sender:   the save file's header           (LinuxGuestRecord, record, plan: savefile)
//! receiver: ok | error WHY                   (name, memory: refused before anything stops)
//! sender:   libxenguest's stream             (the guest suspended on the way; not live
//!                                             unless -l, which needs log-dirty tracking)
//! receiver: restored | error WHY             (built, paused, as NAME--incoming)
//! sender:   go                               (its copy renamed NAME--migratedaway)
//! receiver: done | error WHY                 (renamed NAME, unpaused, monitor started)
//! ```
//!
//! The sender destroys its copy only after `done`. Until then any failure on either side
//! resumes the guest on the source under its own name, and the receiver destroys what it
//! built. (If the receiver goes silent after `go`, the guest may be running there: the
//! source's copy is left suspended as NAME--migratedaway and the error says so.)

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::create::{self, Created, Image};
use super::error::ControlError;
use super::host::Host;
use super::interrupt;
use super::record;
use super::save::{resume_after, streamable, suspend_guest};
use super::savefile;
use super::xc::DomId;

/// The receiver's first line.
pub const BANNER: &str = "xm-rs migrate-receive 1";
/// The suffixes of the two copies' names while both exist.
pub const INCOMING: &str = "--incoming";
pub const MIGRATED_AWAY: &str = "--migratedaway";

/// How `xm migrate` reaches the other host.
#[derive(Debug, Clone)]
pub struct Target {
    /// The ssh command and its options (`ssh`, or `-s`'s words), then the host.
    pub ssh: Vec<String>,
    pub host: String,
    /// Send memory while the guest runs (`-l`).
    pub live: bool,
}

/// Reads one line (without its newline) a byte at a time, so that nothing after it (the
/// stream) is consumed. `None` at the end of the input.
fn read_line(input: &mut impl Read) -> Option<String> {
    let mut line = Vec::new();
    let mut byte = [0u8];
    loop {
        match input.read(&mut byte) {
            Ok(0) if line.is_empty() => return None,
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => line.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
        if line.len() > 4096 {
            break;
        }
    }
    Some(String::from_utf8_lossy(&line).into_owned())
}

/// What the other side said instead of `expected`, as an error.
fn unexpected(host: &str, step: &str, reply: Option<String>) -> ControlError {
    match reply {
        Some(r) if r.starts_with("error ") => {
            ControlError::Invalid(format!("{host} refused ({step}): {}", &r[6..]))
        }
        Some(r) => ControlError::Invalid(format!("{host} answered '{r}' ({step})")),
        None => ControlError::Invalid(format!("{host} stopped answering ({step})")),
    }
}

/// Migrates domain `domid` to `target`.
pub fn migrate(host: &Host, domid: DomId, target: &Target) -> Result<(), ControlError> {
    if target.live && !host.xc.physinfo()?.shadow {
        return Err(ControlError::Unsupported(
            "live migration needs log-dirty tracking, which this hypervisor cannot give a PV \
             guest (it was built without shadow paging); without -l, xm migrate moves the \
             guest non-live (suspended while it is sent)"
                .into(),
        ));
    }
    let (row, plan) = streamable(host, domid, "migrated")?;
    let mut header = Vec::new();
    savefile::write_header(
        &mut header,
        &record::domain_record_with(host, &row, &plan),
        &plan,
    )
    .map_err(|e| ControlError::Invalid(format!("the domain's record: {e}")))?;

    let (program, options) = target
        .ssh
        .split_first()
        .ok_or_else(|| ControlError::Invalid("an empty ssh command".into()))?;
    let mut child = Command::new(program)
        .args(options)
        .arg(&target.host)
        .args(["xm", "migrate-receive"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| ControlError::Invalid(format!("cannot run {program}: {e}")))?;
    // A signal to xm alone (SIGTERM, SIGHUP; Ctrl-C reaches ssh too) stops ssh, so that the
    // stream breaks now rather than after the whole guest was sent.
    let ssh_pid = rustix::process::Pid::from_child(&child);
    let talking = AtomicBool::new(true);
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            while talking.load(Ordering::SeqCst) {
                if interrupt::pending().is_some() {
                    let _ = rustix::process::kill_process(ssh_pid, rustix::process::Signal::TERM);
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let result = converse(
            host, domid, &row.name, target, &header, &mut child, &talking,
        );
        talking.store(false, Ordering::SeqCst);
        result
    });
    drop(child.stdin.take());
    let _ = child.wait();
    result
}

fn converse(
    host: &Host,
    domid: DomId,
    name: &str,
    target: &Target,
    header: &[u8],
    child: &mut std::process::Child,
    talking: &AtomicBool,
) -> Result<(), ControlError> {
    let peer = target.host.as_str();
    let (Some(mut to), Some(mut from)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(ControlError::Invalid("no pipe to ssh".into()));
    };
    match read_line(&mut from) {
        Some(l) if l == BANNER => {}
        other => {
            return Err(ControlError::Invalid(format!(
                "{peer} did not start xm migrate-receive ({})",
                other.map_or("no answer".to_string(), |l| format!("it said '{l}'"))
            )));
        }
    }
    let sent = to.write_all(header).and_then(|()| to.flush());
    match (sent, read_line(&mut from)) {
        (Ok(()), Some(r)) if r == "ok" => {}
        (_, reply) => return Err(unexpected(peer, "before the guest was suspended", reply)),
    }
    // From here the guest may be suspended: every failure resumes it here.
    let mut asked = Ok(());
    let saved = host
        .xc
        .domain_save(domid, to.as_fd(), target.live, &mut || {
            asked = interrupt::check("suspend")
                .map_err(ControlError::from)
                .and_then(|()| suspend_guest(host, domid))
                .and_then(|()| super::failpoint::hit("migrate:suspended").map_err(Into::into));
            asked.is_ok()
        });
    let back_out = |e: ControlError| resume_after(host, domid, e);
    if let Err(e) = asked {
        return Err(back_out(e));
    }
    // Interrupted while the guest was sent (its ssh stopped, so the stream may have broken):
    // that, not the broken pipe, is the reason.
    if let Err(e) = interrupt::check("handing over") {
        return Err(back_out(e.into()));
    }
    if let Err(e) = saved {
        // The receiver may have stopped reading because it failed: its words say why.
        let why = match read_line(&mut from) {
            Some(r) if r.starts_with("error ") => unexpected(peer, "receiving the stream", Some(r)),
            _ => e.into(),
        };
        return Err(back_out(why));
    }
    match read_line(&mut from) {
        Some(r) if r == "restored" => {}
        reply => return Err(back_out(unexpected(peer, "building the domain", reply))),
    }
    // The last moment to stop: after `go` the guest may already run there. (The receiver
    // destroys what it built when the stream ends without `go`.)
    talking.store(false, Ordering::SeqCst);
    if let Err(e) = interrupt::check("handing over") {
        return Err(back_out(e.into()));
    }
    interrupt::disarm();
    let away = format!("{name}{MIGRATED_AWAY}");
    if let Err(e) = host.rename(domid, &away) {
        return Err(back_out(e));
    }
    if to.write_all(b"go\n").and_then(|()| to.flush()).is_err() {
        let _ = host.rename(domid, name);
        return Err(back_out(unexpected(peer, "handing over", None)));
    }
    match read_line(&mut from) {
        Some(r) if r == "done" => {
            host.destroy(domid)?;
            Ok(())
        }
        Some(r) => {
            let _ = host.rename(domid, name);
            Err(back_out(unexpected(peer, "starting the domain", Some(r))))
        }
        None => Err(ControlError::Invalid(format!(
            "{peer} stopped answering after it was told to start the domain: it may be \
             running there. This copy is left suspended as {away}: check with xm list on \
             {peer}, then xm destroy {away} here"
        ))),
    }
}

/// `xm migrate-receive`: the other end, on `input`/`output` (ssh's stdin and stdout).
/// `started` runs once the domain is running here under its own name (its monitor).
pub fn receive(
    host: &Host,
    input: &mut std::fs::File,
    output: &mut impl Write,
    started: impl FnOnce(&Created) -> Result<(), ControlError>,
) -> Result<Created, ControlError> {
    let say = |out: &mut dyn Write, line: &str| {
        let _ = out.write_all(format!("{line}\n").as_bytes());
        let _ = out.flush();
    };
    let refuse = |out: &mut dyn Write, e: ControlError| {
        say(out, &format!("error {e}"));
        e
    };
    say(output, BANNER);
    let header = savefile::read_header(input).map_err(|e| {
        refuse(
            output,
            ControlError::Invalid(format!("the header: {}", e.0)),
        )
    })?;
    let name = header.plan.name.clone();
    let incoming = format!("{name}{INCOMING}");
    // The name may be held here only by the domain being migrated (a migration to this
    // host: same UUID).
    for d in host.domains()? {
        let same = Some(d.uuid) == header.plan.uuid;
        if (d.name == name && !same) || d.name == incoming {
            return Err(refuse(
                output,
                ControlError::NameInUse {
                    name: d.name,
                    domid: d.domid,
                },
            ));
        }
    }
    let free_mib = host.xc.physinfo()?.free_pages * 4 / 1024;
    if header.plan.memory_mib > free_mib {
        return Err(refuse(
            output,
            ControlError::NotEnoughMemory {
                need_mib: header.plan.memory_mib,
                free_mib,
            },
        ));
    }
    say(output, "ok");
    let mut plan = header.plan;
    plan.name = incoming;
    let created = create::create_from(host, &plan, true, Image::Incoming(input.as_fd()))
        .map_err(|e| refuse(output, e))?;
    say(output, "restored");
    let go = read_line(input);
    let finish = || -> Result<(), ControlError> {
        if go.as_deref() != Some("go") {
            return Err(ControlError::Invalid(
                "the sender stopped before handing over".into(),
            ));
        }
        super::failpoint::hit("migrate-receive:go")?;
        interrupt::check("starting the domain")?;
        host.rename(created.domid, &name)?;
        host.unpause(created.domid)?;
        started(&created)
    };
    if let Err(e) = finish() {
        let _ = host.destroy(created.domid);
        return Err(refuse(output, e));
    }
    say(output, "done");
    Ok(Created { name, ..created })
}
