#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# /init of the VM test initramfs (busybox sh, PID 1): mount the kernel file
# systems, load KVM, run /gmt/suite.sh, print the sentinel, power off.
#
# No `set -e` here on purpose: PID 1 exiting panics the kernel and loses the
# sentinel, so every failure is reported and the script carries on.
set -u
export PATH=/gmt/bin:/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root TMPDIR=/tmp

mnt() { # type target [options]
	mkdir -p "$2"
	mount -t "$1" ${3:+-o "$3"} "$1" "$2" 2>/dev/null || echo "init: cannot mount $1 on $2"
}
mnt proc /proc
mnt sysfs /sys
mnt devtmpfs /dev
mnt tmpfs /tmp
mnt tmpfs /run
mnt tracefs /sys/kernel/tracing
mnt debugfs /sys/kernel/debug
mnt bpf /sys/fs/bpf
mnt securityfs /sys/kernel/security
mnt cgroup2 /sys/fs/cgroup
mkdir -p /dev/shm /dev/pts
mount -t tmpfs shm /dev/shm 2>/dev/null
mount -t devpts devpts /dev/pts 2>/dev/null
# BPF maps on kernels before 5.11 count against RLIMIT_MEMLOCK (busybox ash has -l)
# shellcheck disable=SC3045
ulimit -l unlimited 2>/dev/null
ip link set lo up 2>/dev/null

# per-kernel settings written by run.sh: GMT_KERNEL, GMT_TESTS, GMT_EXPECT_*
# shellcheck disable=SC1091
[ -r /gmt/env ] && . /gmt/env

# KVM modules (absent when KVM is built in): dependencies first, then the
# vendor module matching the CPU (-cpu max under TCG offers SVM, not VMX).
if [ -r /gmt/modules.order ]; then
	while read -r m; do
		case $m in
		kvm-amd | kvm_amd) grep -qw svm /proc/cpuinfo || continue ;;
		kvm-intel | kvm_intel) grep -qw vmx /proc/cpuinfo || continue ;;
		esac
		insmod "/gmt/modules/$m.ko" || echo "init: insmod $m failed"
	done </gmt/modules.order
fi

# qemu's edu device (1234:11e8, machine=iommu rows) goes to vfio-pci, so
# tests can map guest_memfd pages for its DMA (VFIO type1, iommufd)
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor" 2>/dev/null)" = 0x1234 ] || continue
	[ "$(cat "$d/device" 2>/dev/null)" = 0x11e8 ] || continue
	bdf=${d##*/}
	echo vfio-pci >"$d/driver_override" 2>/dev/null
	echo "$bdf" >/sys/bus/pci/drivers_probe 2>/dev/null
	drv=$(readlink "$d/driver" 2>/dev/null)
	grp=$(readlink "$d/iommu_group" 2>/dev/null)
	echo "GMT facts: edu $bdf driver ${drv##*/} iommu_group ${grp##*/}"
done

echo "GMT facts: kernel $(uname -r), row ${GMT_KERNEL:-?}"
if [ -c /dev/kvm ]; then echo "GMT facts: /dev/kvm present"; else echo "GMT facts: /dev/kvm absent"; fi
echo "GMT facts: lsm $(cat /sys/kernel/security/lsm 2>/dev/null || echo '(unreadable)')"
echo "GMT facts: cpus $(nproc), accel ${GMT_ACCEL:-?}"

sh /gmt/suite.sh
rc=$?
echo "GMT_VM_RC=$rc"
sync
poweroff -f
# poweroff -f does not return; if it did, do not let PID 1 exit
while :; do sleep 60; done
