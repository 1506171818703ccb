//! The client: one connection, shared by any number of threads.
//!
//! Replies are matched to requests by `req_id`. Whoever is waiting for a reply reads the
//! connection itself when nobody else is (routing whatever arrives, including other callers'
//! replies), so a lone caller pays one wake-up per round trip, as with libxenstore. The first
//! watch starts a background reader thread, which from then on does all the reading, so watch
//! events (which arrive unsolicited, interleaved with replies) are delivered to their [`Watch`]
//! (by token) even when no request is being made.

use std::collections::HashMap;
use std::io::{self, Read};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::path;
use crate::perms::Perms;
use crate::transport::{self, Connection, Kind, Writer};
use crate::wire::{self, Decoder, Errno, Message, MsgType, PAYLOAD_MAX};

/// How many times [`Xs::transaction`] runs its closure before giving up on `EAGAIN`.
pub const DEFAULT_TRANSACTION_ATTEMPTS: u32 = 32;

/// How many requests [`Xs::read_many`] keeps in flight at once.
const PIPELINE_WINDOW: usize = 128;

/// How long a caller waits for xenstored's reply before giving up on the connection (on a
/// socket; the xenbus device's reads cannot be bounded). xenstored answers in microseconds
/// natively and about a millisecond under the lab's emulation: 30 s means it is stopped or
/// stuck, not busy.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// How often [`Xs::directory`] restarts a `DIRECTORY_PART` walk because the directory changed
/// under it before giving up with `EAGAIN`.
const DIRECTORY_PART_RESTARTS: u32 = 16;

/// A connection to xenstored. Cheap to clone (clones share the connection); all methods take
/// `&self` and may be called from several threads at once.
#[derive(Clone)]
pub struct Xs {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Writer>,
    shared: Arc<Shared>,
    next_req_id: AtomicU32,
    path: PathBuf,
    /// The background reader, once the first watch started it.
    reader_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Held for the whole of each request on the xenbus device, which allows one request in
    /// flight per open file (see [`transport`]).
    device_turn: Option<Mutex<()>>,
}

/// What callers and the background reader share.
struct Shared {
    state: Mutex<State>,
    /// Signalled when replies were routed, the reader role was given up, or the connection
    /// died.
    changed: Condvar,
    /// The read half. Locked only by the holder of the reader role ([`State::reading`]).
    read_side: Mutex<ReadSide>,
}

struct ReadSide {
    reader: Box<dyn Read + Send>,
    decoder: Decoder,
    buf: Vec<u8>,
}

struct State {
    /// Requests sent and not answered yet: `None` until the reply is routed into the slot.
    pending: HashMap<u32, Option<Message>>,
    /// Live watches by token.
    watches: HashMap<String, mpsc::Sender<WatchEvent>>,
    /// Why the connection is unusable, once it is.
    dead: Option<String>,
    /// The handle is being dropped; the background reader should stop.
    closing: bool,
    /// Someone (a waiting caller, or the background reader for good) is reading.
    reading: bool,
    /// The background reader has been started.
    background: bool,
    /// Threads blocked on [`Shared::changed`]; without any, notifying is skipped (it costs a
    /// system call, which a PV dom0 pays dearly for).
    waiters: usize,
    /// How long a caller waits for a reply (see [`Xs::set_reply_timeout`]).
    reply_timeout: Duration,
}

impl Default for State {
    fn default() -> Self {
        State {
            pending: HashMap::new(),
            watches: HashMap::new(),
            dead: None,
            closing: false,
            reading: false,
            background: false,
            waiters: 0,
            reply_timeout: REPLY_TIMEOUT,
        }
    }
}

