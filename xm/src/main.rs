//! `xm`: the command-line front end. Parses argv and hands off to one module per command family.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use xm::cli::{Cli, Command};
use xm::cmd;
use xm::xen::ControlError;

/// `xm --version`: xm's version, the Xen release it was built for and, in a dom0 where the
/// hypervisor answers, the one running.
fn version_text() -> &'static str {
    let mut text = format!(
        "{} (built for Xen {})",
        env!("CARGO_PKG_VERSION"),
        xm::xen::xc::XEN_RELEASE
    );
    let asked = std::env::args()
        .skip(1)
        .any(|a| a == "--version" || a == "-V");
    // libxenctrl logs to stderr when it cannot open privcmd: ask only where there is one.
    if asked
        && std::path::Path::new("/dev/xen/privcmd").exists()
        && let Some((major, minor)) = xm::xen::xc::Xc::open()
            .ok()
            .and_then(|xc| xc.xen_release().ok())
    {
        text.push_str(&format!(", hypervisor Xen {major}.{minor}"));
    }
    // clap keeps a version for the life of the process; this one is made once.
    Box::leak(text.into_boxed_str())
}

fn main() -> ExitCode {
    let _failpoints = xm::xen::failpoint::setup();
    let table = Cli::command();
    let argv = match xm::front::route(std::env::args_os().collect(), &table) {
        xm::front::Route::Run(argv) => argv,
        xm::front::Route::Exit {
            stdout,
            stderr,
            code,
        } => {
            eprint!("{stderr}");
            print!("{stdout}");
            return ExitCode::from(code);
        }
    };
    let word = argv.get(1).map(|w| w.to_string_lossy().into_owned());
    let parsed = Cli::command()
        .version(version_text())
        .try_get_matches_from(argv)
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // Help and version are not errors.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // As xm: the error, the command's help, exit 1.
            match word.as_deref().and_then(|w| table.find_subcommand(w)) {
                Some(sub) => {
                    let (stderr, stdout) = xm::front::usage_error(sub, &e);
                    eprint!("{stderr}");
                    print!("{stdout}");
                }
                None => {
                    let _ = e.print();
                }
            }
            return ExitCode::from(1);
        }
    };
    let result = match &cli.command {
        Command::Console(args) => match cmd::console::run(args) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e.into()),
        },
        Command::Create(args) => cmd::create::run(args),
        Command::List(args) => cmd::list::run(args).map_err(Into::into),
        Command::Destroy(d) => cmd::domain::destroy(&d.domain).map_err(Into::into),
        Command::Pause(d) => cmd::domain::pause(&d.domain).map_err(Into::into),
        Command::Unpause(d) => cmd::domain::unpause(&d.domain).map_err(Into::into),
        Command::Shutdown(args) => cmd::shutdown::shutdown(args),
        Command::Reboot(args) => cmd::shutdown::reboot(args),
        Command::Monitor { domid } => cmd::create::monitor(*domid).map_err(Into::into),
        Command::Domid(d) => cmd::domain::domid(&d.domain).map_err(Into::into),
        Command::Domname(d) => cmd::domain::domname(&d.domain).map_err(Into::into),
        Command::Info => cmd::info::run().map_err(Into::into),
        Command::MemSet(a) => cmd::memory::set(a).map_err(Into::into),
        Command::MemMax(a) => cmd::memory::max(a).map_err(Into::into),
        Command::VcpuSet(a) => cmd::vcpu::set(a).map_err(Into::into),
        Command::VcpuList(a) => cmd::vcpu::list(a).map_err(Into::into),
        Command::VcpuPin(a) => cmd::vcpu::pin(a).map_err(Into::into),
        Command::Uptime(a) => cmd::domain::uptime(a).map_err(Into::into),
        Command::Reset(d) => cmd::domain::reset(&d.domain).map_err(Into::into),
        Command::SchedCredit(a) => cmd::sched::credit(a).map_err(Into::into),
        Command::SchedCredit2(a) => cmd::sched::credit2(a).map_err(Into::into),
        Command::Dmesg(a) => cmd::hyp::dmesg(a).map_err(Into::into),
        Command::DebugKeys { keys } => cmd::hyp::debug_keys(keys).map_err(Into::into),
        Command::Top => cmd::hyp::top().map_err(Into::into),
        Command::BlockAttach(a) => cmd::device::block_attach(a).map_err(Into::into),
        Command::BlockDetach(a) => cmd::device::block_detach(a).map_err(Into::into),
        Command::BlockConfigure(a) => cmd::device::block_configure(a).map_err(Into::into),
        Command::BlockList(a) => cmd::device::block_list(a).map_err(Into::into),
        Command::NetworkAttach(a) => cmd::device::network_attach(a).map_err(Into::into),
        Command::NetworkDetach(a) => cmd::device::network_detach(a).map_err(Into::into),
        Command::NetworkList(a) => cmd::device::network_list(a).map_err(Into::into),
        Command::Trigger(a) => cmd::domain::trigger(a).map_err(Into::into),
        Command::DumpCore(a) => cmd::domain::dump_core(a).map_err(Into::into),
        Command::Save(a) => cmd::save::save(a),
        Command::Restore(a) => cmd::save::restore(a),
        Command::Migrate(a) => cmd::migrate::migrate(a).map_err(Into::into),
        Command::MigrateReceive => cmd::migrate::receive(),
        Command::New(a) => cmd::managed::new(a),
        Command::Start(a) => cmd::managed::start(a),
        Command::Delete(a) => cmd::managed::delete(a),
        Command::Suspend(a) => cmd::managed::suspend(a),
        Command::Resume(a) => cmd::managed::resume(a),
        Command::Domstate(d) => cmd::domain::domstate(&d.domain).map_err(Into::into),
        Command::Rename(a) => cmd::domain::rename(a).map_err(Into::into),
        Command::Sysrq(a) => cmd::domain::sysrq(a).map_err(Into::into),
        Command::PciListAssignableDevices => cmd::pci::list_assignable().map_err(Into::into),
        Command::PciList(d) => cmd::pci::list(&d.domain).map_err(Into::into),
        Command::PciAttach(a) => cmd::pci::attach(a).map_err(Into::into),
        Command::PciDetach(a) => cmd::pci::detach(a).map_err(Into::into),
        Command::Completion(a) => cmd::completion::run(a, Cli::command()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            // xm exited with xend's fault code: 3 for an unknown domain, 1 otherwise.
            match e.downcast_ref::<ControlError>() {
                Some(ControlError::NoSuchDomain(_)) => ExitCode::from(3),
                _ => ExitCode::from(1),
            }
        }
    }
}
