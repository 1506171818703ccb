//! xm's front door, before clap parses anything: `xm` alone and `xm help` print xm 4.1's
//! command summaries (` %-20s %-50s` lines, descriptions wrapped at 50 as xm's `wrap` did),
//! a unique prefix names its command (`xm li` is `xm list`), xm's deprecated aliases still
//! work with xm's deprecation line, and an unknown command is `Error: Subcommand foo not
//! found!` and exit 1. The descriptions are the clap table's, which uses xm's words.

/// xm 4.1's `USAGE_HELP`.
const USAGE: &str =
    "Usage: xm <subcommand> [args]\n\nControl, list, and manipulate Xen guest instances.\n";

/// xm 4.1's `USAGE_FOOTER`.
const FOOTER: &str = "<Domain> can either be the Domain Name or Id.\n\
For more help on 'xm' see the xm(1) man page.\n\
For more help on 'xm create' see the xmdomain.cfg(5)  man page.\n";

/// The commands bare `xm` lists (xm 4.1's `common_commands`, those this xm has).
const COMMON: &[&str] = &[
    "console",
    "vncviewer",
    "create",
    "new",
    "delete",
    "destroy",
    "dump-core",
    "help",
    "list",
    "mem-set",
    "migrate",
    "pause",
    "reboot",
    "reset",
    "restore",
    "resume",
    "save",
    "shell",
    "shutdown",
    "start",
    "suspend",
    "top",
    "unpause",
    "uptime",
    "domstate",
    "vcpu-set",
];

/// Every command in xm 4.1's order (domain, host, scheduler, device commands); `xm help`
/// lists those this xm has.
const ALL: &[&str] = &[
    "console",
    "vncviewer",
    "create",
    "new",
    "delete",
    "destroy",
    "domid",
    "domname",
    "dump-core",
    "list",
    "mem-max",
    "mem-set",
    "migrate",
    "pause",
    "reboot",
    "rename",
    "reset",
    "domstate",
    "restore",
    "resume",
    "save",
    "shutdown",
    "start",
    "suspend",
    "sysrq",
    "trigger",
    "top",
    "unpause",
    "uptime",
    "vcpu-list",
    "vcpu-pin",
    "vcpu-set",
    "debug-keys",
    "dmesg",
    "info",
    "log",
    "serve",
    "sched-credit",
    "sched-credit2",
    "sched-sedf",
    "block-attach",
    "block-detach",
    "block-list",
    "block-configure",
    "network-attach",
    "network-detach",
    "network-list",
    "vtpm-list",
    "pci-attach",
    "pci-detach",
    "pci-list",
    "pci-list-assignable-devices",
    "scsi-attach",
    "scsi-detach",
    "scsi-list",
];

/// xm 4.1's deprecated names and the commands they stand for.
pub const ALIASES: &[(&str, &str)] = &[
    ("balloon", "mem-set"),
    ("pool-create", "cpupool-create"),
    ("pool-new", "cpupool-new"),
    ("pool-start", "cpupool-start"),
    ("pool-list", "cpupool-list"),
    ("pool-destroy", "cpupool-destroy"),
    ("pool-delete", "cpupool-delete"),
    ("pool-cpu-add", "cpupool-cpu-add"),
    ("pool-cpu-remove", "cpupool-cpu-remove"),
    ("pool-migrate", "cpupool-migrate"),
    ("set-vcpus", "vcpu-set"),
    ("vif-list", "network-list"),
    ("vbd-create", "block-attach"),
    ("vbd-destroy", "block-detach"),
    ("vbd-list", "block-list"),
];

