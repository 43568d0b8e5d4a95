//! The TCP hosts over the emulator: handshakes, refusals, timeouts, closes, NAT, ports,
//! several clients, determinism. Transfers are in `transfer_tests.rs`.

use super::testbed::TcpTestbed;
use super::*;
use crate::net::{HostId, NetworkConfig};
use std::net::SocketAddrV4;

pub(super) const MS: u64 = 1_000_000;
pub(super) const S: u64 = 1_000 * MS;

/// A testbed from YAML: `client` (10.0.0.2) behind `access`, `server` (10.0.0.3) on an ideal
/// link, with the server's firewall rules `fw`.
pub(super) fn pair(access: &str, fw: &str, seed: u64) -> (TcpTestbed, HostId, HostId) {
    let yaml = format!(
        "sites: [{{ name: lan }}]\nhosts:\n  - {{ name: client, site: lan, addr: 10.0.0.2, \
         access: {{ name: path, {access} }} }}\n  - {{ name: server, site: lan, addr: 10.0.0.3, \
         firewall: [{fw}] }}\n"
    );
    let cfg: NetworkConfig = serde_yaml::from_str(&yaml).expect("test network");
    let bed = TcpTestbed::new(&cfg, seed, 1500).expect("testbed");
    let (c, s) = (
        bed.host_id("client").unwrap(),
        bed.host_id("server").unwrap(),
    );
    (bed, c, s)
}

pub(super) fn server_addr(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new("10.0.0.3".parse().unwrap(), port)
}

/// Every event until `until`, with its host and time.
fn events(bed: &mut TcpTestbed, until: u64) -> Vec<(HostId, u64, TcpEvent)> {
    let mut got = Vec::new();
    bed.run_until(until, |_, h, now, e| got.push((h, now, e)));
    got
}

#[test]
fn tcp_handshake_connects_both_ends_after_one_round_trip() {
    let (mut bed, client, server) = pair("both: { delay: 20ms }", "", 1);
    let l = bed.stack(server).listen(443).unwrap();
    let opts = TcpOptions::default();
    let conn = bed
        .stack(client)
        .connect(0, 0, server_addr(443), opts)
        .unwrap();
    let got = events(&mut bed, 2 * S);
    assert_eq!(got[0], (client, 40 * MS, TcpEvent::Connected(conn)));
    let (
        h,
        at,
        TcpEvent::Accepted {
            listener, remote, ..
        },
    ) = got[1]
    else {
        panic!("{got:?}")
    };
    assert_eq!((h, listener, remote.port()), (server, l, 49152));
    assert!(
        at >= 60 * MS,
        "the client's ACK arrives 20 ms after it leaves: {at}"
    );
    let st = bed.stack(client).stats(conn).unwrap();
    assert_eq!(
        (st.connected_at, st.rtt_min),
        (Some(40 * MS), Some(40 * MS))
    );
    assert_eq!(bed.stack(client).state(conn), TcpState::Established);
}

#[test]
fn tcp_firewall_reset_refuses_the_connection_after_a_round_trip() {
    let fw = "{ action: block, proto: tcp, ports: \"443\", direction: in, tcp_block: reset }";
    let (mut bed, client, _) = pair("both: { delay: 20ms }", fw, 2);
    let opts = TcpOptions::default();
    let conn = bed
        .stack(client)
        .connect(0, 0, server_addr(443), opts)
        .unwrap();
    let got = events(&mut bed, 10 * S);
    assert_eq!(got, vec![(client, 40 * MS, TcpEvent::Refused(conn))]);
    let st = bed.stack(client).stats(conn).unwrap();
    assert_eq!(st.ended, Some((40 * MS, TcpEnd::Refused)));
    assert_eq!(bed.stack(client).state(conn), TcpState::Closed);
}

#[test]
fn tcp_closed_port_answers_with_a_real_rst() {
    let (mut bed, client, server) = pair("both: { delay: 20ms }", "", 3);
    bed.stack(server).listen(443).unwrap();
    let opts = TcpOptions::default();
    let conn = bed
        .stack(client)
        .connect(0, 0, server_addr(80), opts)
        .unwrap();
    assert_eq!(
        events(&mut bed, 10 * S),
        vec![(client, 40 * MS, TcpEvent::Refused(conn))]
    );
}

