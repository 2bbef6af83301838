//! AES-256-GCM field encryption for SSNs and bank account numbers. The key is 32 bytes, given as
//! base64 in `PAYROLL_DATA_KEY`. Stored form: 12-byte random nonce ‖ ciphertext ‖ 16-byte tag.

use crate::error::StoreError;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

#[derive(Clone)]
pub struct DataKey {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

const NONCE_LEN: usize = 12;

impl DataKey {
    pub fn from_bytes(key: &[u8]) -> Result<DataKey, StoreError> {
        if key.len() != 32 {
            return Err(StoreError::Config(
                "PAYROLL_DATA_KEY must be base64 of exactly 32 bytes".into(),
            ));
        }
        let cipher = Aes256Gcm::new_from_slice(key)
            .map_err(|_| StoreError::Config("invalid data key".into()))?;
        Ok(DataKey { cipher })
    }

    pub fn from_base64(s: &str) -> Result<DataKey, StoreError> {
        let bytes = STANDARD
            .decode(s.trim())
            .map_err(|_| StoreError::Config("PAYROLL_DATA_KEY is not valid base64".into()))?;
        DataKey::from_bytes(&bytes)
    }

    pub fn from_env() -> Result<DataKey, StoreError> {
        let v = std::env::var("PAYROLL_DATA_KEY")
            .map_err(|_| StoreError::Config("PAYROLL_DATA_KEY is not set".into()))?;
        DataKey::from_base64(&v)
    }

    pub fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let ct = self
            .cipher
            .encrypt(&Nonce::from(nonce), plaintext)
            .map_err(|_| StoreError::Crypto("encryption failed".into()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    pub fn decrypt(&self, stored: &[u8]) -> Result<Vec<u8>, StoreError> {
        if stored.len() < NONCE_LEN + 16 {
            return Err(StoreError::Crypto("ciphertext too short".into()));
        }
        let (nonce, ct) = stored.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| StoreError::Crypto("bad nonce".into()))?;
        self.cipher.decrypt(&nonce, ct).map_err(|_| {
            StoreError::Crypto("authentication failed (wrong key or tampered data)".into())
        })
    }

    pub fn encrypt_str(&self, s: &str) -> Result<Vec<u8>, StoreError> {
        self.encrypt(s.as_bytes())
    }

    pub fn decrypt_str(&self, stored: &[u8]) -> Result<String, StoreError> {
        String::from_utf8(self.decrypt(stored)?)
            .map_err(|_| StoreError::Crypto("decrypted value is not text".into()))
    }
}

/// `***-**-1234` for an SSN given as digits (dashes ignored).
pub fn mask_ssn(ssn: &str) -> String {
    let digits: String = ssn.chars().filter(|c| c.is_ascii_digit()).collect();
    let last4 = digits.get(digits.len().saturating_sub(4)..).unwrap_or("");
    format!("***-**-{last4}")
}

/// `****6789` for an account number.
pub fn mask_account(number: &str) -> String {
    let last4 = number.get(number.len().saturating_sub(4)..).unwrap_or("");
    format!("****{last4}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let k = DataKey::from_bytes(&[7u8; 32]).unwrap();
        let c = k.encrypt_str("123-45-6789").unwrap();
        assert_eq!(k.decrypt_str(&c).unwrap(), "123-45-6789");
        let c2 = k.encrypt_str("123-45-6789").unwrap();
        assert_ne!(c, c2, "random nonce");
        let mut bad = c.clone();
        bad[20] ^= 1;
        assert!(k.decrypt(&bad).is_err());
        let other = DataKey::from_bytes(&[8u8; 32]).unwrap();
        assert!(other.decrypt(&c).is_err());
        assert!(DataKey::from_base64("c2hvcnQ=").is_err());
        assert_eq!(mask_ssn("123-45-6789"), "***-**-6789");
        assert_eq!(mask_account("000123456789"), "****6789");
    }
}
