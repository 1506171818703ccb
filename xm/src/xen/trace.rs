//! Step timings of the long commands (create, save, restore), on stderr when
//! `XM_TRACE_CREATE` is set: for finding where one spends its time. Off by default.

/// Step timings on stderr when `XM_TRACE_CREATE` is set (for finding where a create, a save
/// or a restore spends its time; off by default).
pub struct StepTimer {
    last: Option<std::cell::Cell<std::time::Instant>>,
}

impl StepTimer {
    pub fn from_env() -> Self {
        let on = std::env::var_os("XM_TRACE_CREATE").is_some();
        StepTimer {
            last: on.then(|| std::cell::Cell::new(std::time::Instant::now())),
        }
    }

    pub fn step(&self, what: &str) {
        if let Some(last) = &self.last {
            let now = std::time::Instant::now();
            eprintln!(
                "xm: {:8.1} ms  {what}",
                (now - last.get()).as_secs_f64() * 1e3
            );
            last.set(now);
        }
    }
}
