//! The control layer's error: which step failed and why, in words an admin can act on.

use std::fmt;

use super::failpoint::Injected;
use super::interrupt::Interrupted;
use super::xc::XcError;

#[derive(Debug)]
pub enum ControlError {
    /// A libxenctrl/libxenguest call failed.
    Xc(XcError),
    /// A xenstore request failed.
    Xs(xenstore::Error),
    /// This is not a Xen dom0, or we are not root.
    NotDom0(String),
    /// No domain has that name or id (xm exits 3 for this).
    NoSuchDomain(String),
    /// A live domain already has the name.
    NameInUse { name: String, domid: u32 },
    /// The host cannot hold the domain.
    NotEnoughMemory { need_mib: u64, free_mib: u64 },
    /// The config asks for something the control layer cannot do.
    Unsupported(String),
    /// A config setting's value cannot be built: `name` is the variable (`vcpus`, `disk`),
    /// `needle` the text within it (a device entry) for pointing at the line that set it.
    Setting {
        name: &'static str,
        needle: Option<String>,
        message: String,
    },
    /// A value out of range for the domain (a memory target above its maximum, more vcpus
    /// than it has, ...), refused before anything changed.
    Invalid(String),
    /// A file the domain needs is missing or unreadable.
    File { path: String, message: String },
    /// The bootloader (pygrub) is missing, failed or chose nothing; its own words included.
    Bootloader(String),
    /// PCI passthrough cannot be done (no IOMMU, a device not assignable, a grant refused).
    Pci(String),
    /// A step failed on purpose (a failpoints build under test).
    Injected(Injected),
    /// SIGINT, SIGTERM or SIGHUP arrived; the command stopped before a step (and undid what
    /// it had done, as for a failure there).
    Interrupted(Interrupted),
    /// The hypervisor is of another Xen release than xm was built for.
    WrongHypervisor {
        built_for: &'static str,
        running: String,
    },
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlError::Xc(e) => write!(f, "{e}"),
            ControlError::Xs(e) => write!(f, "xenstore: {e}"),
            ControlError::NotDom0(m) => f.write_str(m),
            ControlError::NoSuchDomain(d) => write!(f, "Domain '{d}' does not exist."),
            ControlError::NameInUse { name, domid } => {
                write!(f, "Domain '{name}' already exists with ID '{domid}'")
            }
            ControlError::NotEnoughMemory { need_mib, free_mib } => write!(
                f,
                "Not enough free memory: the domain needs {need_mib} MiB, the host has {free_mib} MiB free"
            ),
            ControlError::Unsupported(m) | ControlError::Invalid(m) => f.write_str(m),
            ControlError::Setting { message, .. } => f.write_str(message),
            ControlError::File { path, message } => write!(f, "{path}: {message}"),
            ControlError::Bootloader(m) | ControlError::Pci(m) => f.write_str(m),
            ControlError::Injected(e) => write!(f, "{e}"),
            ControlError::Interrupted(e) => write!(f, "{e}"),
            ControlError::WrongHypervisor { built_for, running } => write!(
                f,
                "this xm was built for Xen {built_for}, but the hypervisor is Xen {running}: \
                 use an xm built for Xen {running}"
            ),
        }
    }
}

impl std::error::Error for ControlError {}

impl From<XcError> for ControlError {
    fn from(e: XcError) -> Self {
        ControlError::Xc(e)
    }
}

impl From<xenstore::Error> for ControlError {
    fn from(e: xenstore::Error) -> Self {
        ControlError::Xs(e)
    }
}

impl From<Interrupted> for ControlError {
    fn from(e: Interrupted) -> Self {
        ControlError::Interrupted(e)
    }
}

impl From<Injected> for ControlError {
    fn from(e: Injected) -> Self {
        ControlError::Injected(e)
    }
}
