//! `xm console [-q] <Domain>`: attach to a domain's console; Ctrl-] detaches.

use xm::xen::console::{Console, ESCAPE};
use xm::xen::{ControlError, Host};

#[derive(Debug, clap::Args)]
pub struct ConsoleArgs {
    /// Do not print an error when the domain does not exist; just exit 1.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    #[arg(value_name = "Domain")]
    pub domain: String,
}

/// Returns `Ok(false)` when `-q` silenced a failure (exit 1 without a message).
pub fn run(args: &ConsoleArgs) -> Result<bool, ControlError> {
    let attach = || -> Result<(), ControlError> {
        let host = Host::open()?;
        let d = host.find(&args.domain)?;
        if d.domid == 0 {
            return Err(ControlError::Unsupported(
                "Can't specify Domain-0".to_string(),
            ));
        }
        let console = Console::open(&host.xs, d.domid)?;
        console.run(ESCAPE).map_err(|e| ControlError::File {
            path: "console".into(),
            message: e.to_string(),
        })?;
        Ok(())
    };
    match attach() {
        Ok(()) => Ok(true),
        Err(_) if args.quiet => Ok(false),
        Err(e) => Err(e),
    }
}
