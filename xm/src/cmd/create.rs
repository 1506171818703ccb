//! `xm create <ConfigFile> [options] [vars]`: load a domain config (search path, `VAR=VAL`
//! script variables, xm 4.1's option rules) and, with `-n`, print the SXP xm would have sent to
//! xend (`--json`: the typed config as JSON).

use std::path::PathBuf;

use anyhow::{Context, bail};
use domcfg::lang::{Limits, RealHost};
use domcfg::load::{self, DEFAULT_SEARCH_PATH, LoadRequest};
use domcfg::options::Options;
use domcfg::sxp;
use xm::xen::Host;
use xm::xen::bootloader;
use xm::xen::console::{Console, ESCAPE};
use xm::xen::create;
use xm::xen::domain_plan::DomainPlan;
use xm::xen::error::ControlError;
use xm::xen::interrupt;
use xm::xen::plan;

/// The config name when none is given, as in xm.
const DEFAULT_CONFIG: &str = "xmdefconfig";

#[derive(Debug, clap::Args)]
#[command(
    about = "Create a domain based on <ConfigFile>.",
    after_help = "Configuration variables can be set using VAR=VAL on the command line, \
                  in any order with the options. For example vmid=3 sets vmid to 3."
)]
pub struct CreateArgs {
    /// Dry run: print the resulting configuration in SXP but do not create the domain.
    #[arg(short = 'n', long)]
    pub dryrun: bool,
    /// With -n: print the typed configuration as JSON instead of SXP.
    #[arg(long)]
    pub json: bool,
    /// Quiet: do not print "Using config file ...".
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Leave the domain paused after it is created.
    #[arg(short = 'p', long)]
    pub paused: bool,
    /// Connect to the console after the domain is created.
    #[arg(short = 'c', long = "console_autoconnect")]
    pub console_autoconnect: bool,
    /// Search path for configuration scripts (colon-separated directories).
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// Use the given Python configuration script.
    #[arg(short = 'f', long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub defconfig: Option<String>,
    /// Domain configuration to use (SXP), instead of a Python config.
    #[arg(short = 'F', long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub config: Option<String>,
    /// The config file name and VAR=VAL settings, in any order.
    #[arg(value_name = "ConfigFile|VAR=VAL", allow_hyphen_values = false)]
    pub words: Vec<String>,
}

/// Split the words as xm's option parser did: `VAR=VAL` settings in order; the last word
/// without `=` names the config (after `-f`, which a later bare word overrides as in xm).
fn config_name_and_vars(args: &CreateArgs) -> (String, Vec<&str>) {
    let mut name = args.defconfig.clone();
    let mut vars = Vec::new();
    for w in &args.words {
        if w.contains('=') {
            vars.push(w.as_str());
        } else {
            name = Some(w.clone());
        }
    }
    (name.unwrap_or_else(|| DEFAULT_CONFIG.to_string()), vars)
}

pub fn run(args: &CreateArgs) -> anyhow::Result<()> {
    if let Some(file) = &args.config {
        return run_sxp_config(args, file);
    }
    match load_plan(args)? {
        Some(plan) => start(args, &plan),
        None => Ok(()),
    }
}

