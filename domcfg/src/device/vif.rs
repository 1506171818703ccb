//! `vif = [ 'KEY=VALUE, ...' ]`: virtual network interfaces (and the rarely used `vif2`,
//! netchannel2).
//!
//! `''` is a default interface. Keys are those xm 4.1 allowed; anything else is xm's
//! `Invalid vif option: K`. The settings keep config order; what xend checked later (`mac`
//! syntax, `rate` syntax) is checked here.

use serde::Serialize;

use super::{DeviceError, comma_kv, dict_get};

/// The keys xm 4.1 accepted in a `vif` entry.
pub const VIF_KEYS: [&str; 12] = [
    "backend", "bridge", "ip", "mac", "script", "type", "vifname", "rate", "model", "accel",
    "policy", "label",
];

/// The keys xm 4.1 accepted in a `vif2` entry.
pub const VIF2_KEYS: [&str; 10] = [
    "front_mac",
    "back_mac",
    "backend",
    "trusted",
    "back_trusted",
    "front_filter_mac",
    "filter_mac",
    "bridge",
    "pdev",
    "max_bypasses",
];

/// A bandwidth limit (`rate=10Mb/s@20ms`), in netback's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rate {
    pub bytes_per_interval: u64,
    pub interval_usecs: u64,
}

impl Rate {
    /// Parse `N[GMK](B|b)/s[@N[m|u]s]` (xend `netif.parseRate`). An interval defaults to 50 ms.
    /// Values that overflow netback's 32-bit fields mean "unlimited", as in xend.
    pub fn parse(text: &str) -> Option<Rate> {
        let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
        let n = digits(text);
        if n == 0 {
            return None;
        }
        let mut bytes_per_sec: u128 = text[..n].parse().ok()?;
        let mut rest = &text[n..];
        let mult: u128 = match rest.as_bytes().first() {
            Some(b'G') => 1_000_000_000,
            Some(b'M') => 1_000_000,
            Some(b'K') => 1_000,
            _ => 1,
        };
        if mult != 1 {
            rest = &rest[1..];
        }
        bytes_per_sec = bytes_per_sec.checked_mul(mult)?;
        rest = match rest.as_bytes().first() {
            Some(b'B') => &rest[1..],
            Some(b'b') => {
                bytes_per_sec /= 8;
                &rest[1..]
            }
            _ => return None,
        };
        rest = rest.strip_prefix("/s")?;
        let interval_usecs: u128 = if rest.is_empty() {
            50_000
        } else {
            let r = rest.strip_prefix('@')?.strip_suffix('s')?;
            let n = digits(r);
            if n == 0 {
                return None;
            }
            let value: u128 = r[..n].parse().ok()?;
            match &r[n..] {
                "" => value.checked_mul(1_000_000)?,
                "m" => value.checked_mul(1_000)?,
                "u" => value,
                _ => return None,
            }
        };
        let bytes_per_interval = bytes_per_sec.checked_mul(interval_usecs)? / 1_000_000;
        let limit = u128::from(u32::MAX);
        if bytes_per_interval == 0
            || bytes_per_interval > limit
            || interval_usecs == 0
            || interval_usecs > limit
        {
            return Some(Rate {
                bytes_per_interval: u64::from(u32::MAX),
                interval_usecs: 0,
            });
        }
        Some(Rate {
            bytes_per_interval: bytes_per_interval as u64,
            interval_usecs: interval_usecs as u64,
        })
    }

    /// The backend's `rate` node: `BYTES,USECS`.
    pub fn backend_value(&self) -> String {
        format!("{},{}", self.bytes_per_interval, self.interval_usecs)
    }
}

/// One `vif` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VifSpec {
    /// The settings as written (stripped, a repeated key takes the last value).
    pub settings: Vec<(String, String)>,
}

impl VifSpec {
    pub fn parse(spec: &str) -> Result<VifSpec, DeviceError> {
        let settings = comma_kv(spec)?;
        for (k, v) in &settings {
            if !VIF_KEYS.contains(&k.as_str()) {
                return Err(DeviceError::new(format!("Invalid vif option: {k}")));
            }
            if k == "mac" && !is_mac(v) {
                return Err(DeviceError::new(format!(
                    "Invalid vif mac: {v} (expected xx:xx:xx:xx:xx:xx)"
                )));
            }
            if k == "rate" && Rate::parse(v).is_none() {
                return Err(DeviceError::new(format!(
                    "Invalid vif rate: {v} (expected N[GMK]B/s or N[GMK]b/s, optionally @N[m|u]s)"
                )));
            }
        }
        Ok(VifSpec { settings })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        dict_get(&self.settings, key)
    }

