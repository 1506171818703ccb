//! Protocol-level tests of the client against an in-process FAKE server over a unix socket pair.
//!
//! These check the codec and the client's plumbing — req_id routing, replies out of order, watch
//! events interleaved with replies, DIRECTORY_PART reassembly, EAGAIN retries, the size limit,
//! disconnects. The fake is scripted by each test; it is NOT a model of xenstored and nothing
//! here is a claim about xenstored's behaviour. That is tested against the real xenstored of
//! Xen 4.17 in the lab (`tests/lab/tests/xenstore.rs`).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use xenstore::wire::{self, Decoder, Message, MsgType};
use xenstore::{Access, Change, Errno, Error, Perms, Xs};

/// Requests the fake received, in order.
type Log = Arc<Mutex<Vec<Message>>>;

/// Start a fake on one end of a socket pair; `handler` sees each request and returns what to
/// send back (any number of messages, in order).
fn fake<H>(mut handler: H) -> (Xs, Log, JoinHandle<()>)
where
    H: FnMut(&Message) -> Vec<Message> + Send + 'static,
{
    let (client, server) = UnixStream::pair().unwrap();
    let log: Log = Arc::default();
    let log2 = Arc::clone(&log);
    let h = thread::spawn(move || serve(server, &log2, &mut handler));
    (Xs::from_unix_stream(client).unwrap(), log, h)
}

fn serve(mut s: UnixStream, log: &Log, handler: &mut dyn FnMut(&Message) -> Vec<Message>) {
    let mut dec = Decoder::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        dec.feed(&buf[..n]);
        while let Some(req) = dec.next_message().expect("client sent a malformed message") {
            log.lock().unwrap().push(req.clone());
            for out in handler(&req) {
                // Hand-encode so tests can also send what Message::encode would refuse.
                let mut bytes = wire::Header {
                    ty: out.ty as u32,
                    req_id: out.req_id,
                    tx_id: out.tx_id,
                    len: out.payload.len() as u32,
                }
                .to_bytes()
                .to_vec();
                bytes.extend_from_slice(&out.payload);
                if s.write_all(&bytes).is_err() {
                    return;
                }
            }
        }
    }
}

fn reply(req: &Message, payload: &[u8]) -> Message {
    Message::new(req.ty, req.req_id, req.tx_id, payload.to_vec())
}

fn ok(req: &Message) -> Message {
    reply(req, b"OK\0")
}

fn error(req: &Message, name: &str) -> Message {
    Message::new(
        MsgType::Error,
        req.req_id,
        req.tx_id,
        format!("{name}\0").into_bytes(),
    )
}

fn event(path: &str, token: &str) -> Message {
    Message::new(
        MsgType::WatchEvent,
        0,
        0,
        format!("{path}\0{token}\0").into_bytes(),
    )
}

/// The first NUL-terminated string of a request payload.
fn arg0(req: &Message) -> String {
    let end = req
        .payload
        .iter()
        .position(|b| *b == 0)
        .unwrap_or(req.payload.len());
    String::from_utf8(req.payload[..end].to_vec()).unwrap()
}

fn count(log: &Log, ty: MsgType) -> usize {
    log.lock().unwrap().iter().filter(|m| m.ty == ty).count()
}

#[test]
fn replies_out_of_order_reach_the_right_caller() {
    // Hold every READ until 50 have arrived, then answer them newest first.
    let mut held = Vec::new();
    let (xs, log, _h) = fake(move |req| {
        held.push(req.clone());
        if held.len() < 50 {
            return vec![];
        }
        held.drain(..)
            .rev()
            .map(|r| reply(&r, format!("value of {}", arg0(&r)).as_bytes()))
            .collect()
    });
    let paths: Vec<String> = (0..50).map(|i| format!("/local/domain/{i}/name")).collect();
    let got = xs.read_many(&paths);
    for (p, r) in paths.iter().zip(got) {
        assert_eq!(r.unwrap(), format!("value of {p}").into_bytes());
    }
    let ids: Vec<u32> = log.lock().unwrap().iter().map(|m| m.req_id).collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "req_ids must be distinct: {ids:?}");
}