/// Loads the config the arguments name and turns it into a plan; `None` when `-n` printed
/// it instead (`xm create` and `xm new` share this).
pub fn load_plan(args: &CreateArgs) -> anyhow::Result<Option<DomainPlan>> {
    let (config_name, vars) = config_name_and_vars(args);
    let mut options = Options::new();
    if args.dryrun {
        options.specify_switch("dryrun", None);
    }
    if args.quiet {
        options.specify_switch("quiet", None);
    }
    if args.paused {
        options.specify_switch("paused", None);
    }
    if args.console_autoconnect {
        options.specify_switch("console_autoconnect", None);
    }
    for word in vars {
        options.apply_arg(word)?;
    }
    let search_path = args.path.as_deref().unwrap_or(DEFAULT_SEARCH_PATH);
    let cwd: PathBuf = std::env::current_dir().context("cannot determine the working directory")?;
    let display = std::env::var("DISPLAY").ok();
    let xauthority = load::xauthority_from_env(
        std::env::var("XAUTHORITY").ok().as_deref(),
        std::env::var("HOME").ok().as_deref(),
    );
    let limits = Limits::default();
    let pygrub_paths = bootloader::pygrub_paths();
    let req = LoadRequest {
        config_name: &config_name,
        search_path,
        options: &options,
        cwd: &cwd,
        display: display.as_deref(),
        xauthority: &xauthority,
        host: &RealHost,
        limits: &limits,
        pygrub_paths: &pygrub_paths,
    };

    let path = match load::resolve(&config_name, search_path, &cwd) {
        Ok(p) => p,
        Err(e) => bail!("{e}\nUsage: xm create <ConfigFile> [options] [vars]"),
    };
    if !args.quiet && !args.json {
        println!("Using config file \"{path}\".");
    }
    let loaded = load::load_file(&path, &req)?;
    for w in &loaded.warnings {
        eprintln!("Warning: {w}");
    }
    if args.dryrun {
        if args.json {
            println!("{}", serde_json::to_string_pretty(&loaded.config)?);
        } else {
            print!("{}", sxp::render(&loaded.config));
        }
        return Ok(None);
    }
    if let Some(e) = loaded.refused.first() {
        return Err(e.clone().into());
    }
    let mut plan =
        DomainPlan::from_config(&loaded.config).map_err(|e| at_setting(e, &loaded, req.options))?;
    for w in plan::unapplied_settings(&loaded.config) {
        eprintln!("Warning: {w}");
    }
    if let Some(loader) = plan.bootloader.as_mut()
        && let Some(warning) = loader.resolve()?
    {
        eprintln!("Warning: {warning}");
    }
    Ok(Some(plan))
}

/// A plan error about one setting, pointed at the line of the config that set it (as the
/// config language's own errors are) unless the command line set it; other errors as they are.
fn at_setting(e: ControlError, loaded: &load::Loaded, options: &Options) -> anyhow::Error {
    match e {
        ControlError::Setting {
            name,
            needle,
            message,
        } => match (!options.is_specified(name))
            .then(|| loaded.source.locate(name, needle.as_deref()))
            .flatten()
        {
            Some(loc) => domcfg::ConfigError::at(loc, message).into(),
            None => anyhow::Error::msg(message),
        },
        e => e.into(),
    }
}

/// Builds the domain; with `-c`, builds it paused, attaches to its pty and only then unpauses
/// it, so no boot output is lost. A Ctrl-C (SIGTERM, SIGHUP) before the domain runs undoes
/// the create ([`interrupt`]).
pub fn start(args: &CreateArgs, plan: &DomainPlan) -> anyhow::Result<()> {
    interrupt::arm();
    let host = Host::open()?;
    let created = create::create(
        &host,
        plan,
        args.paused || args.console_autoconnect,
        args.console_autoconnect,
    )?;
    for w in &created.warnings {
        eprintln!("Warning: {w}");
    }
    monitor_or_undo(&host, &created)?;
    if !args.console_autoconnect {
        if !args.quiet {
            println!("Started domain {} (id={})", created.name, created.domid);
        }
        return Ok(());
    }
    let console = match Console::open(&host.xs, created.domid) {
        Ok(c) => c,
        Err(e) => {
            let _ = host.destroy(created.domid);
            return Err(e.into());
        }
    };
    if !args.quiet {
        println!("Started domain {} (id={})", created.name, created.domid);
    }
    undo_if_interrupted(&host, &created, "the console")?;
    if !args.paused {
        host.unpause(created.domid)?;
    }
    // Signals act as usual from here (the console is raw: Ctrl-C goes to the guest).
    interrupt::disarm();
    console.run(ESCAPE).context("console")?;
    Ok(())
}

