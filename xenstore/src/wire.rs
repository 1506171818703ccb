//! The xenstore wire format: message types, the 16-byte header, payload encoding and an
//! incremental decoder.
//!
//! Facts from Xen's `xen/include/public/io/xs_wire.h` and `docs/misc/xenstore.txt`:
//! every message in either direction is a header of four little-endian `u32`s (`type`, `req_id`,
//! `tx_id`, `len`) followed by `len` bytes of payload, and `len` may not exceed
//! [`PAYLOAD_MAX`] (xenstored kills a connection that sends more, so [`Message::encode`] refuses
//! instead). Payloads are mostly NUL-terminated strings; errors come back as an `ERROR` reply
//! whose payload is an errno *name* such as `"ENOENT\0"`.
//!
//! Everything here is pure (no I/O) and never panics on any input: the decoder is fuzzed
//! (`xenstore/fuzz`).

use std::fmt;

/// Largest payload either side may send (`XENSTORE_PAYLOAD_MAX`).
pub const PAYLOAD_MAX: usize = 4096;
/// Size of [`Header`] on the wire (`sizeof(struct xsd_sockmsg)`).
pub const HEADER_LEN: usize = 16;
/// Longest absolute path xenstored accepts (`XENSTORE_ABS_PATH_MAX`).
pub const ABS_PATH_MAX: usize = 3072;
/// Longest relative path a client should send (`XENSTORE_REL_PATH_MAX`).
pub const REL_PATH_MAX: usize = 2048;

/// `enum xsd_sockmsg_type`. Value 20 (`XS_RESTRICT`) was removed from Xen and is not a valid
/// type; 23..=26 exist only in Xen newer than 4.17 (xenstored 4.17 answers them with `ENOSYS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum MsgType {
    /// `XS_CONTROL` (alias `XS_DEBUG`).
    Control = 0,
    Directory = 1,
    Read = 2,
    GetPerms = 3,
    Watch = 4,
    Unwatch = 5,
    TransactionStart = 6,
    TransactionEnd = 7,
    Introduce = 8,
    Release = 9,
    GetDomainPath = 10,
    Write = 11,
    Mkdir = 12,
    Rm = 13,
    SetPerms = 14,
    /// Unsolicited: sent by xenstored with `req_id == tx_id == 0`.
    WatchEvent = 15,
    /// A failed request's reply; payload is an errno name.
    Error = 16,
    IsDomainIntroduced = 17,
    Resume = 18,
    SetTarget = 19,
    ResetWatches = 21,
    DirectoryPart = 22,
    GetFeature = 23,
    SetFeature = 24,
    GetQuota = 25,
    SetQuota = 26,
}

impl MsgType {
    /// Every valid type, in wire order.
    pub const ALL: [MsgType; 26] = [
        MsgType::Control,
        MsgType::Directory,
        MsgType::Read,
        MsgType::GetPerms,
        MsgType::Watch,
        MsgType::Unwatch,
        MsgType::TransactionStart,
        MsgType::TransactionEnd,
        MsgType::Introduce,
        MsgType::Release,
        MsgType::GetDomainPath,
        MsgType::Write,
        MsgType::Mkdir,
        MsgType::Rm,
        MsgType::SetPerms,
        MsgType::WatchEvent,
        MsgType::Error,
        MsgType::IsDomainIntroduced,
        MsgType::Resume,
        MsgType::SetTarget,
        MsgType::ResetWatches,
        MsgType::DirectoryPart,
        MsgType::GetFeature,
        MsgType::SetFeature,
        MsgType::GetQuota,
        MsgType::SetQuota,
    ];

    /// The type for a raw wire value, or `None` for an unknown/invalid one.
    pub fn from_u32(v: u32) -> Option<MsgType> {
        MsgType::ALL.iter().copied().find(|t| *t as u32 == v)
    }

