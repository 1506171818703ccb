//! `xm completion SHELL` (hidden): prints a completion script for SHELL, made by clap_complete
//! from the clap table (the visible commands and their options only).
//!
//! For bash, and less thoroughly for fish, it adds what clap cannot know, read from the same
//! table: a positional named `Domain` or `DomainName` (and an option whose value is one, such
//! as `sched-credit -d`) completes the names that `xm list` prints, run with a short `timeout`
//! so that a host without a working Xen does not hang the shell; `create`/`new`'s
//! `ConfigFile` completes file names here and, as bare names, those of the files in the
//! directories of xm's config search path (`--path` on the line, or `.:/etc/xen`); an argument
//! with a path value hint (`save`'s and `restore`'s `CheckpointFile`) completes file names.
//! Anything else is clap's: subcommand names, options, option values.

use std::io::Write;

use clap::{Arg, ValueHint};
use clap_complete::Shell;
use domcfg::load::DEFAULT_SEARCH_PATH;

#[derive(clap::Args)]
pub struct CompletionArgs {
    /// The shell to print a completion script for.
    #[arg(value_name = "Shell")]
    shell: Shell,
}

/// Prints the script for `args.shell`, for the command table `cli`.
pub fn run(args: &CompletionArgs, cli: clap::Command) -> anyhow::Result<()> {
    let script = script(args.shell, cli);
    let mut out = std::io::stdout().lock();
    out.write_all(script.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// The completion script for `shell`.
pub fn script(shell: Shell, cli: clap::Command) -> String {
    let mut visible = visible_only(cli);
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut visible, "xm", &mut buf);
    let mut text = String::from_utf8_lossy(&buf).into_owned();
    visible.build();
    match shell {
        Shell::Bash => text.push_str(&bash_extra(&visible)),
        Shell::Fish => text.push_str(&fish_extra(&visible)),
        _ => {}
    }
    text
}

/// `cli` without its hidden subcommands (clap_complete would offer them).
fn visible_only(cli: clap::Command) -> clap::Command {
    let subcommands: Vec<clap::Command> = cli
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .cloned()
        .collect();
    let mut top = clap::Command::new("xm").version(env!("CARGO_PKG_VERSION"));
    if let Some(about) = cli.get_about() {
        top = top.about(about.clone());
    }
    top.subcommands(subcommands)
}

/// What an argument's value is, for the completion functions: `domain`, `config`, `file` or
/// `-` (left to clap).
fn kind(a: &Arg) -> &'static str {
    if matches!(a.get_value_hint(), ValueHint::FilePath | ValueHint::AnyPath) {
        return "file";
    }
    let name = a
        .get_value_names()
        .and_then(|v| v.first())
        .map(|v| v.to_string())
        .unwrap_or_default();
    match name.as_str() {
        "Domain" | "DomainName" => "domain",
        n if n.starts_with("ConfigFile") => "config",
        _ => "-",
    }
}

/// Whether an argument takes more than one value (a trailing positional that repeats).
fn repeats(a: &Arg) -> bool {
    a.get_num_args().is_some_and(|n| n.max_values() > 1)
}

/// A command's positionals' kinds, in order; the last ends in `+` if it repeats.
fn positional_kinds(cmd: &clap::Command) -> String {
    let kinds: Vec<String> = cmd
        .get_positionals()
        .map(|a| format!("{}{}", kind(a), if repeats(a) { "+" } else { "" }))
        .collect();
    kinds.join(" ")
}

/// A command's options that take a value as the next word, as `-s --long` words; with
/// `domain`, only those whose value is a domain.
fn value_options(cmd: &clap::Command, domain: bool) -> String {
    let mut words = Vec::new();
    for a in cmd.get_opts() {
        let takes_word = a.get_num_args().is_none_or(|n| n.min_values() > 0);
        if !takes_word || (domain && kind(a) != "domain") {
            continue;
        }
        if let Some(s) = a.get_short() {
            words.push(format!("-{s}"));
        }
        if let Some(l) = a.get_long() {
            words.push(format!("--{l}"));
        }
    }
    words.join(" ")
}

/// A bash `case` function of the subcommand name: `name) echo "..." ;;` for each command
/// where `what` says something.
fn case_function(
    name: &str,
    about: &str,
    cli: &clap::Command,
    what: impl Fn(&clap::Command) -> String,
) -> String {
    let mut out = format!("# {about}\n{name}() {{\n    case \"$1\" in\n");
    for c in cli.get_subcommands() {
        let words = what(c);
        if !words.is_empty() {
            out.push_str(&format!("        {}) echo \"{words}\" ;;\n", c.get_name()));
        }
    }
    out.push_str("    esac\n}\n\n");
    out
}

/// The bash functions added after clap's `_xm`, and the `complete` line that replaces clap's.
fn bash_extra(cli: &clap::Command) -> String {
    let mut out = String::from(
        "\n# xm-rs: domain names, config files and file names on top of clap's _xm above.\n\n",
    );
    out.push_str(&case_function(
        "_xm_rs_positionals",
        "What each positional of `xm CMD` is (domain, config, file or -); + repeats the last.",
        cli,
        positional_kinds,
    ));
    out.push_str(&case_function(
        "_xm_rs_value_options",
        "The options of `xm CMD` whose value is the next word.",
        cli,
        |c| value_options(c, false),
    ));
    out.push_str(&case_function(
        "_xm_rs_domain_options",
        "The options of `xm CMD` whose value is a domain.",
        cli,
        |c| value_options(c, true),
    ));
    out.push_str(&BASH_FUNCTIONS.replace("@SEARCH_PATH@", DEFAULT_SEARCH_PATH));
    out
}

