//! Raw bindings to libxenctrl and libxenguest, generated at build time by bindgen against the
//! installed Xen headers. Placeholder until the control-layer issue lands.
