//! Whose fault: for each stream, what every emulated link on its path did to its RTP packets
//! (dropped by reason, queued, delayed), and a one-line verdict naming the link that hurt it
//! most in plain words, so a report says "bob's uplink" where it used to say only "the
//! network".
//!
//! The network follows the calls' audio RTP packets hop by hop ([`crate::net::Network::watch`]
//! with [`is_stream_packet`]); a stream is the sum of the flows its sender sent from any of its
//! media addresses (a new address after roaming is a new flow).
//!
//! The verdict names the link that dropped most of the stream's packets; when none dropped
//! any, the link that added most delay, if it added at least [`NOTICEABLE_MEAN_MS`] on
//! average or [`NOTICEABLE_MAX_MS`] at worst; otherwise there is none.

use super::world::Wire;
use super::Sim;
use crate::net::{Datagram, DropReason, Encapsulation, FlowLinkStats, LossConfig};
use crate::report::model::{CallReport, StreamLinkReport};
use crate::scenario::Scenario;
use std::collections::BTreeMap;

/// Mean added delay from which a link is said to delay a stream, ms: a fifth of the 50 ms
/// one-way budget of Microsoft's client-edge targets (a throttled link's few ms of
/// serialisation are not a fault).
pub const NOTICEABLE_MEAN_MS: f64 = 10.0;
/// Worst added delay from which a link is said to delay a stream, ms: the 30 ms jitter of
/// the same targets.
pub const NOTICEABLE_MAX_MS: f64 = 30.0;
/// Mean queueing delay worth mentioning beside a link's drops, ms.
const QUEUE_WORTH_SAYING_MS: f64 = 1.0;

/// The packets the network follows for attribution: the calls' audio RTP.
pub(crate) fn is_stream_packet(d: &Datagram<Wire>) -> bool {
    matches!(&d.payload, Wire::Media(b) if super::is_audio_rtp(crate::agent::relay::unwrap_turn(b)))
}

/// Fills `links` and `fault` of every stream of `calls` (the calls that were placed, in
/// order) from what the network followed.
pub(crate) fn attribute(sim: &Sim, s: &Scenario, calls: &mut [CallReport]) {
    let flows = sim.net.watched_flows();
    let placed = sim.calls.iter().filter_map(|c| c.legs);
    for (call, (caller_leg, callee_leg)) in calls.iter_mut().zip(placed) {
        for st in &mut call.streams {
            let leg = if st.from == call.caller {
                caller_leg
            } else {
                callee_leg
            };
            let mut merged: Vec<FlowLinkStats> = Vec::new();
            // The leg's own address, and its relayed address when its media went through the
            // relay (the relay's flow towards the far end comes from there).
            let relayed: Vec<_> = sim.legs[leg]
                .candidates()
                .iter()
                .filter(|c| c.kind == crate::agent::gather::CandidateKind::Relay)
                .filter_map(|c| c.addr)
                .collect();
            for f in &flows {
                if sim.leg_by_addr.get(&f.src) != Some(&leg) && !relayed.contains(&f.src) {
                    continue;
                }
                for l in &f.links {
                    match merged.iter_mut().find(|m| m.link == l.link) {
                        Some(m) => add(m, l),
                        None => merged.push(l.clone()),
                    }
                }
            }
            merged.sort_by_key(|m| m.hop);
            st.links = merged.iter().map(link_report).collect();
            st.fault = verdict(sim, s, &st.from, &st.to, &st.links)
                .or_else(|| tunnel_verdict(sim, &st.from, &st.to));
        }
    }
}

/// When nothing on the path dropped or delayed a stream noticeably but one of its ends is on
/// a VPN tunnel over TCP that held packets up (its links carry the tunnel's segments, not the
/// stream's packets), the tunnel.
fn tunnel_verdict(sim: &Sim, from: &str, to: &str) -> Option<String> {
    let t = super::tunnel::tunnel_reports(sim)
        .into_iter()
        .find(|t| t.participant == from || t.participant == to)?;
    if t.transit_max_ms < NOTICEABLE_MAX_MS && t.retransmitted_segments == 0 {
        return None;
    }
    Some(format!(
        "{}'s VPN tunnel over TCP: no packets lost, but they spent {} ms inside it on average, up \
         to {} ms (waiting behind lost segments: {} TCP segments sent again)",
        t.participant,
        ms(t.transit_mean_ms),
        ms(t.transit_max_ms),
        t.retransmitted_segments
    ))
}