/// Every name xm 4.1's command table had (its `commands` dict, the imported commands
/// included), whether or not this xm has the command: a prefix is resolved against these, as
/// xm resolved it, so `xm sh` (shell, shutdown) names nothing here either.
const XM41_COMMANDS: &[&str] = &[
    "addlabel",
    "block-attach",
    "block-configure",
    "block-detach",
    "block-list",
    "console",
    "cpupool-cpu-add",
    "cpupool-cpu-remove",
    "cpupool-create",
    "cpupool-delete",
    "cpupool-destroy",
    "cpupool-list",
    "cpupool-migrate",
    "cpupool-new",
    "cpupool-start",
    "create",
    "debug-keys",
    "delete",
    "destroy",
    "dmesg",
    "domid",
    "domname",
    "domstate",
    "dry-run",
    "dump-core",
    "dumppolicy",
    "event-monitor",
    "getenforce",
    "getlabel",
    "getpolicy",
    "info",
    "labels",
    "list",
    "log",
    "mem-max",
    "mem-set",
    "migrate",
    "network-attach",
    "network-del",
    "network-detach",
    "network-list",
    "network-new",
    "network-show",
    "network2-attach",
    "network2-detach",
    "network2-list",
    "new",
    "pause",
    "pci-attach",
    "pci-detach",
    "pci-list",
    "pci-list-assignable-devices",
    "reboot",
    "rename",
    "reset",
    "resetpolicy",
    "resources",
    "restore",
    "resume",
    "rmlabel",
    "save",
    "sched-credit",
    "sched-credit2",
    "sched-sedf",
    "scsi-attach",
    "scsi-detach",
    "scsi-list",
    "serve",
    "setenforce",
    "setpolicy",
    "shell",
    "shutdown",
    "start",
    "suspend",
    "sysrq",
    "tmem-destroy",
    "tmem-flush",
    "tmem-freeable",
    "tmem-freeze",
    "tmem-list",
    "tmem-set",
    "tmem-shared-auth",
    "tmem-thaw",
    "top",
    "trigger",
    "unpause",
    "uptime",
    "usb-add",
    "usb-attach",
    "usb-del",
    "usb-detach",
    "usb-hc-create",
    "usb-hc-destroy",
    "usb-list",
    "usb-list-assignable-devices",
    "vcpu-list",
    "vcpu-pin",
    "vcpu-set",
    "vncviewer",
    "vnet-create",
    "vnet-delete",
    "vnet-list",
    "vtpm-list",
];

/// The one command `word` abbreviates (two letters at least), among xm 4.1's commands and this
/// xm's visible ones; `None` when it abbreviates none or several.
fn unique_prefix<'a>(word: &str, ours: &'a [(String, String)]) -> Option<&'a str> {
    if word.len() < 2 {
        return None;
    }
    let mut names: Vec<&str> = XM41_COMMANDS.to_vec();
    names.extend(ours.iter().map(|(n, _)| n.as_str()));
    names.sort_unstable();
    names.dedup();
    let mut matches = names.into_iter().filter(|n| n.starts_with(word));
    let only = matches.next()?;
    if matches.next().is_some() {
        return None;
    }
    // Ours to run, or an xm 4.1 command this xm lacks (then unknown, as its full name is).
    ours.iter().map(|(n, _)| n.as_str()).find(|n| *n == only)
}

/// `help`'s own line in the summaries.
const HELP_ABOUT: &str = "Display this message.";

/// What to do with the command line.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// Parse it (with the command word possibly rewritten).
    Run(Vec<std::ffi::OsString>),
    /// Print `stdout` and `stderr`, exit with `code`.
    Exit {
        stdout: String,
        stderr: String,
        code: u8,
    },
}

/// Decides what `argv` means for the command table `cli` (its hidden subcommands, such as
/// `monitor`, run but are not listed or abbreviated).
pub fn route(mut argv: Vec<std::ffi::OsString>, cli: &clap::Command) -> Route {
    let (commands, hidden) = table(cli);
    let Some(word) = argv.get(1).map(|w| w.to_string_lossy().into_owned()) else {
        return Route::Exit {
            stdout: short_help(&commands),
            stderr: String::new(),
            code: 1,
        };
    };
    let known = |w: &str| commands.iter().any(|(n, _)| n == w) || hidden.iter().any(|h| h == w);
    if word == "help" || word == "--help" || word == "-h" {
        return Route::Exit {
            stdout: long_help(&commands),
            stderr: String::new(),
            code: 0,
        };
    }
    if word.starts_with('-') {
        return Route::Run(argv);
    }
    let mut notice = String::new();
    let name = if known(&word) {
        word.clone()
    } else if let Some((_, new)) = ALIASES.iter().find(|(old, new)| *old == word && known(new)) {
        notice = format!("Command {word} is deprecated.  Please use xm {new} instead.\n");
        new.to_string()
    } else if let Some(only) = unique_prefix(&word, &commands) {
        only.to_string()
    } else {
        return Route::Exit {
            stdout: short_help(&commands),
            stderr: format!("Error: Subcommand {word} not found!\n"),
            code: 1,
        };
    };
    // As xm: `-h` or `--help` anywhere on a command's line prints that command's help, and
    // that is a usage exit (1).
    let asks_help = argv[2..]
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "-h" || a == "--help");
    if asks_help && let Some(sub) = cli.find_subcommand(&name) {
        return Route::Exit {
            stdout: command_help(sub),
            stderr: notice,
            code: 1,
        };
    }
    eprint!("{notice}");
    argv[1] = name.into();
    Route::Run(argv)
}