fn relock<T>(r: std::sync::LockResult<T>) -> T {
    // A panic while holding one of these locks cannot leave the state inconsistent (every
    // update is a single insert/remove/assignment), so a poisoned lock is still usable.
    r.unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        relock(self.state.lock())
    }

    /// Mark the connection dead and wake everyone waiting on it.
    fn kill(&self, reason: String) {
        let mut st = self.lock();
        if st.dead.is_none() {
            st.dead = Some(reason);
        }
        st.pending.clear();
        st.watches.clear();
        self.notify(st);
    }

    fn dead_reason(st: &State) -> String {
        st.dead
            .clone()
            .unwrap_or_else(|| "connection closed".into())
    }

    fn disconnected(&self) -> Error {
        Error::Disconnected {
            reason: Shared::dead_reason(&self.lock()),
        }
    }

    /// Read once (blocking) and route every whole message received. Only the holder of the
    /// reader role calls this. `Err` says why the connection is dead.
    fn read_and_route(&self) -> std::result::Result<(), String> {
        let msgs = {
            let mut guard = relock(self.read_side.lock());
            let rs = &mut *guard;
            let n = loop {
                match rs.reader.read(&mut rs.buf) {
                    Ok(0) => return Err("closed by xenstored".into()),
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    // The socket's read tick: nothing arrived; the caller looks at the clock.
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) =>
                    {
                        return Ok(());
                    }
                    Err(e) => return Err(format!("read failed: {e}")),
                }
            };
            rs.decoder.feed(&rs.buf[..n]);
            let mut msgs = Vec::new();
            loop {
                match rs.decoder.next_message() {
                    Ok(Some(m)) => msgs.push(m),
                    Ok(None) => break,
                    Err(e) => return Err(format!("corrupt message from xenstored: {e}")),
                }
            }
            msgs
        };
        if !msgs.is_empty() {
            let mut st = self.lock();
            for m in msgs {
                route(&mut st, m);
            }
            self.notify(st);
        }
        Ok(())
    }

    /// Block until [`Shared::changed`] is signalled.
    fn wait<'a>(&self, mut st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        st.waiters += 1;
        let mut st = relock(self.changed.wait(st));
        st.waiters -= 1;
        st
    }

    /// Release the state lock, waking the threads blocked on [`Shared::changed`], if any.
    fn notify(&self, st: MutexGuard<'_, State>) {
        let any = st.waiters > 0;
        drop(st);
        if any {
            self.changed.notify_all();
        }
    }

    /// Block until [`Shared::changed`] is signalled or `until` passes.
    fn wait_until<'a>(
        &self,
        mut st: MutexGuard<'a, State>,
        until: Instant,
    ) -> MutexGuard<'a, State> {
        st.waiters += 1;
        let left = until.saturating_duration_since(Instant::now());
        let mut st = relock(self.changed.wait_timeout(st, left)).0;
        st.waiters -= 1;
        st
    }

    /// Wait for the reply to `id`, reading the connection whenever nobody else is. A reply
    /// that has not come within the reply timeout ends the connection: the stream can no
    /// longer be trusted to pair requests with replies, and every later call fails at once
    /// with the same reason.
    fn wait_reply(&self, id: u32) -> std::result::Result<Message, String> {
        let mut st = self.lock();
        let deadline = Instant::now() + st.reply_timeout;
        loop {
            match st.pending.get_mut(&id) {
                Some(slot) => {
                    if let Some(m) = slot.take() {
                        st.pending.remove(&id);
                        return Ok(m);
                    }
                }
                // Cleared by `kill`.
                None => return Err(Shared::dead_reason(&st)),
            }
            if Instant::now() >= deadline {
                let reason = format!(
                    "xenstored did not answer within {} s (is it running? is it overloaded?)",
                    st.reply_timeout.as_secs_f64()
                );
                drop(st);
                self.kill(reason.clone());
                return Err(reason);
            }
            if st.reading {
                st = self.wait_until(st, deadline);
                continue;
            }
            st.reading = true;
            drop(st);
            let r = self.read_and_route();
            st = self.lock();
            st.reading = false;
            if st.waiters > 0 {
                self.changed.notify_all();
            }
            if let Err(reason) = r {
                drop(st);
                self.kill(reason);
                st = self.lock();
            }
        }
    }
}

/// One event from a watch: `path` is the node that changed (a child of, or equal to, the watched
/// path; for `@releaseDomain`/`@introduceDomain` the special path itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchEvent {
    pub path: String,
    pub token: String,
}

/// A registered watch. Events queue until read; dropping the `Watch` sends `UNWATCH`.
///
/// xenstored fires a new watch once straight away (with the watched path), and may fire
/// spuriously: treat an event as "look again", not as a description of the change.
pub struct Watch {
    inner: Arc<Inner>,
    path: String,
    token: String,
    rx: Receiver<WatchEvent>,
}

/// One request to send; `what` names it in errors (a path, or e.g. `domain 5`).
struct Request<'a> {
    op: MsgType,
    tx: u32,
    payload: Vec<u8>,
    what: &'a str,
}

/// One change to the store, for [`Xs::apply`] and [`Transaction::apply`].
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// `WRITE`: set a node's value, creating it and missing parents.
    Write(&'a str, &'a [u8]),
    /// `MKDIR`: make sure a node exists.
    Mkdir(&'a str),
    /// `RM`: remove a node and everything below it.
    Rm(&'a str),
    /// `SET_PERMS`.
    SetPerms(&'a str, &'a Perms),
}

impl<'a> Change<'a> {
    fn path(&self) -> &'a str {
        match *self {
            Change::Write(p, _) | Change::Mkdir(p) | Change::Rm(p) | Change::SetPerms(p, _) => p,
        }
    }

    fn request(&self, tx: u32) -> Request<'a> {
        let path = self.path();
        let bare = || wire::strings_payload(&[path.as_bytes()]);
        let (op, payload) = match *self {
            Change::Write(_, value) => (MsgType::Write, wire::write_payload(path, value)),
            Change::Mkdir(_) => (MsgType::Mkdir, bare()),
            Change::Rm(_) => (MsgType::Rm, bare()),
            Change::SetPerms(_, perms) => {
                let mut payload = bare();
                payload.extend_from_slice(&perms.to_wire());
                (MsgType::SetPerms, payload)
            }
        };
        Request {
            op,
            tx,
            payload,
            what: path,
        }
    }
}

