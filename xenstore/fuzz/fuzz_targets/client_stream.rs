//! A "server" that answers with arbitrary bytes and then stops answering: the client must return
//! (a value or an error) for every call, never panic or hang.
#![no_main]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

use libfuzzer_sys::fuzz_target;
use xenstore::Xs;

fuzz_target!(|data: &[u8]| {
    let (client, mut server) = UnixStream::pair().unwrap();
    let xs = Xs::from_unix_stream(client).unwrap();
    let reply = data.to_vec();
    let srv = std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        // Wait for the first request so its req_id (1) is pending, then answer with the data.
        let _ = server.read(&mut buf);
        let _ = server.write_all(&reply);
        // Hang up the reply direction only, so the client sees EOF but its later writes do
        // not hit a closed socket; then drain until the client closes.
        let _ = server.shutdown(std::net::Shutdown::Write);
        while matches!(server.read(&mut buf), Ok(n) if n > 0) {}
    });
    let w = xs.watch("/w", "t");
    let _ = xs.read("/a");
    let _ = xs.directory("/d");
    let _ = xs.get_perms("/p");
    drop(w);
    drop(xs);
    srv.join().unwrap();
});
