#!/bin/sh
# Runs in the lab's dom0 (the PCI machine): the seed's grid with xm-rs on a real Xen 4.17, from
# its own configs in examples/ (copied to /xmlab/grid; the SE's pci line is the one site fact
# changed, see tests/lab/README.md).
show() { printf '\n# %s\n$ %s\n' "$1" "$2"; sh -c "$2"; rc=$?; [ $rc = 0 ] || echo "(exit $rc)"; }
marker() { # wait up to 300 s for the guest's boot marker in xenconsoled's log
  i=0; while [ $i -lt 3000 ]; do grep -q XMTEST-GUEST-UP "/var/log/xen/console/guest-$1.log" 2>/dev/null && return 0; sleep 0.1; i=$((i+1)); done
  echo "(no boot marker from $1)"; return 1; }
cd /xmlab/grid

show "The seed's configs, unchanged; the volume group and LVs they name (this host's site facts)" \
     "ls; xmlab-vg >/dev/null && lvm lvs --noheadings -o lv_name,lv_size xen0001_guests | head -6"
show "The CE's config as xm 4.1 printed it (dry run)" "xm create -n -q ce.ngc6475 | head -8"
show "The grid: CE, SE and two worker nodes, each booting through pygrub from its own LV" \
     "xm create ce.ngc6475 && xm create se.ngc6475 && xm create wn.tmpl vmid=1 && xm create -q wn.tmpl vmid=2"
for d in ce.ngc6475 se.ngc6475 wn001 wn002; do marker $d; done
show "xm's table, byte for byte (memory and vcpus from each config)" "xm list"
show "cpu_weight = 512 on Xen's default scheduler (credit2)" "xl sched-credit2 -d ce.ngc6475"
show "A moment of the CE's console: pygrub's kernel, menu.lst's args + root= + extra" \
     "grep -m1 'Command line' /var/log/xen/console/guest-ce.ngc6475.log; grep -m1 XMTEST-GUEST-UP /var/log/xen/console/guest-ce.ngc6475.log"
show "The CE has its PCI function, and reaches the SE and the workers by their configs' addresses" \
     "xm pci-list ce.ngc6475; xmlab-guest-cmd -w 120 ce.ngc6475 'for ip in 194.190.165.176 10.165.2.1 10.165.2.2; do ping -c1 -W5 \$ip >/dev/null && echo \"\$ip answers\"; done'"
show "A worker writes its result, then is shut down" \
     "xmlab-guest-cmd -w 120 wn002 'mount /dev/xvda1 /mnt && echo job-42-done > /mnt/result.txt && umount /mnt && echo written' && xm shutdown -w wn002"
show "Cold backup of its volume in dom0, as the seed does it" \
     "mkdir -p /mnt/backup && mount -o ro /dev/xen0001_guests/wn002.root /mnt/backup && cat /mnt/backup/result.txt && tar -C /mnt/backup -czf /tmp/wn002.tgz . && umount /mnt/backup && ls -l /tmp/wn002.tgz | awk '{print \$5, \$9}'"
show "Graceful shutdown of every guest, waiting until they are gone" "xm shutdown -a -w"
show "Only Domain-0 is left" "xm list"
