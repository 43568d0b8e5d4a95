//! Packets per second through the emulator, in criterion's elements/s (= packets/s):
//! - `composite_link_at_rate`: one link with propagation delay + normal jitter +
//!   Gilbert-Elliott bursty loss + a 100 Mbit/s rate limit with a 100-packet drop-tail queue,
//!   offered 1200-byte packets at the link's rate (one every 96 µs of simulated time);
//! - `composite_link_overloaded`: the same link offered 10 % more than it can carry, so the
//!   queue stays full and tail-drops;
//! - `network_two_sites`: whole datagrams through a `Network` (access up, core, access down,
//!   each with delay and jitter), the event queue included;
//! - `network_two_sites_watched`: the same with every datagram followed hop by hop
//!   (`Network::watch`, what the simulation does for the calls' RTP packets to attribute
//!   drops and delay to links), to show what following costs.

use callharness::net::{
    Datagram, DirectionConfig, Link, Network, NetworkConfig, PacketMeta, Transmit,
};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

const BATCH: u64 = 100_000;

const COMPOSITE: &str = "{delay: 20ms, jitter: {amount: 5ms, distribution: normal}, \
    loss: {gilbert_elliott: {p: 1%, r: 30%}}, rate: 100Mbit, queue: 100pkt}";

fn link_bench(c: &mut Criterion, name: &str, gap: u64) {
    let cfg: DirectionConfig = serde_yaml::from_str(COMPOSITE).expect("benchmark link config");
    let mut link = Link::new(&cfg, 42).expect("benchmark link");
    let mut now = 0u64;
    let mut group = c.benchmark_group("emulator");
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function(name, |b| {
        b.iter(|| {
            let mut delivered = 0u64;
            for _ in 0..BATCH {
                now += gap;
                if let Transmit::Delivered { at, .. } =
                    link.transmit(now, black_box(&PacketMeta { size: 1200 }))
                {
                    delivered += black_box(at) & 1;
                }
            }
            delivered
        })
    });
    group.finish();
    println!("{}", link.counters());
}

fn composite_link(c: &mut Criterion) {
    // 1200 bytes at 100 Mbit/s: 96 µs on the wire.
    link_bench(c, "composite_link_at_rate", 96_000);
    link_bench(c, "composite_link_overloaded", 87_273);
}

fn network(c: &mut Criterion) {
    network_bench(c, "network_two_sites", false);
    network_bench(c, "network_two_sites_watched", true);
}

fn network_bench(c: &mut Criterion, name: &str, watched: bool) {
    let cfg: NetworkConfig = serde_yaml::from_str(
        r#"
sites: [{ name: home }, { name: office }]
core: { name: wan, both: { delay: 15ms, jitter: { amount: 2ms, distribution: normal } } }
hosts:
  - { name: alice, site: home, addr: 10.0.1.2, access: { name: wifi, both: { delay: 3ms, jitter: { amount: 2ms, distribution: paretonormal }, loss: { random: { rate: 0.1% } } } } }
  - { name: bob, site: office, addr: 10.0.2.2, access: { name: lan, both: { delay: 1ms } } }
"#,
    )
    .expect("benchmark network config");
    let mut net: Network<u64> = Network::new(&cfg, 42, &[]).expect("benchmark network");
    if watched {
        net.watch(|_| true);
    }
    let (a, b) = (
        "10.0.1.2:5000".parse().expect("addr"),
        "10.0.2.2:5000".parse().expect("addr"),
    );
    let mut now = 0u64;
    let mut group = c.benchmark_group("emulator");
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function(name, |bench| {
        bench.iter(|| {
            let mut got = 0u64;
            for i in 0..BATCH {
                now += 10_000; // 100k datagrams per simulated second
                net.advance(now);
                net.send(now, Datagram::udp(a, b, 160, i));
                while let Some(d) = net.poll_delivery() {
                    got += black_box(d.at) & 1;
                }
            }
            got
        })
    });
    group.finish();
}

criterion_group!(benches, composite_link, network);
criterion_main!(benches);