/// The visible subcommands with their descriptions, and the names of the hidden ones.
fn table(cli: &clap::Command) -> (Vec<(String, String)>, Vec<String>) {
    let mut visible = Vec::new();
    let mut hidden = Vec::new();
    for c in cli.get_subcommands() {
        if c.is_hide_set() {
            hidden.push(c.get_name().to_string());
        } else {
            let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
            visible.push((c.get_name().to_string(), about));
        }
    }
    (visible, hidden)
}

/// xm 4.1's argument synopses (`SUBCOMMAND_HELP`), and ours in its style for the commands
/// that take more or other arguments here; a command not listed gets one made from its
/// positional arguments.
const SYNOPSES: &[(&str, &str)] = &[
    ("console", "[-q|--quiet] <Domain>"),
    ("create", "<ConfigFile> [options] [vars]"),
    ("destroy", "<Domain>"),
    ("domid", "<DomainName>"),
    ("domname", "<DomId>"),
    (
        "dump-core",
        "[-L|--live] [-C|--crash] [-R|--reset] <Domain> [Filename]",
    ),
    ("list", "[options] [Domain, ...]"),
    ("mem-max", "<Domain> <Mem>"),
    ("mem-set", "<Domain> <Mem>"),
    ("pause", "<Domain>"),
    ("reboot", "<Domain> [-wa]"),
    ("rename", "<Domain> <NewDomainName>"),
    ("reset", "<Domain>"),
    ("save", "[-c|--checkpoint] <Domain> <CheckpointFile>"),
    ("new", "<ConfigFile> [options] [vars]"),
    ("migrate", "<Domain> <Host>"),
    ("start", "<DomainName>"),
    ("delete", "<DomainName>"),
    ("suspend", "<DomainName>"),
    ("resume", "<DomainName>"),
    ("restore", "<CheckpointFile> [-p]"),
    ("domstate", "<Domain>"),
    ("shutdown", "<Domain> [-waRH]"),
    ("sysrq", "<Domain> <letter>"),
    (
        "trigger",
        "<Domain> <nmi|reset|init|s3resume|power> [<VCPU>]",
    ),
    ("unpause", "<Domain>"),
    ("uptime", "[-s] [Domain, ...]"),
    ("vcpu-list", "[Domain, ...]"),
    ("vcpu-pin", "<Domain> <VCPU|all> <CPUs|all>"),
    ("vcpu-set", "<Domain> <vCPUs>"),
    ("debug-keys", "<Keys>"),
    ("dmesg", "[-c|--clear]"),
    ("info", ""),
    ("top", ""),
    ("sched-credit", "[-d <Domain> [-w[=WEIGHT]|-c[=CAP]]]"),
    ("sched-credit2", "[-d <Domain> [-w[=WEIGHT]|-c[=CAP]]]"),
    (
        "block-attach",
        "<Domain> <BackDev> <FrontDev> <Mode> [BackDomain]",
    ),
    (
        "block-configure",
        "<Domain> <BackDev> <FrontDev> <Mode> [BackDomain]",
    ),
    ("block-detach", "<Domain> <DevId> [-f|--force]"),
    ("block-list", "<Domain> [--long]"),
    (
        "network-attach",
        "<Domain> [type=<type>] [mac=<mac>] [bridge=<bridge>] [ip=<ip>] [script=<script>] \
         [backend=<BE>] [vifname=<name>] [rate=<rate>] [model=<model>] [accel=<accel>]",
    ),
    ("network-detach", "<Domain> <DevId|mac> [-f|--force]"),
    ("network-list", "<Domain> [--long]"),
    (
        "pci-attach",
        "[-o|--options=<opt>] <Domain> <domain:bus:slot.func> [virtual slot]",
    ),
    ("pci-detach", "<Domain> <domain:bus:slot.func>"),
    ("pci-list", "<Domain>"),
    ("pci-list-assignable-devices", ""),
];

