//! The xenstore nodes of a domain, as data: which paths a new PV domain gets, with which values
//! and permissions. Follows libxl 4.17 (`libxl__domain_make`, `libxl__build_post`,
//! `libxl__device_console_add`) so that tools reading the store (xenconsoled, `xl`, hotplug
//! scripts) find what they expect. Pure: [`write_nodes`] is the only function that touches
//! xenstore.

use xenstore::{Access, Change, Perms, Transaction};

use super::xc::DomId;

/// One node to write. `perms: Some` also sets the node's permissions (libxl's `mknod` and
/// `writev_perms`); `None` lets it inherit its parent's, as xenstored does for new nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub path: String,
    pub value: String,
    pub perms: Option<Perms>,
}

fn node(path: String, value: impl Into<String>, perms: Option<&Perms>) -> Node {
    Node {
        path,
        value: value.into(),
        perms: perms.cloned(),
    }
}

/// The xenstore paths of a domain and of its console backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainPaths {
    pub dom: String,
    pub vm: String,
    pub libxl: String,
    pub console_backend: String,
}

impl DomainPaths {
    pub fn new(domid: DomId, uuid: &str, backend_domid: DomId) -> Self {
        DomainPaths {
            dom: format!("/local/domain/{domid}"),
            vm: format!("/vm/{uuid}"),
            libxl: format!("/libxl/{domid}"),
            console_backend: format!("/local/domain/{backend_domid}/backend/console/{domid}/0"),
        }
    }
}

/// The nodes `libxl__domain_make` writes right after `xc_domain_create`: the domain's home
/// (readable by the guest, owned by dom0), `/vm/UUID`, and the guest-writable control nodes.
pub fn domain_make(paths: &DomainPaths, domid: DomId, uuid: &str, name: &str) -> Vec<Node> {
    let ro = Perms::new(0, Access::None).with(domid, Access::Read);
    let none = Perms::new(0, Access::None);
    let rw = Perms::new(domid, Access::None);
    let d = &paths.dom;
    let mut v = vec![
        node(d.clone(), "", Some(&ro)),
        node(paths.vm.clone(), "", Some(&ro)),
        node(paths.libxl.clone(), "", Some(&none)),
        node(format!("{}/device", paths.libxl), "", Some(&none)),
        node(format!("{d}/vm"), paths.vm.clone(), None),
        node(format!("{d}/name"), name, None),
        node(format!("{}/name", paths.vm), name, None),
        node(format!("{d}/cpu"), "", Some(&ro)),
        node(format!("{d}/memory"), "", Some(&ro)),
        node(format!("{d}/device"), "", Some(&ro)),
        node(format!("{d}/device/suspend/event-channel"), "", Some(&rw)),
        node(format!("{d}/control"), "", Some(&ro)),
    ];
    for rw_node in [
        "control/shutdown",
        "control/feature-poweroff",
        "control/feature-reboot",
        "control/feature-suspend",
        "control/sysrq",
        "data",
        "drivers",
        "feature",
        "attr",
        "error",
    ] {
        v.push(node(format!("{d}/{rw_node}"), "", Some(&rw)));
    }
    v.extend([
        node(format!("{}/uuid", paths.vm), uuid, None),
        node(
            format!("{d}/control/platform-feature-multiprocessor-suspend"),
            "1",
            None,
        ),
        node(
            format!("{d}/control/platform-feature-xs_reset_watches"),
            "1",
            None,
        ),
        node(format!("{}/type", paths.libxl), "pv", None),
    ]);
    v
}

/// What the PV build produced and the config asked for, for [`build_post`].
#[derive(Debug, Clone)]
pub struct BuildPost<'a> {
    pub domid: DomId,
    pub max_kib: u64,
    pub target_kib: u64,
    pub store_port: u32,
    pub store_mfn: u64,
    pub max_vcpus: u32,
    pub online_vcpus: u32,
    pub kernel: &'a str,
    pub ramdisk: &'a str,
    pub cmdline: &'a str,
    pub start_time: &'a str,
}

