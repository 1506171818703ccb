//! `xm`: the command-line front end. Parses argv and hands off to one module per command family.

fn main() {
    println!("xm-rs");
}