/// A command's synopsis: xm's, or one made from its positional arguments.
fn synopsis(cmd: &clap::Command) -> String {
    if let Some((_, s)) = SYNOPSES.iter().find(|(n, _)| *n == cmd.get_name()) {
        return s.to_string();
    }
    let mut words = Vec::new();
    if cmd
        .get_arguments()
        .any(|a| !a.is_positional() && !is_builtin(a))
    {
        words.push("[options]".to_string());
    }
    for a in cmd.get_positionals() {
        let name = value_name(a);
        let many = a.get_num_args().is_some_and(|n| n.max_values() > 1);
        words.push(match (a.is_required_set(), many) {
            (_, true) => format!("[{name}, ...]"),
            (true, false) => format!("<{name}>"),
            (false, false) => format!("[{name}]"),
        });
    }
    words.join(" ")
}

/// clap's own `--help` and `--version`, which xm's option lists do not show.
fn is_builtin(a: &clap::Arg) -> bool {
    matches!(a.get_id().as_str(), "help" | "version")
}

/// What `xm CMD --help` prints (xm 4.1's `cmdHelp`): the synopsis, the description and, if
/// the command has options, one `  %-30s %-43s` line each, wrapped at 43.
pub fn command_help(cmd: &clap::Command) -> String {
    let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
    let mut out = format!(
        "Usage: xm {} {}\n\n{about}\n",
        cmd.get_name(),
        synopsis(cmd)
    );
    let options: Vec<&clap::Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_positional() && !is_builtin(a))
        .collect();
    if options.is_empty() {
        return out;
    }
    for a in options {
        let value = if a.get_action().takes_values() {
            format!("=<{}>", value_name(a))
        } else {
            String::new()
        };
        let short = a.get_short().map(|c| format!("-{c}"));
        let long = a.get_long().map(|l| format!("--{l}{value}"));
        let name = match (short, long) {
            (Some(s), Some(l)) => format!("{s}, {l}"),
            (Some(s), None) => s,
            (None, Some(l)) => l,
            (None, None) => continue,
        };
        let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        let lines = line_wrap(&help, 43);
        out.push_str(&format!("  {name:<30} {:<43}\n", lines[0]));
        for more in &lines[1..] {
            out.push_str(&format!("{}{more}\n", " ".repeat(33)));
        }
    }
    out.push('\n');
    out
}

/// xm's words for a command line the command refuses (`Error: ...` on stderr, then the
/// command's help on stdout, exit 1): the argument count as xm's `arg_check` said it, an
/// unknown option as getopt said it, clap's own words for the rest.
pub fn usage_error(cmd: &clap::Command, e: &clap::Error) -> (String, String) {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let name = cmd.get_name();
    let offending = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    let positionals: Vec<&clap::Arg> = cmd.get_positionals().collect();
    let lo = positionals.iter().filter(|a| a.is_required_set()).count();
    let unbounded = positionals
        .iter()
        .any(|a| a.get_num_args().is_some_and(|n| n.max_values() > 1));
    let hi = positionals.len();
    let count_words = || {
        if lo == hi {
            format!(
                "'xm {name}' requires {lo} argument{}.",
                if lo == 1 { "" } else { "s" }
            )
        } else if unbounded {
            format!(
                "'xm {name}' requires at least {lo} argument{}.",
                if lo == 1 { "" } else { "s" }
            )
        } else {
            format!("'xm {name}' requires between {lo} and {hi} arguments.")
        }
    };
    let message = match e.kind() {
        ErrorKind::UnknownArgument if offending.starts_with('-') => {
            let option = offending.split('=').next().unwrap_or(&offending);
            format!("option {option} not recognized")
        }
        ErrorKind::UnknownArgument | ErrorKind::TooManyValues => count_words(),
        ErrorKind::MissingRequiredArgument => match e.get(ContextKind::InvalidArg) {
            // Positionals are shown as `<Name>`; a missing option keeps clap's words.
            Some(ContextValue::Strings(missing)) if missing.iter().all(|m| m.starts_with('<')) => {
                count_words()
            }
            _ => clap_words(e),
        },
        _ => clap_words(e),
    };
    (format!("Error: {message}\n\n"), command_help(cmd))
}