/// The nodes `libxl__build_post` writes before introducing the domain to xenstored.
pub fn build_post(paths: &DomainPaths, b: &BuildPost<'_>) -> Vec<Node> {
    let d = &paths.dom;
    let vm = &paths.vm;
    let mut v = vec![
        node(
            format!("{d}/memory/static-max"),
            b.max_kib.to_string(),
            None,
        ),
        node(format!("{d}/memory/target"), b.target_kib.to_string(), None),
        node(format!("{d}/memory/videoram"), "0", None),
        node(format!("{d}/domid"), b.domid.to_string(), None),
        node(format!("{d}/store/port"), b.store_port.to_string(), None),
        node(format!("{d}/store/ring-ref"), b.store_mfn.to_string(), None),
    ];
    for i in 0..b.max_vcpus {
        let state = if i < b.online_vcpus {
            "online"
        } else {
            "offline"
        };
        v.push(node(format!("{d}/cpu/{i}/availability"), state, None));
    }
    v.extend([
        node(format!("{vm}/image/ostype"), "linux", None),
        node(format!("{vm}/image/kernel"), b.kernel, None),
        node(format!("{vm}/image/ramdisk"), b.ramdisk, None),
        node(format!("{vm}/image/cmdline"), b.cmdline, None),
        node(format!("{vm}/start_time"), b.start_time, None),
    ]);
    v
}

/// A split-driver device as `libxl__device_generic_add` writes it: the frontend directory
/// (under the guest), the backend directory (under the backend domain), each with its
/// permissions, and libxl's copy of the backend keys under `/libxl/N/device/...`.
#[derive(Debug, Clone)]
pub struct SplitDevice {
    pub front: String,
    pub back: String,
    pub libxl: String,
    pub front_perms: Perms,
    /// Frontend keys; a key with permissions of its own carries them.
    pub front_keys: Vec<(String, String, Option<Perms>)>,
    pub back_perms: Perms,
    pub back_keys: Vec<(String, String)>,
}

impl SplitDevice {
    /// The nodes, parents before children.
    pub fn nodes(&self) -> Vec<Node> {
        let (front, back, libxl) = (&self.front, &self.back, &self.libxl);
        let mut v = vec![
            node(format!("{libxl}/frontend"), front.clone(), None),
            node(format!("{libxl}/backend"), back.clone(), None),
            node(front.clone(), "", Some(&self.front_perms)),
            node(format!("{front}/backend"), back.clone(), None),
        ];
        for (k, val, perms) in &self.front_keys {
            v.push(node(format!("{front}/{k}"), val.clone(), perms.as_ref()));
        }
        v.push(node(back.clone(), "", Some(&self.back_perms)));
        v.push(node(format!("{back}/frontend"), front.clone(), None));
        for (k, val) in &self.back_keys {
            v.push(node(format!("{back}/{k}"), val.clone(), None));
            v.push(node(format!("{libxl}/{k}"), val.clone(), None));
        }
        v
    }
}

/// The backend keys every device starts with.
pub fn backend_keys(domid: DomId) -> Vec<(String, String)> {
    vec![
        ("frontend-id".into(), domid.to_string()),
        ("online".into(), "1".into()),
        ("state".into(), "1".into()),
    ]
}

/// Console 0 (`libxl__device_console_add`): a split device whose frontend lives at
/// `/local/domain/N/console` and is read-only to the guest, since it also carries the ring
/// details xenconsoled needs.
pub fn console(
    paths: &DomainPaths,
    domid: DomId,
    backend_domid: DomId,
    port: u32,
    ring_mfn: u64,
) -> Vec<Node> {
    let front_perms = Perms::new(domid, Access::None).with(backend_domid, Access::Read);
    let ro_front = Perms::new(backend_domid, Access::None).with(domid, Access::Read);
    let ro = |k: &str, v: String| (k.to_string(), v, Some(ro_front.clone()));
    let mut back_keys = backend_keys(domid);
    back_keys.push(("protocol".into(), "vt100".into()));
    SplitDevice {
        front: format!("{}/console", paths.dom),
        back: paths.console_backend.clone(),
        libxl: format!("{}/device/console/0", paths.libxl),
        front_perms: ro_front.clone(),
        front_keys: vec![
            (
                "backend-id".into(),
                backend_domid.to_string(),
                Some(front_perms),
            ),
            ro("limit", "1048576".into()),
            ro("type", "xenconsoled".into()),
            ro("output", "pty".into()),
            ro("tty", String::new()),
            ro("port", port.to_string()),
            ro("ring-ref", ring_mfn.to_string()),
        ],
        back_perms: ro_front,
        back_keys,
    }
    .nodes()
}