impl Xs {
    /// Connect the way libxenstore's `xs_open()` does: `$XENSTORED_PATH`, else
    /// `$XENSTORED_RUNDIR/socket` (default `/var/run/xenstored/socket`), else `/dev/xen/xenbus`.
    /// The error lists every path tried and why it failed.
    pub fn open() -> Result<Xs> {
        Xs::from_connection(transport::open_default()?)
    }

    /// Connect to one path: a unix socket, or otherwise a xenbus-like character device.
    pub fn open_path(path: impl AsRef<Path>) -> Result<Xs> {
        Xs::from_connection(transport::open_first(&[path.as_ref().to_path_buf()])?)
    }

    /// Use an already connected unix stream.
    pub fn from_unix_stream(stream: UnixStream) -> Result<Xs> {
        let conn =
            Connection::from_stream(stream, PathBuf::from("<unix stream>")).map_err(|e| {
                Error::Open {
                    tried: vec![(PathBuf::from("<unix stream>"), e)],
                }
            })?;
        Xs::from_connection(conn)
    }

    /// Use an opened [`Connection`].
    pub fn from_connection(conn: Connection) -> Result<Xs> {
        let Connection {
            reader,
            writer,
            path,
        } = conn;
        let device_turn = (writer.kind() == Kind::Device).then(|| Mutex::new(()));
        let shared = Arc::new(Shared {
            state: Mutex::default(),
            changed: Condvar::new(),
            read_side: Mutex::new(ReadSide {
                reader,
                decoder: Decoder::new(),
                buf: vec![0u8; 16 * 1024],
            }),
        });
        Ok(Xs {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                shared,
                next_req_id: AtomicU32::new(1),
                path,
                reader_thread: Mutex::new(None),
                device_turn,
            }),
        })
    }

    /// How long a request waits for its reply from now on (default [`REPLY_TIMEOUT`]). When
    /// it passes, the request fails, and so does the connection: every later call on this
    /// handle fails at once with the same reason. Only socket connections can be bounded;
    /// on the xenbus device a read blocks until xenstored answers.
    pub fn set_reply_timeout(&self, timeout: Duration) {
        self.inner.shared.lock().reply_timeout = timeout;
    }

    /// The socket or device this handle is connected to.
    pub fn endpoint(&self) -> &Path {
        &self.inner.path
    }

    /// Whether the connection is a unix socket or the xenbus device.
    pub fn kind(&self) -> Kind {
        self.inner.writer().kind()
    }

    // --- Node operations (outside any transaction) ---------------------------------------

    /// `READ`: the raw value of a node.
    pub fn read(&self, path: &str) -> Result<Vec<u8>> {
        self.inner.read(0, path)
    }

    /// `READ`, as UTF-8 text.
    pub fn read_string(&self, path: &str) -> Result<String> {
        self.inner.read_string(0, path)
    }

    /// `READ`, with a missing node (`ENOENT`) as `None`.
    pub fn try_read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        self.inner.try_read(0, path)
    }

    /// Many `READ`s pipelined on this connection: all requests are sent before the replies are
    /// collected (in windows of 128), so N reads cost about one round trip per window instead
    /// of N. Results are in the order of `paths`; each fails or succeeds on its own. On the
    /// xenbus device, which takes one request at a time, the reads are serial.
    pub fn read_many<P: AsRef<str>>(&self, paths: &[P]) -> Vec<Result<Vec<u8>>> {
        self.inner.read_many(0, paths)
    }

    /// `WRITE`: set a node's value, creating it and missing parents.
    pub fn write(&self, path: &str, value: impl AsRef<[u8]>) -> Result<()> {
        self.inner.write(0, path, value.as_ref())
    }

    /// `MKDIR`: make sure a node exists (its value is left alone if it does).
    pub fn mkdir(&self, path: &str) -> Result<()> {
        self.inner.simple(0, MsgType::Mkdir, path)
    }

    /// `RM`: remove a node and everything below it. Not an error if the node is missing, but it
    /// is if its parent is.
    pub fn rm(&self, path: &str) -> Result<()> {
        self.inner.simple(0, MsgType::Rm, path)
    }

    /// `DIRECTORY`: the names of a node's children. Lists too long for one reply are fetched
    /// with `DIRECTORY_PART`, restarting if the directory changes meanwhile.
    pub fn directory(&self, path: &str) -> Result<Vec<String>> {
        self.inner.directory(0, path)
    }

    /// `GET_PERMS`.
    pub fn get_perms(&self, path: &str) -> Result<Perms> {
        self.inner.get_perms(0, path)
    }

    /// `SET_PERMS`.
    pub fn set_perms(&self, path: &str, perms: &Perms) -> Result<()> {
        self.inner.set_perms(0, path, perms)
    }

    /// Many changes pipelined on this connection, applied by xenstored in the order given:
    /// all requests are sent before the replies are collected (in windows of 128), so N changes
    /// cost about one round trip per window instead of N. Every path and size is checked before
    /// anything is sent. Returns the first failure; the changes after it in the same window
    /// may have been applied too, so use it inside a [`Transaction`] when that matters. On the
    /// xenbus device, which takes one request at a time, the changes are serial.
    pub fn apply(&self, changes: &[Change<'_>]) -> Result<()> {
        self.inner.apply(0, changes)
    }

    /// Send one request as given (no path checks; the size limit still applies) and return the
    /// payload of a successful reply. For request types without a method here (`CONTROL`,
    /// `GET_QUOTA`, ...) and for tests of xenstored itself.
    pub fn request(&self, op: MsgType, tx_id: u32, payload: &[u8]) -> Result<Vec<u8>> {
        let what = String::from_utf8_lossy(payload.split(|b| *b == 0).next().unwrap_or_default())
            .into_owned();
        self.inner.call(Request {
            op,
            tx: tx_id,
            payload: payload.to_vec(),
            what: &what,
        })
    }

    // --- Transactions ----------------------------------------------------------------------

    /// `TRANSACTION_START`. Prefer [`Xs::transaction`], which also retries on conflicts.
    pub fn begin(&self) -> Result<Transaction<'_>> {
        let payload = wire::strings_payload(&[b""]);
        let reply = self.inner.call(Request {
            op: MsgType::TransactionStart,
            tx: 0,
            payload,
            what: "",
        })?;
        let id = wire::parse_transaction_id(&reply)
            .map_err(|e| Error::wire(MsgType::TransactionStart, "", e))?;
        Ok(Transaction {
            xs: self,
            id,
            finished: false,
        })
    }

    /// Run `f` in a transaction and commit it. If the commit (or any step) fails with `EAGAIN`
    /// because another client changed the store meanwhile, `f` runs again in a fresh
    /// transaction, up to [`DEFAULT_TRANSACTION_ATTEMPTS`] times. Any other error aborts the
    /// transaction and is returned.
    pub fn transaction<T>(&self, f: impl FnMut(&Transaction<'_>) -> Result<T>) -> Result<T> {
        self.transaction_with_attempts(DEFAULT_TRANSACTION_ATTEMPTS, f)
    }

    /// [`Xs::transaction`] with an explicit bound on attempts (at least 1).
    pub fn transaction_with_attempts<T>(
        &self,
        attempts: u32,
        mut f: impl FnMut(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let attempts = attempts.max(1);
        for attempt in 1..=attempts {
            let tx = self.begin()?;
            let outcome = match f(&tx) {
                Ok(v) => tx.commit().map(|()| v),
                Err(e) => {
                    let _ = tx.abort();
                    Err(e)
                }
            };
            match outcome {
                Err(e) if e.is_again() => {
                    // Give the other writer a moment; grows to 10 ms.
                    std::thread::sleep(Duration::from_micros(300 * u64::from(attempt.min(32))));
                }
                other => return other,
            }
        }
        Err(Error::TooManyConflicts { attempts })
    }

    // --- Watches ---------------------------------------------------------------------------

    /// `WATCH`: be told when `path` or anything below it changes. `path` may be
    /// `@introduceDomain` or `@releaseDomain`. `token` identifies the watch and must be unique
    /// on this connection, and may be any string without NUL. The first event arrives at once.
    pub fn watch(&self, path: &str, token: &str) -> Result<Watch> {
        validate(path)?;
        if token.contains('\0') {
            return Err(Error::InvalidToken {
                token: token.to_string(),
            });
        }
        let (tx, rx) = mpsc::channel();
        {
            let mut st = self.inner.shared.lock();
            if st.watches.contains_key(token) {
                return Err(Error::DuplicateToken {
                    token: token.to_string(),
                });
            }
            // Registered before WATCH is sent, so the immediate first event is not lost.
            st.watches.insert(token.to_string(), tx);
        }
        self.inner.start_background_reader()?;
        let payload = wire::strings_payload(&[path.as_bytes(), token.as_bytes()]);
        let sent = self
            .inner
            .call(Request {
                op: MsgType::Watch,
                tx: 0,
                payload,
                what: path,
            })
            .and_then(|r| ok_reply(MsgType::Watch, path, &r));
        if let Err(e) = sent {
            self.inner.shared.lock().watches.remove(token);
            return Err(e);
        }
        Ok(Watch {
            inner: Arc::clone(&self.inner),
            path: path.to_string(),
            token: token.to_string(),
            rx,
        })
    }

    /// `RESET_WATCHES`: drop every watch and transaction of this connection on the server.
    /// Local [`Watch`] handles stay but receive nothing more.
    pub fn reset_watches(&self) -> Result<()> {
        let payload = wire::strings_payload(&[b""]);
        let r = self.inner.call(Request {
            op: MsgType::ResetWatches,
            tx: 0,
            payload,
            what: "",
        })?;
        ok_reply(MsgType::ResetWatches, "", &r)
    }

    // --- Domain management (dom0 only) -----------------------------------------------------

    /// `INTRODUCE domid mfn port`: tell xenstored to talk to a new domain over the store page
    /// `mfn` (a gfn for non-PV guests) and the unbound event channel `port`.
    pub fn introduce(&self, domid: u32, mfn: u64, port: u32) -> Result<()> {
        let args = [domid.to_string(), mfn.to_string(), port.to_string()];
        self.inner.domain_op(MsgType::Introduce, domid, &args)
    }

    /// `RELEASE domid`: xenstored forgets the domain (fires `@releaseDomain`).
    pub fn release(&self, domid: u32) -> Result<()> {
        self.inner
            .domain_op(MsgType::Release, domid, &[domid.to_string()])
    }

    /// `RESUME domid`: re-arm `@releaseDomain` for a domain that was shut down and resumed.
    pub fn resume(&self, domid: u32) -> Result<()> {
        self.inner
            .domain_op(MsgType::Resume, domid, &[domid.to_string()])
    }

    /// `SET_TARGET domid target`: `domid` gets the rights of `target` (device-model stubdoms).
    pub fn set_target(&self, domid: u32, target: u32) -> Result<()> {
        self.inner.domain_op(
            MsgType::SetTarget,
            domid,
            &[domid.to_string(), target.to_string()],
        )
    }

    /// `GET_DOMAIN_PATH domid`: the domain's home, `/local/domain/<domid>`.
    pub fn get_domain_path(&self, domid: u32) -> Result<String> {
        let what = format!("domain {domid}");
        let payload = wire::strings_payload(&[domid.to_string().as_bytes()]);
        let r = self.inner.call(Request {
            op: MsgType::GetDomainPath,
            tx: 0,
            payload,
            what: &what,
        })?;
        wire::parse_one_string(MsgType::GetDomainPath, &r)
            .map_err(|e| Error::wire(MsgType::GetDomainPath, &what, e))
    }

    /// `IS_DOMAIN_INTRODUCED domid`.
    pub fn is_domain_introduced(&self, domid: u32) -> Result<bool> {
        let what = format!("domain {domid}");
        let payload = wire::strings_payload(&[domid.to_string().as_bytes()]);
        let op = MsgType::IsDomainIntroduced;
        let r = self.inner.call(Request {
            op,
            tx: 0,
            payload,
            what: &what,
        })?;
        wire::parse_bool(op, &r).map_err(|e| Error::wire(op, &what, e))
    }
}

impl std::fmt::Debug for Xs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Xs")
            .field("endpoint", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// An open transaction. Reads see a snapshot; writes become visible at [`commit`]. Dropped
/// without commit, it is aborted.
///
/// [`commit`]: Transaction::commit
pub struct Transaction<'a> {
    xs: &'a Xs,
    id: u32,
    finished: bool,
}

impl Transaction<'_> {
    /// The transaction id xenstored assigned (sent as `tx_id` in each request's header).
    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn read(&self, path: &str) -> Result<Vec<u8>> {
        self.xs.inner.read(self.id, path)
    }

    pub fn read_string(&self, path: &str) -> Result<String> {
        self.xs.inner.read_string(self.id, path)
    }

    pub fn try_read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        self.xs.inner.try_read(self.id, path)
    }

    pub fn read_many<P: AsRef<str>>(&self, paths: &[P]) -> Vec<Result<Vec<u8>>> {
        self.xs.inner.read_many(self.id, paths)
    }

    pub fn write(&self, path: &str, value: impl AsRef<[u8]>) -> Result<()> {
        self.xs.inner.write(self.id, path, value.as_ref())
    }

    pub fn mkdir(&self, path: &str) -> Result<()> {
        self.xs.inner.simple(self.id, MsgType::Mkdir, path)
    }

    pub fn rm(&self, path: &str) -> Result<()> {
        self.xs.inner.simple(self.id, MsgType::Rm, path)
    }

    pub fn directory(&self, path: &str) -> Result<Vec<String>> {
        self.xs.inner.directory(self.id, path)
    }

    pub fn get_perms(&self, path: &str) -> Result<Perms> {
        self.xs.inner.get_perms(self.id, path)
    }

    pub fn set_perms(&self, path: &str, perms: &Perms) -> Result<()> {
        self.xs.inner.set_perms(self.id, path, perms)
    }

    /// [`Xs::apply`] inside this transaction: a failure leaves the transaction to be aborted,
    /// so nothing of it is applied.
    pub fn apply(&self, changes: &[Change<'_>]) -> Result<()> {
        self.xs.inner.apply(self.id, changes)
    }

    /// `TRANSACTION_END T`. Fails with `EAGAIN` (see [`Error::is_again`]) on a conflict.
    pub fn commit(mut self) -> Result<()> {
        self.end(true)
    }

    /// `TRANSACTION_END F`.
    pub fn abort(mut self) -> Result<()> {
        self.end(false)
    }

    fn end(&mut self, commit: bool) -> Result<()> {
        self.finished = true;
        let payload = wire::strings_payload(&[if commit { b"T" } else { b"F" }]);
        let op = MsgType::TransactionEnd;
        let r = self.xs.inner.call(Request {
            op,
            tx: self.id,
            payload,
            what: "",
        })?;
        ok_reply(op, "", &r)
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.end(false);
        }
    }
}

