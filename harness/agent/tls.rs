//! TLS for TURN over TLS (TURNS, RFC 8656 section 3.1) in simulated time: the same seed gives
//! the same handshake, byte for byte.
//!
//! The relay's TLS is rustls 0.23 (through `turn-server-rustls` on the edge and
//! `turn-client-rustls` in the clients), with the `ring` backend only. rustls draws randomness
//! from its [`CryptoProvider`] (client and server randoms, the legacy session id) and from the
//! key-exchange group (the ephemeral keys; ring's own groups take them from the operating
//! system, and ring lets nobody else feed them). So a run's provider here differs from ring's
//! default in two things:
//! - `secure_random` is a generator seeded from the run's seed ([`crate::sim::sub_seed`]), one
//!   stream for the edge's side and one for the clients';
//! - its only key-exchange group is X25519 computed by `x25519-dalek` from 32 bytes of that
//!   same stream ([`SeededX25519`]).
//!
//! Everything else (ciphers, hashes, signature checks, key loading) is ring's. The edge's
//! certificate is made at run time by `rcgen` from an Ed25519 key derived from the seed, for
//! the name [`EDGE_SERVER_NAME`]: Ed25519 signatures are deterministic (RFC 8032), so the
//! certificate and the handshake's CertificateVerify are the same bytes for a seed. The
//! clients' root store holds that certificate, and they check the server name against it.
//! Time is the simulation's ([`SimClock`], fed by the edge and the clients before every call
//! into TLS), so the certificate's validity never depends on the wall clock. TLS 1.3 only; no
//! session tickets and no resumption (every TURNS connection is a full handshake, and no
//! connection's bytes depend on an earlier one's).
//!
//! Not for real use: the generator is not a cryptographic one and the key follows from the
//! seed. rustls takes its random source and groups as `&'static`, so each [`TlsSetup`] leaks
//! two small objects per side (under 100 bytes in all), once per run.
//!
//! ```
//! use callharness::agent::tls::{TlsSetup, EDGE_SERVER_NAME};
//! let tls = TlsSetup::new(7).unwrap();
//! let client = tls.client();
//! assert_eq!(client.server_name(), EDGE_SERVER_NAME);
//! ```

use rand::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rustls::crypto::{
    ActiveKeyExchange, CryptoProvider, GetRandomFailed, SecureRandom, SharedSecret,
    SupportedKxGroup,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::time_provider::TimeProvider;
use rustls::{ClientConfig, NamedGroup, RootCertStore, ServerConfig};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The edge's name in its certificate, which the clients check (a `.test` name, RFC 2606).
pub const EDGE_SERVER_NAME: &str = "edge.callharness.test";

/// Simulated time zero on the wall clock: 2026-01-01T00:00:00Z, s since the Unix epoch.
pub const SIM_EPOCH_UNIX_S: u64 = 1_767_225_600;

/// Why the TLS setup could not be made (a bug, not a scenario's fault: nothing here comes
/// from a file).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("making the edge's certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("configuring rustls: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Simulated time for rustls: ns since the run's start, set by whoever is about to call into
/// TLS (the edge, a relay client), read by rustls when it checks a certificate's validity.
#[derive(Debug, Default)]
pub struct SimClock(AtomicU64);

impl SimClock {
    /// Sets the time to `now`, ns since the run's start.
    pub fn set(&self, now: u64) {
        self.0.store(now, Ordering::Relaxed);
    }
}

impl TimeProvider for SimClock {
    fn current_time(&self) -> Option<UnixTime> {
        let ns = self.0.load(Ordering::Relaxed);
        Some(UnixTime::since_unix_epoch(
            Duration::from_secs(SIM_EPOCH_UNIX_S) + Duration::from_nanos(ns),
        ))
    }
}

/// rustls's random source: a generator seeded from the run's seed (see the module docs).
#[derive(Debug)]
struct SeededRandom(Mutex<Xoshiro256PlusPlus>);

impl SeededRandom {
    fn bytes<const N: usize>(&self) -> [u8; N] {
        let mut b = [0; N];
        self.fill_bytes(&mut b);
        b
    }

    fn fill_bytes(&self, buf: &mut [u8]) {
        // A poisoned lock only means another thread panicked mid-draw: the state is still a
        // valid generator state.
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        g.fill_bytes(buf);
    }
}

impl SecureRandom for SeededRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        self.fill_bytes(buf);
        Ok(())
    }
}

