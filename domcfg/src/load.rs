//! Loading a config the way `xm create` did: find the file on the search path, run the script
//! with the command line's variables, take its top-level locals as options (the command line
//! winning), and build the [`DomainConfig`].

use std::path::Path;

use crate::config::{BuildEnv, Built, DomainConfig, SourceText};
use crate::error::ConfigError;
use crate::lang::{self, Host, Limits};
use crate::options::Options;

/// xm's default `--path`.
pub const DEFAULT_SEARCH_PATH: &str = ".:/etc/xen";

/// Everything a load depends on besides the file system holding the config.
pub struct LoadRequest<'a> {
    /// The config name as given (`xm create NAME`, `-f NAME`); `xmdefconfig` if none.
    pub config_name: &'a str,
    /// Colon-separated directories to search after the name itself (`--path`).
    pub search_path: &'a str,
    /// The command line's options and `VAR=VAL` script variables.
    pub options: &'a Options,
    /// The working directory (absolute): relative config names and kernels are found here.
    pub cwd: &'a Path,
    /// `$DISPLAY` (HVM and vfb `display` default).
    pub display: Option<&'a str>,
    /// `$XAUTHORITY`, else `$HOME/.Xauthority` (HVM and vfb `xauthority` default).
    pub xauthority: &'a str,
    /// What the script may ask of the host (`os.uname()`, `os.path.exists()`); also answers
    /// the kernel/ramdisk/loader existence checks.
    pub host: &'a dyn Host,
    pub limits: &'a Limits,
    /// Where a bare `bootloader = "pygrub"` is looked for ([`crate::config::pygrub_paths`]).
    pub pygrub_paths: &'a [String],
}

/// A loaded config.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// xl settings a create must refuse (a dry run shows the config all the same).
    pub refused: Vec<ConfigError>,
    /// The path the config was read from, as xm printed it (`./guest1`, `/etc/xen/guest1`).
    pub path: String,
    pub config: DomainConfig,
    /// xm's warnings (deprecated options), without `Warning: `.
    pub warnings: Vec<String>,
    /// The text it was built from, for pointing later errors (the control layer's) at a line.
    pub source: SourceText,
}

/// xm's `load_defconfig` search: the name as given, then each directory of `search_path`;
/// relative results are written `./...`. Returns the first that exists (relative to `cwd`).
pub fn resolve(config_name: &str, search_path: &str, cwd: &Path) -> Result<String, ConfigError> {
    std::iter::once("")
        .chain(search_path.split(':'))
        .map(|dir| {
            let p = if dir.is_empty() || config_name.starts_with('/') {
                config_name.to_string()
            } else {
                format!("{}/{config_name}", dir.trim_end_matches('/'))
            };
            if p.starts_with('/') {
                p
            } else {
                format!("./{p}")
            }
        })
        .find(|p| cwd.join(p).exists())
        .ok_or_else(|| ConfigError::NotFound {
            name: config_name.to_string(),
        })
}

/// [`resolve`] then [`load_file`].
pub fn load(req: &LoadRequest<'_>) -> Result<Loaded, ConfigError> {
    let path = resolve(req.config_name, req.search_path, req.cwd)?;
    load_file(&path, req)
}

/// Load the config at `path` (as returned by [`resolve`]).
pub fn load_file(path: &str, req: &LoadRequest<'_>) -> Result<Loaded, ConfigError> {
    let bytes = std::fs::read(req.cwd.join(path)).map_err(|e| ConfigError::Io {
        path: path.to_string(),
        message: e.to_string(),
    })?;
    if bytes.first() == Some(&b'<') {
        return Err(ConfigError::plain(format!(
            "{path}: XML (Xen-API) configs are not supported; use a Python config"
        )));
    }
    let source = SourceText {
        file: path.to_string(),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    };
    let Built {
        config,
        warnings,
        refused,
    } = eval_source(&source, req)?;
    Ok(Loaded {
        refused,
        path: path.to_string(),
        config,
        warnings,
        source,
    })
}

/// Run the script text and build the config (no file access; `path` names it in errors).
pub fn eval(path: &str, text: String, req: &LoadRequest<'_>) -> Result<Built, ConfigError> {
    let source = SourceText {
        file: path.to_string(),
        text,
    };
    eval_source(&source, req)
}

/// [`eval`] of a source text the caller keeps.
fn eval_source(source: &SourceText, req: &LoadRequest<'_>) -> Result<Built, ConfigError> {
    let mut options = req.options.clone();
    let locals = lang::run(
        &source.text,
        &source.file,
        options.script_vars(),
        req.host,
        req.limits,
    )?;
    // The script variables are locals too; whatever the script did with them comes after.
    let vars = options.script_vars().to_vec();
    options.absorb_locals(vars);
    options.absorb_locals(locals);
    let cwd = req.cwd.to_string_lossy();
    let env = BuildEnv {
        config_name: req.config_name,
        source: Some(source),
        path_exists: &|p: &str| req.host.path_exists(p),
        pygrub_paths: req.pygrub_paths,
        cwd: &cwd,
        display: req.display,
        xauthority: req.xauthority,
    };
    DomainConfig::from_options(&options, &env)
}

/// xm's `get_xauthority()`: `$XAUTHORITY`, else `$HOME/.Xauthority` (home from the password
/// database if `HOME` is unset, here `/root`).
pub fn xauthority_from_env(xauthority: Option<&str>, home: Option<&str>) -> String {
    match xauthority.filter(|x| !x.is_empty()) {
        Some(x) => x.to_string(),
        None => format!(
            "{}/.Xauthority",
            home.filter(|h| !h.is_empty()).unwrap_or("/root")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_searches_name_then_path() {
        let dir = std::env::temp_dir().join(format!("domcfg-resolve-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("etc/xen")).unwrap();
        std::fs::write(dir.join("etc/xen/guest1"), "").unwrap();
        std::fs::write(dir.join("local"), "").unwrap();
        assert_eq!(resolve("local", ".:etc/xen", &dir).unwrap(), "./local");
        assert_eq!(
            resolve("guest1", ".:etc/xen", &dir).unwrap(),
            "./etc/xen/guest1"
        );
        assert_eq!(
            resolve("nope", ".:etc/xen", &dir).unwrap_err().to_string(),
            "Unable to open config file: nope"
        );
        let abs = dir.join("local").to_string_lossy().into_owned();
        assert_eq!(resolve(&abs, "", Path::new("/")).unwrap(), abs);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn xauthority_default() {
        assert_eq!(
            xauthority_from_env(None, Some("/root")),
            "/root/.Xauthority"
        );
        assert_eq!(
            xauthority_from_env(Some("/tmp/xa"), Some("/root")),
            "/tmp/xa"
        );
        assert_eq!(xauthority_from_env(Some(""), None), "/root/.Xauthority");
    }
}
