//! A crypto provider for simulated runs whose output *sizes* never vary, so packet timing (and
//! so every number in a report) repeats exactly for a seed.
//!
//! rtc 0.21 takes its randomness and signatures from a crypto provider. With the default
//! provider, ECDSA signatures (in the DTLS handshake and in the self-signed certificate) are
//! DER-encoded with a random nonce, so their length varies by a byte or two from run to run;
//! on a rate-limited link one byte changes a serialisation time, and the run no longer repeats.
//! This provider wraps the default one and changes two things:
//! - signing retries until the DER signature has its maximum length (both integers with their
//!   high bit set: 72 bytes for P-256), which happens a quarter of the time, so about four
//!   signatures per handshake: microseconds;
//! - random bytes come from a generator seeded by the scenario's seed.
//!
//! Everything else (hashing, ciphers, key exchange, verification) is the default provider's.
//! For simulated time only: the real-network mode uses the default provider.
//!
//! ```
//! use callharness::agent::fixed_crypto::FixedSizeCrypto;
//! let provider = FixedSizeCrypto::new(42).unwrap();
//! # let _ = provider;
//! ```

use rand::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rtc::crypto::{
    ActiveKeyExchange, AeadAlgorithm, AeadCipher, BlockCipherAlgorithm, CbcAlgorithm, CbcCipher,
    CryptoAlgorithm, CryptoError, HashAlgorithm, HmacAlgorithm, KeyExchangeAlgorithm, Mac,
    PublicKey, RTCCrypto, RTCCryptoProvider, RTCRandom, SecretVec, SignatureScheme, SigningKey,
    StreamCipher, StreamCipherAlgorithm,
};
use rtc::peer_connection::certificate::{CertificateParams, RTCCertificate};
use std::sync::{Arc, Mutex};

/// Most attempts at a full-length signature before giving up and returning a shorter one
/// (each attempt succeeds with probability 1/4, so 64 fail together with probability 1e-8).
const MAX_SIGN_ATTEMPTS: usize = 64;

/// A self-signed ECDSA P-256 DTLS certificate whose encoding has the same length on every run:
/// a fixed subject and a 20-byte serial number from `seed` (rcgen's default serial is a hash of
/// the random public key, one byte shorter when that hash starts with a zero byte).
pub fn certificate(
    provider: &dyn RTCCryptoProvider,
    seed: u64,
) -> Result<RTCCertificate, rtc::shared::error::Error> {
    let mut params = CertificateParams::new(vec!["callharness".to_owned()])
        .map_err(|e| rtc::shared::error::Error::Other(e.to_string()))?;
    let mut serial = [0u8; 20];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    rng.fill_bytes(&mut serial);
    // First byte in 0x01..=0x7f: positive, and no leading zero to strip.
    serial[0] = serial[0] % 0x7f + 1;
    params.serial_number = Some(serial.to_vec().into());
    RTCCertificate::generate(provider.crypto(), SignatureScheme::EcdsaP256Sha256, params)
}

/// See the module docs.
pub struct FixedSizeCrypto {
    crypto: FixedCrypto,
    random: SeededRandom,
}

impl FixedSizeCrypto {
    /// Wraps the default provider, with random bytes from `seed`.
    pub fn new(seed: u64) -> Result<Arc<Self>, CryptoError> {
        let inner = rtc::crypto::default_provider()?;
        Ok(Arc::new(FixedSizeCrypto {
            crypto: FixedCrypto { inner },
            random: SeededRandom(Mutex::new(Xoshiro256PlusPlus::seed_from_u64(seed))),
        }))
    }
}

impl RTCCryptoProvider for FixedSizeCrypto {
    fn name(&self) -> &'static str {
        "callharness-fixed-size"
    }
    fn crypto(&self) -> &dyn RTCCrypto {
        &self.crypto
    }
    fn random(&self) -> &dyn RTCRandom {
        &self.random
    }
}

struct SeededRandom(Mutex<Xoshiro256PlusPlus>);

impl RTCRandom for SeededRandom {
    fn fill(&self, output: &mut [u8]) -> Result<(), CryptoError> {
        match self.0.lock() {
            Ok(mut rng) => {
                rng.fill_bytes(output);
                Ok(())
            }
            Err(_) => Err(CryptoError::RandomnessFailed),
        }
    }
}

struct FixedCrypto {
    inner: Arc<dyn RTCCryptoProvider>,
}

impl FixedCrypto {
    fn c(&self) -> &dyn RTCCrypto {
        self.inner.crypto()
    }
}