/// X25519 (RFC 7748) whose ephemeral private keys are 32 bytes of the seeded stream.
#[derive(Debug)]
pub struct SeededX25519 {
    random: &'static SeededRandom,
}

impl SupportedKxGroup for SeededX25519 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, rustls::Error> {
        let secret = x25519_dalek::StaticSecret::from(self.random.bytes::<32>());
        let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
        Ok(Box::new(X25519Share { secret, public }))
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

/// One side's X25519 share, until the peer's arrives.
struct X25519Share {
    secret: x25519_dalek::StaticSecret,
    public: [u8; 32],
}

impl ActiveKeyExchange for X25519Share {
    fn complete(self: Box<Self>, peer_pub_key: &[u8]) -> Result<SharedSecret, rustls::Error> {
        let bad = || rustls::Error::from(rustls::PeerMisbehaved::InvalidKeyShare);
        let peer: [u8; 32] = peer_pub_key.try_into().map_err(|_| bad())?;
        let shared = self
            .secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(peer));
        // A low-order peer key gives the all-zero secret (RFC 7748 section 6.1): refuse it.
        if !shared.was_contributory() {
            return Err(bad());
        }
        Ok(SharedSecret::from(&shared.as_bytes()[..]))
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

/// ring's provider with a seeded random source and [`SeededX25519`] as its only group.
fn seeded_provider(seed: u64) -> Arc<CryptoProvider> {
    let random: &'static SeededRandom = Box::leak(Box::new(SeededRandom(Mutex::new(
        Xoshiro256PlusPlus::seed_from_u64(seed),
    ))));
    let group: &'static SeededX25519 = Box::leak(Box::new(SeededX25519 { random }));
    Arc::new(CryptoProvider {
        kx_groups: vec![group],
        secure_random: random,
        ..rustls::crypto::ring::default_provider()
    })
}

/// The edge's certificate and key: a self-signed certificate for [`EDGE_SERVER_NAME`], valid
/// 2025-01-01 to 2036-01-01, with an Ed25519 key and a 16-byte serial number from `seed`.
pub fn edge_certificate(
    seed: u64,
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), TlsError> {
    let mut g = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut key_seed = [0u8; 32];
    g.fill_bytes(&mut key_seed);
    // PKCS#8 v1 (RFC 8410 section 7): the fixed prefix for an Ed25519 private key, then its
    // 32-byte seed.
    let mut pkcs8 = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    pkcs8.extend_from_slice(&key_seed);
    let der = PrivatePkcs8KeyDer::from(pkcs8);
    let key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_ED25519)?;
    let mut params = rcgen::CertificateParams::new(vec![EDGE_SERVER_NAME.to_owned()])?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, EDGE_SERVER_NAME);
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2036, 1, 1);
    let mut serial = [0u8; 16];
    g.fill_bytes(&mut serial);
    // Positive and without a leading zero byte: always 16 bytes in DER.
    serial[0] = 0x40 | (serial[0] & 0x3f);
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let cert = params.self_signed(&key)?;
    Ok((cert.der().clone(), PrivateKeyDer::Pkcs8(der)))
}

/// A run's TLS: the edge's server configuration and the clients' (which trust the edge's
/// certificate), on one simulated clock.
#[derive(Debug, Clone)]
pub struct TlsSetup {
    server: Arc<ServerConfig>,
    client: TlsClient,
    clock: Arc<SimClock>,
}

/// What a client needs to reach the relay over TLS: its configuration (the root store holding
/// the edge's certificate), the name it expects, and the clock to set before calling into TLS.
#[derive(Debug, Clone)]
pub struct TlsClient {
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    clock: Arc<SimClock>,
}

impl TlsClient {
    /// The rustls client configuration.
    pub fn config(&self) -> Arc<ClientConfig> {
        self.config.clone()
    }