    pub fn mac(&self) -> Option<&str> {
        self.get("mac")
    }
    pub fn bridge(&self) -> Option<&str> {
        self.get("bridge")
    }
    pub fn ip(&self) -> Option<&str> {
        self.get("ip")
    }
    pub fn script(&self) -> Option<&str> {
        self.get("script")
    }
    pub fn backend(&self) -> Option<&str> {
        self.get("backend")
    }
    pub fn vifname(&self) -> Option<&str> {
        self.get("vifname")
    }
    pub fn model(&self) -> Option<&str> {
        self.get("model")
    }
    pub fn rate(&self) -> Option<Rate> {
        self.get("rate").and_then(Rate::parse)
    }
    /// `type=ioemu`: an emulated NIC only, no PV frontend.
    pub fn is_ioemu_only(&self) -> bool {
        self.get("type") == Some("ioemu")
    }
}

/// One `vif2` (netchannel2) entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vif2Spec {
    pub settings: Vec<(String, String)>,
}

impl Vif2Spec {
    pub fn parse(spec: &str) -> Result<Vif2Spec, DeviceError> {
        let settings = comma_kv(spec)?;
        if let Some((k, _)) = settings
            .iter()
            .find(|(k, _)| !VIF2_KEYS.contains(&k.as_str()))
        {
            return Err(DeviceError::new(format!("Invalid vif2 option: {k}")));
        }
        Ok(Vif2Spec { settings })
    }
}

/// Six colon-separated pairs of hex digits.
pub fn is_mac(text: &str) -> bool {
    let parts: Vec<&str> = text.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_settings_in_order() {
        let v = VifSpec::parse("mac=00:16:3e:66:92:9c,bridge=xenbr1,script=vif-bridge,type=ioemu")
            .unwrap();
        assert_eq!(v.mac(), Some("00:16:3e:66:92:9c"));
        assert_eq!(v.bridge(), Some("xenbr1"));
        assert!(v.is_ioemu_only());
        assert_eq!(
            v.settings[2],
            ("script".to_string(), "vif-bridge".to_string())
        );
        assert_eq!(VifSpec::parse("").unwrap().settings, vec![]);
        assert_eq!(
            VifSpec::parse("ip=10.165.1.10").unwrap().ip(),
            Some("10.165.1.10")
        );
    }

    #[test]
    fn rejects_unknown_keys_bad_macs_and_rates() {
        assert_eq!(
            VifSpec::parse("bridge=br0,colour=red")
                .unwrap_err()
                .to_string(),
            "Invalid vif option: colour"
        );
        assert!(
            VifSpec::parse("mac=00:16:3e:66:92")
                .unwrap_err()
                .to_string()
                .starts_with("Invalid vif mac")
        );
        assert!(
            VifSpec::parse("rate=10Mbit")
                .unwrap_err()
                .to_string()
                .starts_with("Invalid vif rate")
        );
        assert_eq!(
            Vif2Spec::parse("mac=x").unwrap_err().to_string(),
            "Invalid vif2 option: mac"
        );
    }

    #[test]
    fn rates_match_netback_terms() {
        assert_eq!(
            Rate::parse("10Mb/s"),
            Some(Rate {
                bytes_per_interval: 62_500,
                interval_usecs: 50_000
            })
        );
        assert_eq!(
            Rate::parse("1MB/s@20ms"),
            Some(Rate {
                bytes_per_interval: 20_000,
                interval_usecs: 20_000
            })
        );
        assert_eq!(Rate::parse("100KB/s@500us").unwrap().bytes_per_interval, 50);
        assert_eq!(
            Rate::parse("1B/s@1us").unwrap().backend_value(),
            "4294967295,0"
        );
        assert_eq!(Rate::parse("10Gb/s@2s").unwrap().interval_usecs, 2_000_000);
        assert_eq!(Rate::parse("10 Mb/s"), None);
        assert_eq!(Rate::parse("10Mb/s@"), None);
    }
}
