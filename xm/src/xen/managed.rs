//! Managed domains (`xm new`, `start`, `delete`, `suspend`, `resume`): domains defined once
//! and started on request, as xend kept them. With no daemon, each is a file under
//! [`DIR`] (or `$XM_MANAGED_DIR`): `NAME.json`, the plan it is built from (its UUID fixed when
//! it was defined), and, while it is suspended, `NAME.save`, an `xm save` file.

use std::path::{Path, PathBuf};

use super::domain_plan::DomainPlan;
use super::error::ControlError;
use super::random::random_uuid;

/// Where managed domains are kept.
pub const DIR: &str = "/var/lib/xm/domains";

/// The managed domains of this host.
#[derive(Debug, Clone)]
pub struct Managed {
    dir: PathBuf,
}

/// A managed domain's state when it is not running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rest {
    Halted,
    Suspended,
}

impl Managed {
    /// [`DIR`], or `$XM_MANAGED_DIR`.
    pub fn open() -> Managed {
        let dir =
            std::env::var_os("XM_MANAGED_DIR").map_or_else(|| PathBuf::from(DIR), PathBuf::from);
        Managed { dir }
    }

    pub fn at(dir: &Path) -> Managed {
        Managed {
            dir: dir.to_path_buf(),
        }
    }

    fn file(&self, name: &str, ext: &str) -> Result<PathBuf, ControlError> {
        // A name is a file name here: nothing that leaves the directory or hides in it.
        if name.is_empty() || name.starts_with('.') || name.contains('/') || name.contains('\0') {
            return Err(ControlError::Invalid(format!(
                "'{name}' cannot be a managed domain's name"
            )));
        }
        Ok(self.dir.join(format!("{name}.{ext}")))
    }

    /// The suspended image of `name` (`xm suspend` writes it, `xm resume` reads it).
    pub fn save_path(&self, name: &str) -> Result<PathBuf, ControlError> {
        self.file(name, "save")
    }

    /// Defines (or redefines) a managed domain; a redefinition keeps its UUID. Returns the
    /// plan as kept.
    pub fn define(&self, plan: &DomainPlan) -> Result<DomainPlan, ControlError> {
        let path = self.file(&plan.name, "json")?;
        let mut plan = plan.clone();
        if let Ok(old) = self.get(&plan.name) {
            plan.uuid = plan.uuid.or(old.uuid);
        }
        plan.uuid = plan.uuid.or_else(|| Some(random_uuid()));
        let io = |e: std::io::Error| ControlError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let json = serde_json::to_string_pretty(&plan).unwrap_or_default();
        // Written whole or not at all.
        let tmp = path.with_extension("json.new");
        std::fs::write(&tmp, json).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(plan)
    }

    /// The plan of managed domain `name` (`NoSuchDomain` if there is none).
    pub fn get(&self, name: &str) -> Result<DomainPlan, ControlError> {
        let path = self.file(name, "json")?;
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ControlError::NoSuchDomain(name.to_string()));
            }
            Err(e) => {
                return Err(ControlError::File {
                    path: path.display().to_string(),
                    message: e.to_string(),
                });
            }
        };
        serde_json::from_slice(&text).map_err(|e| ControlError::File {
            path: path.display().to_string(),
            message: format!("not a managed domain's record: {e}"),
        })
    }

    /// Whether `name` is halted or suspended (when it is not running).
    pub fn rest(&self, name: &str) -> Rest {
        match self.save_path(name) {
            Ok(p) if p.exists() => Rest::Suspended,
            _ => Rest::Halted,
        }
    }

    /// Every managed domain, by name (records that cannot be read are skipped).
    pub fn all(&self) -> Vec<DomainPlan> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.strip_suffix(".json").map(str::to_string)
            })
            .collect();
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        names.iter().filter_map(|n| self.get(n).ok()).collect()
    }

    /// Forgets `name`: its record and any suspended image.
    pub fn remove(&self, name: &str) -> Result<(), ControlError> {
        let json = self.file(name, "json")?;
        if !json.exists() {
            return Err(ControlError::NoSuchDomain(name.to_string()));
        }
        for path in [json, self.save_path(name)?] {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(ControlError::File {
                        path: path.display().to_string(),
                        message: e.to_string(),
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// xm's `xm list` row for a managed domain that is not running: no id, no state letters (a
/// suspended one shows `s`), memory and vcpus from its config, no CPU time.
pub fn list_row(plan: &DomainPlan, rest: Rest) -> String {
    let state = match rest {
        Rest::Halted => "",
        Rest::Suspended => "---s--",
    };
    format!(
        "{:<40} {:>5} {:>5} {:>5} {:>10} {:>8.1}",
        plan.name, "", plan.memory_mib, plan.vcpus, state, 0.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(name: &str) -> DomainPlan {
        crate::xen::domain_plan::sample_plan(name)
    }

    fn store() -> (Managed, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "xm-managed-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        (Managed::at(&dir), dir)
    }

    #[test]
    fn a_domain_is_defined_kept_with_its_uuid_listed_and_removed() {
        let (m, dir) = store();
        assert!(matches!(m.get("ce"), Err(ControlError::NoSuchDomain(_))));
        let kept = m.define(&plan("ce")).unwrap();
        let uuid = kept.uuid.unwrap();
        assert_eq!(uuid[6] >> 4, 4, "a version 4 UUID");
        m.define(&plan("se")).unwrap();
        // Redefined (a changed config): the same UUID.
        let mut bigger = plan("ce");
        bigger.memory_mib = 1024;
        assert_eq!(m.define(&bigger).unwrap().uuid, Some(uuid));
        assert_eq!(m.get("ce").unwrap().memory_mib, 1024);
        let names: Vec<String> = m.all().into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["ce", "se"]);
        assert_eq!(m.rest("ce"), Rest::Halted);
        std::fs::write(m.save_path("ce").unwrap(), b"x").unwrap();
        assert_eq!(m.rest("ce"), Rest::Suspended);
        m.remove("ce").unwrap();
        assert!(!m.save_path("ce").unwrap().exists());
        assert!(matches!(m.remove("ce"), Err(ControlError::NoSuchDomain(_))));
        for bad in ["", ".x", "a/b", "../etc"] {
            assert!(m.define(&plan(bad)).is_err(), "{bad}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn halted_and_suspended_rows_are_xms() {
        assert_eq!(
            list_row(&plan("ce"), Rest::Halted),
            format!(
                "{:<40} {:>5} {:>5} {:>5} {:>10} {:>8}",
                "ce", "", 512, 2, "", "0.0"
            )
        );
        assert!(list_row(&plan("ce"), Rest::Suspended).contains("     ---s--      0.0"));
    }
}