/// An argument's value name (its id where it has none).
fn value_name(a: &clap::Arg) -> String {
    a.get_value_names()
        .and_then(|v| v.first())
        .map(|v| v.to_string())
        .unwrap_or_else(|| a.get_id().to_string())
}

/// clap's one-line account of an error, without its `error: ` prefix.
fn clap_words(e: &clap::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.trim_start_matches("error: ").to_string()
}

/// xm 4.1's `_line_wrap`: words while the line stays under `width`.
pub fn line_wrap(text: &str, width: usize) -> Vec<String> {
    if text.len() < width {
        return vec![text.to_string()];
    }
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        if current.len() + word.len() + 1 < width {
            current.push_str(word);
            current.push(' ');
        } else {
            lines.push(current.trim().to_string());
            current = format!("{word} ");
        }
    }
    if !current.is_empty() {
        lines.push(current.trim().to_string());
    }
    lines
}

fn summary_lines(names: &[&str], commands: &[(String, String)]) -> String {
    let mut out = String::new();
    for name in names {
        let about = match *name {
            "help" => HELP_ABOUT,
            n => match commands.iter().find(|(c, _)| c == n) {
                Some((_, about)) => about.as_str(),
                None => continue,
            },
        };
        let lines = line_wrap(about, 50);
        out.push_str(&format!(" {name:<20} {:<50}\n", lines[0]));
        for more in &lines[1..] {
            out.push_str(&format!("{}{more}\n", " ".repeat(22)));
        }
    }
    out
}

/// What bare `xm` prints (xm 4.1's `shortHelp`).
pub fn short_help(commands: &[(String, String)]) -> String {
    format!(
        "{USAGE}\nCommon 'xm' commands:\n\n{}\n{FOOTER}\nFor a complete list of subcommands run 'xm help'.\n",
        summary_lines(COMMON, commands)
    )
}

