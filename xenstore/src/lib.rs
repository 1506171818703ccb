//! `xenstore` owns the xenstore wire protocol and a client for it. It knows nothing of domains.