#[test]
fn read_many_is_pipelined_and_keeps_per_item_errors() {
    // The fake answers only after seeing the whole window: a client that waited for each
    // reply before sending the next request would hang here.
    let mut held = Vec::new();
    let (xs, _log, _h) = fake(move |req| {
        held.push(req.clone());
        if held.len() < 3 {
            return vec![];
        }
        held.drain(..)
            .map(|r| {
                if arg0(&r).ends_with("missing") {
                    error(&r, "ENOENT")
                } else {
                    reply(&r, b"v")
                }
            })
            .collect()
    });
    let got = xs.read_many(&["/a", "/b/missing", "bad path!", "/c"]);
    assert_eq!(got[0].as_deref().unwrap(), b"v");
    assert!(got[1].as_ref().unwrap_err().is_not_found());
    assert!(
        matches!(got[2], Err(Error::InvalidPath { .. })),
        "validated locally, never sent"
    );
    assert_eq!(got[3].as_deref().unwrap(), b"v");
}

/// 4 threads × 100 READs on clones of `xs`, each checking it got its own path back (the fakes
/// here echo the path).
fn read_from_four_threads(xs: &Xs) {
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let xs = xs.clone();
            thread::spawn(move || {
                for i in 0..100 {
                    let p = format!("/t{t}/k{i}");
                    assert_eq!(xs.read_string(&p).unwrap(), p);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn many_threads_share_one_connection() {
    let (xs, log, _h) = fake(|req| vec![reply(req, arg0(req).as_bytes())]);
    read_from_four_threads(&xs);
    assert_eq!(count(&log, MsgType::Read), 400);
}

#[test]
fn many_threads_share_one_connection_with_a_watch_streaming() {
    // Once a watch exists a background thread does the reading; every READ reply here is
    // preceded by an event, and the callers' replies must still reach them.
    let (xs, _log, _h) = fake(|req| match req.ty {
        MsgType::Watch | MsgType::Unwatch => vec![ok(req)],
        _ => vec![event("/w/x", "w"), reply(req, arg0(req).as_bytes())],
    });
    let w = xs.watch("/w", "w").unwrap();
    read_from_four_threads(&xs);
    let mut events = 0;
    while w.try_recv().unwrap().is_some() {
        events += 1;
    }
    assert_eq!(events, 400);
}

#[test]
fn watch_events_interleaved_with_replies() {
    let (xs, log, _h) = fake(|req| match req.ty {
        // The immediate event, sent before the WATCH reply.
        MsgType::Watch => vec![event("/a", "tok"), ok(req)],
        // Every READ reply is preceded by an event for us and one for an unknown token.
        MsgType::Read => vec![
            event("/a/x", "tok"),
            event("/zz", "stranger"),
            reply(req, b"r"),
        ],
        MsgType::Unwatch => vec![ok(req)],
        _ => vec![error(req, "ENOSYS")],
    });
    let w = xs.watch("/a", "tok").unwrap();
    assert_eq!(
        w.recv_timeout(Duration::from_secs(5))
            .unwrap()
            .unwrap()
            .path,
        "/a"
    );
    for _ in 0..3 {
        assert_eq!(xs.read("/a/x").unwrap(), b"r");
    }
    for _ in 0..3 {
        let ev = w.recv_timeout(Duration::from_secs(5)).unwrap().unwrap();
        assert_eq!((ev.path.as_str(), ev.token.as_str()), ("/a/x", "tok"));
    }
    assert_eq!(
        w.try_recv().unwrap(),
        None,
        "the stranger's events are not ours"
    );
    assert_eq!(w.recv_timeout(Duration::from_millis(50)).unwrap(), None);

    assert!(matches!(
        xs.watch("/b", "tok"),
        Err(Error::DuplicateToken { .. })
    ));
    drop(w);
    let unwatch: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m.ty == MsgType::Unwatch)
        .map(|m| String::from_utf8(m.payload.clone()).unwrap())
        .collect();
    assert_eq!(unwatch, ["/a\0tok\0"], "dropping the Watch unwatches");
    // The token is free again.
    let _w = xs.watch("/b", "tok").unwrap();
}

/// A directory of `n` children served the way DIRECTORY_PART is specified in xenstore.txt;
/// `changes` lists part numbers after which the generation count is bumped (as if another
/// client had added a child... without actually changing the list, which is allowed).
fn directory_fake(n: usize, bump_after: Vec<usize>) -> (Xs, Log, Vec<String>) {
    let names: Vec<String> = (0..n)
        .map(|i| format!("entry-with-a-longish-name-{i:05}"))
        .collect();
    let list: Vec<u8> = names.iter().flat_map(|c| c.bytes().chain([0])).collect();
    let generation = Arc::new(AtomicUsize::new(7));
    let parts_served = Arc::new(AtomicUsize::new(0));
    let (xs, log, _h) = fake(move |req| match req.ty {
        MsgType::Directory if list.len() > 4096 => vec![error(req, "E2BIG")],
        MsgType::Directory => vec![reply(req, &list)],
        MsgType::DirectoryPart => {
            let args: Vec<&[u8]> = req.payload.split(|b| *b == 0).collect();
            let off: usize = std::str::from_utf8(args[1]).unwrap().parse().unwrap();
            let mut out = format!("{}\0", generation.load(Ordering::SeqCst)).into_bytes();
            let room = 4096 - out.len() - 1;
            let mut end = off;
            while end < list.len() {
                let next = end + list[end..].iter().position(|b| *b == 0).unwrap() + 1;
                if next - off > room {
                    break;
                }
                end = next;
            }
            out.extend_from_slice(&list[off.min(list.len())..end]);
            if end >= list.len() {
                out.push(0);
            }
            let k = parts_served.fetch_add(1, Ordering::SeqCst);
            if bump_after.contains(&k) {
                generation.fetch_add(1, Ordering::SeqCst);
            }
            vec![reply(req, &out)]
        }
        _ => vec![error(req, "ENOSYS")],
    });
    (xs, log, names)
}

#[test]
fn directory_part_reassembles_a_long_list() {
    let (xs, log, names) = directory_fake(1000, vec![]);
    assert_eq!(xs.directory("/big").unwrap(), names);
    let parts = count(&log, MsgType::DirectoryPart);
    assert!(
        parts >= 8,
        "32,000 bytes of names need at least 8 parts, got {parts}"
    );
}

#[test]
fn directory_part_restarts_when_generation_changes() {
    let (xs, log, names) = directory_fake(1000, vec![1]);
    assert_eq!(xs.directory("/big").unwrap(), names);
    let from_zero = log
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m.ty == MsgType::DirectoryPart && m.payload.ends_with(b"\x000\0"))
        .count();
    assert_eq!(from_zero, 2, "one restart from offset 0");
}

#[test]
fn short_directories_and_empty_ones() {
    let (xs, _log, names) = directory_fake(3, vec![]);
    assert_eq!(xs.directory("/small").unwrap(), names);
    let (xs, _log, _) = directory_fake(0, vec![]);
    assert_eq!(xs.directory("/empty").unwrap(), Vec::<String>::new());
}

#[test]
fn transaction_retries_on_eagain_then_commits() {
    let ends = Arc::new(AtomicUsize::new(0));
    let ends2 = Arc::clone(&ends);
    let (xs, log, _h) = fake(move |req| match req.ty {
        MsgType::TransactionStart => {
            assert_eq!(req.tx_id, 0);
            vec![reply(req, b"41\0")]
        }
        MsgType::Write => {
            assert_eq!(req.tx_id, 41, "writes carry the transaction id");
            vec![ok(req)]
        }
        MsgType::TransactionEnd => {
            assert_eq!(req.payload, b"T\0");
            if ends2.fetch_add(1, Ordering::SeqCst) < 2 {
                vec![error(req, "EAGAIN")]
            } else {
                vec![ok(req)]
            }
        }
        _ => vec![error(req, "ENOSYS")],
    });
    let mut runs = 0;
    let v = xs
        .transaction(|tx| {
            runs += 1;
            tx.write("/vm/x/name", "guest")?;
            Ok(tx.id())
        })
        .unwrap();
    assert_eq!((v, runs), (41, 3));
    assert_eq!(count(&log, MsgType::TransactionStart), 3);
}

#[test]
fn transaction_gives_up_after_the_bound_and_aborts_on_error() {
    let (xs, log, _h) = fake(|req| match req.ty {
        MsgType::TransactionStart => vec![reply(req, b"5\0")],
        MsgType::TransactionEnd if req.payload == b"T\0" => vec![error(req, "EAGAIN")],
        MsgType::TransactionEnd => vec![ok(req)],
        MsgType::Read => vec![error(req, "EACCES")],
        _ => vec![error(req, "ENOSYS")],
    });
    let r = xs.transaction_with_attempts(4, |_tx| Ok(()));
    assert!(
        matches!(r, Err(Error::TooManyConflicts { attempts: 4 })),
        "{r:?}"
    );

    let r = xs.transaction(|tx| tx.read("/secret"));
    assert!(r.unwrap_err().is_permission_denied());
    let last = log.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        (last.ty, last.payload.as_slice()),
        (MsgType::TransactionEnd, &b"F\0"[..])
    );

    // Dropping an unfinished transaction aborts it.
    let before = count(&log, MsgType::TransactionEnd);
    drop(xs.begin().unwrap());
    assert_eq!(count(&log, MsgType::TransactionEnd), before + 1);
}

#[test]
fn errors_name_operation_path_and_errno() {
    let (xs, _log, _h) = fake(|req| vec![error(req, "ENOENT")]);
    let e = xs.read("/local/domain/9/name").unwrap_err();
    assert_eq!(e.errno(), Some(&Errno::ENOENT));
    assert_eq!(
        e.to_string(),
        "xenstore READ /local/domain/9/name: ENOENT (no such node)"
    );
    assert_eq!(xs.try_read("/x").unwrap(), None);
    let e = xs.rm("/x/y").unwrap_err();
    assert_eq!(e.to_string(), "xenstore RM /x/y: ENOENT (no such node)");
}

#[test]
fn payload_limit_is_a_local_error_and_the_connection_survives() {
    let (xs, log, _h) = fake(|req| vec![ok(req)]);
    let path = "/v";
    let fits = vec![b'x'; 4096 - path.len() - 1];
    xs.write(path, &fits).unwrap();
    let too_big = vec![b'x'; fits.len() + 1];
    let e = xs.write(path, &too_big).unwrap_err();
    assert!(matches!(e, Error::TooLarge { len: 4097, .. }), "{e}");
    assert_eq!(
        count(&log, MsgType::Write),
        1,
        "the oversized request was never sent"
    );
    xs.write(path, "still fine").unwrap();
    assert!(matches!(
        xs.write("/a//b", "v"),
        Err(Error::InvalidPath { .. })
    ));
}

#[test]
fn other_requests_have_the_documented_payloads() {
    let (xs, log, _h) = fake(|req| match req.ty {
        MsgType::GetDomainPath => vec![reply(
            req,
            format!("/local/domain/{}\0", arg0(req)).as_bytes(),
        )],
        MsgType::IsDomainIntroduced => vec![reply(req, b"T\0")],
        MsgType::GetPerms => vec![reply(req, b"n0\0r5\0")],
        _ => vec![ok(req)],
    });
    assert_eq!(xs.get_domain_path(7).unwrap(), "/local/domain/7");
    assert!(xs.is_domain_introduced(7).unwrap());
    xs.introduce(7, 0x12345, 3).unwrap();
    xs.release(7).unwrap();
    xs.resume(7).unwrap();
    xs.set_target(8, 7).unwrap();
    xs.reset_watches().unwrap();
    xs.mkdir("/m").unwrap();
    let perms = Perms::new(0, Access::None).with(5, Access::Read);
    assert_eq!(xs.get_perms("/m").unwrap(), perms);
    xs.set_perms("/m", &perms.clone().with(6, Access::Both))
        .unwrap();
    let seen: Vec<(MsgType, Vec<u8>)> = log
        .lock()
        .unwrap()
        .iter()
        .map(|m| (m.ty, m.payload.clone()))
        .collect();
    let expect: Vec<(MsgType, &[u8])> = vec![
        (MsgType::GetDomainPath, b"7\0"),
        (MsgType::IsDomainIntroduced, b"7\0"),
        (MsgType::Introduce, b"7\x0074565\x003\0"),
        (MsgType::Release, b"7\0"),
        (MsgType::Resume, b"7\0"),
        (MsgType::SetTarget, b"8\x007\0"),
        (MsgType::ResetWatches, b"\0"),
        (MsgType::Mkdir, b"/m\0"),
        (MsgType::GetPerms, b"/m\0"),
        (MsgType::SetPerms, b"/m\0n0\0r5\0b6\0"),
    ];
    let expect: Vec<(MsgType, Vec<u8>)> =
        expect.into_iter().map(|(t, p)| (t, p.to_vec())).collect();
    assert_eq!(seen, expect);
}

#[test]
fn raw_requests_pass_through() {
    let (xs, log, _h) = fake(|req| vec![reply(req, b"checked\0")]);
    assert_eq!(
        xs.request(MsgType::Control, 0, b"check\0").unwrap(),
        b"checked\0"
    );
    let last = log.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        (last.ty, last.payload),
        (MsgType::Control, b"check\0".to_vec())
    );
    let e = xs.request(MsgType::Write, 0, &[b'x'; 4097]).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
}

