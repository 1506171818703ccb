//! Generates the bindings at build time against the installed Xen headers: domctl structs change
//! between Xen releases, so they are never written by hand.

use std::env;
use std::path::PathBuf;

/// The libxenctrl / libxenguest calls the control layer makes. Keep this list to what we call.
const FUNCTIONS: &[&str] = &[
    "xc_interface_open",
    "xc_interface_close",
    "xc_domain_create",
    "xc_domain_destroy",
    "xc_domain_pause",
    "xc_domain_unpause",
    "xc_domain_shutdown",
    "xc_domain_getinfolist",
    "xc_domain_max_vcpus",
    "xc_domain_setmaxmem",
    "xc_domain_set_memmap_limit",
    "xc_domain_sethandle",
    "xc_domain_set_tsc_info",
    "xc_evtchn_alloc_unbound",
    "xc_vcpu_setaffinity",
    "xc_vcpu_getinfo",
    "xc_vcpu_getaffinity",
    "xc_readconsolering",
    "xc_send_debug_keys",
    "xc_domain_send_trigger",
    "xc_domain_dumpcore",
    "xc_sched_credit_domain_set",
    "xc_sched_credit_domain_get",
    "xc_sched_credit2_domain_set",
    "xc_sched_credit2_domain_get",
    "xc_cpupool_getinfo",
    "xc_cpupool_infofree",
    "xc_physinfo",
    "xc_get_max_cpus",
    "xc_cpumap_alloc",
    "xc_version",
    "xc_sched_id",
    "xc_cpupool_freeinfo",
    "xc_get_cpumap_size",
    "xc_assign_device",
    "xc_deassign_device",
    "xc_domain_iomem_permission",
    "xc_domain_ioport_permission",
    "xc_domain_irq_permission",
    "xc_physdev_map_pirq",
    "xc_physdev_unmap_pirq",
    "xc_get_machine_memory_map",
    "xc_domain_set_memory_map",
    "free",
    "xc_domain_get_guest_width",
    "xc_dom_allocate",
    "xc_dom_release",
    "xc_dom_kernel_file",
    "xc_dom_module_file",
    "xc_dom_boot_xen_init",
    "xc_dom_parse_image",
    "xc_dom_mem_init",
    "xc_dom_boot_mem_init",
    "xc_dom_build_image",
    "xc_dom_boot_image",
    "xc_dom_gnttab_init",
    "xc_dom_translated",
    "xc_domain_save",
    "xc_domain_restore",
    "xc_domain_resume",
    "xtl_createlogger_stdiostream",
    "xtl_logger_destroy",
];

/// The unversioned link name of libxenctrl; it points at `libxenctrl.so.MAJOR.MINOR`, the Xen
/// release the headers and static libraries belong to.
const LIBXENCTRL_SO: &str = "/usr/lib/x86_64-linux-gnu/libxenctrl.so";

/// The Xen release (`4.17`) of the installed libxen-dev: the domctl/sysctl interfaces the
/// bindings speak change between releases, so a binary is tied to it. `XENCTRL_SYS_XEN_RELEASE`
/// overrides it (for a build root whose library path differs).
fn xen_release() -> String {
    println!("cargo:rerun-if-env-changed=XENCTRL_SYS_XEN_RELEASE");
    if let Ok(v) = env::var("XENCTRL_SYS_XEN_RELEASE") {
        return v;
    }
    let target = std::fs::read_link(LIBXENCTRL_SO).unwrap_or_else(|e| {
        panic!(
            "xenctrl-sys: reading {LIBXENCTRL_SO} ({e}): install Xen's development files: \
             apt-get install libxen-dev"
        )
    });
    let name = target.to_string_lossy().into_owned();
    let release = name.rsplit_once(".so.").map(|(_, v)| v.to_string());
    match release
        .filter(|v| v.split('.').count() == 2 && v.split('.').all(|p| p.parse::<u32>().is_ok()))
    {
        Some(v) => v,
        None => panic!("xenctrl-sys: cannot tell the Xen release from {LIBXENCTRL_SO} -> {name}"),
    }
}

