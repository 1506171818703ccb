//! The control layer: everything in `xm` that talks to the hypervisor and to xenstore.
//! [`xc`] is the only place with `unsafe`; [`layout`] says which xenstore nodes a domain gets;
//! [`create`] builds a domain and undoes every step if one fails.

pub mod bootloader;
pub mod console;
pub mod create;
pub mod device;
pub mod domain;
pub mod domain_plan;
pub mod dumpcore;
pub mod e820;
pub mod error;
pub mod failpoint;
pub mod helper;
pub mod host;
pub mod hotplug;
pub mod info;
pub mod interrupt;
pub mod layout;
pub mod leftovers;
pub mod lifecycle;
pub mod managed;
pub mod memory;
pub mod migrate;
pub mod pci;
pub mod plan;
pub mod random;
pub mod record;
pub mod save;
pub mod savefile;
pub mod sched;
pub mod storelock;
pub mod trace;
pub mod vcpu;
pub mod watch;
#[allow(unsafe_code)]
pub mod xc;

pub use error::ControlError;
pub use host::Host;
