//! One module per `xm` command family; `main.rs` maps the clap table onto them.

pub mod completion;
pub mod console;
pub mod create;
pub mod device;
pub mod domain;
pub mod hyp;
pub mod info;
pub mod list;
pub mod managed;
pub mod memory;
pub mod migrate;
pub mod pci;
pub mod save;
pub mod sched;
pub mod shutdown;
pub mod vcpu;

/// Prints `rows` (a table's lines) or, with `json`, `objects` as a pretty JSON array: the two
/// forms of the listing commands' output.
pub fn print_rows(rows: &[String], objects: &[serde_json::Value], json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(objects).unwrap_or_default()
        );
    } else {
        println!("{}", rows.join("\n"));
    }
}