impl Watch {
    /// The watched path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The watch's token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Wait for the next event.
    pub fn recv(&self) -> Result<WatchEvent> {
        self.rx.recv().map_err(|_| self.inner.shared.disconnected())
    }

    /// Wait up to `timeout` for the next event; `Ok(None)` on timeout.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Option<WatchEvent>> {
        match self.rx.recv_timeout(timeout) {
            Ok(ev) => Ok(Some(ev)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(self.inner.shared.disconnected()),
        }
    }

    /// The next queued event, if any, without waiting.
    pub fn try_recv(&self) -> Result<Option<WatchEvent>> {
        match self.rx.try_recv() {
            Ok(ev) => Ok(Some(ev)),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(self.inner.shared.disconnected()),
        }
    }
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("path", &self.path)
            .field("token", &self.token)
            .finish()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let payload = wire::strings_payload(&[self.path.as_bytes(), self.token.as_bytes()]);
        let _ = self.inner.call(Request {
            op: MsgType::Unwatch,
            tx: 0,
            payload,
            what: &self.path,
        });
        self.inner.shared.lock().watches.remove(&self.token);
    }
}

fn validate(p: &str) -> Result<()> {
    path::validate(p).map_err(|reason| Error::InvalidPath {
        path: p.to_string(),
        reason,
    })
}

