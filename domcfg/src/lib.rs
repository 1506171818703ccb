//! `domcfg` owns the xm domain configuration language and everything derived from it without a
//! hypervisor: lexing and parsing (nom) the Python subset that real `/etc/xen` configs use, a
//! bounded, side-effect-free evaluator, xm 4.1's option semantics (`VAR=VAL`, search path), the
//! typed [`DomainConfig`] with parsed device specs, and the SXP that `xm create -n` prints.
//!
//! It does not talk to Xen, xenstore or the file system beyond reading the config file, and
//! has no `unsafe` code (the compiler holds it to that).

#![forbid(unsafe_code)]

pub mod config;
pub mod device;
pub mod dryrun;
pub mod error;
pub mod lang;
pub mod load;
pub mod options;
pub mod sxp;
pub mod value;
pub mod xlkeys;

pub use config::DomainConfig;
pub use error::{ConfigError, Location};
pub use load::{LoadRequest, Loaded, load};
pub use value::Value;
