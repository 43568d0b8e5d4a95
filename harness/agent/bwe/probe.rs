//! The initial probe: what the link carries, measured from one burst of packets sent faster
//! than the start rate (libwebrtc's probe controller sends clusters at 3 and 6 times its
//! 300 kbit/s start as the call begins; our cluster is the first video keyframe, paced at the
//! probe rate).
//!
//! A train of packets leaves at the send rate; a bottleneck slower than that spaces them at
//! its own rate (packet-train dispersion), so the receive rate of the train is the bottleneck's
//! capacity. As libwebrtc's probe estimator does, the send rate counts every packet but the
//! last (it ends the interval), the receive rate every packet but the first arrival (it opens
//! it); when the train came through at under [`UNSATURATED_RATIO`] of its send rate the link
//! was the limit and the result is [`TARGET_UTILIZATION`] of the receive rate, otherwise the
//! smaller of the two rates. A cluster with fewer than [`MIN_PACKETS`] arrivals, or fewer than
//! [`MIN_RECEIVED`] of its packets, gives no result.

use super::PacketResult;

/// A train received under this share of its send rate met a bottleneck (libwebrtc's
/// `kMinRatioForUnsaturatedLink`).
pub const UNSATURATED_RATIO: f64 = 0.9;
/// The share of a bottleneck's measured rate the result takes (libwebrtc's
/// `kTargetUtilizationFraction`).
pub const TARGET_UTILIZATION: f64 = 0.95;
/// Arrivals a result needs (libwebrtc's `kMinClusterSize` is 4).
pub const MIN_PACKETS: usize = 4;
/// Share of the cluster's packets that must arrive (libwebrtc's `kMinReceivedProbesRatio`).
pub const MIN_RECEIVED: f64 = 0.8;

/// One probe cluster: the packets that left in `[from, to]` (our clock, ns).
#[derive(Debug, Clone, Default)]
pub struct ProbeCluster {
    from: u64,
    to: u64,
    /// (departure, size) of each packet of the cluster reported so far.
    sent: Vec<(u64, u32)>,
    /// (arrival, size) of those that arrived.
    arrived: Vec<(u64, u32)>,
}

impl ProbeCluster {
    pub fn new(from: u64, to: u64) -> Self {
        ProbeCluster {
            from,
            to,
            ..Default::default()
        }
    }

    /// Takes a feedback batch (packets in send order); the result once the feedback has gone
    /// past the cluster's end, bit/s (`Some(None)`: done, no usable result).
    pub fn on_feedback(&mut self, packets: &[PacketResult]) -> Option<Option<u64>> {
        let mut past = false;
        for p in packets {
            if p.departure > self.to {
                past = true;
            } else if p.departure >= self.from {
                self.sent.push((p.departure, p.size));
                if let Some(a) = p.arrival {
                    self.arrived.push((a, p.size));
                }
            }
        }
        past.then(|| self.result())
    }

    fn result(&mut self) -> Option<u64> {
        let n = self.arrived.len();
        if n < MIN_PACKETS || (n as f64) < MIN_RECEIVED * self.sent.len() as f64 {
            return None;
        }
        self.sent.sort_unstable();
        self.arrived.sort_unstable();
        let rate = |v: &[(u64, u32)], skip_first: bool| {
            let interval = v.last()?.0.checked_sub(v.first()?.0).filter(|&i| i > 0)?;
            let bytes: u64 = if skip_first {
                v[1..].iter().map(|x| u64::from(x.1)).sum()
            } else {
                v[..v.len() - 1].iter().map(|x| u64::from(x.1)).sum()
            };
            Some(bytes as f64 * 8.0 * 1e9 / interval as f64)
        };
        let send = rate(&self.sent, false)?;
        let receive = rate(&self.arrived, true)?;
        let bps = if receive < UNSATURATED_RATIO * send {
            TARGET_UTILIZATION * receive
        } else {
            send.min(receive)
        };
        Some(bps as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    /// `n` packets of `size` bytes leaving `gap` ns apart through a FIFO of `capacity` bit/s
    /// (our own closed form: each leaves the bottleneck a transmission time after the later
    /// of its arrival and the one before's departure).
    fn train(n: u64, size: u32, gap: u64, capacity: f64) -> Vec<PacketResult> {
        let tx = (f64::from(size) * 8.0 * 1e9 / capacity) as u64;
        let mut free = 0;
        (0..n)
            .map(|k| {
                let dep = 1_000 * MS + k * gap;
                free = free.max(dep) + tx;
                PacketResult {
                    departure: dep,
                    arrival: Some(free + 20 * MS),
                    size,
                }
            })
            .collect()
    }

    fn probe(packets: &[PacketResult]) -> Option<u64> {
        let last = packets.last().unwrap().departure;
        let mut c = ProbeCluster::new(packets[0].departure, last);
        assert_eq!(c.on_feedback(packets), None, "not past the end yet");
        let after = PacketResult {
            departure: last + 50 * MS,
            arrival: None,
            size: 100,
        };
        c.on_feedback(&[after]).expect("past the end")
    }

    #[test]
    fn a_bottleneck_spaces_the_train_at_its_rate() {
        // 7 packets of 1,200 bytes sent at 1.8 Mbit/s (5.33 ms apart) into 256 kbit/s: they
        // come out 37.5 ms apart; the result is 95 % of 256 kbit/s.
        let r = probe(&train(7, 1_200, 5_333_333, 256e3)).unwrap();
        assert!((r as f64 - 0.95 * 256e3).abs() < 500.0, "{r}");
    }

    #[test]
    fn an_unconstrained_link_gives_the_send_rate() {
        let r = probe(&train(7, 1_200, 5_333_333, 100e6)).unwrap();
        assert!((r as f64 - 1.8e6).abs() < 2e3, "{r}");
    }

    #[test]
    fn too_few_arrivals_give_no_result() {
        let mut t = train(7, 1_200, 5_333_333, 256e3);
        for p in &mut t[2..5] {
            p.arrival = None;
        }
        assert_eq!(probe(&t), None);
        assert_eq!(probe(&train(3, 1_200, 5_333_333, 256e3)), None);
    }
}
