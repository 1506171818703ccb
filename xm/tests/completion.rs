//! `xm completion SHELL`: the bash script driven by a real bash as readline would call it
//! (command names, options, domain names from a fake `xm list`, config files in the current
//! directory and on `--path`, checkpoint files), and the zsh and fish scripts' presence.

use std::path::{Path, PathBuf};
use std::process::Command;

fn xm(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_xm"))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "xm {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// A scratch directory with the bash script, a fake `xm` that prints an `xm list` table, a
/// working directory holding `web.cfg` and a config directory holding `db.cfg`.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("xm-completion-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["bin", "cwd", "configs/scripts"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::write(dir.join("xm.bash"), xm(&["completion", "bash"])).unwrap();
        let fake = dir.join("bin/xm");
        std::fs::write(
            &fake,
            "#!/bin/sh\n[ \"$1\" = list ] || exit 1\n\
             echo 'Name                                        ID   Mem VCPUs      State   Time(s)'\n\
             echo 'Domain-0                                     0  1024     2     r-----     12.3'\n\
             echo 'web                                          3   512     1     -b----      4.5'\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.join("cwd/web.cfg"), "name = 'web'\n").unwrap();
        std::fs::write(dir.join("cwd/web.save"), "").unwrap();
        std::fs::write(dir.join("configs/db.cfg"), "name = 'db'\n").unwrap();
        Scratch(dir)
    }

    fn configs(&self) -> String {
        self.0.join("configs").display().to_string()
    }

    /// What bash offers for the command line `words` (the last is the word being completed),
    /// calling the script's completion function as `complete -F` does.
    fn complete(&self, words: &[&str]) -> Vec<String> {
        let script = r#"source "$XM_BASH"
COMP_WORDS=("$@")
COMP_CWORD=$(( $# - 1 ))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
fn=$(complete -p xm | sed -n 's/.*-F \([^ ]*\).*/\1/p')
"$fn" xm "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}""#;
        let path = format!(
            "{}:{}",
            self.0.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new("bash")
            .args(["--norc", "--noprofile", "-c", script, "bash"])
            .args(words)
            .env("XM_BASH", self.0.join("xm.bash"))
            .env("PATH", path)
            .current_dir(self.0.join("cwd"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{words:?}: {out:?}");
        let mut offered: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        offered.sort();
        offered
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn has_bash() -> bool {
    Path::new("/bin/bash").exists() || Path::new("/usr/bin/bash").exists()
}

#[test]
fn bash_completes_commands_options_domains_configs_and_files() {
    if !has_bash() {
        println!("skipped: no bash");
        return;
    }
    let s = Scratch::new("bash");
    // Command names: clap's part.
    assert_eq!(s.complete(&["xm", "des"]), ["destroy"]);
    let all = s.complete(&["xm", ""]);
    for name in ["create", "list", "migrate", "sched-credit", "block-attach"] {
        assert!(all.iter().any(|c| c == name), "{name} in {all:?}");
    }
    // Hidden commands are not offered.
    for hidden in ["completion", "monitor", "migrate-receive"] {
        assert!(!all.iter().any(|c| c == hidden), "{hidden} in {all:?}");
    }
    // Options.
    let opts = s.complete(&["xm", "shutdown", "-"]);
    for o in ["-w", "--wait", "-a", "--all"] {
        assert!(opts.iter().any(|c| c == o), "{o} in {opts:?}");
    }
    // Domain names from `xm list`, wherever a positional or an option's value is a domain.
    assert_eq!(s.complete(&["xm", "destroy", ""]), ["Domain-0", "web"]);
    assert_eq!(s.complete(&["xm", "shutdown", "-w", "w"]), ["web"]);
    assert_eq!(
        s.complete(&["xm", "list", "-l", "web", ""]),
        ["Domain-0", "web"]
    );
    assert_eq!(s.complete(&["xm", "mem-set", "D"]), ["Domain-0"]);
    assert_eq!(
        s.complete(&["xm", "sched-credit", "-d", ""]),
        ["Domain-0", "web"]
    );
    // bash splits `--domain=x` at the `=`.
    assert_eq!(
        s.complete(&["xm", "sched-credit", "--domain", "=", "w"]),
        ["web"]
    );
    assert_eq!(s.complete(&["xm", "migrate", "-p", "22", "w"]), ["web"]);
    // Not a domain: `xm mem-set web <Mem>`.
    assert!(
        !s.complete(&["xm", "mem-set", "web", ""])
            .contains(&"web".to_string())
    );
    // Config files: here, and as bare names in the directories of `--path`.
    assert_eq!(s.complete(&["xm", "create", "w"]), ["web.cfg", "web.save"]);
    assert_eq!(s.complete(&["xm", "new", "-q", "web.c"]), ["web.cfg"]);
    let configs = s.configs();
    assert_eq!(
        s.complete(&["xm", "create", "--path", &configs, ""]),
        ["db.cfg", "web.cfg", "web.save"]
    );
    assert_eq!(
        s.complete(&["xm", "create", "--path", "=", &configs, "d"]),
        ["db.cfg"]
    );
    // Checkpoint files.
    assert_eq!(s.complete(&["xm", "save", "web", "web.s"]), ["web.save"]);
    assert_eq!(s.complete(&["xm", "restore", "w"]), ["web.cfg", "web.save"]);
    assert_eq!(s.complete(&["xm", "restore", "-p", "web.s"]), ["web.save"]);
}

#[test]
fn bash_offers_nothing_for_domains_when_xm_list_fails() {
    if !has_bash() {
        println!("skipped: no bash");
        return;
    }
    let s = Scratch::new("nolist");
    std::fs::write(s.0.join("bin/xm"), "#!/bin/sh\nexit 1\n").unwrap();
    assert_eq!(s.complete(&["xm", "destroy", ""]), Vec::<String>::new());
}

#[test]
fn zsh_and_fish_scripts_name_the_commands() {
    let zsh = xm(&["completion", "zsh"]);
    assert!(zsh.starts_with("#compdef xm"), "{}", &zsh[..80]);
    let fish = xm(&["completion", "fish"]);
    for script in [&zsh, &fish] {
        for name in ["destroy", "sched-credit", "block-attach"] {
            assert!(script.contains(name), "{name}");
        }
        assert!(!script.contains("migrate-receive"));
    }
    // fish: domain names for the commands that take one.
    let names: Vec<&str> = fish.lines().filter(|l| l.contains("xm list")).collect();
    assert!(names.iter().any(|l| l.contains(" destroy ")), "{names:?}");
    assert!(
        names.iter().any(|l| l.contains("-s d -l domain")),
        "{names:?}"
    );
}

/// Whether `shell` runs here (zsh and fish are optional on a build host).
fn have(shell: &str) -> bool {
    Command::new(shell)
        .args(["-c", "exit 0"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn zsh_and_fish_accept_their_scripts_and_fish_offers_domains() {
    let s = Scratch::new("fish");
    for (shell, sub, file) in [("zsh", "zsh", "_xm"), ("fish", "fish", "xm.fish")] {
        if !have(shell) {
            println!("skipped: no {shell}");
            continue;
        }
        let path = s.0.join(file);
        std::fs::write(&path, xm(&["completion", sub])).unwrap();
        let out = Command::new(shell).arg("-n").arg(&path).output().unwrap();
        assert!(out.status.success(), "{shell} -n: {out:?}");
    }
    if !have("fish") {
        return;
    }
    let path = format!(
        "{}:{}",
        s.0.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let complete = |line: &str| {
        let script = format!(
            "source {}; complete -C '{line}'",
            s.0.join("xm.fish").display()
        );
        let out = Command::new("fish")
            .args(["--no-config", "-c", &script])
            .env("PATH", &path)
            .current_dir(s.0.join("cwd"))
            .output()
            .unwrap();
        let mut offered: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect();
        offered.sort();
        offered
    };
    assert_eq!(complete("xm destroy "), ["Domain-0", "web"]);
    assert_eq!(complete("xm sched-credit -d w"), ["web"]);
}

#[test]
fn the_completion_command_is_not_listed() {
    let out = Command::new(env!("CARGO_BIN_EXE_xm"))
        .arg("help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains(" destroy "), "{help}");
    assert!(!help.contains("completion"), "{help}");
    // Nor does a prefix reach it.
    let out = Command::new(env!("CARGO_BIN_EXE_xm"))
        .args(["completio", "bash"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