/// What `xm help` prints (xm 4.1's `longHelp`); commands xm 4.1 did not have come last.
pub fn long_help(commands: &[(String, String)]) -> String {
    let mut names: Vec<&str> = ALL.to_vec();
    for (n, _) in commands {
        if !names.contains(&n.as_str()) {
            names.push(n);
        }
    }
    format!(
        "{USAGE}\nxm full list of subcommands:\n\n{}\n{FOOTER}\n",
        summary_lines(&names, commands)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn cli() -> clap::Command {
        use clap::{Arg, ArgAction, Command};
        let about = [
            ("console", "Attach to <Domain>'s console."),
            ("create", "Create a domain based on <ConfigFile>."),
            (
                "mem-max",
                "Set the maximum amount reservation for a domain.",
            ),
            ("pci-list", "List pass-through pci devices for a domain."),
            (
                "pci-list-assignable-devices",
                "List all the assignable pci devices",
            ),
            (
                "vcpu-set",
                "Set the number of active VCPUs for allowed for the domain.",
            ),
        ];
        let mut cli = Command::new("xm")
            .subcommand(
                Command::new("list")
                    .about("List information about all/some domains.")
                    .arg(
                        Arg::new("long")
                            .short('l')
                            .long("long")
                            .action(ArgAction::SetTrue)
                            .help("The output for xm list presented as SXP, one `(domain ...)` per domain."),
                    )
                    .arg(
                        Arg::new("state")
                            .long("state")
                            .value_name("state")
                            .help("Only domains in this state."),
                    )
                    .arg(Arg::new("domains").value_name("Domain").num_args(0..)),
            )
            .subcommand(
                Command::new("mem-set")
                    .about("Set the current memory usage for a domain.")
                    .arg(Arg::new("domain").value_name("Domain").required(true))
                    .arg(Arg::new("mem").value_name("Mem").required(true)),
            )
            .subcommand(
                Command::new("frob")
                    .about("Frob a domain.")
                    .arg(Arg::new("domain").value_name("Domain").required(true))
                    .arg(Arg::new("file").value_name("Filename")),
            )
            .subcommand(Command::new("monitor").hide(true));
        for (name, text) in about {
            cli = cli.subcommand(Command::new(name).about(text));
        }
        cli
    }

    fn argv(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    fn run(words: &[&str]) -> Route {
        route(argv(words), &cli())
    }

    #[test]
    fn descriptions_wrap_as_xm_wrapped_them() {
        assert_eq!(
            line_wrap(
                "Set the number of active VCPUs for allowed for the domain.",
                50
            ),
            [
                "Set the number of active VCPUs for allowed for",
                "the domain."
            ]
        );
        assert_eq!(line_wrap("Reset a domain.", 50), ["Reset a domain."]);
    }

    #[test]
    fn bare_xm_prints_the_common_commands_and_exits_1() {
        let Route::Exit {
            stdout,
            stderr,
            code,
        } = run(&["xm"])
        else {
            panic!()
        };
        assert_eq!((stderr.as_str(), code), ("", 1));
        assert_eq!(
            stdout,
            "Usage: xm <subcommand> [args]\n\
             \n\
             Control, list, and manipulate Xen guest instances.\n\
             \n\
             Common 'xm' commands:\n\
             \n \
             console              Attach to <Domain>'s console.                     \n \
             create               Create a domain based on <ConfigFile>.            \n \
             help                 Display this message.                             \n \
             list                 List information about all/some domains.          \n \
             mem-set              Set the current memory usage for a domain.        \n \
             vcpu-set             Set the number of active VCPUs for allowed for    \n\
             \x20                     the domain.\n\
             \n\
             <Domain> can either be the Domain Name or Id.\n\
             For more help on 'xm' see the xm(1) man page.\n\
             For more help on 'xm create' see the xmdomain.cfg(5)  man page.\n\
             \n\
             For a complete list of subcommands run 'xm help'.\n"
        );
    }

    #[test]
    fn help_lists_every_command_in_xms_order() {
        let Route::Exit { stdout, code, .. } = run(&["xm", "help"]) else {
            panic!()
        };
        assert_eq!(code, 0);
        let names: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with(' ') && !l.starts_with("  "))
            .map(|l| l.split_whitespace().next().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "console",
                "create",
                "list",
                "mem-max",
                "mem-set",
                "vcpu-set",
                "pci-list",
                "pci-list-assignable-devices",
                "frob"
            ]
        );
        assert!(stdout.starts_with("Usage: xm <subcommand> [args]\n"));
        assert!(stdout.contains("\nxm full list of subcommands:\n\n"));
        assert_eq!(run(&["xm", "--help"]), run(&["xm", "help"]));
    }

    #[test]
    fn prefixes_aliases_and_unknown_commands() {
        assert_eq!(
            run(&["xm", "li", "-l"]),
            Route::Run(argv(&["xm", "list", "-l"]))
        );
        assert_eq!(run(&["xm", "list"]), Route::Run(argv(&["xm", "list"])));
        // Unique in xm 4.1's table too.
        for (w, full) in [
            ("cr", "create"),
            ("mem-s", "mem-set"),
            ("un", ""),
            ("pci-l", ""),
        ] {
            let r = run(&["xm", w, "x"]);
            if full.is_empty() {
                assert!(matches!(r, Route::Exit { code: 1, .. }), "{w}: {r:?}");
            } else {
                assert_eq!(r, Route::Run(argv(&["xm", full, "x"])), "{w}");
            }
        }
        assert_eq!(
            run(&["xm", "monitor", "3"]),
            Route::Run(argv(&["xm", "monitor", "3"]))
        );
        // Ambiguous (mem-set, mem-max) and one-letter prefixes name nothing. So do prefixes
        // that are ambiguous only in xm 4.1's whole table: `sh` (shell, shutdown), `vn`
        // (vncviewer, vnet-*), `cpu` (cpupool-*), and a unique prefix of a command this xm
        // lacks (`she`: shell).
        for w in [
            "mem",
            "c",
            "frobnicate",
            "sh",
            "vn",
            "she",
            "tm",
            "sched-c",
            "lo",
        ] {
            let Route::Exit {
                stderr,
                code,
                stdout,
            } = run(&["xm", w])
            else {
                panic!("{w}")
            };
            assert_eq!(stderr, format!("Error: Subcommand {w} not found!\n"));
            assert_eq!(code, 1);
            assert!(stdout.starts_with("Usage: xm <subcommand> [args]"));
        }
        // An alias for a command this xm has; one for a command it lacks is unknown.
        assert_eq!(
            run(&["xm", "balloon", "ce", "512"]),
            Route::Run(argv(&["xm", "mem-set", "ce", "512"]))
        );
        assert!(matches!(
            run(&["xm", "vif-list", "ce"]),
            Route::Exit { code: 1, .. }
        ));
        // Options are clap's (--version, a bad option's error).
        assert_eq!(
            run(&["xm", "--version"]),
            Route::Run(argv(&["xm", "--version"]))
        );
    }

    #[test]
    fn a_commands_help_is_xms_layout_and_a_usage_exit() {
        let Route::Exit {
            stdout,
            stderr,
            code,
        } = run(&["xm", "li", "--long", "-h"])
        else {
            panic!()
        };
        assert_eq!((stderr.as_str(), code), ("", 1));
        assert_eq!(
            stdout,
            "Usage: xm list [options] [Domain, ...]\n\
             \n\
             List information about all/some domains.\n  \
             -l, --long                     The output for xm list presented as SXP,   \n\
             \x20                                one `(domain ...)` per domain.\n  \
             --state=<state>                Only domains in this state.                \n\
             \n"
        );
        // No options: no option lines; a synopsis made from the positionals.
        let Route::Exit { stdout, .. } = run(&["xm", "frob", "--help"]) else {
            panic!()
        };
        assert_eq!(
            stdout,
            "Usage: xm frob <Domain> [Filename]\n\nFrob a domain.\n"
        );
        // After `--` it is an argument.
        assert!(matches!(run(&["xm", "frob", "--", "-h"]), Route::Run(_)));
        // An alias's help keeps the deprecation line.
        let Route::Exit { stderr, .. } = run(&["xm", "balloon", "-h"]) else {
            panic!()
        };
        assert_eq!(
            stderr,
            "Command balloon is deprecated.  Please use xm mem-set instead.\n"
        );
    }

    #[test]
    fn argument_errors_in_xms_words() {
        let cli = cli();
        let error = |words: &[&str]| {
            let e = cli.clone().try_get_matches_from(words).unwrap_err();
            let sub = cli.find_subcommand(words[1]).unwrap();
            usage_error(sub, &e)
        };
        let (err, out) = error(&["xm", "mem-set", "ce"]);
        assert_eq!(err, "Error: 'xm mem-set' requires 2 arguments.\n\n");
        assert!(
            out.starts_with("Usage: xm mem-set <Domain> <Mem>\n"),
            "{out}"
        );
        let (err, _) = error(&["xm", "mem-set", "ce", "1", "2"]);
        assert_eq!(err, "Error: 'xm mem-set' requires 2 arguments.\n\n");
        let (err, _) = error(&["xm", "frob"]);
        assert_eq!(
            err,
            "Error: 'xm frob' requires between 1 and 2 arguments.\n\n"
        );
        let (err, _) = error(&["xm", "list", "--frob=3"]);
        assert_eq!(err, "Error: option --frob not recognized\n\n");
        let (err, _) = error(&["xm", "list", "--state"]);
        assert!(
            err.starts_with("Error: ") && err.contains("--state"),
            "{err}"
        );
    }
}
