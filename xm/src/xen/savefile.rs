//! The layout of a saved domain (`xm save`'s file), as xend's XendCheckpoint wrote it, so that
//! scripts that look at one keep working (the xendomains script checks `head -c 16`):
//!
//! ```text
//! "LinuxGuestRecord"            16 bytes, the signature
//! N                             4 bytes, big-endian: the record's length
//! (domain ... (xm_plan '{...}')) N bytes: the `xm list -l` record, plus the plan xm-rs
//!                               restores from, as one more (string) field
//! the libxenguest stream        migration v2 (Xen's docs/specs/libxc-migration-stream)
//! ```
//!
//! Everything here is pure: the header is read and the stream's records walked (sizes only)
//! before a restore makes any domain, so a truncated, corrupt or foreign file is refused
//! with the reason.

use std::io::{self, Read, Seek, SeekFrom, Write};

use domcfg::sxp::{self, Sxp};

use super::domain_plan::DomainPlan;

/// xend's checkpoint signature.
pub const SIGNATURE: &[u8; 16] = b"LinuxGuestRecord";
/// The start of an `xl save` file.
const XL_MAGIC: &[u8] = b"Xen saved domain, xl format\n \0 \r";
/// The record's field that carries the plan.
pub const PLAN_FIELD: &str = "xm_plan";
/// The largest record a restore accepts (xend's were a few KiB).
const MAX_RECORD: u32 = 1 << 20;

/// A saved domain's header: its record and the plan in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub record: Sxp,
    pub plan: DomainPlan,
}

/// Why a file is not a domain xm can restore.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Writes the header for `record` (a `(domain ...)`) with `plan` added to it.
pub fn write_header(out: &mut impl Write, record: &Sxp, plan: &DomainPlan) -> io::Result<()> {
    let mut record = record.clone();
    let json = serde_json::to_string(plan).map_err(io::Error::other)?;
    if let Sxp::List(items) = &mut record {
        items.push(Sxp::pair(PLAN_FIELD, Sxp::s(json)));
    }
    let text = sxp::render(&record);
    let len = u32::try_from(text.len()).map_err(io::Error::other)?;
    out.write_all(SIGNATURE)?;
    out.write_all(&len.to_be_bytes())?;
    out.write_all(text.as_bytes())
}

/// Reads the header, leaving `input` at the start of the libxenguest stream.
pub fn read_header(input: &mut impl Read) -> Result<Header, Refused> {
    let mut head = [0u8; 20];
    let got = read_up_to(input, &mut head).map_err(|e| Refused(format!("cannot read it: {e}")))?;
    if got >= XL_MAGIC.len().min(20) && XL_MAGIC.starts_with(&head[..got.min(XL_MAGIC.len())]) {
        return Err(Refused(
            "it is an xl save file (\"Xen saved domain, xl format\"): restore it with \
             `xl restore`"
                .into(),
        ));
    }
    if got < 16 || &head[..16] != SIGNATURE {
        return Err(Refused(
            "it is not a saved domain: it does not start with \"LinuxGuestRecord\"".into(),
        ));
    }
    if got < 20 {
        return Err(Refused("it is truncated inside its header".into()));
    }
    let len = u32::from_be_bytes([head[16], head[17], head[18], head[19]]);
    if len == 0 || len > MAX_RECORD {
        return Err(Refused(format!(
            "its record length ({len} bytes) is not plausible: the file is corrupt"
        )));
    }
    let mut text = vec![0u8; len as usize];
    let got = read_up_to(input, &mut text).map_err(|e| Refused(format!("cannot read it: {e}")))?;
    if got < text.len() {
        return Err(Refused(format!(
            "it is truncated inside its record ({got} of {len} bytes)"
        )));
    }
    let text = String::from_utf8(text)
        .map_err(|_| Refused("its record is not text: the file is corrupt".into()))?;
    let record = sxp::parse(&text)
        .ok()
        .and_then(|mut v| (v.len() == 1).then(|| v.remove(0)))
        .filter(|r| r.name() == Some("domain"))
        .ok_or_else(|| Refused("its record is not a (domain ...): the file is corrupt".into()))?;
    let plan = match record.child_value(PLAN_FIELD) {
        Some(Sxp::Str(json)) => serde_json::from_str::<DomainPlan>(json)
            .map_err(|e| Refused(format!("its {PLAN_FIELD} is not readable: {e}")))?,
        _ => {
            return Err(Refused(format!(
                "it has no {PLAN_FIELD} field: it was saved by xend, whose devices and kernel \
                 xm-rs cannot rebuild from the record alone"
            )));
        }
    };
    Ok(Header { record, plan })
}