    /// The name used in `xs_wire.h`, without the `XS_` prefix.
    pub fn name(self) -> &'static str {
        match self {
            MsgType::Control => "CONTROL",
            MsgType::Directory => "DIRECTORY",
            MsgType::Read => "READ",
            MsgType::GetPerms => "GET_PERMS",
            MsgType::Watch => "WATCH",
            MsgType::Unwatch => "UNWATCH",
            MsgType::TransactionStart => "TRANSACTION_START",
            MsgType::TransactionEnd => "TRANSACTION_END",
            MsgType::Introduce => "INTRODUCE",
            MsgType::Release => "RELEASE",
            MsgType::GetDomainPath => "GET_DOMAIN_PATH",
            MsgType::Write => "WRITE",
            MsgType::Mkdir => "MKDIR",
            MsgType::Rm => "RM",
            MsgType::SetPerms => "SET_PERMS",
            MsgType::WatchEvent => "WATCH_EVENT",
            MsgType::Error => "ERROR",
            MsgType::IsDomainIntroduced => "IS_DOMAIN_INTRODUCED",
            MsgType::Resume => "RESUME",
            MsgType::SetTarget => "SET_TARGET",
            MsgType::ResetWatches => "RESET_WATCHES",
            MsgType::DirectoryPart => "DIRECTORY_PART",
            MsgType::GetFeature => "GET_FEATURE",
            MsgType::SetFeature => "SET_FEATURE",
            MsgType::GetQuota => "GET_QUOTA",
            MsgType::SetQuota => "SET_QUOTA",
        }
    }
}

impl fmt::Display for MsgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An error name from `xsd_errors[]`, as carried in an `ERROR` reply.
#[allow(clippy::upper_case_acronyms)]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Errno {
    EINVAL,
    EACCES,
    EEXIST,
    EISDIR,
    ENOENT,
    ENOMEM,
    ENOSPC,
    EIO,
    ENOTEMPTY,
    ENOSYS,
    EROFS,
    EBUSY,
    EAGAIN,
    EISCONN,
    E2BIG,
    EPERM,
    /// A name not in Xen's table (a newer xenstored); kept verbatim.
    Other(String),
}

impl Errno {
    const TABLE: [(Errno, &'static str, &'static str); 16] = [
        (Errno::EINVAL, "EINVAL", "invalid argument"),
        (Errno::EACCES, "EACCES", "permission denied"),
        (Errno::EEXIST, "EEXIST", "already exists"),
        (Errno::EISDIR, "EISDIR", "is a directory"),
        (Errno::ENOENT, "ENOENT", "no such node"),
        (Errno::ENOMEM, "ENOMEM", "out of memory"),
        (Errno::ENOSPC, "ENOSPC", "no space (quota exceeded)"),
        (Errno::EIO, "EIO", "I/O error"),
        (Errno::ENOTEMPTY, "ENOTEMPTY", "not empty"),
        (Errno::ENOSYS, "ENOSYS", "not supported"),
        (Errno::EROFS, "EROFS", "read-only"),
        (Errno::EBUSY, "EBUSY", "busy"),
        (Errno::EAGAIN, "EAGAIN", "try again (transaction conflict)"),
        (Errno::EISCONN, "EISCONN", "already connected"),
        (Errno::E2BIG, "E2BIG", "too big"),
        (Errno::EPERM, "EPERM", "operation not permitted"),
    ];

    /// The errno for a name as sent by xenstored (without the NUL).
    pub fn from_name(name: &str) -> Errno {
        Errno::TABLE
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(e, _, _)| e.clone())
            .unwrap_or_else(|| Errno::Other(name.to_string()))
    }

    /// The wire name, e.g. `"ENOENT"`.
    pub fn name(&self) -> &str {
        match self {
            Errno::Other(s) => s,
            e => Errno::TABLE
                .iter()
                .find(|(t, _, _)| t == e)
                .map_or("", |(_, n, _)| n),
        }
    }

    fn describe(&self) -> &'static str {
        Errno::TABLE
            .iter()
            .find(|(t, _, _)| t == self)
            .map_or("unknown error", |(_, _, d)| d)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.describe())
    }
}