fn add(m: &mut FlowLinkStats, l: &FlowLinkStats) {
    m.hop = m.hop.min(l.hop);
    m.packets_in += l.packets_in;
    m.delivered += l.delivered;
    for (a, b) in m.dropped.iter_mut().zip(l.dropped) {
        *a += b;
    }
    m.accepted += l.accepted;
    m.queue_wait_total += l.queue_wait_total;
    m.queue_wait_max = m.queue_wait_max.max(l.queue_wait_max);
    m.added_delay_total += l.added_delay_total;
    m.added_delay_max = m.added_delay_max.max(l.added_delay_max);
    m.delay_variation_total += l.delay_variation_total;
    m.delay_variation_count += l.delay_variation_count;
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

/// `total` ns over `n`, in ms (0 for none).
fn mean_ms(total: u64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        round(total as f64 / n as f64 / 1e6, 3)
    }
}

fn link_report(m: &FlowLinkStats) -> StreamLinkReport {
    let dropped = m.total_dropped();
    StreamLinkReport {
        link: m.link.clone(),
        packets_in: m.packets_in,
        delivered: m.delivered,
        dropped: DropReason::ALL
            .iter()
            .zip(m.dropped)
            .filter(|(_, n)| *n > 0)
            .map(|(r, n)| (r.as_str().to_owned(), n))
            .collect::<BTreeMap<_, _>>(),
        dropped_pct: if m.packets_in == 0 {
            0.0
        } else {
            round(dropped as f64 * 100.0 / m.packets_in as f64, 3)
        },
        queue_delay_mean_ms: mean_ms(m.queue_wait_total, m.accepted),
        queue_delay_max_ms: mean_ms(m.queue_wait_max, 1),
        added_delay_mean_ms: mean_ms(m.added_delay_total, m.delivered),
        added_delay_max_ms: mean_ms(m.added_delay_max, 1),
        delay_variation_ms: mean_ms(m.delay_variation_total, m.delay_variation_count),
    }
}