    /// The name the client checks the server's certificate against.
    pub fn server_name(&self) -> String {
        self.server_name.to_str().into_owned()
    }

    /// The same client, expecting the server to be `name` (a certificate for another name
    /// fails the handshake).
    pub fn expecting(&self, name: &str) -> Option<TlsClient> {
        Some(TlsClient {
            server_name: ServerName::try_from(name.to_owned()).ok()?,
            ..self.clone()
        })
    }

    pub(crate) fn name(&self) -> ServerName<'static> {
        self.server_name.clone()
    }

    /// Sets the clock rustls reads to `now`, ns since the run's start.
    pub fn set_time(&self, now: u64) {
        self.clock.set(now);
    }
}

impl TlsSetup {
    /// The TLS of a run with seed `seed`.
    pub fn new(seed: u64) -> Result<TlsSetup, TlsError> {
        let clock = Arc::new(SimClock::default());
        let (cert, key) = edge_certificate(crate::sim::sub_seed(seed, "tls:edge-key"))?;
        let mut roots = RootCertStore::empty();
        roots.add(cert.clone())?;
        let versions = [&rustls::version::TLS13];
        let mut server = ServerConfig::builder_with_details(
            seeded_provider(crate::sim::sub_seed(seed, "tls:edge")),
            clock.clone(),
        )
        .with_protocol_versions(&versions)?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)?;
        server.send_tls13_tickets = 0;
        let mut client = ClientConfig::builder_with_details(
            seeded_provider(crate::sim::sub_seed(seed, "tls:clients")),
            clock.clone(),
        )
        .with_protocol_versions(&versions)?
        .with_root_certificates(roots)
        .with_no_client_auth();
        client.resumption = rustls::client::Resumption::disabled();
        Ok(TlsSetup {
            server: Arc::new(server),
            client: TlsClient {
                config: Arc::new(client),
                server_name: ServerName::try_from(EDGE_SERVER_NAME)
                    .map_err(|_| rustls::Error::General("the edge's name".into()))?,
                clock: clock.clone(),
            },
            clock,
        })
    }

    /// The edge's server configuration.
    pub fn server(&self) -> Arc<ServerConfig> {
        self.server.clone()
    }

    /// What the clients use.
    pub fn client(&self) -> TlsClient {
        self.client.clone()
    }

    /// Sets the clock rustls reads to `now`, ns since the run's start.
    pub fn set_time(&self, now: u64) {
        self.clock.set(now);
    }
}

/// Cuts a TLS byte stream into whole records (RFC 8446 section 5.1: a 5-byte header whose
/// last two bytes are the length, then that many bytes).
///
/// `turn-client-rustls` and `turn-server-rustls` take at most 2,048 bytes of plaintext out of
/// each chunk handed to them and keep the rest inside rustls until the next chunk comes; a TCP
/// read after a retransmission can hold dozens of records. Handed one record at a time (each
/// carries one TURN message, under 2,048 bytes), they lose nothing and delay nothing. This is
/// our workaround for that gap in the crates as published.
#[derive(Debug, Default)]
pub struct RecordSplitter {
    pending: Vec<u8>,
}