/// Starts `created`'s monitor. Without it the domain's on_* actions would never run, so a
/// domain whose monitor cannot start is destroyed (the create, restore or resume undone), as
/// is one whose command was interrupted by then.
pub fn monitor_or_undo(host: &Host, created: &create::Created) -> anyhow::Result<()> {
    if let Err(e) = spawn_monitor(created.domid) {
        let _ = host.destroy(created.domid);
        bail!(
            "cannot start the monitor of domain {} ({e}); the domain was destroyed",
            created.name
        );
    }
    undo_if_interrupted(host, created, "the domain ran")
}

/// If a signal was noted ([`interrupt`]), destroys `created` (its create, restore or resume
/// undone) and says so, as stopped before `step`.
fn undo_if_interrupted(host: &Host, created: &create::Created, step: &str) -> anyhow::Result<()> {
    if let Err(e) = interrupt::check(step) {
        let _ = host.destroy(created.domid);
        bail!("{e}: domain {} was destroyed", created.name);
    }
    Ok(())
}

/// Starts the domain's monitor: this binary again, detached (own process group, no stdio),
/// so it outlives `xm create` and carries out the `on_*` actions.
pub fn spawn_monitor(domid: u32) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    xm::xen::failpoint::hit("monitor")?;
    let exe = std::env::current_exe()?;
    Command::new(exe)
        .args(["monitor", &domid.to_string()])
        .env_remove("FAILPOINTS")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    Ok(())
}

/// `xm monitor DOMID` (hidden): run the monitor until the domain is gone.
pub fn monitor(domid: u32) -> Result<(), xm::xen::ControlError> {
    let host = Host::open()?;
    xm::xen::lifecycle::monitor(&host, domid)
}

/// `-F FILE`: an SXP config, used as it is (xm read its first expression and skipped the
/// Python config entirely).
pub fn run_sxp_config(args: &CreateArgs, file: &str) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("Cannot read file {file}: {e}"))?;
    let parsed = sxp::parse(&text).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
    let Some(config) = parsed.into_iter().next() else {
        bail!("{file}: no SXP expression in the file");
    };
    if args.json {
        bail!("--json needs a Python config; -F gives SXP");
    }
    if args.dryrun {
        print!("{}", sxp::render(&config));
        return Ok(());
    }
    bail!("creating a domain from an SXP config (-F) is not supported yet; use -n to print it")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        create: CreateArgs,
    }

    fn parse(argv: &[&str]) -> CreateArgs {
        Cli::try_parse_from(std::iter::once("create").chain(argv.iter().copied()))
            .unwrap()
            .create
    }

    #[test]
    fn options_and_vars_interleave_like_getopt() {
        let a = parse(&[
            "SLC4Xguest",
            "-c",
            "kernel=vmlinuz",
            "ramdisk=initrd.img",
            "extra=method=http://linuxsoft.cern.ch/cern/slc4X/i386/",
            "-n",
        ]);
        assert!(a.console_autoconnect && a.dryrun);
        let (name, vars) = config_name_and_vars(&a);
        assert_eq!(name, "SLC4Xguest");
        assert_eq!(
            vars,
            [
                "kernel=vmlinuz",
                "ramdisk=initrd.img",
                "extra=method=http://linuxsoft.cern.ch/cern/slc4X/i386/"
            ]
        );
    }

    #[test]
    fn last_bare_word_names_the_config() {
        let a = parse(&["-f", "one", "two", "vmid=3"]);
        assert_eq!(config_name_and_vars(&a).0, "two");
        let a = parse(&["-f", "one"]);
        assert_eq!(config_name_and_vars(&a).0, "one");
        let a = parse(&["vmid=3"]);
        assert_eq!(config_name_and_vars(&a).0, "xmdefconfig");
    }
}
