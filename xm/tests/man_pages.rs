//! The man pages against the code: every `xm` subcommand (from the clap table itself) has an
//! entry in `man/xm.1` naming each of its options, long and short; every variable of domcfg's
//! option table has an entry in `man/xmdomain.cfg.5`; every environment variable xm reads is
//! in xm.1's ENVIRONMENT. A command, option or variable added without its documentation fails
//! here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use domcfg::options::{self, OptionKind};
use xm::cli::Cli;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Roff text as a reader sees it: font changes (`\fB`, `\fR`, `\f(CW`, `\f[B]`) and
/// zero-width `\&` dropped, `\-` a dash, `\e` a backslash.
fn plain(roff: &str) -> String {
    let mut out = String::with_capacity(roff.len());
    let mut chars = roff.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('-') => out.push('-'),
            Some('e') | Some('\\') => out.push('\\'),
            Some('&') => {}
            Some('f') => match chars.next() {
                Some('(') => {
                    chars.next();
                    chars.next();
                }
                Some('[') => {
                    for c in chars.by_ref() {
                        if c == ']' {
                            break;
                        }
                    }
                }
                _ => {}
            },
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// One `.TP` item of a page: its section, its tag line and its whole text, both plain.
struct Item {
    section: String,
    tag: String,
    text: String,
}

impl Item {
    /// The names the tag introduces: the first word of each comma-separated part
    /// (`suspend NAME, resume [-p] NAME` introduces `suspend` and `resume`).
    fn names(&self) -> Vec<&str> {
        self.tag
            .split(", ")
            .filter_map(|part| part.split_whitespace().next())
            .map(|w| w.trim_end_matches([',', ':']))
            .collect()
    }
}

/// The `.TP` items of a page, in order. An item runs to the next paragraph macro or section.
fn items(page: &str) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::new();
    let mut section = String::new();
    let mut lines = page.lines().peekable();
    let mut open = false;
    while let Some(line) = lines.next() {
        if let Some(name) = line.strip_prefix(".SH ") {
            section = plain(name.trim().trim_matches('"'));
            open = false;
            continue;
        }
        if line.starts_with(".TP") {
            let tag_line = lines.next().unwrap_or_default();
            let tag = tag_line
                .strip_prefix(".B ")
                .or_else(|| tag_line.strip_prefix(".BR "))
                .or_else(|| tag_line.strip_prefix(".I "))
                .unwrap_or(tag_line);
            let tag = plain(&tag.replace('"', ""));
            out.push(Item {
                section: section.clone(),
                text: tag.clone(),
                tag,
            });
            open = true;
            continue;
        }
        if [".PP", ".LP", ".P", ".IP", ".SS", ".RS", ".RE"]
            .iter()
            .any(|m| line == *m || line.starts_with(&format!("{m} ")))
        {
            open = false;
            continue;
        }
        if open && let Some(item) = out.last_mut() {
            item.text.push('\n');
            item.text.push_str(&plain(line));
        }
    }
    out
}