impl RecordSplitter {
    /// Takes in bytes of the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// The next whole record, header included, if one has arrived.
    pub fn next_record(&mut self) -> Option<Vec<u8>> {
        let h = self.pending.get(..5)?;
        let len = 5 + usize::from(u16::from_be_bytes([h[3], h[4]]));
        if self.pending.len() < len {
            return None;
        }
        let rest = self.pending.split_off(len);
        Some(std::mem::replace(&mut self.pending, rest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::{ClientConnection, ServerConnection};

    /// Runs a handshake between a client of `client` and the server of `server` in memory;
    /// returns every byte each way, in order, and whether it completed.
    fn handshake(server: &TlsSetup, client: &TlsClient) -> (Vec<u8>, Vec<u8>, bool) {
        let mut c = ClientConnection::new(client.config(), client.name()).unwrap();
        let mut s = ServerConnection::new(server.server()).unwrap();
        let (mut to_server, mut to_client) = (Vec::new(), Vec::new());
        for _ in 0..10 {
            let mut b = Vec::new();
            c.write_tls(&mut b).unwrap();
            to_server.extend_from_slice(&b);
            if !b.is_empty() {
                s.read_tls(&mut &b[..]).unwrap();
                if s.process_new_packets().is_err() {
                    return (to_server, to_client, false);
                }
            }
            let mut b = Vec::new();
            s.write_tls(&mut b).unwrap();
            to_client.extend_from_slice(&b);
            if !b.is_empty() {
                c.read_tls(&mut &b[..]).unwrap();
                if c.process_new_packets().is_err() {
                    // The alert the client sends goes too.
                    let mut alert = Vec::new();
                    let _ = c.write_tls(&mut alert);
                    to_server.extend_from_slice(&alert);
                    return (to_server, to_client, false);
                }
            }
            if !c.is_handshaking() && !s.is_handshaking() {
                return (to_server, to_client, true);
            }
        }
        (to_server, to_client, false)
    }

    #[test]
    fn the_same_seed_gives_the_same_handshake_bytes_and_another_seed_others() {
        let run = |seed| {
            let t = TlsSetup::new(seed).unwrap();
            t.set_time(5_000_000_000);
            handshake(&t, &t.client())
        };
        let a = run(1);
        assert!(a.2, "the handshake completes");
        // ClientHello, then the server's flight (ServerHello ... Finished), then the client's.
        assert_eq!(a.0[0], 0x16, "a TLS handshake record");
        assert!(
            a.1.len() > 300,
            "the server's flight carries the certificate"
        );
        assert_eq!(run(1), a);
        let b = run(2);
        assert!(b.2);
        assert_ne!(b.0, a.0, "another client random and key share");
        assert_ne!(b.1, a.1);
    }

    #[test]
    fn a_second_connection_of_a_run_draws_new_randoms() {
        let t = TlsSetup::new(1).unwrap();
        let first = handshake(&t, &t.client());
        let second = handshake(&t, &t.client());
        assert!(first.2 && second.2);
        assert_ne!(first.0, second.0);
    }

    #[test]
    fn a_client_expecting_another_name_fails_the_handshake() {
        let t = TlsSetup::new(1).unwrap();
        let wrong = t.client().expecting("relay.example.test").unwrap();
        let (_, _, ok) = handshake(&t, &wrong);
        assert!(!ok);
        // The same certificate, the right name: it completes.
        assert!(handshake(&t, &t.client()).2);
    }

    #[test]
    fn a_certificate_outside_its_validity_fails_the_handshake() {
        let t = TlsSetup::new(1).unwrap();
        // 2036-01-02: a day after the certificate's end (2036-01-01, 2_082_758_400 s since
        // the Unix epoch), in simulated time.
        let after = (2_082_758_400 + 86_400 - SIM_EPOCH_UNIX_S) * 1_000_000_000;
        t.set_time(after);
        assert!(!handshake(&t, &t.client()).2);
        t.set_time(0);
        assert!(handshake(&t, &t.client()).2);
    }

    #[test]
    fn a_stream_is_cut_into_whole_records_however_it_arrives() {
        let rec = |n: u8, len: usize| {
            let mut r = vec![0x17, 0x03, 0x03];
            r.extend_from_slice(&(len as u16).to_be_bytes());
            r.extend(std::iter::repeat_n(n, len));
            r
        };
        let stream: Vec<u8> = [rec(1, 3), rec(2, 300), rec(3, 0)].concat();
        for cut in [1, 4, 5, 7, 200, stream.len()] {
            let mut s = RecordSplitter::default();
            let mut got = Vec::new();
            for chunk in stream.chunks(cut) {
                s.push(chunk);
                while let Some(r) = s.next_record() {
                    got.push(r);
                }
            }
            assert_eq!(
                got,
                vec![rec(1, 3), rec(2, 300), rec(3, 0)],
                "chunks of {cut}"
            );
        }
    }

    #[test]
    fn the_certificate_follows_from_its_seed() {
        let (a, _) = edge_certificate(9).unwrap();
        assert_eq!(edge_certificate(9).unwrap().0, a);
        let (b, _) = edge_certificate(10).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), b.len(), "a fixed-width serial: a fixed length");
    }
}