fn ok_reply(op: MsgType, what: &str, payload: &[u8]) -> Result<()> {
    wire::parse_ok(op, payload).map_err(|e| Error::wire(op, what, e))
}

impl Inner {
    fn writer(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn next_id(&self) -> u32 {
        loop {
            let id = self.next_req_id.fetch_add(1, Ordering::Relaxed);
            if id != 0 {
                return id;
            }
        }
    }

    /// Start the thread that reads (and routes watch events) from now on, if not yet running.
    fn start_background_reader(&self) -> Result<()> {
        let mut st = self.shared.lock();
        if st.background {
            return Ok(());
        }
        let shared = Arc::clone(&self.shared);
        let handle = std::thread::Builder::new()
            .name("xenstore-reader".into())
            .spawn(move || background_reader(&shared))
            .map_err(|e| Error::Io {
                op: MsgType::Watch,
                path: "(starting the reader thread)".into(),
                source: e,
            })?;
        st.background = true;
        *relock(self.reader_thread.lock()) = Some(handle);
        Ok(())
    }

    /// Register and send requests; their req_ids, in order. Sizes must already be checked
    /// (see [`Inner::check_size`]).
    fn submit(&self, reqs: &[Request<'_>]) -> Result<Vec<u32>> {
        let mut encoded = Vec::with_capacity(reqs.len());
        let mut ids = Vec::with_capacity(reqs.len());
        {
            let mut st = self.shared.lock();
            if let Some(reason) = &st.dead {
                return Err(Error::Disconnected {
                    reason: reason.clone(),
                });
            }
            for r in reqs {
                let id = self.next_id();
                let msg = Message::new(r.op, id, r.tx, r.payload.clone());
                let bytes = msg.encode().map_err(|_| Error::TooLarge {
                    op: r.op,
                    path: r.what.to_string(),
                    len: r.payload.len(),
                })?;
                st.pending.insert(id, None);
                ids.push(id);
                encoded.push(bytes);
            }
        }
        let (sent, kind) = {
            let mut w = self.writer();
            (w.send(&encoded), w.kind())
        };
        if let Err(e) = sent {
            if kind == Kind::Device {
                // The device takes or refuses each message whole; the connection is intact.
                let mut st = self.shared.lock();
                for id in &ids {
                    st.pending.remove(id);
                }
            } else {
                // A partial write leaves the stream unusable; fail everything on it.
                self.shared.kill(format!("write failed: {e}"));
            }
            let first = &reqs[0];
            return Err(Error::Io {
                op: first.op,
                path: first.what.to_string(),
                source: e,
            });
        }
        Ok(ids)
    }

    fn check_size(r: &Request<'_>) -> Result<()> {
        if r.payload.len() > PAYLOAD_MAX {
            return Err(Error::TooLarge {
                op: r.op,
                path: r.what.to_string(),
                len: r.payload.len(),
            });
        }
        Ok(())
    }

    /// Wait for one reply and turn it into the payload of a successful reply, or an error.
    fn finish(&self, id: u32, op: MsgType, what: &str) -> Result<Vec<u8>> {
        let reply = self
            .shared
            .wait_reply(id)
            .map_err(|reason| Error::Disconnected { reason })?;
        match reply.ty {
            MsgType::Error => {
                let errno =
                    wire::parse_error(&reply.payload).map_err(|e| Error::wire(op, what, e))?;
                Err(Error::Xs {
                    op,
                    path: what.to_string(),
                    errno,
                })
            }
            t if t == op => Ok(reply.payload),
            t => Err(Error::Protocol {
                op: Some(op),
                path: what.to_string(),
                detail: format!("reply of type {t} to a {op} request"),
            }),
        }
    }

    /// On the xenbus device, which takes one request at a time, the turn to send a request and
    /// collect its reply; `None` on the socket, which pipelines.
    fn device_turn(&self) -> Option<MutexGuard<'_, ()>> {
        self.device_turn
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// How many requests go out before their replies are collected.
    fn window_len(&self) -> usize {
        if self.device_turn.is_some() {
            1
        } else {
            PIPELINE_WINDOW
        }
    }

    fn call(&self, req: Request<'_>) -> Result<Vec<u8>> {
        Inner::check_size(&req)?;
        let _turn = self.device_turn();
        let id = self.submit(std::slice::from_ref(&req))?.pop();
        let id = id.ok_or_else(|| self.shared.disconnected())?;
        self.finish(id, req.op, req.what)
    }

    fn read(&self, tx: u32, path: &str) -> Result<Vec<u8>> {
        validate(path)?;
        let payload = wire::strings_payload(&[path.as_bytes()]);
        self.call(Request {
            op: MsgType::Read,
            tx,
            payload,
            what: path,
        })
    }

    fn read_string(&self, tx: u32, path: &str) -> Result<String> {
        String::from_utf8(self.read(tx, path)?).map_err(|_| Error::NotUtf8 { path: path.into() })
    }

    fn try_read(&self, tx: u32, path: &str) -> Result<Option<Vec<u8>>> {
        match self.read(tx, path) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn read_many<P: AsRef<str>>(&self, tx: u32, paths: &[P]) -> Vec<Result<Vec<u8>>> {
        let mut out: Vec<Option<Result<Vec<u8>>>> = paths
            .iter()
            .map(|p| validate(p.as_ref()).err().map(Err))
            .collect();
        let todo: Vec<usize> = (0..paths.len()).filter(|i| out[*i].is_none()).collect();
        for window in todo.chunks(self.window_len()) {
            let reqs: Vec<Request<'_>> = window
                .iter()
                .map(|i| {
                    let p = paths[*i].as_ref();
                    let payload = wire::strings_payload(&[p.as_bytes()]);
                    Request {
                        op: MsgType::Read,
                        tx,
                        payload,
                        what: p,
                    }
                })
                .collect();
            // A path passes validation only if short enough for its READ to fit.
            let _turn = self.device_turn();
            match self.submit(&reqs) {
                Ok(ids) => {
                    for ((i, id), r) in window.iter().zip(ids).zip(&reqs) {
                        out[*i] = Some(self.finish(id, MsgType::Read, r.what));
                    }
                }
                Err(e) => {
                    for i in window {
                        out[*i] = Some(Err(duplicate(&e)));
                    }
                }
            }
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| Err(self.shared.disconnected())))
            .collect()
    }

    fn apply(&self, tx: u32, changes: &[Change<'_>]) -> Result<()> {
        let mut reqs = Vec::with_capacity(changes.len());
        for c in changes {
            validate(c.path())?;
            let r = c.request(tx);
            Inner::check_size(&r)?;
            reqs.push(r);
        }
        for window in reqs.chunks(self.window_len()) {
            let _turn = self.device_turn();
            let ids = self.submit(window)?;
            // Collect every reply of the window (none is left unclaimed), then report the
            // first failure.
            let mut first_err = None;
            for (id, r) in ids.into_iter().zip(window) {
                let done = self
                    .finish(id, r.op, r.what)
                    .and_then(|payload| ok_reply(r.op, r.what, &payload));
                if let Err(e) = done {
                    first_err.get_or_insert(e);
                }
            }
            if let Some(e) = first_err {
                return Err(e);
            }
        }
        Ok(())
    }

    fn write(&self, tx: u32, path: &str, value: &[u8]) -> Result<()> {
        validate(path)?;
        let payload = wire::write_payload(path, value);
        let r = self.call(Request {
            op: MsgType::Write,
            tx,
            payload,
            what: path,
        })?;
        ok_reply(MsgType::Write, path, &r)
    }

    fn simple(&self, tx: u32, op: MsgType, path: &str) -> Result<()> {
        validate(path)?;
        let payload = wire::strings_payload(&[path.as_bytes()]);
        let r = self.call(Request {
            op,
            tx,
            payload,
            what: path,
        })?;
        ok_reply(op, path, &r)
    }

    fn directory(&self, tx: u32, path: &str) -> Result<Vec<String>> {
        validate(path)?;
        let payload = wire::strings_payload(&[path.as_bytes()]);
        match self.call(Request {
            op: MsgType::Directory,
            tx,
            payload,
            what: path,
        }) {
            Ok(r) => {
                wire::parse_directory(&r).map_err(|e| Error::wire(MsgType::Directory, path, e))
            }
            Err(e) if e.errno() == Some(&Errno::E2BIG) => self.directory_parts(tx, path),
            Err(e) => Err(e),
        }
    }

    /// Fetch a long child list piece by piece, as libxenstore does: each `DIRECTORY_PART` reply
    /// carries the node's generation count; if it changes between pieces the list changed, so
    /// start over.
    fn directory_parts(&self, tx: u32, path: &str) -> Result<Vec<String>> {
        let op = MsgType::DirectoryPart;
        'restart: for _ in 0..DIRECTORY_PART_RESTARTS {
            let mut generation: Option<Vec<u8>> = None;
            let mut list: Vec<u8> = Vec::new();
            loop {
                let offset = list.len().to_string();
                let payload = wire::strings_payload(&[path.as_bytes(), offset.as_bytes()]);
                let reply = match self.call(Request {
                    op,
                    tx,
                    payload,
                    what: path,
                }) {
                    Ok(r) => r,
                    // A xenstored without DIRECTORY_PART: the list is simply too big.
                    Err(e) if e.errno() == Some(&Errno::ENOSYS) => {
                        return Err(Error::Xs {
                            op: MsgType::Directory,
                            path: path.into(),
                            errno: Errno::E2BIG,
                        });
                    }
                    Err(e) => return Err(e),
                };
                let part =
                    wire::parse_directory_part(&reply).map_err(|e| Error::wire(op, path, e))?;
                match &generation {
                    None => generation = Some(part.generation.to_vec()),
                    Some(g) if g.as_slice() != part.generation => continue 'restart,
                    Some(_) => {}
                }
                list.extend_from_slice(part.children);
                if part.last {
                    return wire::parse_directory(&list).map_err(|e| Error::wire(op, path, e));
                }
                if part.children.is_empty() {
                    return Err(Error::wire(
                        op,
                        path,
                        wire::WireError::BadPayload {
                            ty: op,
                            reason: "part without children or end marker",
                        },
                    ));
                }
            }
        }
        Err(Error::Xs {
            op,
            path: path.into(),
            errno: Errno::EAGAIN,
        })
    }

    fn get_perms(&self, tx: u32, path: &str) -> Result<Perms> {
        validate(path)?;
        let payload = wire::strings_payload(&[path.as_bytes()]);
        let r = self.call(Request {
            op: MsgType::GetPerms,
            tx,
            payload,
            what: path,
        })?;
        Perms::from_wire(&r).map_err(|source| Error::BadPerms {
            path: path.into(),
            source,
        })
    }

    fn set_perms(&self, tx: u32, path: &str, perms: &Perms) -> Result<()> {
        validate(path)?;
        let mut payload = wire::strings_payload(&[path.as_bytes()]);
        payload.extend_from_slice(&perms.to_wire());
        let r = self.call(Request {
            op: MsgType::SetPerms,
            tx,
            payload,
            what: path,
        })?;
        ok_reply(MsgType::SetPerms, path, &r)
    }

    fn domain_op(&self, op: MsgType, domid: u32, args: &[String]) -> Result<()> {
        let what = format!("domain {domid}");
        let parts: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let payload = wire::strings_payload(&parts);
        let r = self.call(Request {
            op,
            tx: 0,
            payload,
            what: &what,
        })?;
        ok_reply(op, &what, &r)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        // Without a background reader nothing is blocked on the connection: closing it is all.
        let Some(handle) = relock(self.reader_thread.lock()).take() else {
            return;
        };
        let w = relock(self.writer.lock());
        if w.kind() == Kind::Socket {
            // The reader's read() returns at once after a shutdown, so it is joined: no thread
            // outlives the handle.
            w.shutdown();
            drop(w);
            let _ = handle.join();
        } else {
            // A read() blocked on the device cannot be interrupted; a reply wakes the reader,
            // which then sees `closing` and exits, closing its end of the device.
            let mut w = w;
            let wake = Message::new(MsgType::GetDomainPath, 0, 0, wire::strings_payload(&[b"0"]));
            if let Ok(bytes) = wake.encode() {
                let _ = w.send(&[bytes]);
            }
        }
    }
}

/// A copy of an error for every request of a failed batch (`io::Error` is not `Clone`).
fn duplicate(e: &Error) -> Error {
    match e {
        Error::Io { op, path, source } => Error::Io {
            op: *op,
            path: path.clone(),
            source: io::Error::new(source.kind(), source.to_string()),
        },
        Error::Disconnected { reason } => Error::Disconnected {
            reason: reason.clone(),
        },
        Error::TooLarge { op, path, len } => Error::TooLarge {
            op: *op,
            path: path.clone(),
            len: *len,
        },
        other => Error::Disconnected {
            reason: other.to_string(),
        },
    }
}

/// The background reader: takes the reader role for good once the current holder gives it up.
fn background_reader(shared: &Shared) {
    let mut st = shared.lock();
    while st.reading && st.dead.is_none() {
        st = shared.wait(st);
    }
    if st.dead.is_some() {
        return;
    }
    st.reading = true;
    drop(st);
    loop {
        if let Err(reason) = shared.read_and_route() {
            shared.kill(reason);
            return;
        }
        if shared.lock().closing {
            shared.kill("connection closed".into());
            return;
        }
    }
}

fn route(st: &mut State, msg: Message) {
    if msg.ty == MsgType::WatchEvent {
        // A malformed event cannot be attributed to a watch; the stream itself is intact.
        if let Some((path, token, tx)) = wire::parse_watch_event(&msg.payload)
            .ok()
            .and_then(|(p, t)| st.watches.get(&t).map(|tx| (p, t, tx)))
        {
            let _ = tx.send(WatchEvent { path, token });
        }
    } else if let Some(slot) = st.pending.get_mut(&msg.req_id) {
        *slot = Some(msg);
    }
}
