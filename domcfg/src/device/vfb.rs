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
    pub settings: Vec<(String, String)>,
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
        if let Some(kind) = dict_get(&settings, "type").map(str::to_string) {
            dict_insert(&mut settings, &kind, "1");
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
        if dict_get(&settings, "keymap").is_none() {
            if let Some(keymap) = defaults.keymap.filter(|k| !k.is_empty()) {
                settings.push(("keymap".into(), keymap.into()));
            }
        }
        if dict_get(&settings, "display").is_none() {
            if let Some(display) = defaults.display {
                settings.push(("display".into(), display.into()));
            }
        }
        if dict_get(&settings, "xauthority").is_none() {
            settings.push(("xauthority".into(), defaults.xauthority.into()));
        }
        Ok(VfbSpec { settings })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        dict_get(&self.settings, key)
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
