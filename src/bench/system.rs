//! Facts about the machine and this process (Linux `/proc` and `getrusage`; fields are empty elsewhere).

use serde::{Deserialize, Serialize};

/// The machine a run was made on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// Host name.
    pub hostname: String,
    /// CPU model.
    pub cpu: String,
    /// CPUs this process may use.
    pub cores: usize,
    /// Total memory, GiB.
    pub memory_gib: f64,
    /// Operating system.
    pub os: String,
    /// Kernel release.
    pub kernel: String,
    /// CPU architecture earshot was built for.
    pub arch: String,
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The value of the first `key: value` (or `key=value`) line whose key is one of `keys`.
fn field(text: &str, keys: &[&str], separator: char) -> Option<String> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(separator)?;
        keys.contains(&key.trim())
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

impl Machine {
    /// Describe this machine.
    pub fn detect() -> Machine {
        let cpuinfo = read("/proc/cpuinfo");
        let memory_kib: f64 = field(&read("/proc/meminfo"), &["MemTotal"], ':')
            .and_then(|v| v.trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0);
        Machine {
            hostname: read("/proc/sys/kernel/hostname").trim().to_string(),
            cpu: field(&cpuinfo, &["model name", "Model", "Hardware"], ':').unwrap_or_default(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_gib: (memory_kib / (1024.0 * 1024.0) * 10.0).round() / 10.0,
            os: field(&read("/etc/os-release"), &["PRETTY_NAME"], '=')
                .unwrap_or_else(|| std::env::consts::OS.to_string()),
            kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
            arch: std::env::consts::ARCH.to_string(),
        }
    }
}

/// CPU time and peak memory of this process so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessUsage {
    /// User + system CPU seconds, all threads.
    pub cpu_s: f64,
    /// Peak resident set size, MB (10^6 bytes).
    pub peak_rss_mb: f64,
}

impl ProcessUsage {
    /// Now (zeros where `getrusage` fails).
    pub fn now() -> ProcessUsage {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } != 0 {
            return ProcessUsage::default();
        }
        // SAFETY: initialized by the successful call above (and zeroed before it).
        let usage = unsafe { usage.assume_init() };
        let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        ProcessUsage {
            cpu_s: seconds(usage.ru_utime) + seconds(usage.ru_stime),
            peak_rss_mb: usage.ru_maxrss as f64 * 1024.0 / 1e6, // ru_maxrss is in KiB on Linux
        }
    }
}

/// Resident set size now, MB (from `/proc/self/statm`).
pub fn current_rss_mb() -> Option<f64> {
    let pages: f64 = read("/proc/self/statm")
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    (page > 0).then(|| pages * page as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_and_process_facts_are_read() {
        let m = Machine::detect();
        assert!(m.cores >= 1);
        assert!(!m.arch.is_empty());
        let u = ProcessUsage::now();
        assert!(u.peak_rss_mb > 1.0, "{u:?}");
        let rss = current_rss_mb().unwrap();
        assert!(rss > 1.0 && rss <= u.peak_rss_mb + 1.0, "{rss} vs {u:?}");
        assert_eq!(
            field("a: 1\nPRETTY_NAME=\"Debian 13\"", &["PRETTY_NAME"], '='),
            Some("Debian 13".into())
        );
    }
}