#[test]
fn tcp_dropped_syn_times_out_after_the_option() {
    let fw = "{ action: block, proto: tcp, ports: \"443\", direction: in }";
    let (mut bed, client, _) = pair("both: { delay: 20ms }", fw, 4);
    let opts = TcpOptions {
        timeout: Some(5 * S),
        ..TcpOptions::default()
    };
    let conn = bed
        .stack(client)
        .connect(0, 0, server_addr(443), opts)
        .unwrap();
    let got = events(&mut bed, 60 * S);
    assert_eq!(got, vec![(client, 5 * S, TcpEvent::TimedOut(conn))]);
    // SYNs at 0, 1 s and 3 s (RTO 1 s, doubled), then the RST that gives up.
    let st = bed.stack(client).stats(conn).unwrap();
    assert_eq!(
        (st.segments_sent, st.retransmitted_segments, st.rtos),
        (4, 2, 2)
    );
}

#[test]
fn tcp_abort_resets_the_peer_and_close_ends_both_cleanly() {
    let (mut bed, client, server) = pair("both: { delay: 10ms }", "", 5);
    bed.stack(server).listen(443).unwrap();
    let opts = TcpOptions::default();
    let a = bed
        .stack(client)
        .connect(0, 0, server_addr(443), opts)
        .unwrap();
    let b = bed
        .stack(client)
        .connect(0, 0, server_addr(443), opts)
        .unwrap();
    bed.run_until(S, |_, _, _, _| {});
    bed.stack(client).abort(a, S);
    bed.stack(client).close(b, S);
    let got = events(&mut bed, 30 * S);
    let server_events: Vec<_> = got.iter().filter(|e| e.0 == server).map(|e| e.2).collect();
    assert!(matches!(server_events[0], TcpEvent::Reset(_)), "{got:?}");
    assert!(
        matches!(server_events[1], TcpEvent::PeerClosed(_)),
        "{got:?}"
    );
    // The server closes its half when told the client closed.
    let sb = match server_events[1] {
        TcpEvent::PeerClosed(c) => c,
        _ => unreachable!(),
    };
    let now = bed.now();
    bed.stack(server).close(sb, now);
    let got = events(&mut bed, 60 * S);
    assert!(
        got.contains(&(server, 30 * S + 20 * MS, TcpEvent::Closed(sb))),
        "{got:?}"
    );
    assert!(got.iter().any(|e| e.2 == TcpEvent::Closed(b)), "{got:?}");
    let c = bed.stack(client);
    assert_eq!(
        (c.state(a), c.stats(a).unwrap().ended.unwrap().1),
        (TcpState::Closed, TcpEnd::Aborted)
    );
    assert_eq!(c.stats(b).unwrap().ended.unwrap().1, TcpEnd::Closed);
    // Everything is over (TIME-WAIT lasts 10 s): neither stack needs polling until a packet
    // comes, however many idle hosts a simulation has.
    let now = 60 * S;
    assert_eq!(
        (c.poll_at(now), bed.stack(server).poll_at(now)),
        (None, None)
    );
}

#[test]
fn tcp_addresses_rewritten_by_a_nat_win_over_the_bytes() {
    // The client 10.0.0.2 is seen by the server as 192.0.2.1:6000 (a NAT on the path).
    let mut client = TcpHost::new("10.0.0.2".parse().unwrap(), 1, 1500).unwrap();
    let mut server = TcpHost::new("10.0.0.3".parse().unwrap(), 2, 1500).unwrap();
    server.listen(443).unwrap();
    let conn = client
        .connect(0, 5000, server_addr(443), TcpOptions::default())
        .unwrap();
    client.send(conn, b"early"); // refused: not connected yet
    let (public, private): (SocketAddrV4, SocketAddrV4) = (
        "192.0.2.1:6000".parse().unwrap(),
        "10.0.0.2:5000".parse().unwrap(),
    );
    let mut got = Vec::new();
    for step in 0..6u64 {
        let now = step * 10 * MS;
        client.poll(now);
        while let Some(p) = client.poll_transmit() {
            assert_eq!(p.src, private);
            server.handle_packet(now, public, p.dst, &p.bytes);
        }
        server.poll(now);
        while let Some(p) = server.poll_transmit() {
            assert_eq!(p.dst, public);
            client.handle_packet(now, p.src, private, &p.bytes);
        }
        while let Some(e) = client.poll_event() {
            if e == TcpEvent::Connected(conn) {
                assert_eq!(client.send(conn, b"through the nat"), 15);
            }
        }
        while let Some(e) = server.poll_event() {
            match e {
                TcpEvent::Accepted { remote, .. } => assert_eq!(remote, public),
                TcpEvent::Readable(c) => _ = server.recv(c, &mut got),
                _ => {}
            }
        }
    }
    assert_eq!(got, b"through the nat");
    assert_eq!(server.malformed(), 0);
}