fn main() {
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=build.rs");
    // Static Xen libraries (Debian's libxen-dev ships them): a process then maps 9 fewer
    // shared objects at start, which is most of what `xm list` costs under emulation.
    // Dependents before their dependencies; the compression libraries stay shared.
    // libxenguest registers its kernel loaders (ELF, bzImage) from constructors that nothing
    // references: the whole archive must be linked or `xc_dom_parse_image` finds no loader.
    println!("cargo:rustc-link-lib=static:+whole-archive=xenguest");
    for lib in [
        "xenctrl",
        "xendevicemodel",
        "xenforeignmemory",
        "xengnttab",
        "xenevtchn",
        "xencall",
        "xentoolcore",
        "xentoollog",
    ] {
        println!("cargo:rustc-link-lib=static={lib}");
    }
    // libxenguest's kernel decompressors (liblzma-dev, libzstd-dev, zlib1g-dev).
    for lib in ["lzma", "zstd", "z"] {
        println!("cargo:rustc-link-lib=static={lib}");
    }
    println!("cargo:rustc-link-search=native=/usr/lib/x86_64-linux-gnu");
    println!("cargo:rerun-if-changed={LIBXENCTRL_SO}");
    println!("cargo:rustc-env=XENCTRL_SYS_XEN_RELEASE={}", xen_release());

    if !std::path::Path::new("/usr/include/xenctrl.h").exists()
        && env::var_os("XENCTRL_SYS_INCLUDE").is_none()
    {
        panic!(
            "xenctrl-sys: /usr/include/xenctrl.h not found. \
             Install Xen's development headers: apt-get install libxen-dev libclang-dev"
        );
    }

    let mut builder = bindgen::Builder::default()
        .header("wrapper.h")
        .wrap_unsafe_ops(true)
        .derive_default(true)
        .layout_tests(false)
        .allowlist_type("xc_domaininfo_t|xc_physinfo_t|xc_vcpuinfo_t")
        .allowlist_type("xen_domctl_createdomain|xen_domctl_sched_credit|xc_dom_image")
        .allowlist_type("xen_domctl_sched_credit2|xc_cpupoolinfo_t|e820entry")
        .allowlist_var("E820_.*|E820MAX|XCFLAGS_.*|XTL_STDIOSTREAM_.*|stderr")
        .allowlist_type("xentoollog_level")
        .allowlist_var("XEN_DOMINF_.*|XEN_DOMCTL_CDF_.*|XEN_DOMCTL_.*_VERSION|SHUTDOWN_.*")
        .allowlist_var("XEN_CPUPOOLID_ANY|XC_PAGE_SHIFT|INVALID_MFN|XENVER_.*|XEN_X86_EMU_.*")
        .allowlist_var(
            "XEN_SYSCTL_PHYSCAP_.*|XEN_SCHEDULER_.*|XEN_DOMCTL_IOMMU_.*|XEN_DOMCTL_SENDTRIGGER_.*",
        )
        .allowlist_type("xen_extraversion_t|xen_compile_info_t|xen_changeset_info_t")
        .allowlist_type("xen_capabilities_info_t|xen_platform_parameters_t|xen_commandline_t");
    for f in FUNCTIONS {
        builder = builder.allowlist_function(f);
    }
    if let Some(inc) = env::var_os("XENCTRL_SYS_INCLUDE") {
        builder = builder.clang_arg(format!("-I{}", inc.to_string_lossy()));
    }
    let bindings = builder.generate().unwrap_or_else(|e| {
        panic!(
            "xenctrl-sys: bindgen failed ({e}). Install: apt-get install libxen-dev libclang-dev"
        )
    });
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    bindings
        .write_to_file(out.join("bindings.rs"))
        .expect("xenctrl-sys: writing bindings.rs");
}