/// `struct xsd_sockmsg`, with the type still raw (it may be unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub ty: u32,
    pub req_id: u32,
    pub tx_id: u32,
    pub len: u32,
}

impl Header {
    /// The 16 little-endian bytes of this header.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        for (i, v) in [self.ty, self.req_id, self.tx_id, self.len]
            .iter()
            .enumerate()
        {
            b[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    /// Parse 16 bytes; no validation beyond the size.
    pub fn from_bytes(b: &[u8; HEADER_LEN]) -> Header {
        let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Header {
            ty: word(0),
            req_id: word(4),
            tx_id: word(8),
            len: word(12),
        }
    }
}

/// What is wrong with bytes received from xenstored, or with a message we were asked to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// The header's type is not one of [`MsgType`].
    UnknownType(u32),
    /// A payload longer than [`PAYLOAD_MAX`].
    TooLong(usize),
    /// The payload does not have the shape its type requires.
    BadPayload { ty: MsgType, reason: &'static str },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::UnknownType(t) => write!(f, "unknown message type {t}"),
            WireError::TooLong(n) => {
                write!(
                    f,
                    "payload of {n} bytes exceeds the {PAYLOAD_MAX}-byte limit"
                )
            }
            WireError::BadPayload { ty, reason } => write!(f, "malformed {ty} payload: {reason}"),
        }
    }
}

impl std::error::Error for WireError {}

/// One whole message: header fields plus payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub ty: MsgType,
    pub req_id: u32,
    pub tx_id: u32,
    pub payload: Vec<u8>,
}

impl Message {
    pub fn new(ty: MsgType, req_id: u32, tx_id: u32, payload: Vec<u8>) -> Message {
        Message {
            ty,
            req_id,
            tx_id,
            payload,
        }
    }

    /// Header + payload, ready to write. Fails (without sending anything) if the payload is
    /// over [`PAYLOAD_MAX`].
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        let len = self.payload.len();
        if len > PAYLOAD_MAX {
            return Err(WireError::TooLong(len));
        }
        let hdr = Header {
            ty: self.ty as u32,
            req_id: self.req_id,
            tx_id: self.tx_id,
            len: len as u32,
        };
        let mut out = Vec::with_capacity(HEADER_LEN + len);
        out.extend_from_slice(&hdr.to_bytes());
        out.extend_from_slice(&self.payload);
        Ok(out)
    }
}

/// Incremental decoder for a byte stream of messages. Feed it whatever `read()` returned (any
/// split, down to one byte at a time) and pull out whole messages.
///
/// A header with an unknown type or an over-long length is an error: the stream cannot be
/// resynchronised after that, so the decoder stays failed and keeps returning the same error.
#[derive(Default, Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    failed: Option<WireError>,
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Append received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// Bytes held that do not yet form a whole message.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next whole message, `Ok(None)` if more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, WireError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let Some(hdr_bytes) = self.buf.first_chunk::<HEADER_LEN>() else {
            return Ok(None);
        };
        let hdr = Header::from_bytes(hdr_bytes);
        let fail = |e: WireError, this: &mut Decoder| {
            this.failed = Some(e.clone());
            this.buf = Vec::new();
            Err(e)
        };
        let Some(ty) = MsgType::from_u32(hdr.ty) else {
            return fail(WireError::UnknownType(hdr.ty), self);
        };
        let len = hdr.len as usize;
        if len > PAYLOAD_MAX {
            return fail(WireError::TooLong(len), self);
        }
        if self.buf.len() < HEADER_LEN + len {
            return Ok(None);
        }
        let payload = self.buf[HEADER_LEN..HEADER_LEN + len].to_vec();
        self.buf.drain(..HEADER_LEN + len);
        Ok(Some(Message {
            ty,
            req_id: hdr.req_id,
            tx_id: hdr.tx_id,
            payload,
        }))
    }
}