/// The hand-written part of the bash script (`@SEARCH_PATH@` is xm's default config path).
const BASH_FUNCTIONS: &str = r#"# The names `xm list` prints (its first column, without the header).
_xm_rs_domains() {
    local names
    names=$(timeout 2 xm list 2>/dev/null | awk 'NR > 1 { print $1 }')
    compopt +o default +o bashdefault 2>/dev/null
    COMPREPLY=( $(compgen -W "$names" -- "$1") )
}

# File names beginning with $1, one a line.
_xm_rs_files() {
    local f
    compopt -o filenames 2>/dev/null
    COMPREPLY=()
    while IFS= read -r f; do
        COMPREPLY+=( "$f" )
    done < <(compgen -f -- "$1")
}

# A config file as `xm create` finds it: as given, or a bare name in a directory of its search
# path (`--path DIRS` on the line, or xm's default).
_xm_rs_configs() {
    local cur="$1" path="@SEARCH_PATH@" i dir f dirs
    for (( i = 2; i < COMP_CWORD; i++ )); do
        case "${COMP_WORDS[i]}" in
            --path)
                if [[ ${COMP_WORDS[i+1]} == = ]]; then
                    path="${COMP_WORDS[i+2]}"
                else
                    path="${COMP_WORDS[i+1]}"
                fi
                ;;
            --path=*) path="${COMP_WORDS[i]#--path=}" ;;
        esac
    done
    _xm_rs_files "$cur"
    [[ $cur == /* ]] && return
    IFS=: read -ra dirs <<< "$path"
    for dir in "${dirs[@]}"; do
        [[ -z $dir || $dir == . ]] && continue
        dir="${dir%/}"
        while IFS= read -r f; do
            [[ -f $f ]] && COMPREPLY+=( "${f#"$dir/"}" )
        done < <(compgen -f -- "$dir/$cur")
    done
}

# The completion function for xm: ours for domains, configs and files, clap's _xm otherwise.
_xm_rs_complete() {
    local cur="${COMP_WORDS[COMP_CWORD]}" cmd="${COMP_WORDS[1]}" prev i w n=0 kind
    local vopts dopts kinds dashdash=
    if (( COMP_CWORD < 2 )) || [[ $cur == -* ]]; then
        _xm "$@"
        return
    fi
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    [[ $prev == = ]] && prev="${COMP_WORDS[COMP_CWORD-2]}"
    vopts=" $(_xm_rs_value_options "$cmd") "
    dopts=" $(_xm_rs_domain_options "$cmd") "
    if [[ $dopts == *" $prev "* ]]; then
        _xm_rs_domains "$cur"
        return
    fi
    if [[ $vopts == *" $prev "* ]]; then
        _xm "$@"
        return
    fi
    # Which positional this word is: the words before it less options and their values.
    for (( i = 2; i < COMP_CWORD; i++ )); do
        w="${COMP_WORDS[i]}"
        if [[ -z $dashdash ]]; then
            case "$w" in
                --) dashdash=1; continue ;;
                =) (( i++ )); continue ;;
                -*)
                    [[ $vopts == *" $w "* && ${COMP_WORDS[i+1]} != = ]] && (( i++ ))
                    continue
                    ;;
            esac
        fi
        (( n++ ))
    done
    read -ra kinds <<< "$(_xm_rs_positionals "$cmd")"
    if (( n < ${#kinds[@]} )); then
        kind="${kinds[n]}"
    elif (( ${#kinds[@]} )) && [[ ${kinds[${#kinds[@]}-1]} == *+ ]]; then
        kind="${kinds[${#kinds[@]}-1]}"
    else
        kind=-
    fi
    case "${kind%+}" in
        domain) _xm_rs_domains "$cur" ;;
        config) _xm_rs_configs "$cur" ;;
        file) _xm_rs_files "$cur" ;;
        *) _xm "$@" ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _xm_rs_complete -o nosort -o bashdefault -o default xm
else
    complete -F _xm_rs_complete -o bashdefault -o default xm
fi
"#;

/// fish: domain names for the commands with a domain positional (file names too where
/// another positional is a file or a config), and for the options whose value is a domain.
fn fish_extra(cli: &clap::Command) -> String {
    // `\$1`: the -a string is in double quotes, where fish would expand `$1`.
    const NAMES: &str = "(timeout 2 xm list 2>/dev/null | awk 'NR > 1 { print \\$1 }')";
    let mut out = String::from("\n# xm-rs: domain names from `xm list`.\n");
    let (mut only, mut with_files) = (Vec::new(), Vec::new());
    for c in cli.get_subcommands() {
        let kinds: Vec<&str> = c.get_positionals().map(kind).collect();
        if kinds.contains(&"domain") {
            let files = kinds.iter().any(|k| *k == "file" || *k == "config");
            if files { &mut with_files } else { &mut only }.push(c.get_name());
        }
        for a in c.get_opts().filter(|a| kind(a) == "domain") {
            let mut spec = String::new();
            if let Some(s) = a.get_short() {
                spec.push_str(&format!(" -s {s}"));
            }
            if let Some(l) = a.get_long() {
                spec.push_str(&format!(" -l {l}"));
            }
            out.push_str(&format!(
                "complete -c xm -n \"__fish_seen_subcommand_from {}\"{spec} -r -f -a \"{NAMES}\"\n",
                c.get_name()
            ));
        }
    }
    for (names, flag) in [(only, " -f"), (with_files, "")] {
        if !names.is_empty() {
            out.push_str(&format!(
                "complete -c xm -n \"__fish_seen_subcommand_from {}\"{flag} -a \"{NAMES}\"\n",
                names.join(" ")
            ));
        }
    }
    out
}
