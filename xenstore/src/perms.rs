//! Node permissions: `GET_PERMS` / `SET_PERMS` payloads as a type.
//!
//! On the wire a node's permissions are a list of `<letter><domid>` strings. The first entry
//! names the owner (who can always read and write, whatever the letter) and its letter is the
//! access every domain not listed gets; the other entries grant one domain `r` (read), `w`
//! (write), `b` (both) or `n` (none). Shown the way `xenstore-ls -p` does: `n0,r5`.

use std::fmt;
use std::str::FromStr;

/// Largest domid xenstore carries (`domid_t` is 16 bits).
pub const DOMID_MAX: u32 = 0xffff;

/// One access level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// `n`
    None,
    /// `r`
    Read,
    /// `w`
    Write,
    /// `b`
    Both,
}

impl Access {
    pub fn letter(self) -> char {
        match self {
            Access::None => 'n',
            Access::Read => 'r',
            Access::Write => 'w',
            Access::Both => 'b',
        }
    }

    pub fn from_letter(c: char) -> Option<Access> {
        match c {
            'n' => Some(Access::None),
            'r' => Some(Access::Read),
            'w' => Some(Access::Write),
            'b' => Some(Access::Both),
            _ => None,
        }
    }

    pub fn can_read(self) -> bool {
        matches!(self, Access::Read | Access::Both)
    }

    pub fn can_write(self) -> bool {
        matches!(self, Access::Write | Access::Both)
    }
}

/// A grant to one domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Perm {
    pub domid: u32,
    pub access: Access,
}

/// Permissions of one node: owner, the access of everyone unlisted, and per-domain grants.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Perms {
    pub owner: u32,
    pub default: Access,
    pub acl: Vec<Perm>,
}

/// A permission string that is not `<n|r|w|b><domid>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermsError(pub String);

impl fmt::Display for PermsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad permission {:?} (expected n|r|w|b followed by a domid)",
            self.0
        )
    }
}

impl std::error::Error for PermsError {}

impl Perm {
    fn parse(s: &str) -> Result<Perm, PermsError> {
        let err = || PermsError(s.to_string());
        let mut chars = s.chars();
        let access = chars.next().and_then(Access::from_letter).ok_or_else(err)?;
        let digits = chars.as_str();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let domid = digits
            .parse::<u32>()
            .ok()
            .filter(|d| *d <= DOMID_MAX)
            .ok_or_else(err)?;
        Ok(Perm { domid, access })
    }
}

impl fmt::Display for Perm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.access.letter(), self.domid)
    }
}

impl Perms {
    /// Owned by `owner`, everyone else gets `default`, no extra grants.
    pub fn new(owner: u32, default: Access) -> Perms {
        Perms {
            owner,
            default,
            acl: Vec::new(),
        }
    }

    /// Add a grant (builder style).
    pub fn with(mut self, domid: u32, access: Access) -> Perms {
        self.acl.push(Perm { domid, access });
        self
    }

    /// What `domid` may do on this node, as xenstored decides it for a non-privileged domain:
    /// the owner has full access, then the first matching grant, else the default.
    pub fn access_of(&self, domid: u32) -> Access {
        if domid == self.owner {
            return Access::Both;
        }
        self.acl
            .iter()
            .find(|p| p.domid == domid)
            .map_or(self.default, |p| p.access)
    }

    /// From the list of entries (the first is owner + default).
    pub fn from_entries<S: AsRef<str>>(entries: &[S]) -> Result<Perms, PermsError> {
        let Some((first, rest)) = entries.split_first() else {
            return Err(PermsError(String::new()));
        };
        let owner = Perm::parse(first.as_ref())?;
        let acl = rest
            .iter()
            .map(|e| Perm::parse(e.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Perms {
            owner: owner.domid,
            default: owner.access,
            acl,
        })
    }

    /// Parse a `GET_PERMS` reply payload: `<perm>|+`.
    pub fn from_wire(payload: &[u8]) -> Result<Perms, PermsError> {
        let lossy = || PermsError(String::from_utf8_lossy(payload).into_owned());
        let body = payload.strip_suffix(&[0]).ok_or_else(lossy)?;
        let text = std::str::from_utf8(body).map_err(|_| lossy())?;
        Perms::from_entries(&text.split('\0').collect::<Vec<_>>())
    }

    /// The entries as sent after the path in `SET_PERMS`: `<perm>|+`.
    pub fn to_wire(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for p in self.entries() {
            out.extend_from_slice(p.to_string().as_bytes());
            out.push(0);
        }
        out
    }

    fn entries(&self) -> impl Iterator<Item = Perm> + '_ {
        std::iter::once(Perm {
            domid: self.owner,
            access: self.default,
        })
        .chain(self.acl.iter().copied())
    }
}

/// `n0,r5` (the form `xenstore-ls -p` prints inside its parentheses).
impl fmt::Display for Perms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.entries().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Accepts `n0,r5` and `n0 r5` (the `xenstore-chmod` argument form).
impl FromStr for Perms {
    type Err = PermsError;

    fn from_str(s: &str) -> Result<Perms, PermsError> {
        let entries: Vec<&str> = s
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
            .collect();
        Perms::from_entries(&entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_round_trip() {
        let p = Perms::from_wire(b"n0\0r5\0b7\0").unwrap();
        assert_eq!(
            p,
            Perms::new(0, Access::None)
                .with(5, Access::Read)
                .with(7, Access::Both)
        );
        assert_eq!(p.to_wire(), b"n0\0r5\0b7\0");
        assert_eq!(p.to_string(), "n0,r5,b7");
        assert_eq!("n0,r5,b7".parse::<Perms>().unwrap(), p);
        assert_eq!("n0 r5  b7".parse::<Perms>().unwrap(), p);
        assert_eq!(
            Perms::from_wire(b"w3\0").unwrap(),
            Perms::new(3, Access::Write)
        );
    }

    #[test]
    fn access_rules() {
        let p = Perms::new(3, Access::None)
            .with(5, Access::Read)
            .with(6, Access::Write);
        assert_eq!(p.access_of(3), Access::Both);
        assert!(p.access_of(5).can_read() && !p.access_of(5).can_write());
        assert!(p.access_of(6).can_write() && !p.access_of(6).can_read());
        assert_eq!(p.access_of(9), Access::None);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            &b""[..],
            b"\0",
            b"n0",
            b"x0\0",
            b"n\0",
            b"n-1\0",
            b"n65536\0",
            b"n0\0\0",
            b"n0 \0",
        ] {
            assert!(Perms::from_wire(bad).is_err(), "{bad:?}");
        }
        assert!("".parse::<Perms>().is_err());
        assert!("r".parse::<Perms>().is_err());
        assert_eq!(Perms::from_wire(b"b65535\0").unwrap().owner, 65535);
    }
}
