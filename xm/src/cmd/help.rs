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
const ALIASES: &[(&str, &str)] = &[
    ("balloon", "mem-set"),
    ("set-vcpus", "vcpu-set"),
    ("vif-list", "network-list"),
    ("vbd-create", "block-attach"),
    ("vbd-destroy", "block-detach"),
    ("vbd-list", "block-list"),
];

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

/// Decides what `argv` means. `commands`: the visible subcommands and their descriptions,
/// `hidden`: commands that exist but are not shown (`monitor`).
pub fn route(
    mut argv: Vec<std::ffi::OsString>,
    commands: &[(String, String)],
    hidden: &[String],
) -> Route {
    let Some(word) = argv.get(1).map(|w| w.to_string_lossy().into_owned()) else {
        return Route::Exit {
            stdout: short_help(commands),
            stderr: String::new(),
            code: 1,
        };
    };
    let known = |w: &str| commands.iter().any(|(n, _)| n == w) || hidden.iter().any(|h| h == w);
    if word == "help" || word == "--help" || word == "-h" {
        return Route::Exit {
            stdout: long_help(commands),
            stderr: String::new(),
            code: 0,
        };
    }
    if known(&word) || word.starts_with('-') {
        return Route::Run(argv);
    }
    if let Some((_, new)) = ALIASES.iter().find(|(old, new)| *old == word && known(new)) {
        argv[1] = (*new).into();
        eprintln!("Command {word} is deprecated.  Please use xm {new} instead.");
        return Route::Run(argv);
    }
    if word.len() > 1 {
        let matches: Vec<&String> = commands
            .iter()
            .map(|(n, _)| n)
            .filter(|n| n.starts_with(&word))
            .collect();
        if let [only] = matches.as_slice() {
            argv[1] = only.as_str().into();
            return Route::Run(argv);
        }
    }
    Route::Exit {
        stdout: short_help(commands),
        stderr: format!("Error: Subcommand {word} not found!\n"),
        code: 1,
    }
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

    fn table() -> Vec<(String, String)> {
        [
            ("console", "Attach to <Domain>'s console."),
            ("create", "Create a domain based on <ConfigFile>."),
            ("list", "List information about all/some domains."),
            ("mem-set", "Set the current memory usage for a domain."),
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
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
    }

    fn argv(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    fn run(words: &[&str]) -> Route {
        route(argv(words), &table(), &["monitor".to_string()])
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
                "pci-list-assignable-devices"
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
        assert_eq!(
            run(&["xm", "monitor", "3"]),
            Route::Run(argv(&["xm", "monitor", "3"]))
        );
        // Ambiguous (mem-set, mem-max) and one-letter prefixes name nothing.
        for w in ["mem", "c", "frobnicate"] {
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
}
