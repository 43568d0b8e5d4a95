//! `run`'s progress bar on stderr: scenarios done, calls up, simulated seconds per wall second.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A progress bar on stderr (scenarios done, calls up, simulated seconds per wall second),
/// hidden when stderr is not a terminal or with --quiet.
pub(super) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    slots: Mutex<Vec<(Arc<AtomicU64>, Arc<AtomicU64>)>>,
    done_ms: AtomicU64,
    started: Instant,
}

impl Progress {
    pub(super) fn new(scenarios: u64, _total_sim_ms: u64, quiet: bool) -> Progress {
        let bar = if !quiet && std::io::stderr().is_terminal() {
            let b = indicatif::ProgressBar::new(scenarios);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30.cyan/blue} {pos}/{len} scenarios  {msg}  [{elapsed}]",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            Some(b)
        } else {
            None
        };
        Progress {
            bar,
            slots: Mutex::new(Vec::new()),
            done_ms: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    pub(super) fn slot(&self) -> (Arc<AtomicU64>, Arc<AtomicU64>) {
        let s = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        if let Ok(mut v) = self.slots.lock() {
            v.push(s.clone());
        }
        s
    }

    pub(super) fn done(&self, p: &Arc<AtomicU64>, sim_ms: u64) {
        if let Ok(mut v) = self.slots.lock() {
            v.retain(|(x, _)| !Arc::ptr_eq(x, p));
        }
        self.done_ms.fetch_add(sim_ms, Ordering::Relaxed);
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    /// Redraws the bar every 100 ms until every worker has exited.
    pub(super) fn drive(&self, stop: &AtomicBool, alive: &AtomicUsize) {
        let Some(bar) = &self.bar else { return };
        while alive.load(Ordering::SeqCst) > 0 {
            let (sim_ms, up) = match self.slots.lock() {
                Ok(v) => (
                    v.iter()
                        .map(|(p, _)| p.load(Ordering::Relaxed))
                        .sum::<u64>(),
                    v.iter()
                        .map(|(_, c)| c.load(Ordering::Relaxed))
                        .sum::<u64>(),
                ),
                Err(_) => (0, 0),
            };
            let sim_s = (sim_ms + self.done_ms.load(Ordering::Relaxed)) as f64 / 1000.0;
            let wall = self.started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!(
                "{up} calls up  {:.0} sim-s/s{}",
                sim_s / wall,
                if stop.load(Ordering::Relaxed) {
                    "  stopping..."
                } else {
                    ""
                }
            ));
            bar.tick();
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(super) fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