#[test]
fn wrong_reply_type_is_a_protocol_error() {
    let (xs, _log, _h) = fake(|req| {
        vec![Message::new(
            MsgType::Write,
            req.req_id,
            0,
            b"OK\0".to_vec(),
        )]
    });
    let e = xs.read("/a").unwrap_err();
    assert!(matches!(e, Error::Protocol { .. }), "{e}");
}

#[test]
fn malformed_error_reply_is_a_protocol_error_not_a_hang() {
    let (xs, _log, _h) = fake(|req| match req.ty {
        MsgType::Read => vec![Message::new(MsgType::Error, req.req_id, 0, vec![])],
        _ => vec![Message::new(
            MsgType::Error,
            req.req_id,
            0,
            b"ENOENT".to_vec(),
        )],
    });
    let e = xs.read("/a").unwrap_err();
    assert!(
        matches!(e, Error::Protocol { .. }),
        "empty ERROR payload: {e}"
    );
    let e = xs.mkdir("/a").unwrap_err();
    assert!(
        matches!(e, Error::Protocol { .. }),
        "ERROR without NUL: {e}"
    );
}

#[test]
fn undecodable_header_kills_the_connection() {
    let (client, mut server) = UnixStream::pair().unwrap();
    let xs = Xs::from_unix_stream(client).unwrap();
    let w = {
        // A request that will never get its reply.
        let xs = xs.clone();
        thread::spawn(move || xs.read("/a"))
    };
    let mut bytes = wire::Header {
        ty: 20,
        req_id: 1,
        tx_id: 0,
        len: 0,
    }
    .to_bytes()
    .to_vec();
    let mut buf = [0u8; 64];
    let _ = server.read(&mut buf).unwrap();
    bytes.extend_from_slice(b"junk");
    server.write_all(&bytes).unwrap();
    let e = w.join().unwrap().unwrap_err();
    assert!(
        matches!(&e, Error::Disconnected { reason } if reason.contains("unknown message type 20")),
        "{e}"
    );
    let e = xs.read("/b").unwrap_err();
    assert!(
        matches!(e, Error::Disconnected { .. }),
        "later requests fail fast: {e}"
    );
}