// ---------------------------------------------------------------------------------------------
// Request payloads.

/// `<s1>|<s2>|...` : each string followed by a NUL.
pub fn strings_payload(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for p in parts {
        out.extend_from_slice(p);
        out.push(0);
    }
    out
}

/// `WRITE`: `<path>|<value>` (the value carries no NUL of its own).
pub fn write_payload(path: &str, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len() + 1 + value.len());
    out.extend_from_slice(path.as_bytes());
    out.push(0);
    out.extend_from_slice(value);
    out
}

// ---------------------------------------------------------------------------------------------
// Reply payloads. Each parser takes the payload of a reply of the matching type.

fn bad(ty: MsgType, reason: &'static str) -> WireError {
    WireError::BadPayload { ty, reason }
}

/// Split `<s>|*` into its strings. The payload must be empty or end in NUL.
pub fn parse_strings(ty: MsgType, payload: &[u8]) -> Result<Vec<&[u8]>, WireError> {
    if payload.is_empty() {
        return Ok(Vec::new());
    }
    let Some(body) = payload.strip_suffix(&[0]) else {
        return Err(bad(ty, "missing terminating NUL"));
    };
    Ok(body.split(|b| *b == 0).collect())
}

fn utf8(ty: MsgType, b: &[u8]) -> Result<String, WireError> {
    String::from_utf8(b.to_vec()).map_err(|_| bad(ty, "not UTF-8"))
}

/// `ERROR`: `E<name>|`.
pub fn parse_error(payload: &[u8]) -> Result<Errno, WireError> {
    let ty = MsgType::Error;
    let strings = parse_strings(ty, payload)?;
    match strings.as_slice() {
        [name] if !name.is_empty() => Ok(Errno::from_name(&utf8(ty, name)?)),
        _ => Err(bad(ty, "expected one errno name")),
    }
}

/// `WATCH_EVENT`: `<epath>|<token>|` (anything after the token is ignored).
pub fn parse_watch_event(payload: &[u8]) -> Result<(String, String), WireError> {
    let ty = MsgType::WatchEvent;
    let strings = parse_strings(ty, payload)?;
    match strings.as_slice() {
        [path, token, ..] if !path.is_empty() => Ok((utf8(ty, path)?, utf8(ty, token)?)),
        _ => Err(bad(ty, "expected path and token")),
    }
}

/// The `OK|` acknowledgement of requests that return nothing.
pub fn parse_ok(ty: MsgType, payload: &[u8]) -> Result<(), WireError> {
    if payload == b"OK\0" {
        Ok(())
    } else {
        Err(bad(ty, "expected OK"))
    }
}

/// `DIRECTORY`: `<child>|*`.
pub fn parse_directory(payload: &[u8]) -> Result<Vec<String>, WireError> {
    let ty = MsgType::Directory;
    parse_strings(ty, payload)?
        .into_iter()
        .map(|c| {
            if c.is_empty() {
                Err(bad(ty, "empty child name"))
            } else {
                utf8(ty, c)
            }
        })
        .collect()
}

/// One `DIRECTORY_PART` reply: `<gencnt>|<child>|*`, where the last part of the list carries an
/// extra empty string (a second NUL) to mark the end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryPart<'a> {
    /// Generation count of the node; it changes when the node's children change.
    pub generation: &'a [u8],
    /// The children bytes (NUL-terminated names) as they appear in xenstored's list, without
    /// the end marker. Their length is what the next request's offset advances by.
    pub children: &'a [u8],
    /// This part ends the list.
    pub last: bool,
}

