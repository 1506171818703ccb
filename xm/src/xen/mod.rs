//! The control layer: everything in `xm` that talks to the hypervisor and to xenstore.
//! [`xc`] is the only place with `unsafe`.

pub mod domain;
pub mod layout;
pub mod xc;
