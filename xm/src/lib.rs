//! The `xm` crate: the command-line tool and, as a library, its control layer ([`xen`]) so that
//! the real-Xen lab tests can drive it directly, its command table ([`cli`], with the commands
//! in [`cmd`]) so that tests can walk it, and its front door ([`front`]: what a command word
//! means before clap parses it, and xm's help layouts).

// `unsafe` lives in one module, the libxenctrl wrapper `xen::xc`, which alone is allowed it.
#![deny(unsafe_code)]

// The command modules name the control layer `xm::xen`, as they did in the binary.
extern crate self as xm;

pub mod cli;
pub mod cmd;
pub mod front;
pub mod xen;