#[test]
fn server_closing_wakes_waiters_and_watches() {
    let (client, server) = UnixStream::pair().unwrap();
    let xs = Xs::from_unix_stream(client).unwrap();
    let server = Arc::new(Mutex::new(Some(server)));
    let s2 = Arc::clone(&server);
    let h = thread::spawn(move || {
        let mut s = s2.lock().unwrap().take().unwrap();
        let mut dec = Decoder::new();
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf).unwrap();
        dec.feed(&buf[..n]);
        let w = dec.next_message().unwrap().unwrap();
        let ack = Message::new(MsgType::Watch, w.req_id, 0, b"OK\0".to_vec());
        s.write_all(&ack.encode().unwrap()).unwrap();
        // Wait for the READ, then hang up without answering it.
        let _ = s.read(&mut buf).unwrap();
    });
    let watch = xs.watch("@releaseDomain", "x").unwrap();
    let e = xs.read("/never").unwrap_err();
    assert!(matches!(e, Error::Disconnected { .. }), "{e}");
    assert!(watch.recv_timeout(Duration::from_secs(5)).is_err());
    h.join().unwrap();
}

#[test]
fn open_path_connects_to_a_listening_socket_and_open_errors_list_paths() {
    let dir = std::env::temp_dir().join(format!("xenstore-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("socket");
    let _ = std::fs::remove_file(&sock);
    let listener = UnixListener::bind(&sock).unwrap();
    let h = thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        serve(s, &Log::default(), &mut |req| vec![reply(req, b"hello")]);
    });
    let xs = Xs::open_path(&sock).unwrap();
    assert_eq!(xs.endpoint(), sock);
    assert_eq!(xs.kind(), xenstore::Kind::Socket);
    assert_eq!(xs.read("/x").unwrap(), b"hello");
    drop(xs);
    h.join().unwrap();

    let missing = [dir.join("nope"), dir.join("nope-either")];
    let e = xenstore::transport::open_first(&missing)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("nope:") && e.contains("nope-either:"), "{e}");
    assert!(
        e.contains("is xenstored running? are you in dom0 as root?"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn watch_routes_by_token_across_several_watches() {
    let (xs, _log, _h) = fake(|req| match req.ty {
        MsgType::Watch => {
            let args: Vec<&[u8]> = req.payload.split(|b| *b == 0).collect();
            let (p, t) = (
                std::str::from_utf8(args[0]).unwrap(),
                std::str::from_utf8(args[1]).unwrap(),
            );
            vec![ok(req), event(p, t)]
        }
        MsgType::Write => {
            let p = arg0(req);
            vec![
                ok(req),
                event(&p, if p.starts_with("/one") { "t1" } else { "t2" }),
            ]
        }
        _ => vec![ok(req)],
    });
    let w1 = xs.watch("/one", "t1").unwrap();
    let w2 = xs.watch("/two", "t2").unwrap();
    let mut seen: HashMap<&str, Vec<String>> = HashMap::new();
    xs.write("/one/a", "1").unwrap();
    xs.write("/two/b", "1").unwrap();
    xs.write("/one/c", "1").unwrap();
    for (name, w, n) in [("w1", &w1, 3), ("w2", &w2, 2)] {
        for _ in 0..n {
            seen.entry(name).or_default().push(
                w.recv_timeout(Duration::from_secs(5))
                    .unwrap()
                    .unwrap()
                    .path,
            );
        }
        assert_eq!(w.try_recv().unwrap(), None);
    }
    assert_eq!(seen["w1"], ["/one", "/one/a", "/one/c"]);
    assert_eq!(seen["w2"], ["/two", "/two/b"]);
}

#[test]
fn apply_is_pipelined_in_order_and_reports_the_first_failure() {
    // The fake answers only once all four changes have arrived: a client that waited for each
    // reply would hang. The second change fails; the error must name it.
    let mut held = Vec::new();
    let mut seen = 0;
    let (xs, log, _h) = fake(move |req| {
        seen += 1;
        held.push(req.clone());
        if seen < 4 {
            return vec![];
        }
        held.drain(..)
            .map(|r| {
                if arg0(&r) == "/b" {
                    error(&r, "EACCES")
                } else {
                    ok(&r)
                }
            })
            .collect()
    });
    let perms: Perms = "n0,r5".parse().unwrap();
    let err = xs
        .apply(&[
            Change::Write("/a", b"1"),
            Change::Write("/b", b"2"),
            Change::SetPerms("/a", &perms),
            Change::Rm("/c"),
        ])
        .unwrap_err();
    assert!(
        err.to_string().contains("WRITE /b") && err.to_string().contains("EACCES"),
        "{err}"
    );
    let seen: Vec<(MsgType, String)> = log
        .lock()
        .unwrap()
        .iter()
        .map(|m| (m.ty, arg0(m)))
        .collect();
    assert_eq!(
        seen,
        [
            (MsgType::Write, "/a".to_string()),
            (MsgType::Write, "/b".to_string()),
            (MsgType::SetPerms, "/a".to_string()),
            (MsgType::Rm, "/c".to_string()),
        ]
    );
    let set_payload = log.lock().unwrap()[2].payload.clone();
    assert_eq!(&set_payload[3..], b"n0\0r5\0");
    // Every reply was claimed: the connection is still in step for the next request.
    xs.apply(&[Change::Mkdir("/d")]).unwrap();
    assert_eq!(count(&log, MsgType::Mkdir), 1);
}

#[test]
fn apply_checks_every_path_before_sending_anything() {
    let (xs, log, _h) = fake(|req| vec![ok(req)]);
    let err = xs
        .apply(&[Change::Write("/ok", b"v"), Change::Mkdir("not absolute")])
        .unwrap_err();
    assert!(matches!(err, Error::InvalidPath { .. }), "{err}");
    assert!(log.lock().unwrap().is_empty(), "nothing was sent");
    xs.apply(&[Change::Write("/ok", b"v")]).unwrap();
    assert_eq!(count(&log, MsgType::Write), 1);
}

#[test]
fn a_server_that_never_answers_fails_the_request_after_the_reply_timeout() {
    // Answers the first READ, then swallows everything.
    let mut answered = false;
    let (xs, _log, _h) = fake(move |req| {
        if answered {
            return vec![];
        }
        answered = true;
        vec![reply(req, b"v")]
    });
    xs.set_reply_timeout(Duration::from_millis(300));
    assert_eq!(xs.read("/a").unwrap(), b"v");
    let t = std::time::Instant::now();
    let err = xs.read("/b").unwrap_err();
    let waited = t.elapsed();
    assert!(
        err.to_string()
            .contains("xenstored did not answer within 0.3 s"),
        "{err}"
    );
    // Bounded: the reply timeout plus at most one read tick.
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    // The connection is given up: later calls fail at once, with the same reason.
    let t = std::time::Instant::now();
    let again = xs.read("/a").unwrap_err();
    assert!(again.to_string().contains("did not answer"), "{again}");
    assert!(t.elapsed() < Duration::from_millis(200));
}

#[test]
fn a_silent_server_does_not_end_a_watch_wait_early() {
    // Nothing but the WATCH reply and the initial event: the connection stays usable while
    // nothing is asked of it, however long it is quiet (reads wake each tick, and go on).
    let (xs, _log, _h) = fake(|req| match req.ty {
        MsgType::Watch => {
            let (path, token) = {
                let parts: Vec<&[u8]> = req.payload.split(|b| *b == 0).collect();
                (parts[0].to_vec(), parts[1].to_vec())
            };
            let mut ev = path.clone();
            ev.push(0);
            ev.extend_from_slice(&token);
            ev.push(0);
            vec![ok(req), Message::new(MsgType::WatchEvent, 0, 0, ev)]
        }
        _ => vec![reply(req, b"x")],
    });
    xs.set_reply_timeout(Duration::from_millis(300));
    let w = xs.watch("/w", "tok").unwrap();
    assert!(w.recv_timeout(Duration::from_secs(2)).unwrap().is_some());
    assert!(
        w.recv_timeout(Duration::from_millis(1500))
            .unwrap()
            .is_none()
    );
    // Still alive: a request after the quiet spell is answered.
    assert_eq!(xs.read("/a").unwrap(), b"x");
}
