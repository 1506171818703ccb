//! Device specs as written in a config (`disk = [...]`, `vif = [...]`, ...), parsed and
//! validated. One file per device kind (disks have two more: xl's disk grammar in `disk_xl.rs`
//! and device names to numbers in [`vdev`]); this file holds what they share.
//!
//! Each spec keeps what xm put into the SXP verbatim (xm did not normalise `uname` or `dev`;
//! xend did that later) and offers typed views for the create path.

pub mod disk;
mod disk_xl;
pub mod misc;
pub mod pci;
pub mod vdev;
pub mod vfb;
pub mod vif;

pub use disk::DiskSpec;
pub use misc::{IoPorts, VtpmSpec, VusbSpec};
pub use pci::PciDev;
pub use vfb::VfbSpec;
pub use vif::{Rate, Vif2Spec, VifSpec};

use std::fmt;

use serde::Serialize;

/// A bad device spec. Displays as xm (or xend) worded it, e.g. `Invalid disk specifier: X`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceError {
    pub message: String,
}

impl DeviceError {
    pub fn new(message: impl Into<String>) -> Self {
        DeviceError {
            message: message.into(),
        }
    }
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeviceError {}

/// `KEY=VALUE, KEY=VALUE` as xm's `comma_sep_kv_to_dict` read it: the whole text and each key
/// and value are stripped; a repeated key keeps its first position and takes the last value
/// (a Python dict). An empty text gives no pairs.
pub fn comma_kv(spec: &str) -> Result<Vec<(String, String)>, DeviceError> {
    let mut out: Vec<(String, String)> = Vec::new();
    let spec = spec.trim();
    if spec.is_empty() {
        return Ok(out);
    }
    for part in spec.split(',') {
        let Some((k, v)) = part.split_once('=') else {
            return Err(DeviceError::new(format!(
                "{part} should be a pair, separated by an equals sign."
            )));
        };
        dict_insert(&mut out, k.trim(), v.trim());
    }
    Ok(out)
}

/// Insert into an insertion-ordered "dict": a new key goes last, an existing key keeps its slot.
pub(crate) fn dict_insert(entries: &mut Vec<(String, String)>, key: &str, value: &str) {
    match entries.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value.to_string(),
        None => entries.push((key.to_string(), value.to_string())),
    }
}

pub(crate) fn dict_get<'a>(entries: &'a [(String, String)], key: &str) -> Option<&'a str> {
    entries
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// How the guest may use the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DiskMode {
    /// `r`
    #[serde(rename = "r")]
    ReadOnly,
    /// `w`
    #[serde(rename = "w")]
    ReadWrite,
    /// `w!`: writable even if another domain has it writable.
    #[serde(rename = "w!")]
    SharedWrite,
}

impl DiskMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DiskMode::ReadOnly => "r",
            DiskMode::ReadWrite => "w",
            DiskMode::SharedWrite => "w!",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comma_kv_strips_and_keeps_dict_semantics() {
        let kv =
            comma_kv(" mac=00:16:3e:00:00:01 , bridge = xenbr0, mac=00:16:3e:00:00:02 ").unwrap();
        assert_eq!(
            kv,
            vec![
                ("mac".to_string(), "00:16:3e:00:00:02".to_string()),
                ("bridge".to_string(), "xenbr0".to_string())
            ]
        );
        assert_eq!(comma_kv("  ").unwrap(), vec![]);
        assert_eq!(
            comma_kv("bridge=br0,oops").unwrap_err().to_string(),
            "oops should be a pair, separated by an equals sign."
        );
    }
}