/// Parse one `DIRECTORY_PART` reply payload.
pub fn parse_directory_part(payload: &[u8]) -> Result<DirectoryPart<'_>, WireError> {
    let ty = MsgType::DirectoryPart;
    let Some(nul) = payload.iter().position(|b| *b == 0) else {
        return Err(bad(ty, "missing generation count"));
    };
    let generation = &payload[..nul];
    if generation.is_empty() || !generation.iter().all(u8::is_ascii_digit) {
        return Err(bad(ty, "generation count is not a number"));
    }
    let rest = &payload[nul + 1..];
    if rest.is_empty() {
        return Err(bad(ty, "no children and no end marker"));
    }
    if rest.last() != Some(&0) {
        return Err(bad(ty, "missing terminating NUL"));
    }
    // The list ends with an empty string: either the whole rest is "\0", or it ends "\0\0".
    let last = rest == b"\0" || rest.ends_with(b"\0\0");
    let children = if last { &rest[..rest.len() - 1] } else { rest };
    if children
        .split(|b| *b == 0)
        .rev()
        .skip(1)
        .any(<[u8]>::is_empty)
    {
        return Err(bad(ty, "empty child name"));
    }
    Ok(DirectoryPart {
        generation,
        children,
        last,
    })
}

/// `TRANSACTION_START`: `<transid>|`.
pub fn parse_transaction_id(payload: &[u8]) -> Result<u32, WireError> {
    let ty = MsgType::TransactionStart;
    let s = parse_one_string(ty, payload)?;
    s.parse::<u32>()
        .map_err(|_| bad(ty, "transaction id is not a u32"))
}

/// `IS_DOMAIN_INTRODUCED`: `T|` or `F|`.
pub fn parse_bool(ty: MsgType, payload: &[u8]) -> Result<bool, WireError> {
    match payload {
        b"T\0" => Ok(true),
        b"F\0" => Ok(false),
        _ => Err(bad(ty, "expected T or F")),
    }
}

