#!/bin/sh
# Runs in the lab's dom0: the admin's day with xm-rs on a real Xen 4.17.
show() { printf '\n# %s\n$ %s\n' "$1" "$2"; sh -c "$2"; rc=$?; [ $rc = 0 ] || echo "(exit $rc)"; }
marker() { # wait up to 60 s for the guest's boot marker in xenconsoled's log
  i=0; while [ $i -lt 600 ]; do grep -q XMTEST-GUEST-UP "/var/log/xen/console/guest-$1.log" 2>/dev/null && return 0; sleep 0.1; i=$((i+1)); done; return 1; }
cd /root

show "The seed's CE config, found on the /etc/xen search path, as xm 4.1 printed it" \
     "xm create -n ce.ngc6475"
show "One template for the whole farm: vmid arrives as a string, xm_vars checks it" \
     "xm create -n -q wn.tmpl vmid=7 | head -12"
show "A config that tries to run code gets a located error, not execution" \
     "printf 'import subprocess\nname = \"x\"\n' > /tmp/bad.cfg; xm create -n /tmp/bad.cfg"
show "Two worker nodes on the real hypervisor" \
     "xm create wn-lab.tmpl vmid=1 && xm create -q wn-lab.tmpl vmid=2"
marker wn001 && marker wn002
show "xm's table, byte for byte (and what xl says)" "xm list; xl list"
show "The guest's console (what xm console / create -c attach to)" \
     "grep XMTEST-GUEST-UP /var/log/xen/console/guest-wn001.log"
show "An unknown domain: xm's message and exit code 3" "xm list wn999"
show "Graceful shutdown of every guest, waiting until they are gone" "xm shutdown -a -w"
show "Only Domain-0 is left" "xm list"
