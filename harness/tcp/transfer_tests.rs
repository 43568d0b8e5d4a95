//! Transfers through the emulator: every byte in order over loss, goodput against the link's
//! capacity (and its collapse without congestion control), head-of-line blocking.

use super::testbed::TcpTestbed;
use super::tests::{pair, server_addr, MS, S};
use super::*;
use crate::net::rng::splitmix64;
use crate::net::HostId;

/// The pattern the client sends: 1 MiB of fixed pseudo-random bytes, repeated.
const PATTERN: usize = 1 << 20;

fn pattern() -> Vec<u8> {
    (0..2 * PATTERN)
        .map(|i| (splitmix64((i % PATTERN) as u64 / 8) >> (8 * (i % 8))) as u8)
        .collect()
}

/// What a bulk transfer did.
pub(super) struct Bulk {
    /// Every byte arrived, in order, and nothing else.
    pub complete: bool,
    /// Bytes the server read, all in order.
    pub received: usize,
    pub connected_at: u64,
    pub client: ConnStats,
}

/// The client sends `total` bytes of the pattern to the server (listening on 443) as fast
/// as its send buffer takes them; the server checks each byte as it reads.
pub(super) fn bulk(
    bed: &mut TcpTestbed,
    client: HostId,
    server: HostId,
    total: usize,
    opts: TcpOptions,
) -> Bulk {
    bulk_with(bed, client, server, total, opts, false, 600 * S)
}

/// [`bulk`], optionally without congestion control, stopping at `until` (ns) if not done.
fn bulk_with(
    bed: &mut TcpTestbed,
    client: HostId,
    server: HostId,
    total: usize,
    opts: TcpOptions,
    no_congestion_control: bool,
    until: u64,
) -> Bulk {
    let data = pattern();
    bed.stack(server).listen_with(443, opts).unwrap();
    let conn = bed
        .stack(client)
        .connect(0, 0, server_addr(443), opts)
        .unwrap();
    if no_congestion_control {
        bed.stack(client).disable_congestion_control(conn);
    }
    let (mut sent, mut got, mut in_order) = (0, 0, true);
    let mut connected_at = 0;
    let mut buf = Vec::new();
    bed.run_until(until, |stack, _, now, e| match e {
        TcpEvent::Connected(c) | TcpEvent::Writable(c) => {
            if let TcpEvent::Connected(_) = e {
                connected_at = now;
            }
            while sent < total {
                let from = sent % PATTERN;
                let n = stack.send(c, &data[from..from + PATTERN.min(total - sent)]);
                if n == 0 {
                    break;
                }
                sent += n;
            }
        }
        TcpEvent::Readable(c) => {
            buf.clear();
            stack.recv(c, &mut buf);
            let from = got % PATTERN;
            in_order &= got + buf.len() <= total
                && buf.chunks(PATTERN).enumerate().all(|(i, b)| {
                    let at = (from + i * PATTERN) % PATTERN;
                    *b == data[at..at + b.len()]
                });
            got += buf.len();
        }
        _ => {}
    });
    Bulk {
        complete: in_order && got == total,
        received: if in_order { got } else { 0 },
        connected_at,
        client: bed.stack(client).stats(conn).unwrap(),
    }
}

#[test]
fn tcp_lossy_link_delivers_every_byte_in_order() {
    let access = "both: { delay: 20ms, loss: { random: { rate: 2% } } }";
    let (mut bed, client, server) = pair(access, "", 21);
    let r = bulk(&mut bed, client, server, 1_000_000, TcpOptions::default());
    assert!(r.complete, "{:?}", r.client);
    // 2 % of ~700 data segments lost one way, 2 % of the ACKs the other: retransmissions
    // must have happened, and some by timeout (smoltcp's recovery is weak).
    assert!(r.client.retransmitted_segments >= 5, "{:?}", r.client);
    assert!(r.client.rtos >= 1, "{:?}", r.client);
    assert_eq!(r.client.bytes_acked, 1_000_000);
}