impl RTCCrypto for FixedCrypto {
    fn supports(&self, algorithm: CryptoAlgorithm) -> bool {
        self.c().supports(algorithm)
    }
    fn hash(&self, algorithm: HashAlgorithm, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.c().hash(algorithm, data)
    }
    fn block_encrypt(
        &self,
        algorithm: BlockCipherAlgorithm,
        key: &[u8],
        block: &mut [u8],
    ) -> Result<(), CryptoError> {
        self.c().block_encrypt(algorithm, key, block)
    }
    fn new_hmac(&self, algorithm: HmacAlgorithm, key: &[u8]) -> Result<Box<dyn Mac>, CryptoError> {
        self.c().new_hmac(algorithm, key)
    }
    fn new_stream_cipher(
        &self,
        algorithm: StreamCipherAlgorithm,
        key: &[u8],
    ) -> Result<Box<dyn StreamCipher>, CryptoError> {
        self.c().new_stream_cipher(algorithm, key)
    }
    fn new_aead(
        &self,
        algorithm: AeadAlgorithm,
        key: &[u8],
    ) -> Result<Box<dyn AeadCipher>, CryptoError> {
        self.c().new_aead(algorithm, key)
    }
    fn new_cbc(
        &self,
        algorithm: CbcAlgorithm,
        key: &[u8],
    ) -> Result<Box<dyn CbcCipher>, CryptoError> {
        self.c().new_cbc(algorithm, key)
    }
    fn start_key_exchange(
        &self,
        algorithm: KeyExchangeAlgorithm,
    ) -> Result<Box<dyn ActiveKeyExchange>, CryptoError> {
        self.c().start_key_exchange(algorithm)
    }
    fn generate_signing_key(
        &self,
        scheme: SignatureScheme,
    ) -> Result<Arc<dyn SigningKey>, CryptoError> {
        Ok(Arc::new(FullLengthSigner(
            self.c().generate_signing_key(scheme)?,
        )))
    }
    fn import_signing_key(
        &self,
        scheme: SignatureScheme,
        pkcs8_der: &[u8],
    ) -> Result<Arc<dyn SigningKey>, CryptoError> {
        Ok(Arc::new(FullLengthSigner(
            self.c().import_signing_key(scheme, pkcs8_der)?,
        )))
    }
    fn verify_signature(
        &self,
        scheme: SignatureScheme,
        public_key: PublicKey<'_>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        self.c()
            .verify_signature(scheme, public_key, message, signature)
    }
}

/// The longest DER encoding of an ECDSA signature for `scheme`, if it is ECDSA.
fn full_ecdsa_len(scheme: SignatureScheme) -> Option<usize> {
    match scheme {
        // SEQUENCE header 2 + two INTEGERs of (2 + 33) bytes.
        SignatureScheme::EcdsaP256Sha256 => Some(72),
        // SEQUENCE header 2 + two INTEGERs of (2 + 49) bytes.
        SignatureScheme::EcdsaP384Sha384 => Some(104),
        _ => None,
    }
}

struct FullLengthSigner(Arc<dyn SigningKey>);

impl SigningKey for FullLengthSigner {
    fn supports(&self, scheme: SignatureScheme) -> bool {
        self.0.supports(scheme)
    }
    fn public_key(&self) -> PublicKey<'_> {
        self.0.public_key()
    }
    fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut sig = self.0.sign(scheme, message)?;
        if let Some(full) = full_ecdsa_len(scheme) {
            for _ in 1..MAX_SIGN_ATTEMPTS {
                if sig.len() == full {
                    break;
                }
                sig = self.0.sign(scheme, message)?;
            }
        }
        Ok(sig)
    }
    fn to_pkcs8_der(&self) -> Result<Option<SecretVec>, CryptoError> {
        self.0.to_pkcs8_der()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_signatures_always_have_full_length_and_verify() {
        let p = FixedSizeCrypto::new(1).unwrap();
        let key = p
            .crypto()
            .generate_signing_key(SignatureScheme::EcdsaP256Sha256)
            .unwrap();
        for i in 0..40u8 {
            let msg = [i; 32];
            let sig = key.sign(SignatureScheme::EcdsaP256Sha256, &msg).unwrap();
            assert_eq!(sig.len(), 72);
            p.crypto()
                .verify_signature(
                    SignatureScheme::EcdsaP256Sha256,
                    key.public_key(),
                    &msg,
                    &sig,
                )
                .unwrap();
        }
    }

    #[test]
    fn random_bytes_repeat_for_a_seed() {
        let (a, b, c) = (
            FixedSizeCrypto::new(9).unwrap(),
            FixedSizeCrypto::new(9).unwrap(),
            FixedSizeCrypto::new(10).unwrap(),
        );
        let (mut x, mut y, mut z) = ([0u8; 32], [0u8; 32], [0u8; 32]);
        a.random().fill(&mut x).unwrap();
        b.random().fill(&mut y).unwrap();
        c.random().fill(&mut z).unwrap();
        assert_eq!(x, y);
        assert_ne!(x, z);
    }
}
