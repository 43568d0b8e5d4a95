//! A guard around rtc 0.21's DTLS handshake: it withholds the peer's retransmitted flight
//! from our stack once our stack has moved past that flight.
//!
//! Why: in rtc-dtls 0.21.1 a handshake waiting for the peer's next flight cancels its own
//! retransmission timer as soon as any handshake record arrives, before parsing it
//! (`handshaker.rs` `wait()`); a repeated *earlier* flight then parses as nothing, and the
//! stack waits with no timer at all. So when our last flight is lost (flight 5 of the client,
//! or flight 4 of the server), the peer's retransmissions of its own flight kill our timer,
//! we never resend, and the handshake fails after the peer's retransmissions run out (about
//! 9 s): about one call in five on a link with 5 % loss each way, where real clients recover
//! (RFC 6347 section 4.2.4). Withholding the repeat keeps our timer alive, so the stack resends
//! its flight by itself, as the RFC wants.
//!
//! What is withheld: a datagram whose every record is a plaintext (epoch 0) handshake record
//! and whose every message is of the peer's earlier flight: for a client that has sent
//! ClientKeyExchange (flight 5), server-hello-flight messages (HelloVerifyRequest,
//! ServerHello, Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone); for a
//! server that has sent ServerHello (flight 4), ClientHello. Nothing the stack still needs
//! (ChangeCipherSpec, an encrypted Finished, the client's flight 5) is ever withheld.
//!
//! ```
//! use callharness::agent::dtls_guard::DtlsRepeatGuard;
//! // A record: type 22 (handshake), DTLS 1.2, epoch 0, sequence, length; then a message
//! // header (type, length, message sequence, fragment offset and length) and its body.
//! fn record(msg: u8) -> Vec<u8> {
//!     let mut r = vec![22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 13];
//!     r.extend_from_slice(&[msg, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 7]);
//!     r
//! }
//! let mut client = DtlsRepeatGuard::default();
//! client.outbound(&record(1)); // our ClientHello: we are the client
//! assert!(!client.withhold(&record(2)), "the server's first flight goes through");
//! client.outbound(&record(16)); // our ClientKeyExchange: flight 5 is out
//! assert!(client.withhold(&record(2)), "a repeated ServerHello flight is held back");
//! let ccs = vec![20, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 1];
//! assert!(!client.withhold(&ccs), "the server's ChangeCipherSpec goes through");
//! ```

/// See the module docs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DtlsRepeatGuard {
    /// Our role, once we have sent a first handshake message: true for the client.
    is_client: Option<bool>,
    /// The server sent its flight 4 (ServerHello...).
    sent_flight4: bool,
    /// The client sent its flight 5 (ClientKeyExchange...).
    sent_flight5: bool,
    /// Datagrams withheld (for the report's curious reader and the tests).
    pub withheld: u64,
}

/// Handshake message types (RFC 5246 7.4, RFC 6347 4.3.2).
const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
const HELLO_VERIFY_REQUEST: u8 = 3;
const CLIENT_KEY_EXCHANGE: u8 = 16;

/// The message types of every plaintext (epoch 0) handshake message in a DTLS datagram, and
/// whether every record is such a handshake record; None when it does not parse.
fn scan(d: &[u8]) -> Option<(Vec<u8>, bool)> {
    let (mut types, mut only_plain_handshake, mut p) = (Vec::new(), true, 0);
    while p < d.len() {
        let h = d.get(p..p + 13)?;
        let (content, epoch) = (h[0], u16::from_be_bytes([h[3], h[4]]));
        let len = usize::from(u16::from_be_bytes([h[11], h[12]]));
        let body = d.get(p + 13..p + 13 + len)?;
        if content == 22 && epoch == 0 {
            let mut q = 0;
            while q < body.len() {
                let m = body.get(q..q + 12)?;
                types.push(m[0]);
                q += 12 + u32::from_be_bytes([0, m[9], m[10], m[11]]) as usize;
            }
        } else {
            only_plain_handshake = false;
        }
        p += 13 + len;
    }
    Some((types, only_plain_handshake))
}

/// A DTLS datagram (RFC 7983: first byte 20-63).
fn is_dtls(d: &[u8]) -> bool {
    matches!(d.first(), Some(20..=63))
}

impl DtlsRepeatGuard {
    /// Our stack sends `d`: learn our role and how far our handshake got.
    pub fn outbound(&mut self, d: &[u8]) {
        if !is_dtls(d) || (self.sent_flight4 || self.sent_flight5) {
            return;
        }
        let Some((types, _)) = scan(d) else {
            return;
        };
        if types.contains(&CLIENT_HELLO) {
            self.is_client = Some(true);
        }
        if types.contains(&SERVER_HELLO) || types.contains(&HELLO_VERIFY_REQUEST) {
            self.is_client = Some(false);
        }
        if self.is_client == Some(false) && types.contains(&SERVER_HELLO) {
            self.sent_flight4 = true;
        }
        if self.is_client == Some(true) && types.contains(&CLIENT_KEY_EXCHANGE) {
            self.sent_flight5 = true;
        }
    }

    /// Whether `d`, arriving, is the peer's repeat of a flight our stack is already past (and
    /// must not see); counts it when so.
    pub fn withhold(&mut self, d: &[u8]) -> bool {
        if !is_dtls(d) || !(self.sent_flight4 || self.sent_flight5) {
            return false;
        }
        let Some((types, true)) = scan(d) else {
            return false;
        };
        let repeat = !types.is_empty()
            && match self.is_client {
                Some(true) => types.iter().all(|t| matches!(t, 2 | 3 | 11 | 12 | 13 | 14)),
                Some(false) => types.iter().all(|&t| t == CLIENT_HELLO),
                None => false,
            };
        if repeat {
            self.withheld += 1;
        }
        repeat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(msgs: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        for &m in msgs {
            body.extend_from_slice(&[m, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 7]);
        }
        let mut r = vec![22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1];
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(&body);
        r
    }

    #[test]
    fn a_server_past_flight_4_holds_back_a_repeated_client_hello_only() {
        let mut s = DtlsRepeatGuard::default();
        s.outbound(&record(&[HELLO_VERIFY_REQUEST]));
        assert!(
            !s.withhold(&record(&[CLIENT_HELLO])),
            "the cookie exchange goes on"
        );
        s.outbound(&record(&[SERVER_HELLO, 11, 12, 13, 14]));
        assert!(s.withhold(&record(&[CLIENT_HELLO])));
        // The client's flight 5 (Certificate, ClientKeyExchange, CertificateVerify) passes.
        assert!(!s.withhold(&record(&[11, 16, 15])));
        assert_eq!(s.withheld, 1);
    }

    #[test]
    fn encrypted_or_mixed_datagrams_and_other_protocols_pass() {
        let mut c = DtlsRepeatGuard::default();
        c.outbound(&record(&[CLIENT_HELLO]));
        c.outbound(&record(&[11, 16, 15]));
        // Epoch 1 (encrypted Finished) beside a plaintext record: not a pure repeat.
        let mut mixed = record(&[SERVER_HELLO]);
        mixed.extend_from_slice(&[22, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, 2, 9, 9]);
        assert!(!c.withhold(&mixed));
        assert!(!c.withhold(&[0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42])); // STUN
        assert!(!c.withhold(&[0x80, 111, 0, 1])); // RTP
        assert!(!c.withhold(&[22, 0xfe])); // truncated
    }
}