/// Goodput of a transfer over 10 Mbit/s, 20 ms one way, from the handshake to 20 s, with
/// 1 MiB socket buffers, as a share of the payload the link can carry (1460 bytes of every
/// 1500 on the wire; the ACKs go the other way).
///
/// The bottleneck queue holds 100 packets under CoDel (RFC 8289, as in home routers'
/// fq_codel): it drops single packets early, which smoltcp's fast retransmit repairs. Under
/// drop-tail smoltcp does worse than a kernel would: each overflow drops many packets of one
/// window, and without SACK or NewReno that ends in an RTO of at least 1 s (measured: ~75 %
/// of a 50-packet drop-tail link over 40 s, 98 % between overflows).
fn goodput_share(no_congestion_control: bool) -> (f64, Bulk) {
    let access = "both: { delay: 20ms }, up: { rate: 10Mbit, queue: 100pkt, aqm: codel }";
    let (mut bed, client, server) = pair(access, "", 31);
    let opts = TcpOptions {
        send_buffer: 1 << 20,
        recv_buffer: 1 << 20,
        ..TcpOptions::default()
    };
    let end = 20 * S;
    let r = bulk_with(
        &mut bed,
        client,
        server,
        usize::MAX,
        opts,
        no_congestion_control,
        end,
    );
    let secs = (end - r.connected_at) as f64 / S as f64;
    let capacity = 10e6 * 1460.0 / 1500.0;
    let share = (r.received as f64 * 8.0 / secs) / capacity;
    println!(
        "goodput {:.1} % of the link (congestion control off: {no_congestion_control})",
        share * 100.0
    );
    (share, r)
}

#[test]
fn tcp_goodput_fills_a_rate_limited_link() {
    // A window of 1 MiB is ~8 times the path's bandwidth-delay product plus its queue (50 kB
    // + 150 kB): only congestion control keeps the sender near the link's rate. Slow start
    // costs part of the first second (the share counts it).
    let (share, r) = goodput_share(false);
    assert!(
        share > 0.9,
        "goodput {:.1} % of the link: {:?}",
        share * 100.0,
        r.client
    );
    assert!(share <= 1.0, "faster than the link: {share}");
}

#[test]
fn tcp_goodput_collapses_without_congestion_control() {
    // The same transfer with smoltcp's congestion control off (what a build without the
    // `socket-tcp-cubic` feature does): every window overflows the queue, and each overflow
    // ends in an RTO and a go-back-N resend of the whole window, which overflows again.
    let (share, r) = goodput_share(true);
    assert!(
        share < 0.2,
        "goodput {:.1} % of the link: {:?}",
        share * 100.0,
        r.client
    );
    assert!(r.client.rtos >= 3, "{:?}", r.client);
}

#[test]
fn tcp_head_of_line_blocking_gives_small_messages_a_long_tail() {
    // 100-byte messages every 20 ms for 60 s, 20 ms one way, 2 % loss each way, Nagle off.
    // A lost segment holds back every later message until it is resent: at best by fast
    // retransmit, when the third duplicate ACK is back (the next three messages sent 20, 40,
    // 60 ms later, their ACKs back 40 ms after that): the lost message arrives ~120 ms late,
    // the next ones ~100, 80, 60, 40 ms. So each of the ~2 % of messages lost, and as many
    // again right behind them, wait at least 100 ms (5 times the one-way delay): p99 is at
    // least that, and more when a resend is lost too or recovery needs an RTO (>= 1 s;
    // measured p99 of 120-920 ms over seeds). The median message sees only the path.
    let access = "both: { delay: 20ms, loss: { random: { rate: 2% } } }";
    let (mut bed, client, server) = pair(access, "", 41);
    bed.stack(server).listen(443).unwrap();
    let opts = TcpOptions::default();
    let conn = bed
        .stack(client)
        .connect(0, 0, server_addr(443), opts)
        .unwrap();
    bed.run_until(S, |_, _, _, _| {});
    let (mut stream, mut delays) = (Vec::new(), Vec::new());
    let mut on_event = |stack: &mut TcpHost, _, now: u64, e| {
        if let TcpEvent::Readable(c) = e {
            stack.recv(c, &mut stream);
            let whole = stream.len() / 100 * 100;
            for m in stream[..whole].chunks(100) {
                let sent = u64::from_be_bytes(m[..8].try_into().unwrap());
                delays.push(now - sent);
            }
            stream.drain(..whole);
        }
    };
    for i in 0..3000u64 {
        let at = S + i * 20 * MS;
        bed.run_until(at, &mut on_event);
        let mut msg = [0u8; 100];
        msg[..8].copy_from_slice(&at.to_be_bytes());
        assert_eq!(bed.stack(client).send(conn, &msg), 100);
    }
    bed.run_until(S + 3000 * 20 * MS + 30 * S, &mut on_event);
    assert_eq!(delays.len(), 3000);
    delays.sort();
    let p = |q: f64| delays[((delays.len() - 1) as f64 * q) as usize] as f64 / MS as f64;
    let (p50, p99) = (p(0.5), p(0.99));
    assert!(p50 < 25.0, "p50 {p50} ms");
    assert!(p99 >= 100.0, "p99 {p99} ms: no head-of-line blocking?");
}