/// Whether `text` has `token` (an option such as `-c` or `--path`, a variable name) as a word
/// of its own: not inside a longer option, name or word.
fn mentions(text: &str, token: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(token).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + token.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// Every subcommand of the clap table, hidden ones included, with its options as written on
/// a command line (`-l`, `--long`).
fn subcommands() -> Vec<(String, bool, Vec<String>)> {
    let cli = Cli::command();
    cli.get_subcommands()
        .map(|sub| {
            let mut opts = Vec::new();
            for arg in sub.get_arguments().filter(|a| !a.is_positional()) {
                if matches!(arg.get_id().as_str(), "help" | "version") {
                    continue;
                }
                opts.extend(
                    arg.get_short_and_visible_aliases()
                        .into_iter()
                        .flatten()
                        .map(|c| format!("-{c}")),
                );
                opts.extend(
                    arg.get_long_and_visible_aliases()
                        .into_iter()
                        .flatten()
                        .map(|l| format!("--{l}")),
                );
            }
            (sub.get_name().to_string(), sub.is_hide_set(), opts)
        })
        .collect()
}

#[test]
fn every_subcommand_and_option_is_in_xm_1() {
    let page = read("man/xm.1");
    let entries: Vec<Item> = items(&page)
        .into_iter()
        .filter(|i| i.section == "COMMANDS")
        .collect();
    let mut problems = Vec::new();
    let subs = subcommands();
    assert!(
        subs.len() > 40,
        "the clap table has {} subcommands",
        subs.len()
    );
    for (name, hidden, opts) in &subs {
        let Some(entry) = entries.iter().find(|e| e.names().contains(&name.as_str())) else {
            problems.push(format!(
                "xm {name}{}: no entry in COMMANDS (a .TP item whose tag starts with it)",
                if *hidden { " (hidden)" } else { "" }
            ));
            continue;
        };
        for opt in opts {
            if !mentions(&entry.text, opt) {
                problems.push(format!("xm {name}: option {opt} is not in its entry"));
            }
        }
    }
    // clap's aliases, and xm's deprecated names that the front end still routes.
    let cli = Cli::command();
    let aliases = cli
        .get_subcommands()
        .flat_map(|s| s.get_all_aliases().map(str::to_string).collect::<Vec<_>>())
        .chain(xm::front::ALIASES.iter().map(|(old, _)| old.to_string()));
    let text = plain(&page);
    for alias in aliases {
        if !mentions(&text, &alias) {
            problems.push(format!("alias {alias} is not in the page"));
        }
    }
    // The front end's own words: `xm help`, `--help`/`-h` and `--version`/`-V` (set in
    // main.rs, not in the derived table).
    for word in ["help", "--help", "-h", "--version", "-V"] {
        if !mentions(&text, word) {
            problems.push(format!("{word} is not in the page"));
        }
    }
    assert!(
        problems.is_empty(),
        "man/xm.1 is missing:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn xm_1_documents_only_commands_that_exist() {
    let page = read("man/xm.1");
    let subs: BTreeSet<String> = subcommands().into_iter().map(|(n, _, _)| n).collect();
    let stale: Vec<String> = items(&page)
        .iter()
        .filter(|i| i.section == "COMMANDS")
        .flat_map(|i| {
            i.names()
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|n| !subs.contains(n))
        .collect();
    assert!(
        stale.is_empty(),
        "man/xm.1 has entries for commands xm does not have: {stale:?}"
    );
}

#[test]
fn every_create_switch_of_the_option_table_is_in_xm_1() {
    // xm 4.1's `xm create` switches: those xm-rs has are checked with create's options above;
    // the page must at least say what became of the others (`--xmldryrun`, `--skipdtd` ...).
    let text = plain(&read("man/xm.1"));
    let missing: Vec<String> = options::table()
        .iter()
        .filter(|s| s.kind == OptionKind::Switch)
        .map(|s| format!("--{}", s.name))
        .filter(|o| !mentions(&text, o))
        .collect();
    assert!(
        missing.is_empty(),
        "man/xm.1 does not mention xm create's {missing:?}"
    );
}

/// The names the entries of `page`'s section `section` document.
fn names_in_section(page: &str, section: &str) -> BTreeSet<String> {
    items(page)
        .iter()
        .filter(|i| i.section == section)
        .flat_map(|i| {
            i.names()
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Variables domcfg reads that are not in xm 4.1's table: `maxvcpus` (xm honoured it
/// without declaring it) and xl's `type`, `cmdline`, `cap` and `bootloader_args`.
const READ_BEYOND_THE_TABLE: [&str; 5] = ["maxvcpus", "type", "cmdline", "cap", "bootloader_args"];

#[test]
fn every_xl_only_key_is_in_xmdomain_cfg_5() {
    let page = read("man/xmdomain.cfg.5");
    let documented = names_in_section(&page, "XL KEYS");
    let keys: BTreeSet<String> = include_str!("../../domcfg/data/xl-cfg-keys.tsv")
        .lines()
        .filter_map(|l| l.split('\t').next())
        .filter(|k| options::lookup(k).is_none())
        .map(str::to_string)
        .collect();
    assert!(keys.len() > 90, "{} keys", keys.len());
    same_names(&documented, &keys, "XL KEYS");
}

/// The names man/xmdomain.cfg.5 documents in `section` are exactly `known`.
fn same_names(documented: &BTreeSet<String>, known: &BTreeSet<String>, section: &str) {
    let missing: Vec<&String> = known.difference(documented).collect();
    assert!(
        missing.is_empty(),
        "man/xmdomain.cfg.5 has no {section} entry for {missing:?}"
    );
    let unknown: Vec<&String> = documented.difference(known).collect();
    assert!(
        unknown.is_empty(),
        "man/xmdomain.cfg.5's {section} names what xm-rs does not know: {unknown:?}"
    );
}

#[test]
fn every_config_variable_is_in_xmdomain_cfg_5() {
    let page = read("man/xmdomain.cfg.5");
    let documented = names_in_section(&page, "VARIABLES");
    let variables: BTreeSet<String> = options::table()
        .iter()
        .filter(|s| s.kind == OptionKind::Variable)
        .map(|s| s.name.clone())
        .chain(READ_BEYOND_THE_TABLE.iter().map(|s| s.to_string()))
        .collect();
    assert!(variables.len() > 100, "{} variables", variables.len());
    same_names(&documented, &variables, "VARIABLES");
}

/// The names in `std::env::var("NAME")`, `var_os("NAME")` and `env_seconds("NAME", ...)`
/// calls under `dir`.
fn env_names(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            env_names(&path, out);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for call in ["env::var(\"", "env::var_os(\"", "env_seconds(\""] {
            for (i, _) in text.match_indices(call) {
                let rest = &text[i + call.len()..];
                if let Some(end) = rest.find('"') {
                    out.insert(rest[..end].to_string());
                }
            }
        }
    }
}

#[test]
fn every_environment_variable_is_in_xm_1() {
    let mut names = BTreeSet::new();
    env_names(&repo().join("xm/src"), &mut names);
    env_names(&repo().join("xenstore/src"), &mut names);
    assert!(names.contains("XM_MANAGED_DIR"), "{names:?}");
    let page = read("man/xm.1");
    let documented = names_in_section(&page, "ENVIRONMENT");
    let missing: Vec<&String> = names.iter().filter(|n| !documented.contains(*n)).collect();
    assert!(
        missing.is_empty(),
        "man/xm.1's ENVIRONMENT does not list {missing:?}"
    );
}

#[test]
fn the_checks_see_roff() {
    assert_eq!(plain(r"\fB\-\-path\fR PATH"), "--path PATH");
    assert_eq!(plain(r"\f(CW\-c\fP, \f[B]x\f[]"), "-c, x");
    assert!(mentions("[-c|--console_autoconnect]", "-c"));
    assert!(!mentions("--console_autoconnect", "-c"));
    assert!(!mentions("-cq", "-c"));
    assert!(!mentions("vncviewer-autopass", "vncviewer"));
    let page = ".SH COMMANDS\n.TP\n.B suspend NAME\\fR, \\fBresume [\\-p] NAME\nBack.\n.PP\nx\n";
    let found = items(page);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].names(), ["suspend", "resume"]);
    assert_eq!(found[0].text, "suspend NAME, resume [-p] NAME\nBack.");
}