#[test]
fn tcp_ephemeral_ports_are_handed_out_in_order_and_skip_used_ones() {
    let mut h = TcpHost::new("10.0.0.2".parse().unwrap(), 1, 1500).unwrap();
    h.listen(49153).unwrap();
    let opts = TcpOptions::default();
    let a = h.connect(0, 0, server_addr(443), opts).unwrap();
    let b = h.connect(0, 0, server_addr(443), opts).unwrap();
    let remote = |h: &TcpHost, c| h.conns[c as usize].local_port;
    assert_eq!((remote(&h, a.0), remote(&h, b.0)), (49152, 49154));
    assert_eq!(
        h.connect(0, 49154, server_addr(443), opts),
        Err(TcpError::PortInUse {
            addr: h.addr(),
            port: 49154
        })
    );
    assert_eq!(
        h.listen(49153),
        Err(TcpError::PortInUse {
            addr: h.addr(),
            port: 49153
        })
    );
    let huge = TcpOptions {
        recv_buffer: 2 << 30,
        ..opts
    };
    assert!(matches!(
        h.connect(0, 0, server_addr(443), huge),
        Err(TcpError::BufferSize { .. })
    ));
    assert_eq!(TcpHost::new(h.addr(), 1, 60).err(), Some(TcpError::Mtu(60)));
}

#[test]
fn tcp_twenty_clients_to_one_port_are_all_accepted() {
    let mut yaml = String::from("sites: [{ name: lan }]\nhosts:\n");
    yaml += "  - { name: server, site: lan, addr: 10.0.1.1 }\n";
    for i in 0..20 {
        yaml += &format!(
            "  - {{ name: c{i}, site: lan, addr: 10.0.0.{}, access: {{ name: a, both: {{ delay: {}ms }} }} }}\n",
            i + 2,
            5 + i % 3
        );
    }
    let cfg: NetworkConfig = serde_yaml::from_str(&yaml).unwrap();
    let mut bed = TcpTestbed::new(&cfg, 9, 1500).unwrap();
    let server = bed.host_id("server").unwrap();
    let l = bed.stack(server).listen(443).unwrap();
    let to = "10.0.1.1:443".parse().unwrap();
    for i in 0..20 {
        let c = bed.host_id(&format!("c{i}")).unwrap();
        bed.stack(c)
            .connect(0, 0, to, TcpOptions::default())
            .unwrap();
    }
    let mut accepted = Vec::new();
    let mut connected = 0;
    let mut heard = Vec::new();
    bed.run_until(5 * S, |stack, h, _, e| match e {
        TcpEvent::Connected(c) => {
            connected += 1;
            stack.send(c, stack.addr().to_string().as_bytes());
        }
        TcpEvent::Accepted {
            listener, remote, ..
        } => {
            assert_eq!((h, listener), (server, l));
            accepted.push(remote);
        }
        TcpEvent::Readable(c) => {
            let mut b = Vec::new();
            stack.recv(c, &mut b);
            assert_eq!(stack.remote(c).unwrap().ip().to_string().as_bytes(), &b[..]);
            heard.push(c);
        }
        _ => {}
    });
    accepted.sort();
    accepted.dedup();
    assert_eq!((accepted.len(), connected, heard.len()), (20, 20, 20));
}

/// The hash of every packet of a lossy 200 kB transfer, seeded with `seed`.
fn transfer_trace(seed: u64) -> u64 {
    let access = "both: { delay: 20ms, loss: { random: { rate: 2% } } }";
    let (mut bed, client, server) = pair(access, "", seed);
    bed.record_trace();
    let r = super::transfer_tests::bulk(&mut bed, client, server, 200_000, TcpOptions::default());
    assert!(r.complete);
    bed.trace_hash().unwrap()
}

#[test]
fn tcp_runs_repeat_exactly_for_a_seed() {
    assert_eq!(transfer_trace(11), transfer_trace(11));
    assert_ne!(transfer_trace(11), transfer_trace(12));
}
