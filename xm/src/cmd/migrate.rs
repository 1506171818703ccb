//! `xm migrate [-l] [-s CMD] [-p PORT] DOMAIN HOST` and (hidden, run through ssh on HOST)
//! `xm migrate-receive` (see `xm::xen::migrate`).

use xm::xen::migrate::{self, Target};
use xm::xen::{ControlError, Host, bootloader, interrupt};

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// Use live migration (needs a hypervisor with shadow paging for a PV guest).
    #[arg(short = 'l', long)]
    live: bool,
    /// How to reach the host: the ssh command and its options (default: ssh).
    #[arg(short = 's', long = "ssh-command", value_name = "CMD")]
    ssh_command: Option<String>,
    /// The host's ssh port.
    #[arg(short = 'p', long, value_name = "PORT")]
    port: Option<u16>,
    /// Send the guest's memory as it is (default: compressed with zstd, where the receiving
    /// xm can unpack it).
    #[arg(long)]
    no_compress: bool,
    #[arg(value_name = "Domain")]
    domain: String,
    #[arg(value_name = "Host")]
    host: String,
}

pub fn migrate(args: &MigrateArgs) -> Result<(), ControlError> {
    let mut ssh = match &args.ssh_command {
        Some(cmd) => bootloader::split_args(cmd)
            .map_err(|e| ControlError::Invalid(format!("--ssh-command: {e}")))?,
        None => vec!["ssh".to_string()],
    };
    if let Some(port) = args.port {
        ssh.extend(["-p".to_string(), port.to_string()]);
    }
    let host = Host::open()?;
    let d = host.find(&args.domain)?;
    interrupt::arm();
    migrate::migrate(
        &host,
        d.domid,
        &Target {
            ssh,
            host: args.host.clone(),
            live: args.live,
            compress: !args.no_compress,
        },
    )
}

pub fn receive() -> anyhow::Result<()> {
    use std::os::fd::AsFd;
    // Unbuffered: the stream that follows the header is libxenguest's to read.
    let mut input = std::fs::File::from(std::io::stdin().as_fd().try_clone_to_owned()?);
    let mut output = std::io::stdout();
    let host = Host::open()?;
    // Its ssh session ending (SIGHUP) or a SIGTERM while the guest is built here: stop at the
    // next step and destroy what was built; the sender then resumes its copy.
    interrupt::arm();
    migrate::receive(&host, &mut input, &mut output, |created| {
        super::create::spawn_monitor(created.domid)
            .map_err(|e| ControlError::Invalid(format!("cannot start the monitor: {e}")))
    })?;
    Ok(())
}
