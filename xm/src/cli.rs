//! The `xm` command line as clap sees it: every subcommand and its options. It lives in the
//! library so that tests can walk the table (`<Cli as clap::CommandFactory>::command()`), e.g.
//! to check that the man page documents every command; `main.rs` parses argv with it and
//! dispatches.

use clap::{Parser, Subcommand};

use crate::cmd;

#[derive(Parser)]
#[command(name = "xm", about = "Xen domain management (xm-compatible)")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Attach to <Domain>'s console.
    #[command(verbatim_doc_comment)]
    Console(cmd::console::ConsoleArgs),
    /// Create a domain based on <ConfigFile>.
    #[command(verbatim_doc_comment)]
    Create(cmd::create::CreateArgs),
    /// List information about all/some domains.
    #[command(verbatim_doc_comment)]
    List(cmd::list::ListArgs),
    /// Terminate a domain immediately.
    #[command(verbatim_doc_comment)]
    Destroy(DomainArg),
    /// Pause execution of a domain.
    #[command(verbatim_doc_comment)]
    Pause(DomainArg),
    /// Unpause a paused domain.
    #[command(verbatim_doc_comment)]
    Unpause(DomainArg),
    /// Shutdown a domain.
    #[command(verbatim_doc_comment)]
    Shutdown(cmd::shutdown::ShutdownArgs),
    /// Reboot a domain.
    #[command(verbatim_doc_comment)]
    Reboot(cmd::shutdown::RebootArgs),
    /// Carry out a domain's on_poweroff/on_reboot/on_crash (started by `xm create`).
    #[command(hide = true)]
    #[command(verbatim_doc_comment)]
    Monitor { domid: u32 },
    /// Convert a domain name to domain id.
    #[command(verbatim_doc_comment)]
    Domid(DomainArg),
    /// Convert a domain id to domain name.
    #[command(verbatim_doc_comment)]
    Domname(DomainArg),
    /// Get information about Xen host.
    #[command(verbatim_doc_comment)]
    Info,
    /// Set the current memory usage for a domain.
    #[command(name = "mem-set")]
    #[command(verbatim_doc_comment)]
    MemSet(cmd::memory::MemArgs),
    /// Set the maximum amount reservation for a domain.
    #[command(name = "mem-max")]
    #[command(verbatim_doc_comment)]
    MemMax(cmd::memory::MemArgs),
    /// Set the number of active VCPUs for allowed for the domain.
    #[command(name = "vcpu-set")]
    #[command(verbatim_doc_comment)]
    VcpuSet(cmd::vcpu::SetArgs),
    /// List the VCPUs for all/some domains.
    #[command(name = "vcpu-list")]
    #[command(verbatim_doc_comment)]
    VcpuList(cmd::vcpu::ListArgs),
    /// Set which CPUs a VCPU can use.
    #[command(name = "vcpu-pin")]
    #[command(verbatim_doc_comment)]
    VcpuPin(cmd::vcpu::PinArgs),
    /// Print uptime for all/some domains.
    #[command(verbatim_doc_comment)]
    Uptime(cmd::domain::UptimeArgs),
    /// Reset a domain.
    #[command(verbatim_doc_comment)]
    Reset(DomainArg),
    /// Get/set credit scheduler parameters.
    #[command(name = "sched-credit")]
    #[command(verbatim_doc_comment)]
    SchedCredit(cmd::sched::CreditArgs),
    /// Get/set credit2 scheduler parameters.
    #[command(name = "sched-credit2")]
    #[command(verbatim_doc_comment)]
    SchedCredit2(cmd::sched::Credit2Args),
    /// Read and/or clear Xen's message buffer.
    #[command(verbatim_doc_comment)]
    Dmesg(cmd::hyp::DmesgArgs),
    /// Send debug keys to Xen.
    #[command(name = "debug-keys")]
    #[command(verbatim_doc_comment)]
    DebugKeys {
        #[arg(value_name = "Keys")]
        keys: String,
    },
    /// Monitor a host and the domains in real time.
    #[command(verbatim_doc_comment)]
    Top,
    /// Create a new virtual block device.
    #[command(name = "block-attach", verbatim_doc_comment)]
    BlockAttach(cmd::device::BlockAttachArgs),
    /// Destroy a domain's virtual block device.
    #[command(name = "block-detach", verbatim_doc_comment)]
    BlockDetach(cmd::device::DetachArgs),
    /// Change block device configuration.
    #[command(name = "block-configure", verbatim_doc_comment)]
    BlockConfigure(cmd::device::BlockAttachArgs),
    /// List virtual block devices for a domain.
    #[command(name = "block-list", verbatim_doc_comment)]
    BlockList(cmd::device::ListArgs),
    /// Create a new virtual network device.
    #[command(name = "network-attach", verbatim_doc_comment)]
    NetworkAttach(cmd::device::NetworkAttachArgs),
    /// Destroy a domain's virtual network device.
    #[command(name = "network-detach", verbatim_doc_comment)]
    NetworkDetach(cmd::device::DetachArgs),
    /// List virtual network interfaces for a domain.
    #[command(name = "network-list", verbatim_doc_comment)]
    NetworkList(cmd::device::ListArgs),
    /// Send a trigger to a domain.
    #[command(verbatim_doc_comment)]
    Trigger(cmd::domain::TriggerArgs),
    /// Dump core for a specific domain.
    #[command(name = "dump-core", verbatim_doc_comment)]
    DumpCore(cmd::domain::DumpCoreArgs),
    /// Save a domain state to restore later.
    #[command(verbatim_doc_comment)]
    Save(cmd::save::SaveArgs),
    /// Restore a domain from a saved state.
    #[command(verbatim_doc_comment)]
    Restore(cmd::save::RestoreArgs),
    /// Migrate a domain to another machine.
    #[command(verbatim_doc_comment)]
    Migrate(cmd::migrate::MigrateArgs),
    /// The other end of `xm migrate` (run by it through ssh).
    #[command(name = "migrate-receive", hide = true)]
    MigrateReceive,
    /// Adds a domain to Xend domain management
    #[command(about = "Adds a domain to Xend domain management")]
    New(cmd::create::CreateArgs),
    /// Start a Xend managed domain
    #[command(verbatim_doc_comment)]
    Start(cmd::managed::StartArgs),
    /// Remove a domain from Xend domain management.
    #[command(verbatim_doc_comment)]
    Delete(cmd::managed::NameArg),
    /// Suspend a Xend managed domain
    #[command(verbatim_doc_comment)]
    Suspend(cmd::managed::NameArg),
    /// Resume a Xend managed domain
    #[command(verbatim_doc_comment)]
    Resume(cmd::managed::ResumeArgs),
    /// Get the state of a domain.
    #[command(verbatim_doc_comment)]
    Domstate(DomainArg),
    /// Rename a domain.
    #[command(verbatim_doc_comment)]
    Rename(cmd::domain::RenameArgs),
    /// Send a sysrq to a domain.
    #[command(verbatim_doc_comment)]
    Sysrq(cmd::domain::SysrqArgs),
    /// List all the assignable pci devices
    #[command(name = "pci-list-assignable-devices")]
    #[command(verbatim_doc_comment)]
    PciListAssignableDevices,
    /// List pass-through pci devices for a domain.
    #[command(name = "pci-list")]
    #[command(verbatim_doc_comment)]
    PciList(DomainArg),
    /// Insert a new pass-through pci device.
    #[command(name = "pci-attach")]
    #[command(verbatim_doc_comment)]
    PciAttach(cmd::pci::AttachArgs),
    /// Remove a domain's pass-through pci device.
    #[command(name = "pci-detach")]
    #[command(verbatim_doc_comment)]
    PciDetach(cmd::pci::DetachArgs),
    /// Print a completion script for a shell (bash, zsh, fish, ...).
    #[command(hide = true)]
    Completion(cmd::completion::CompletionArgs),
}

/// A domain, by name or numeric id.
#[derive(clap::Args)]
pub struct DomainArg {
    #[arg(value_name = "Domain")]
    pub domain: String,
}
