//! TCP bulk transfer through the emulator: smoltcp stacks on two hosts ([`TcpTestbed`]),
//! one sending as fast as its congestion window lets it, the other reading everything.
//! Criterion's elements/s are packets per wall second (every IP packet the stacks send, data
//! and ACKs, each through the emulator and into the other stack); after each group the
//! simulated goodput per wall second is printed in Mbit/s.
//! - `tcp_bulk_10mbit`: 10 Mbit/s, 20 ms one way, CoDel queue of 100 packets;
//! - `tcp_bulk_100mbit`: 100 Mbit/s, 5 ms one way, CoDel queue of 1000 packets.
//!
//! Each iteration runs one more simulated second of the same transfer.

use callharness::net::NetworkConfig;
use callharness::tcp::testbed::TcpTestbed;
use callharness::tcp::{ConnId, TcpEvent, TcpHost, TcpOptions};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::Instant;

const S: u64 = 1_000_000_000;

/// A transfer in progress: the testbed, the client's connection, bytes the server read.
struct Bulk {
    bed: TcpTestbed,
    conn: ConnId,
    data: Vec<u8>,
    read: u64,
    buf: Vec<u8>,
}

impl Bulk {
    fn new(link: &str) -> Bulk {
        let yaml = format!(
            "sites: [{{ name: lan }}]\nhosts:\n  - {{ name: client, site: lan, addr: 10.0.0.2, \
             access: {{ name: path, {link} }} }}\n  - {{ name: server, site: lan, addr: 10.0.0.3 }}\n"
        );
        let cfg: NetworkConfig = serde_yaml::from_str(&yaml).expect("benchmark network");
        let mut bed = TcpTestbed::new(&cfg, 42, 1500).expect("benchmark testbed");
        let (client, server) = (
            bed.host_id("client").unwrap(),
            bed.host_id("server").unwrap(),
        );
        let opts = TcpOptions {
            send_buffer: 1 << 20,
            recv_buffer: 1 << 20,
            ..TcpOptions::default()
        };
        bed.stack(server).listen_with(443, opts).expect("listen");
        let to = "10.0.0.3:443".parse().expect("addr");
        let conn = bed.stack(client).connect(0, 0, to, opts).expect("connect");
        Bulk {
            bed,
            conn,
            data: (0..65536u32).map(|i| i as u8).collect(),
            read: 0,
            buf: Vec::with_capacity(1 << 20),
        }
    }

    /// Runs one more simulated second; returns the packets sent in it.
    fn second(&mut self) -> u64 {
        let (before, until) = (self.bed.packets_sent(), self.bed.now() + S);
        let (data, read, buf) = (&self.data, &mut self.read, &mut self.buf);
        self.bed
            .run_until(until, |stack: &mut TcpHost, _, _, e| match e {
                TcpEvent::Connected(c) | TcpEvent::Writable(c) => while stack.send(c, data) > 0 {},
                TcpEvent::Readable(c) => {
                    buf.clear();
                    *read += stack.recv(c, buf) as u64;
                }
                _ => {}
            });
        self.bed.packets_sent() - before
    }
}

fn bulk(c: &mut Criterion, name: &str, link: &str) {
    let mut b = Bulk::new(link);
    b.second(); // handshake and slow start
    let per_second = b.second();
    let mut group = c.benchmark_group("tcp");
    group.throughput(Throughput::Elements(per_second));
    group.sample_size(20);
    group.bench_function(name, |bench| bench.iter(|| b.second()));
    group.finish();
    // The same transfer timed by hand, for the units criterion does not print.
    let mut b = Bulk::new(link);
    b.second();
    let (read0, packets0, wall) = (b.read, b.bed.packets_sent(), Instant::now());
    let secs = 10;
    for _ in 0..secs {
        b.second();
    }
    let wall = wall.elapsed().as_secs_f64();
    let goodput = (b.read - read0) as f64 * 8.0 / 1e6;
    let packets = (b.bed.packets_sent() - packets0) as f64;
    let stats = b.bed.stack(callharness::net::HostId(0)).stats(b.conn);
    println!(
        "{name}: {:.0} packets/s, {:.0} Mbit/s of simulated goodput per wall second \
         ({:.2} Mbit/s simulated, {:.0}x real time, {:.2} us per packet); client {:?}",
        packets / wall,
        goodput / wall,
        goodput / secs as f64,
        secs as f64 / wall,
        wall * 1e6 / packets,
        stats.map(|s| (s.retransmitted_segments, s.rtos))
    );
}

fn transfers(c: &mut Criterion) {
    bulk(
        c,
        "tcp_bulk_10mbit",
        "both: { delay: 20ms }, up: { rate: 10Mbit, queue: 100pkt, aqm: codel }",
    );
    bulk(
        c,
        "tcp_bulk_100mbit",
        "both: { delay: 5ms }, up: { rate: 100Mbit, queue: 1000pkt, aqm: codel }",
    );
}

criterion_group!(benches, transfers);
criterion_main!(benches);
