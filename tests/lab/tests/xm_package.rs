//! xm-rs as its Debian package installed it in dom0 (tests/lab/run-tests: `dpkg -i` of the .deb
//! scripts/build-deb made for this image's Debian release): dpkg's record of it, its files, and
//! its bash completion completing the names of real domains and the configs in `/etc/xen`.

use lab_tests::*;

#[test]
fn dpkg_installed_the_package_for_this_release_and_its_files() {
    require_lab!();
    let status = run_ok("dpkg-query -W -f '${Status} ${Version} ${Depends}' xm-rs");
    // The image's Debian release (12, 13).
    let deb = image_info("DEBIAN");
    let xen = xen_release();
    assert!(
        status.starts_with(&format!("install ok installed 0.1.0-1~deb{deb} ")),
        "{status}"
    );
    assert!(status.contains(&format!("xen-utils-{xen}")), "{status}");
    // (dom0's sh is busybox's, whose own `dpkg` applet comes before the PATH's.)
    let files = run_ok("/usr/bin/dpkg -L xm-rs");
    for f in [
        "/usr/sbin/xm",
        "/usr/share/man/man1/xm.1.gz",
        "/usr/share/man/man5/xmdomain.cfg.5.gz",
        "/usr/share/bash-completion/completions/xm",
        "/usr/share/zsh/vendor-completions/_xm",
        "/usr/share/fish/vendor_completions.d/xm.fish",
        "/usr/lib/systemd/system/xm-domains.service",
        "/usr/lib/xm/xendomains",
    ] {
        assert!(
            files.lines().any(|l| l == f),
            "{f} not in dpkg -L:\n{files}"
        );
        assert!(std::path::Path::new(f).exists(), "{f} listed but missing");
    }
    // The `xm` every test runs is the package's, and it is built for this image's Xen.
    assert_eq!(run_ok("command -v xm").trim(), "/usr/sbin/xm");
    let version = xm_ok(&["--version"]);
    assert!(
        version.contains(&format!("built for Xen {xen}")),
        "{version}"
    );
}

/// What the installed bash completion offers for the command line `line` (its last word is
/// the one being completed), called as bash's `complete -F` calls it.
fn bash_completes(line: &str) -> Vec<String> {
    let script = format!(
        "source /usr/share/bash-completion/completions/xm\n\
         COMP_LINE='{line}'; read -ra COMP_WORDS <<<\"$COMP_LINE\"\n\
         case \"$COMP_LINE\" in *' ') COMP_WORDS+=('') ;; esac\n\
         COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 )); COMP_POINT=${{#COMP_LINE}}\n\
         fn=$(complete -p xm | sed -n 's/.*-F \\([^ ]*\\).*/\\1/p')\n\
         \"$fn\" xm \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n"
    );
    let path = write_config_file(&unique_name("complete"), &script);
    run_ok(&format!("cd /tmp && bash {}", path.display()))
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completion_offers_running_domains_and_etc_xen_configs() {
    require_lab!();
    let name = unique_name("compl");
    let cfg = pvgrub_config(&name);
    xm_ok(&["create", "-p", &cfg.to_string_lossy()]);
    let _g = Running::adopt(&name);

    // A domain-taking command completes the names xm list prints.
    let offered = bash_completes(&format!("xm destroy {}", &name[..name.len() - 2]));
    assert!(offered.contains(&name), "{offered:?}");
    let offered = bash_completes("xm pause ");
    assert!(offered.contains(&name), "{offered:?}");
    assert!(offered.contains(&"Domain-0".to_string()), "{offered:?}");
    // Commands and options come from the clap table.
    let offered = bash_completes("xm shut");
    assert_eq!(offered, ["shutdown"]);
    let offered = bash_completes("xm shutdown --w");
    assert!(offered.contains(&"--wait".to_string()), "{offered:?}");
    // create completes the configs in /etc/xen by their bare names, as xm create finds them.
    run_ok(&format!(
        "mkdir -p /etc/xen && cp {} /etc/xen/{name}.cfg",
        cfg.display()
    ));
    let offered = bash_completes(&format!("xm create {}", &name[..name.len() - 1]));
    run_ok(&format!("rm -f /etc/xen/{name}.cfg"));
    assert!(offered.contains(&format!("{name}.cfg")), "{offered:?}");
}
