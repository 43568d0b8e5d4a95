//! The emulator's side of the report: each link's counters at the end of the run
//! ([`LinkReport`]). Where each stream's packets were dropped or delayed is `fault.rs`.

use crate::net::{DropReason, LinkCounters};
use crate::report::model::{CrossTrafficReport, LinkReport, LinkSecondSample};
use std::collections::BTreeMap;

/// Nanoseconds as milliseconds, rounded to the µs (the report's precision).
fn ms(ns: u64) -> f64 {
    (ns as f64 / 1_000.0).round() / 1_000.0
}

/// Drops per reason's report name, zero counts left out.
pub(crate) fn drop_map(dropped: &[u64; DropReason::COUNT]) -> BTreeMap<String, u64> {
    DropReason::ALL
        .iter()
        .zip(dropped.iter())
        .filter(|(_, n)| **n > 0)
        .map(|(r, n)| (r.as_str().to_owned(), *n))
        .collect()
}

/// One link's counters at the end of the run, for the report.
pub(crate) fn link_report(c: &LinkCounters) -> LinkReport {
    LinkReport {
        link: c.name.clone(),
        packets_in: c.packets_in,
        bytes_in: c.bytes_in,
        delivered: c.delivered,
        delivered_bytes: c.delivered_bytes,
        dropped: drop_map(&c.dropped),
        in_flight_at_end: c.in_flight,
        queued_at_end_bytes: c.queued_bytes,
        queue_high_water: c.queue_hwm_packets,
        queue_high_water_bytes: c.queue_hwm_bytes,
        queue_high_water_ms: ms(c.queue_hwm_wait),
        duplicates: c.duplicates,
        fragmented: c.fragmented,
        retransmissions: c.retransmissions,
        cross_traffic: c
            .cross_flows
            .iter()
            .map(|f| CrossTrafficReport {
                flow: f.flow.clone(),
                start_ms: f.start / 1_000_000,
                sent: f.sent,
                sent_bytes: f.sent_bytes,
                delivered: f.delivered,
                dropped: drop_map(&f.dropped),
                in_flight_at_end: f.in_flight,
                tcp: None,
            })
            .collect(),
        series: c
            .series
            .iter()
            .map(|s| LinkSecondSample {
                t: s.t,
                packets_in: s.packets_in,
                delivered: s.delivered,
                dropped: s.dropped,
                queue_high_water: s.queue_hwm_packets,
                queue_high_water_ms: ms(s.queue_hwm_wait),
            })
            .collect(),
    }
}
