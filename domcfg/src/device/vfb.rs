//! `vfb = [ 'vnc=1,vncdisplay=N,...' ]`: a paravirtual framebuffer (each one also brings a
//! virtual keyboard, `vkbd`). The legacy `type=vnc|sdl` form means `vnc=1` / `sdl=1`.

use serde::Serialize;

use super::{DeviceError, comma_kv, dict_get, dict_insert};

/// The keys xm 4.1 accepted in a `vfb` entry.
pub const VFB_KEYS: [&str; 13] = [
    "vnclisten",
    "vncunused",
    "vncdisplay",
    "display",
    "videoram",
    "xauthority",
    "sdl",
    "vnc",
    "vncpasswd",
    "opengl",
    "keymap",
    "serial",
    "monitor",
];

/// One `vfb` entry, after the legacy `type=` rewrite and with xm's defaults added (`keymap`
/// from the config, `display` from `$DISPLAY`, `xauthority` from `$XAUTHORITY` or
/// `$HOME/.Xauthority`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VfbSpec {
    /// The entry's settings in config order, `type=T` already rewritten to `T=1`.
    pub settings: Vec<(String, String)>,
    /// What xm added when the entry did not say: `keymap`, `display`, `xauthority`.
    pub defaults: Vec<(String, String)>,
    /// The keys as written (with `type`), and the legacy type: xm's SXP key order depends on
    /// the Python dict built from them.
    #[serde(skip)]
    pub(crate) written_keys: Vec<String>,
    #[serde(skip)]
    pub(crate) legacy_type: Option<String>,
}

/// What the environment contributes to a vfb that does not say otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VfbDefaults<'a> {
    pub keymap: Option<&'a str>,
    pub display: Option<&'a str>,
    pub xauthority: &'a str,
}

impl VfbSpec {
    pub fn parse(spec: &str, defaults: &VfbDefaults<'_>) -> Result<VfbSpec, DeviceError> {
        let mut settings = comma_kv(spec)?;
        let written_keys = settings.iter().map(|(k, _)| k.clone()).collect();
        let legacy_type = dict_get(&settings, "type").map(str::to_string);
        if let Some(kind) = &legacy_type {
            dict_insert(&mut settings, kind, "1");
            settings.retain(|(k, _)| k != "type");
        }
        if let Some((k, _)) = settings
            .iter()
            .find(|(k, _)| !VFB_KEYS.contains(&k.as_str()))
        {
            return Err(DeviceError::new(format!(
                "configuration option {k} unknown to vfbs"
            )));
        }
        let mut added = Vec::new();
        let keymap = defaults.keymap.filter(|k| !k.is_empty());
        if let (None, Some(keymap)) = (dict_get(&settings, "keymap"), keymap) {
            added.push(("keymap".into(), keymap.into()));
        }
        if let (None, Some(display)) = (dict_get(&settings, "display"), defaults.display) {
            added.push(("display".into(), display.into()));
        }
        if dict_get(&settings, "xauthority").is_none() {
            added.push(("xauthority".into(), defaults.xauthority.into()));
        }
        Ok(VfbSpec {
            settings,
            defaults: added,
            written_keys,
            legacy_type,
        })
    }

    /// A setting, from the entry or from xm's defaults.
    pub fn get(&self, key: &str) -> Option<&str> {
        dict_get(&self.settings, key).or_else(|| dict_get(&self.defaults, key))
    }

    /// `vnc=1`
    pub fn vnc(&self) -> bool {
        self.get("vnc").is_some_and(|v| v != "0")
    }

    /// `sdl=1`
    pub fn sdl(&self) -> bool {
        self.get("sdl").is_some_and(|v| v != "0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: VfbDefaults<'static> = VfbDefaults {
        keymap: None,
        display: None,
        xauthority: "/root/.Xauthority",
    };

    #[test]
    fn legacy_type_becomes_a_flag_and_xauthority_is_added() {
        let v = VfbSpec::parse("type=vnc,vncunused=0,vncdisplay=25", &DEFAULTS).unwrap();
        assert!(v.vnc());
        assert!(!v.sdl());
        assert_eq!(v.get("type"), None);
        assert_eq!(v.get("vncdisplay"), Some("25"));
        assert_eq!(v.get("xauthority"), Some("/root/.Xauthority"));
    }

    #[test]
    fn environment_defaults_do_not_override_the_spec() {
        let d = VfbDefaults {
            keymap: Some("de"),
            display: Some(":0"),
            xauthority: "/h/.Xauthority",
        };
        let v = VfbSpec::parse("sdl=1,display=:1,xauthority=/x", &d).unwrap();
        assert_eq!(v.get("display"), Some(":1"));
        assert_eq!(v.get("xauthority"), Some("/x"));
        assert_eq!(v.get("keymap"), Some("de"));
    }

    #[test]
    fn unknown_keys_use_xm_message() {
        assert_eq!(
            VfbSpec::parse("vnc=1,colour=1", &DEFAULTS)
                .unwrap_err()
                .to_string(),
            "configuration option colour unknown to vfbs"
        );
    }
}
