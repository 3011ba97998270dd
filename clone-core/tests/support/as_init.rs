//! Shared by the differential tests for running as `/init` of a kernel booted in qemu-system
//! with only the test binary in its initramfs (`cargo xtask differential`): mount what the
//! tests read, and exit in a way that lets the console show the last lines.

fn mount(fstype: &core::ffi::CStr, target: &str) {
    std::fs::create_dir_all(target).expect("mkdir mount point");
    let t = std::ffi::CString::new(target).expect("no NUL");
    // SAFETY: plain mount(2) of a virtual filesystem with valid C strings.
    let r = unsafe {
        libc::mount(
            fstype.as_ptr(),
            t.as_ptr(),
            fstype.as_ptr(),
            0,
            core::ptr::null(),
        )
    };
    assert_eq!(r, 0, "mount {target}: {}", std::io::Error::last_os_error());
}

/// `/proc` (pid_max, NSpid, namespaces, mountinfo), a cgroup2 hierarchy for the
/// `CLONE_INTO_CGROUP` cases, and `/tmp` for the chrooted setups.
pub fn prepare() {
    mount(c"proc", "/proc");
    mount(c"cgroup2", "/sys/fs/cgroup");
    std::fs::create_dir_all("/tmp").expect("mkdir /tmp");
    println!("  as init: mounted /proc and cgroup2 at /sys/fs/cgroup, made /tmp");
}

/// Whether this process is pid 1 (init of the kernel it runs on).
pub fn is_init() -> bool {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() == 1 }
}

/// Exits init (the kernel panics with the status in its `Attempted to kill init` line) after
/// a second for the console to drain: a panic does not send what is still queued in the tty
/// buffer.
pub fn exit(code: i32) -> ! {
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    std::thread::sleep(std::time::Duration::from_secs(1));
    // SAFETY: leaving init; nothing else runs in this process.
    unsafe { libc::_exit(code) }
}