/// Reads until `buf` is full or the input ends; how much was read.
fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The migration stream's image header marker, id ("XENF") and the versions Xen 4.17+ read.
const STREAM_MARKER: u64 = u64::MAX;
const STREAM_ID: u32 = 0x5845_4e46;
const STREAM_VERSIONS: [u32; 2] = [2, 3];
/// The END record's type.
const REC_END: u32 = 0;

/// Walks the libxenguest stream that starts at `input`'s position, by record sizes only,
/// and checks it is whole: its image header, its domain header (an x86 PV domain), and
/// records up to the END record, all inside the file. Leaves `input` where it found it.
pub fn check_stream(input: &mut (impl Read + Seek)) -> Result<(), Refused> {
    let io = |e: io::Error| Refused(format!("cannot read it: {e}"));
    let start = input.stream_position().map_err(io)?;
    let total = input.seek(SeekFrom::End(0)).map_err(io)?;
    input.seek(SeekFrom::Start(start)).map_err(io)?;
    let truncated = |what: &str| Refused(format!("it is truncated ({what} is cut off)"));
    let mut ihdr = [0u8; 24];
    if read_up_to(input, &mut ihdr).map_err(io)? < ihdr.len() {
        return Err(truncated("the stream's image header"));
    }
    let marker = u64::from_be_bytes(ihdr[0..8].try_into().unwrap_or_default());
    let id = u32::from_be_bytes(ihdr[8..12].try_into().unwrap_or_default());
    let version = u32::from_be_bytes(ihdr[12..16].try_into().unwrap_or_default());
    let options = u16::from_be_bytes(ihdr[16..18].try_into().unwrap_or_default());
    if marker != STREAM_MARKER || id != STREAM_ID {
        return Err(Refused(
            "after its record there is no libxenguest stream: the file is corrupt".into(),
        ));
    }
    if !STREAM_VERSIONS.contains(&version) {
        return Err(Refused(format!(
            "its stream is version {version}, which this Xen does not read"
        )));
    }
    let big_endian = options & 1 != 0;
    let word = |b: [u8; 4]| {
        if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let mut dhdr = [0u8; 16];
    if read_up_to(input, &mut dhdr).map_err(io)? < dhdr.len() {
        return Err(truncated("the stream's domain header"));
    }
    // Domain types: 1 x86 PV, 2 x86 HVM.
    let kind = word(dhdr[0..4].try_into().unwrap_or_default());
    if kind != 1 {
        return Err(Refused(format!(
            "its stream is of domain type {kind}, not an x86 PV domain"
        )));
    }
    let mut pos = start + 40;
    loop {
        let mut rhdr = [0u8; 8];
        if read_up_to(input, &mut rhdr).map_err(io)? < rhdr.len() {
            return Err(truncated("a record header"));
        }
        let kind = word(rhdr[0..4].try_into().unwrap_or_default());
        let len = u64::from(word(rhdr[4..8].try_into().unwrap_or_default()));
        let body = len.div_ceil(8) * 8;
        pos += 8 + body;
        if pos > total {
            return Err(truncated(&format!("record type {kind:#x}")));
        }
        if kind == REC_END {
            break;
        }
        input.seek(SeekFrom::Start(pos)).map_err(io)?;
    }
    input.seek(SeekFrom::Start(start)).map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn plan() -> DomainPlan {
        DomainPlan {
            uuid: Some([7; 16]),
            // Quotes of both kinds, a backslash and a newline survive the SXP string.
            cmdline: "root=/dev/xvda1 x=\"a b\" y='c' z=\\ n=\n".into(),
            ..crate::xen::domain_plan::sample_plan("ce")
        }
    }

    fn record() -> Sxp {
        Sxp::node(
            "domain",
            vec![
                Sxp::pair("domid", Sxp::Int(3)),
                Sxp::pair("name", Sxp::s("ce")),
            ],
        )
    }

    /// A minimal well-formed stream: image header, PV domain header, one record, END.
    fn stream() -> Vec<u8> {
        let mut s = Vec::new();
        s.extend(u64::MAX.to_be_bytes());
        s.extend(STREAM_ID.to_be_bytes());
        s.extend(3u32.to_be_bytes());
        s.extend([0u8; 8]);
        s.extend(1u32.to_le_bytes());
        s.extend(12u16.to_le_bytes());
        s.extend([0u8; 2]);
        s.extend(4u32.to_le_bytes());
        s.extend(17u32.to_le_bytes());
        // A record of 5 bytes, padded to 8.
        s.extend(0x10u32.to_le_bytes());
        s.extend(5u32.to_le_bytes());
        s.extend([1, 2, 3, 4, 5, 0, 0, 0]);
        s.extend(REC_END.to_le_bytes());
        s.extend(0u32.to_le_bytes());
        s
    }

    fn file() -> Vec<u8> {
        let mut f = Vec::new();
        write_header(&mut f, &record(), &plan()).unwrap();
        f.extend(stream());
        f
    }

    #[test]
    fn the_header_is_xends_and_reads_back() {
        let f = file();
        assert_eq!(&f[..16], b"LinuxGuestRecord");
        let len = u32::from_be_bytes(f[16..20].try_into().unwrap()) as usize;
        let text = std::str::from_utf8(&f[20..20 + len]).unwrap();
        assert!(
            text.starts_with("(domain\n    (domid 3)\n    (name ce)\n"),
            "{text}"
        );
        let mut input = Cursor::new(&f);
        let h = read_header(&mut input).unwrap();
        assert_eq!(h.plan, plan());
        assert_eq!(h.record.child_value("name"), Some(&Sxp::s("ce")));
        assert_eq!(input.position() as usize, 20 + len);
        check_stream(&mut input).unwrap();
        assert_eq!(input.position() as usize, 20 + len);
    }

    #[test]
    fn truncated_corrupt_and_foreign_files_are_refused_with_the_reason() {
        let f = file();
        let refused = |bytes: &[u8]| {
            let mut input = Cursor::new(bytes.to_vec());
            match read_header(&mut input) {
                Err(e) => e.0,
                Ok(_) => check_stream(&mut input).unwrap_err().0,
            }
        };
        assert!(refused(b"").contains("does not start with"));
        assert!(refused(b"\x7fELF....").contains("does not start with"));
        assert!(
            refused(b"Xen saved domain, xl format\n \0 \r\x04\x03\x02\x01")
                .contains("xl save file")
        );
        assert!(refused(&f[..18]).contains("truncated inside its header"));
        assert!(refused(&f[..40]).contains("truncated inside its record"));
        let header_len = f.len() - stream().len();
        for cut in [
            header_len,
            header_len + 10,
            header_len + 30,
            f.len() - 12,
            f.len() - 1,
        ] {
            assert!(
                refused(&f[..cut]).contains("truncated"),
                "cut at {cut}: {}",
                refused(&f[..cut])
            );
        }
        let mut bad = f.clone();
        bad[16..20].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(refused(&bad).contains("not plausible"));
        let mut bad = f.clone();
        bad[header_len + 8] ^= 0xff;
        assert!(refused(&bad).contains("no libxenguest stream"));
        let mut bad = f.clone();
        bad[header_len + 24] = 2;
        assert!(refused(&bad).contains("domain type 2"));
        // A record without the plan: xend's own.
        let text = sxp::render(&record());
        let mut xend = SIGNATURE.to_vec();
        xend.extend((text.len() as u32).to_be_bytes());
        xend.extend(text.as_bytes());
        assert!(refused(&xend).contains("saved by xend"));
    }
}
