//! `xm migrate DOMAIN HOST` and its other end, `xm migrate-receive`, run on HOST through ssh
//! (as `xl migrate` does): no daemon, the stream goes over ssh's stdin and stdout.
//!
//! The conversation (text lines, except the header and the stream):
//!
//! ```text
//! receiver: xm-rs migrate-receive 2 zstd     (there is an xm on HOST; it can unpack zstd)
//! sender:   stream zstd | stream raw         (how the stream comes: compressed, or as is)
//! sender:   the save file's header           (LinuxGuestRecord, record, plan: savefile)
//! receiver: ok | error WHY                   (name, memory: refused before anything stops)
//! sender:   libxenguest's stream             (the guest suspended on the way; not live
//!                                             unless -l, which needs log-dirty tracking)
//! receiver: restored | error WHY             (built, paused, as NAME--incoming)
//! sender:   go                               (its copy renamed NAME--migratedaway)
//! receiver: done | error WHY                 (renamed NAME, unpaused, monitor started)
//! ```
//!
//! The stream is libxenguest's, in one zstd frame unless the sender was told `--no-compress`
//! (a young guest's memory is mostly zero pages: under the lab's ssh, 128 MiB shrink to a
//! few MiB). A receiver of xm-rs's first protocol (`migrate-receive 1`) gets it as is, without
//! the `stream` line.
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
use super::trace::StepTimer;
use super::xc::DomId;

/// The receiver's first line: the protocol's version and what the receiver can unpack.
pub const BANNER: &str = "xm-rs migrate-receive 2 zstd";
/// The first protocol's banner (no `stream` line, the stream as is).
const BANNER_V1: &str = "xm-rs migrate-receive 1";
/// zstd's level for the stream: libxenguest's pages come faster than ssh takes them, and
/// level 1 already turns zero pages into next to nothing.
const ZSTD_LEVEL: i32 = 1;
/// The size of the reads between libxenguest's pipe and the (un)packer.
const CHUNK: usize = 1 << 20;
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
    /// Compress the stream (zstd) where the receiver can unpack it.
    pub compress: bool,
}

/// Copies libxenguest's stream from `pipe` to `out` as one zstd frame; the bytes read and
/// written.
fn pack(mut pipe: std::io::PipeReader, out: &mut impl Write) -> std::io::Result<(u64, u64)> {
    let mut counted = Counted { inner: out, n: 0 };
    let mut enc = zstd::stream::write::Encoder::new(&mut counted, ZSTD_LEVEL)?;
    let raw = pump(&mut pipe, &mut enc)?;
    enc.finish()?;
    counted.flush()?;
    Ok((raw, counted.n))
}

/// Unpacks one zstd frame from `input` into libxenguest's `pipe`; the bytes unpacked. Reads
/// no further than the frame (what follows is the conversation's).
fn unpack(input: &mut impl Read, mut pipe: std::io::PipeWriter) -> std::io::Result<u64> {
    let mut dec = zstd::stream::read::Decoder::new(input)?.single_frame();
    pump(&mut dec, &mut pipe)
}

