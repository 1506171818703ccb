//! The `xm` crate: the command-line tool and, as a library, its control layer ([`xen`]) so that
//! the real-Xen lab tests can drive it directly.

pub mod xen;