/// The one-line verdict for the stream `from` -> `to` (see the module docs).
fn verdict(
    sim: &Sim,
    s: &Scenario,
    from: &str,
    to: &str,
    links: &[StreamLinkReport],
) -> Option<String> {
    let drops = |l: &StreamLinkReport| l.dropped.values().sum::<u64>();
    // The first link on the path among those that dropped most.
    let worst = links
        .iter()
        .rev()
        .max_by_key(|l| drops(l))
        .filter(|l| drops(l) > 0);
    if let Some(l) = worst {
        let mut reasons: Vec<(&String, &u64)> = l.dropped.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let why = if reasons.len() == 1 {
            reason_words(sim, &l.link, reasons[0].0)
        } else {
            reasons
                .iter()
                .map(|(r, n)| format!("{n} {}", reason_words(sim, &l.link, r)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut text = format!(
            "{}: {} % of packets dropped ({why})",
            place(s, &l.link, from, to),
            pct(l.dropped_pct)
        );
        if l.queue_delay_mean_ms >= QUEUE_WORTH_SAYING_MS {
            text.push_str(&format!(
                "; queueing added {} ms on average, up to {} ms",
                ms(l.queue_delay_mean_ms),
                ms(l.queue_delay_max_ms)
            ));
        }
        // Other links that dropped a good share too (a quarter of the worst's count or more).
        for other in links
            .iter()
            .filter(|o| o.link != l.link && drops(o) > 0 && drops(o) * 4 >= drops(l))
        {
            text.push_str(&format!(
                "; also {}: {} % dropped",
                other.link,
                pct(other.dropped_pct)
            ));
        }
        return Some(text);
    }
    let slow = links
        .iter()
        .rev()
        .max_by(|a, b| a.added_delay_mean_ms.total_cmp(&b.added_delay_mean_ms))
        .filter(|l| {
            l.added_delay_mean_ms >= NOTICEABLE_MEAN_MS || l.added_delay_max_ms >= NOTICEABLE_MAX_MS
        })?;
    let tunnel = sim
        .net
        .link(&slow.link)
        .is_some_and(|l| l.config().encapsulation == Some(Encapsulation::Tcp));
    let how = if tunnel {
        " (retransmissions inside the TCP tunnel)"
    } else if slow.queue_delay_mean_ms * 2.0 >= slow.added_delay_mean_ms {
        " (mostly waiting in its queue)"
    } else {
        ""
    };
    Some(format!(
        "{}: no packets dropped, but it added {} ms of delay on average, up to {} ms{how}",
        place(s, &slow.link, from, to),
        ms(slow.added_delay_mean_ms),
        ms(slow.added_delay_max_ms)
    ))
}

/// A percentage for people: one decimal, two under 1 %.
fn pct(v: f64) -> String {
    if v < 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

/// Milliseconds for people: whole above 10, one decimal below.
fn ms(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A link in plain words, with its name and whose side of the call it is on:
/// "bob's uplink (bob.up, bob's side, the far end for alice)".
fn place(s: &Scenario, link: &str, from: &str, to: &str) -> String {
    let site_of = |who: &str| {
        s.participants
            .iter()
            .find(|p| p.name == who)
            .map(|p| p.site.as_str())
    };
    let (words, owner) = if let Some(rest) = link.strip_prefix("site:") {
        let (site, dir) = split_dir(rest);
        let owner = [from, to].into_iter().find(|p| site_of(p) == Some(site));
        (format!("site {site}'s shared {dir}"), owner)
    } else if let Some(rest) = link.strip_prefix("core:") {
        let (a, b) = rest.split_once("->").unwrap_or((rest, "?"));
        (format!("the core path from {a} to {b}"), None)
    } else {
        let (host, dir) = split_dir(link);
        let owner = [from, to].into_iter().find(|p| *p == host);
        (format!("{host}'s {dir}"), owner)
    };
    let side = match owner {
        Some(o) if o == from => format!("{from}'s side, the far end for {to}"),
        Some(_) => format!("{to}'s own side"),
        None => "between the sites".to_string(),
    };
    format!("{words} ({link}, {side})")
}

/// "bob.up" -> ("bob", "uplink").
fn split_dir(name: &str) -> (&str, &'static str) {
    if let Some(h) = name.strip_suffix(".up") {
        (h, "uplink")
    } else if let Some(h) = name.strip_suffix(".down") {
        (h, "downlink")
    } else {
        (name, "link")
    }
}

/// A drop reason in plain words; loss says which kind the link's loss model makes.
fn reason_words(sim: &Sim, link: &str, reason: &str) -> String {
    let loss = || match sim.net.link(link).and_then(|l| l.config().loss.as_ref()) {
        Some(LossConfig::Random { correlation, .. }) if correlation.percent() == 0.0 => {
            "random loss"
        }
        Some(_) => "bursty loss",
        None => "loss on the wire",
    };
    match reason {
        "loss" => loss(),
        "queue" => "queue full",
        "codel" => "dropped by CoDel",
        "mtu" => "over the MTU",
        "outage" => "link down",
        "firewall" => "blocked by a firewall",
        "address-changed" => "sent to an old address",
        "no-route" => "no route",
        "corrupt" => "corrupted",
        "private-address" => "sent to a private address behind a NAT",
        "nat-no-mapping" => "no NAT mapping for it",
        "nat-filtered" => "refused by a NAT's filter",
        "nat-hairpin" => "NAT without hairpinning",
        other => other,
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::{ms, pct, split_dir};

    #[test]
    fn numbers_and_names_read_plainly() {
        assert_eq!(
            (pct(5.361), pct(0.4567)),
            ("5.4".to_string(), "0.46".to_string())
        );
        assert_eq!(
            (ms(812.6), ms(2.04)),
            ("813".to_string(), "2.0".to_string())
        );
        assert_eq!(split_dir("bob.up"), ("bob", "uplink"));
        assert_eq!(split_dir("home.down"), ("home", "downlink"));
    }
}
