/// The guest's `/init`: mounts, then runs memhp-guest on ttyS1 (the control port) and powers off.
/// The runner is a child, not PID 1, so the OOM killer may pick it rather than deadlock init;
/// /init then still reports and powers off.
enum GuestInit {
    static let script = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        mount -t debugfs debugfs /sys/kernel/debug
        mkdir -p /mnt/ramfs /tmp
        mount -t ramfs ramfs /mnt/ramfs
        /memhp-guest /steps /dev/ttyS1
        rc=$?
        echo "@exit $rc" > /dev/ttyS1
        sync
        poweroff -f

        """
}
