//! The network's own services in a scenario's section: the edge's relay (allocations by
//! transport), the participants' VPN tunnels over TCP, and what TCP cross-traffic achieved.
//! Each part appears only when the run had it.

use super::esc;
use crate::report::model::{ScenarioReport, TcpFlowReport};
use crate::report::summary::num;
use std::fmt::Write as _;

pub(super) fn write_network(h: &mut String, s: &ScenarioReport) {
    let tcp_flows: Vec<(&str, &str, &TcpFlowReport)> = s
        .links
        .iter()
        .flat_map(|l| {
            l.cross_traffic.iter().filter_map(move |f| {
                f.tcp
                    .as_ref()
                    .map(|t| (l.link.as_str(), f.flow.as_str(), t))
            })
        })
        .collect();
    if s.edge.is_none() && s.tunnels.is_empty() && tcp_flows.is_empty() {
        return;
    }
    h.push_str("<h3>Relay, tunnels and TCP traffic</h3>");
    if let Some(e) = &s.edge {
        let _ = write!(
            h,
            r#"<p class="caption">The edge's TURN relay: <b>{}</b> allocations over UDP, <b>{}</b> over TCP, <b>{}</b> over TLS; {} ended (released or expired), {} still held at the end.</p>"#,
            e.allocations_udp,
            e.allocations_tcp,
            e.allocations_tls,
            e.allocations_ended,
            e.allocations_active
        );
    }
    if !s.tunnels.is_empty() {
        h.push_str(
            r#"<div class="tablewrap"><table><thead><tr><th>VPN tunnel</th><th>kind</th><th>gateway</th><th class="num">connects</th><th class="num">up in → out</th><th class="num">down in → out</th><th class="num">dropped</th><th class="num">TCP segments sent again</th><th class="num">time inside, mean / max</th></tr></thead><tbody>"#,
        );
        for t in &s.tunnels {
            let _ = write!(
                h,
                r#"<tr><td>{}</td><td class="mono">{}</td><td class="mono">{}</td><td class="num">{}</td><td class="num">{} → {}</td><td class="num">{} → {}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{} / {} ms</td></tr>"#,
                esc(&t.participant),
                esc(&t.kind),
                esc(&t.gateway),
                t.connects,
                t.up_in,
                t.up_out,
                t.down_in,
                t.down_out,
                t.dropped_full + t.dropped_broken,
                t.retransmitted_segments,
                num(t.transit_mean_ms, 1),
                num(t.transit_max_ms, 1)
            );
        }
        h.push_str("</tbody></table></div>");
    }
    if !tcp_flows.is_empty() {
        h.push_str(
            r#"<div class="tablewrap"><table><thead><tr><th>TCP cross-traffic</th><th>link</th><th>direction</th><th class="num">goodput</th><th class="num">segments sent again</th><th class="num">timeouts</th><th class="num">RTT min / smoothed at end</th></tr></thead><tbody>"#,
        );
        for (link, flow, t) in tcp_flows {
            let ms = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{} ms", num(v, 1)));
            let _ = write!(
                h,
                r#"<tr><td>{}</td><td class="mono">{}</td><td>{}</td><td class="num">{} kbit/s</td><td class="num">{}</td><td class="num">{}</td><td class="num">{} / {}</td></tr>"#,
                esc(flow),
                esc(link),
                esc(&t.direction),
                num(t.goodput_kbps, 0),
                t.retransmitted_segments,
                t.rtos,
                ms(t.rtt_min_ms),
                ms(t.srtt_ms)
            );
        }
        h.push_str("</tbody></table></div>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::sample_run;
    use crate::report::model::{CrossTrafficReport, EdgeReport, TunnelReport};

    #[test]
    fn shows_the_relay_the_tunnels_and_tcp_flows_only_when_the_run_had_them() {
        let mut s = sample_run().scenarios[0].clone();
        s.edge = None;
        s.tunnels.clear();
        for l in &mut s.links {
            l.cross_traffic.clear();
        }
        let mut h = String::new();
        write_network(&mut h, &s);
        assert!(h.is_empty(), "{h}");

        s.edge = Some(EdgeReport {
            allocations_udp: 2,
            allocations_tcp: 1,
            allocations_tls: 3,
            allocations_ended: 4,
            allocations_active: 2,
        });
        s.tunnels.push(TunnelReport {
            participant: "alice<".into(),
            kind: "tls-tcp".into(),
            gateway: "10.251.0.1".into(),
            connects: 1,
            up_in: 10,
            up_out: 9,
            down_in: 8,
            down_out: 8,
            dropped_full: 0,
            dropped_broken: 1,
            retransmitted_segments: 5,
            transit_mean_ms: 22.26,
            transit_max_ms: 140.0,
        });
        s.links[0].cross_traffic.push(CrossTrafficReport {
            flow: "download".into(),
            tcp: Some(TcpFlowReport {
                direction: "down".into(),
                goodput_kbps: 12_345.4,
                retransmitted_segments: 7,
                rtos: 2,
                rtt_min_ms: Some(27.0),
                srtt_ms: Some(250.5),
                ..TcpFlowReport::default()
            }),
            ..CrossTrafficReport::default()
        });
        write_network(&mut h, &s);
        assert!(
            h.contains("<b>2</b> allocations over UDP, <b>1</b> over TCP, <b>3</b> over TLS"),
            "{h}"
        );
        assert!(h.contains("<td>alice&lt;</td>"), "names are escaped: {h}");
        assert!(h.contains("10 → 9") && h.contains("22.3 / 140.0 ms"), "{h}");
        assert!(
            h.contains("12345 kbit/s") && h.contains("27.0 ms / 250.5 ms"),
            "{h}"
        );
    }
}