/// A reply made of exactly one NUL-terminated string (`GET_DOMAIN_PATH`, ...).
pub fn parse_one_string(ty: MsgType, payload: &[u8]) -> Result<String, WireError> {
    let strings = parse_strings(ty, payload)?;
    match strings.as_slice() {
        [s] => utf8(ty, s),
        _ => Err(bad(ty, "expected one string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8]) -> Vec<Message> {
        let mut d = Decoder::new();
        d.feed(bytes);
        let mut out = Vec::new();
        while let Some(m) = d.next_message().unwrap() {
            out.push(m);
        }
        assert_eq!(d.buffered(), 0);
        out
    }

    #[test]
    fn type_numbers_match_xs_wire_h() {
        assert_eq!(MsgType::Control as u32, 0);
        assert_eq!(MsgType::SetPerms as u32, 14);
        assert_eq!(MsgType::WatchEvent as u32, 15);
        assert_eq!(MsgType::Error as u32, 16);
        assert_eq!(MsgType::SetTarget as u32, 19);
        assert_eq!(MsgType::ResetWatches as u32, 21);
        assert_eq!(MsgType::DirectoryPart as u32, 22);
        assert_eq!(MsgType::SetQuota as u32, 26);
        assert_eq!(MsgType::from_u32(20), None, "XS_RESTRICT was removed");
        assert_eq!(MsgType::from_u32(27), None);
        assert_eq!(MsgType::from_u32(0xffff), None, "XS_INVALID");
    }

    #[test]
    fn header_is_16_little_endian_bytes() {
        let m = Message::new(MsgType::Read, 0x0102_0304, 7, b"/a\0".to_vec());
        let b = m.encode().unwrap();
        assert_eq!(&b[..16], &[2, 0, 0, 0, 4, 3, 2, 1, 7, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(&b[16..], b"/a\0");
    }

    #[test]
    fn every_type_round_trips() {
        for (i, ty) in MsgType::ALL.iter().enumerate() {
            let payload = format!("/p/{i}\0tok\0").into_bytes();
            let m = Message::new(*ty, i as u32 + 1, i as u32 * 3, payload);
            assert_eq!(MsgType::from_u32(*ty as u32), Some(*ty));
            assert_eq!(decode_all(&m.encode().unwrap()), vec![m]);
        }
    }

    #[test]
    fn many_messages_in_one_buffer() {
        let mut bytes = Vec::new();
        let msgs: Vec<Message> = (0..50)
            .map(|i| Message::new(MsgType::Read, i, 0, vec![b'x'; i as usize * 3]))
            .collect();
        for m in &msgs {
            bytes.extend(m.encode().unwrap());
        }
        assert_eq!(decode_all(&bytes), msgs);
    }

    #[test]
    fn partial_reads_one_byte_at_a_time() {
        let msgs = [
            Message::new(
                MsgType::WatchEvent,
                0,
                0,
                b"/local/domain/1\0tok\0".to_vec(),
            ),
            Message::new(MsgType::Read, 9, 0, vec![]),
            Message::new(MsgType::Directory, 10, 4, vec![b'a'; PAYLOAD_MAX]),
        ];
        let bytes: Vec<u8> = msgs.iter().flat_map(|m| m.encode().unwrap()).collect();
        let mut d = Decoder::new();
        let mut out = Vec::new();
        for b in &bytes {
            d.feed(std::slice::from_ref(b));
            while let Some(m) = d.next_message().unwrap() {
                out.push(m);
            }
        }
        assert_eq!(out, msgs);
    }

    #[test]
    fn size_limit_is_enforced_before_sending() {
        let ok = Message::new(MsgType::Write, 1, 0, vec![b'v'; PAYLOAD_MAX]);
        assert_eq!(ok.encode().unwrap().len(), HEADER_LEN + PAYLOAD_MAX);
        let big = Message::new(MsgType::Write, 1, 0, vec![b'v'; PAYLOAD_MAX + 1]);
        assert_eq!(big.encode(), Err(WireError::TooLong(PAYLOAD_MAX + 1)));
    }

    #[test]
    fn malformed_headers_are_rejected_and_sticky() {
        let mut hdr = Header {
            ty: 20,
            req_id: 1,
            tx_id: 0,
            len: 0,
        }
        .to_bytes()
        .to_vec();
        let mut d = Decoder::new();
        d.feed(&hdr);
        assert_eq!(d.next_message(), Err(WireError::UnknownType(20)));
        d.feed(&Message::new(MsgType::Read, 1, 0, vec![]).encode().unwrap());
        assert_eq!(d.next_message(), Err(WireError::UnknownType(20)));

        hdr = Header {
            ty: 2,
            req_id: 1,
            tx_id: 0,
            len: 4097,
        }
        .to_bytes()
        .to_vec();
        let mut d = Decoder::new();
        d.feed(&hdr);
        assert_eq!(d.next_message(), Err(WireError::TooLong(4097)));

        let mut d = Decoder::new();
        d.feed(
            &Header {
                ty: 2,
                req_id: 1,
                tx_id: 0,
                len: u32::MAX,
            }
            .to_bytes(),
        );
        assert_eq!(d.next_message(), Err(WireError::TooLong(u32::MAX as usize)));
    }

    #[test]
    fn truncated_message_waits_for_more() {
        let b = Message::new(MsgType::Read, 1, 0, b"abc".to_vec())
            .encode()
            .unwrap();
        let mut d = Decoder::new();
        d.feed(&b[..18]);
        assert_eq!(d.next_message(), Ok(None));
        assert_eq!(d.buffered(), 18);
        d.feed(&b[18..]);
        assert_eq!(d.next_message().unwrap().unwrap().payload, b"abc");
    }

    #[test]
    fn errors_are_typed() {
        assert_eq!(parse_error(b"ENOENT\0"), Ok(Errno::ENOENT));
        assert_eq!(parse_error(b"EAGAIN\0"), Ok(Errno::EAGAIN));
        assert_eq!(parse_error(b"E2BIG\0"), Ok(Errno::E2BIG));
        assert_eq!(parse_error(b"EQUOTA\0"), Ok(Errno::Other("EQUOTA".into())));
        assert!(parse_error(b"ENOENT").is_err(), "missing NUL");
        assert!(parse_error(b"\0").is_err());
        assert!(parse_error(b"").is_err());
        assert!(parse_error(b"A\0B\0").is_err());
        for (e, name, _) in Errno::TABLE {
            assert_eq!(Errno::from_name(name), e);
            assert_eq!(e.name(), name);
        }
        assert_eq!(Errno::ENOENT.to_string(), "ENOENT (no such node)");
    }

    #[test]
    fn watch_events() {
        assert_eq!(
            parse_watch_event(b"@releaseDomain\0xm\0"),
            Ok(("@releaseDomain".into(), "xm".into()))
        );
        assert_eq!(parse_watch_event(b"/a\0\0"), Ok(("/a".into(), "".into())));
        assert!(parse_watch_event(b"/a\0tok").is_err());
        assert!(parse_watch_event(b"/a\0").is_err());
        assert!(parse_watch_event(b"\0tok\0").is_err());
        assert!(parse_watch_event(b"\xff\0tok\0").is_err());
    }

    #[test]
    fn directory_and_strings() {
        assert_eq!(parse_directory(b""), Ok(vec![]));
        assert_eq!(
            parse_directory(b"0\x0012\0"),
            Ok(vec!["0".into(), "12".into()])
        );
        assert!(parse_directory(b"0\x0012").is_err());
        assert!(parse_directory(b"a\0\0").is_err());
        assert_eq!(strings_payload(&[b"/a", b"tok"]), b"/a\0tok\0");
        assert_eq!(write_payload("/a", b"v\0x"), b"/a\0v\0x");
    }

    #[test]
    fn directory_parts() {
        let p = parse_directory_part(b"17\0a\0bb\0").unwrap();
        assert_eq!(
            (p.generation, p.children, p.last),
            (&b"17"[..], &b"a\0bb\0"[..], false)
        );
        let p = parse_directory_part(b"17\0c\0\0").unwrap();
        assert_eq!((p.children, p.last), (&b"c\0"[..], true));
        let p = parse_directory_part(b"3\0\0").unwrap();
        assert_eq!((p.children, p.last), (&b""[..], true));
        assert!(parse_directory_part(b"17").is_err());
        assert!(parse_directory_part(b"17\0").is_err());
        assert!(parse_directory_part(b"x\0a\0").is_err());
        assert!(parse_directory_part(b"17\0a").is_err());
        assert!(parse_directory_part(b"17\0a\0\0\0").is_err());
    }

    #[test]
    fn small_replies() {
        assert_eq!(parse_transaction_id(b"42\0"), Ok(42));
        assert!(parse_transaction_id(b"42").is_err());
        assert!(parse_transaction_id(b"-1\0").is_err());
        assert!(parse_transaction_id(b"99999999999\0").is_err());
        assert_eq!(parse_bool(MsgType::IsDomainIntroduced, b"T\0"), Ok(true));
        assert_eq!(parse_bool(MsgType::IsDomainIntroduced, b"F\0"), Ok(false));
        assert!(parse_bool(MsgType::IsDomainIntroduced, b"T").is_err());
        assert!(parse_ok(MsgType::Write, b"OK\0").is_ok());
        assert!(parse_ok(MsgType::Write, b"OK").is_err());
        assert_eq!(
            parse_one_string(MsgType::GetDomainPath, b"/local/domain/3\0"),
            Ok("/local/domain/3".into())
        );
        assert!(parse_one_string(MsgType::GetDomainPath, b"/a\0/b\0").is_err());
    }
}