/// A node that inherits its parent's permissions.
pub fn plain(path: String, value: impl Into<String>) -> Node {
    node(path, value, None)
}

/// Writes `nodes` in order inside `tx`, setting permissions where a node carries them. The
/// requests are pipelined (one round trip per 128 rather than one each: under emulation each
/// round trip to xenstored costs milliseconds).
pub fn write_nodes(tx: &Transaction<'_>, nodes: &[Node]) -> xenstore::Result<()> {
    let changes: Vec<Change<'_>> = nodes
        .iter()
        .flat_map(|n| {
            std::iter::once(Change::Write(&n.path, n.value.as_bytes()))
                .chain(n.perms.as_ref().map(|p| Change::SetPerms(&n.path, p)))
        })
        .collect();
    tx.apply(&changes)
}

/// The node at `path` (tests of node lists).
#[cfg(test)]
pub(crate) fn find<'a>(nodes: &'a [Node], path: &str) -> &'a Node {
    nodes
        .iter()
        .find(|n| n.path == path)
        .unwrap_or_else(|| panic!("no node {path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_home_is_read_only_to_the_guest_and_control_is_writable() {
        let p = DomainPaths::new(7, "u-u-i-d", 0);
        let nodes = domain_make(&p, 7, "u-u-i-d", "wn007");
        assert_eq!(
            find(&nodes, "/local/domain/7")
                .perms
                .as_ref()
                .unwrap()
                .to_string(),
            "n0,r7"
        );
        assert_eq!(
            find(&nodes, "/local/domain/7/control/shutdown")
                .perms
                .as_ref()
                .unwrap()
                .to_string(),
            "n7"
        );
        assert_eq!(find(&nodes, "/local/domain/7/name").value, "wn007");
        assert_eq!(find(&nodes, "/local/domain/7/vm").value, "/vm/u-u-i-d");
        assert_eq!(find(&nodes, "/vm/u-u-i-d/uuid").value, "u-u-i-d");
        // Parents are written before their children, so inheritance works as in libxl.
        let pos = |path: &str| nodes.iter().position(|n| n.path == path).unwrap();
        assert!(pos("/local/domain/7/control") < pos("/local/domain/7/control/shutdown"));
    }

    #[test]
    fn build_post_lists_every_vcpu_and_the_store_ring() {
        let p = DomainPaths::new(3, "x", 0);
        let b = BuildPost {
            domid: 3,
            max_kib: 262144,
            target_kib: 262144,
            store_port: 1,
            store_mfn: 4242,
            max_vcpus: 3,
            online_vcpus: 2,
            kernel: "/k",
            ramdisk: "",
            cmdline: "root=/dev/xvda1 ro",
            start_time: "1.00",
        };
        let nodes = build_post(&p, &b);
        assert_eq!(find(&nodes, "/local/domain/3/store/ring-ref").value, "4242");
        assert_eq!(
            find(&nodes, "/local/domain/3/cpu/1/availability").value,
            "online"
        );
        assert_eq!(
            find(&nodes, "/local/domain/3/cpu/2/availability").value,
            "offline"
        );
        assert_eq!(
            find(&nodes, "/vm/x/image/cmdline").value,
            "root=/dev/xvda1 ro"
        );
    }

    #[test]
    fn console_nodes_give_xenconsoled_the_ring_and_hide_it_from_guest_writes() {
        let p = DomainPaths::new(5, "x", 0);
        let nodes = console(&p, 5, 0, 2, 999);
        let ring = find(&nodes, "/local/domain/5/console/ring-ref");
        assert_eq!(ring.value, "999");
        assert_eq!(ring.perms.as_ref().unwrap().to_string(), "n0,r5");
        assert_eq!(
            find(&nodes, "/local/domain/5/console/type").value,
            "xenconsoled"
        );
        assert_eq!(
            find(&nodes, "/local/domain/0/backend/console/5/0/frontend").value,
            "/local/domain/5/console"
        );
    }
}