/// Copies `from` to `to` in [`CHUNK`]s until `from` ends; the bytes copied.
fn pump(from: &mut impl Read, to: &mut impl Write) -> std::io::Result<u64> {
    let mut buf = vec![0u8; CHUNK];
    let mut n = 0u64;
    loop {
        match from.read(&mut buf) {
            Ok(0) => return Ok(n),
            Ok(got) => {
                to.write_all(&buf[..got])?;
                n += got as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A writer that counts what passes.
struct Counted<W> {
    inner: W,
    n: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
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
    let compress = match read_line(&mut from) {
        Some(l) if l == BANNER => {
            let how = if target.compress { "zstd" } else { "raw" };
            if to.write_all(format!("stream {how}\n").as_bytes()).is_err() {
                return Err(unexpected(peer, "before the guest was suspended", None));
            }
            target.compress
        }
        Some(l) if l == BANNER_V1 => {
            if target.compress {
                eprintln!(
                    "Warning: {peer}'s xm takes no compressed stream: the guest is sent as is"
                );
            }
            false
        }
        other => {
            return Err(ControlError::Invalid(format!(
                "{peer} did not start xm migrate-receive ({})",
                other.map_or("no answer".to_string(), |l| format!("it said '{l}'"))
            )));
        }
    };
    let sent = to.write_all(header).and_then(|()| to.flush());
    match (sent, read_line(&mut from)) {
        (Ok(()), Some(r)) if r == "ok" => {}
        (_, reply) => return Err(unexpected(peer, "before the guest was suspended", reply)),
    }
    // From here the guest may be suspended: every failure resumes it here.
    let mut asked = Ok(());
    let mut suspend = || {
        asked = interrupt::check("suspend")
            .map_err(ControlError::from)
            .and_then(|()| suspend_guest(host, domid))
            .and_then(|()| super::failpoint::hit("migrate:suspended").map_err(Into::into));
        asked.is_ok()
    };
    let trace = StepTimer::from_env();
    let saved = if compress {
        // libxenguest writes into a pipe; a thread packs what comes out of it for ssh.
        let (pipe_r, pipe_w) = std::io::pipe().map_err(|e| ControlError::Invalid(e.to_string()))?;
        std::thread::scope(|s| {
            let packer = s.spawn(|| pack(pipe_r, &mut to));
            let saved = host
                .xc
                .domain_save(domid, pipe_w.as_fd(), target.live, &mut suspend);
            drop(pipe_w);
            match packer.join() {
                Ok(Ok((raw, packed))) => {
                    trace.step(&format!("stream sent: {raw} bytes as {packed} (zstd)"));
                    saved.map_err(ControlError::from)
                }
                Ok(Err(e)) => saved
                    .map_err(ControlError::from)
                    .and(Err(ControlError::Invalid(format!(
                        "sending the stream: {e}"
                    )))),
                Err(_) => Err(ControlError::Invalid("the stream's packer failed".into())),
            }
        })
    } else {
        host.xc
            .domain_save(domid, to.as_fd(), target.live, &mut suspend)
            .map_err(ControlError::from)
    };
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
            _ => e,
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
    let compressed = match read_line(input).as_deref() {
        Some("stream zstd") => true,
        Some("stream raw") => false,
        other => {
            return Err(refuse(
                output,
                ControlError::Invalid(format!(
                    "the sender said {:?} where the stream's kind comes (zstd or raw)",
                    other.unwrap_or("nothing")
                )),
            ));
        }
    };
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
    let created = if compressed {
        // A thread unpacks the stream into a pipe that libxenguest's restore reads.
        let (pipe_r, pipe_w) = std::io::pipe().map_err(|e| ControlError::Invalid(e.to_string()))?;
        std::thread::scope(|s| {
            let unpacker = s.spawn(|| unpack(&mut *input, pipe_w));
            let created = create::create_from(host, &plan, true, Image::Incoming(pipe_r.as_fd()));
            // A restore that stopped reading lets the unpacker go (EPIPE).
            drop(pipe_r);
            match (created, unpacker.join()) {
                (Ok(c), Ok(Ok(_))) => Ok(c),
                (Ok(c), Ok(Err(e))) => {
                    let _ = host.destroy(c.domid);
                    Err(ControlError::Invalid(format!("unpacking the stream: {e}")))
                }
                (Err(e), Ok(Err(u))) => Err(ControlError::Invalid(format!(
                    "{e} (unpacking the stream: {u})"
                ))),
                (Err(e), _) => Err(e),
                (Ok(c), Err(_)) => {
                    let _ = host.destroy(c.domid);
                    Err(ControlError::Invalid("the stream's unpacker failed".into()))
                }
            }
        })
    } else {
        create::create_from(host, &plan, true, Image::Incoming(input.as_fd()))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What libxenguest would write: mostly zero pages, some that are not.
    fn stream(len: usize) -> Vec<u8> {
        let mut v = vec![0u8; len];
        for (i, b) in v.iter_mut().enumerate().filter(|(i, _)| i % 4096 < 64) {
            *b = (i.wrapping_mul(2_654_435_761) >> 13) as u8;
        }
        v
    }

    #[test]
    fn a_packed_stream_unpacks_whole_and_the_conversation_goes_on_after_it() {
        let data = stream(8 << 20);
        // Sender: libxenguest's pipe in, the packed frame out.
        let (r, mut w) = std::io::pipe().unwrap();
        let feeder = {
            let data = data.clone();
            std::thread::spawn(move || w.write_all(&data))
        };
        let mut wire = Vec::new();
        let (raw, packed) = pack(r, &mut wire).unwrap();
        feeder.join().unwrap().unwrap();
        assert_eq!(raw, data.len() as u64);
        assert_eq!(packed, wire.len() as u64);
        assert!(packed * 10 < raw, "{packed} of {raw}");
        // The channel (ssh) stays open after the frame: unpacking ends at the frame's end,
        // without waiting for more, and the conversation goes on on the same channel (the
        // sender says `go` only after the receiver's `restored`).
        let (mut input, mut channel) = std::io::pipe().unwrap();
        let sender = std::thread::spawn(move || {
            channel.write_all(&wire)?;
            Ok::<_, std::io::Error>(channel)
        });
        // Receiver: the frame unpacked into libxenguest's pipe, read on the other side.
        let (r, w) = std::io::pipe().unwrap();
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut r = r;
            r.read_to_end(&mut got).map(|_| got)
        });
        assert_eq!(unpack(&mut input, w).unwrap(), data.len() as u64);
        assert_eq!(reader.join().unwrap().unwrap(), data);
        let mut channel = sender.join().unwrap().unwrap();
        channel.write_all(b"go\n").unwrap();
        assert_eq!(read_line(&mut input).as_deref(), Some("go"));
    }

    #[test]
    fn a_corrupt_or_cut_stream_is_an_error_not_a_short_guest() {
        let (r, mut w) = std::io::pipe().unwrap();
        let feeder = std::thread::spawn(move || w.write_all(&stream(1 << 20)));
        let mut wire = Vec::new();
        pack(r, &mut wire).unwrap();
        feeder.join().unwrap().unwrap();
        for broken in [wire[..wire.len() / 2].to_vec(), {
            let mut b = wire.clone();
            let mid = b.len() / 2;
            b[mid] ^= 0xff;
            b
        }] {
            let (r, w) = std::io::pipe().unwrap();
            let reader = std::thread::spawn(move || {
                let mut sink = Vec::new();
                let mut r = r;
                r.read_to_end(&mut sink).map(|_| sink.len())
            });
            assert!(unpack(&mut std::io::Cursor::new(broken), w).is_err());
            reader.join().unwrap().unwrap();
        }
    }
}
