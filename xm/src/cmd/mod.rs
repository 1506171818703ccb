//! One module per `xm` command family; `main.rs` maps the clap table onto them.

pub mod console;
pub mod create;
pub mod device;
pub mod domain;
pub mod help;
pub mod hyp;
pub mod info;
pub mod list;
pub mod memory;
pub mod pci;
pub mod sched;
pub mod shutdown;
pub mod vcpu;
