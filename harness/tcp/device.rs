//! The virtual network device under each host's smoltcp interface: no wire, just a slot for
//! the one packet being received and a queue of the packets smoltcp wrote, in buffers taken
//! from a small pool so a steady transfer allocates nothing per packet.
//!
//! Checksums: smoltcp computes them on send (the bytes that leave are real IPv4/TCP packets)
//! and does not verify them on receive. A NAT on the emulated path changes addresses and
//! ports without fixing checksums (the emulator only carries the datagram's addresses), and
//! the host writes the datagram's addresses into the bytes it hands to smoltcp; a packet the
//! emulator corrupts is dropped there, never delivered, so there is nothing left to verify.

use smoltcp::phy::{Checksum, ChecksumCapabilities, Device, DeviceCapabilities, Medium};
use smoltcp::phy::{RxToken, TxToken};
use smoltcp::time::Instant;
use std::collections::VecDeque;

/// At most this many spare buffers are kept (the rest are freed): a host that only receives
/// collects its peers' buffers, and 256 of 1500 bytes is 384 KB.
const POOL_MAX: usize = 256;

/// The device: one received packet at a time, any number of packets to send.
pub(crate) struct VirtualDevice {
    caps: DeviceCapabilities,
    /// The packet being received (valid while `rx_ready`).
    pub(crate) rx: Vec<u8>,
    pub(crate) rx_ready: bool,
    /// Packets smoltcp wrote, oldest first.
    pub(crate) tx: VecDeque<Vec<u8>>,
    pool: Vec<Vec<u8>>,
}

impl VirtualDevice {
    /// A device for IP packets of at most `mtu` bytes.
    pub(crate) fn new(mtu: u16) -> VirtualDevice {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = usize::from(mtu);
        let mut checksum = ChecksumCapabilities::default();
        checksum.ipv4 = Checksum::Tx;
        checksum.tcp = Checksum::Tx;
        checksum.udp = Checksum::Tx;
        caps.checksum = checksum;
        VirtualDevice {
            caps,
            rx: Vec::with_capacity(usize::from(mtu)),
            rx_ready: false,
            tx: VecDeque::new(),
            pool: Vec::new(),
        }
    }

    /// Keeps `buf` for a later packet (up to the pool's limit).
    pub(crate) fn recycle(&mut self, buf: Vec<u8>) {
        if self.pool.len() < POOL_MAX {
            self.pool.push(buf);
        }
    }
}

pub(crate) struct Rx<'a>(&'a [u8]);

pub(crate) struct Tx<'a> {
    queue: &'a mut VecDeque<Vec<u8>>,
    pool: &'a mut Vec<Vec<u8>>,
    mtu: usize,
}

impl RxToken for Rx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = self
            .pool
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.mtu));
        buf.clear();
        buf.resize(len, 0);
        let r = f(&mut buf);
        self.queue.push_back(buf);
        r
    }
}

impl Device for VirtualDevice {
    type RxToken<'a> = Rx<'a>;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(Rx<'_>, Tx<'_>)> {
        if !self.rx_ready {
            return None;
        }
        self.rx_ready = false;
        let mtu = self.caps.max_transmission_unit;
        Some((
            Rx(&self.rx),
            Tx {
                queue: &mut self.tx,
                pool: &mut self.pool,
                mtu,
            },
        ))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Tx<'_>> {
        let mtu = self.caps.max_transmission_unit;
        Some(Tx {
            queue: &mut self.tx,
            pool: &mut self.pool,
            mtu,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        self.caps.clone()
    }
}
