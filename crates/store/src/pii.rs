//! Callers' personal information at rest (个人信息保护法 Art.28/51, 条例 Art.8): names and phones
//! are sealed with an AEAD before any write, so the database, its WAL and its backups hold
//! ciphertext only. A keyed blind index (HMAC-SHA256) lets a phone still be looked up exactly.
//!
//! Keys come from a keyring (TOML) in a file (`JIESU_PII_KEY_FILE`) or the environment
//! (`JIESU_PII_KEYRING`); the first key of `keys` seals, every key opens, so rotation is: add a new
//! first key, restart, run `jiesu keys rotate`, then drop the old key. The blind-index key stays
//! the same across rotations (changing it means re-indexing, which rotate also does).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, AesGcm};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sm4::Sm4;

type Sm4Gcm = AesGcm<Sm4, aes_gcm::aead::consts::U12>;

/// What every sealed value starts with; anything else is legacy plaintext.
const PREFIX: &str = "enc1:";
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PiiError {
    #[error("PII keyring: {0}")]
    Config(String),
    #[error(
        "a caller's data is sealed with key `{0}`, which the keyring does not hold \
         (set JIESU_PII_KEY_FILE to a keyring that has it)"
    )]
    UnknownKey(String),
    #[error("a caller's sealed data does not open with key `{0}` (wrong key or altered data)")]
    Tampered(String),
    #[error("a caller's sealed data is malformed")]
    Malformed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// AES-256-GCM (the default).
    Aes256Gcm,
    /// SM4-GCM (GB/T 32907, RFC 8998) for deployments under 商用密码 evaluation (密评).
    Sm4Gcm,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Aes256Gcm => "aes-256-gcm",
            Algorithm::Sm4Gcm => "sm4-gcm",
        }
    }
    fn key_len(self) -> usize {
        match self {
            Algorithm::Aes256Gcm => 32,
            Algorithm::Sm4Gcm => 16,
        }
    }
    fn parse(s: &str) -> Result<Self, PiiError> {
        match s {
            "aes-256-gcm" => Ok(Algorithm::Aes256Gcm),
            "sm4-gcm" => Ok(Algorithm::Sm4Gcm),
            other => Err(PiiError::Config(format!(
                "`algorithm` is `{other}`: use aes-256-gcm or sm4-gcm"
            ))),
        }
    }
}

enum Cipher {
    Aes(Box<Aes256Gcm>),
    Sm4(Box<Sm4Gcm>),
}

impl Cipher {
    fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], plain: &[u8]) -> Vec<u8> {
        let p = Payload { msg: plain, aad };
        let r = match self {
            Cipher::Aes(c) => c.encrypt(nonce.into(), p),
            Cipher::Sm4(c) => c.encrypt(nonce.into(), p),
        };
        // Encryption fails only past GCM's length limit (64 GiB), far above any field.
        r.expect("AEAD seal of a short field")
    }
    fn open(&self, nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let nonce: &[u8; NONCE_LEN] = nonce.try_into().ok()?;
        let p = Payload { msg: sealed, aad };
        match self {
            Cipher::Aes(c) => c.decrypt(nonce.into(), p).ok(),
            Cipher::Sm4(c) => c.decrypt(nonce.into(), p).ok(),
        }
    }
}

struct Key {
    id: String,
    algorithm: Algorithm,
    cipher: Cipher,
    /// HMAC of a fixed label under the key: lets a database record which keys sealed its rows
    /// without holding them, and tells a wrong key under a known id from the right one.
    check: String,
}

/// The keyring in force: what seals, what opens, and the blind-index key.
pub struct Keyring {
    keys: Vec<Key>,
    index: Hmac<Sha256>,
}

/// How a store treats callers' personal information: sealed under a keyring, or (no keyring
/// configured: development and demos) stored as given.
pub struct Pii {
    ring: Option<Keyring>,
    /// The blind index when no keyring is set: a fixed key, so phone search still works; it
    /// protects nothing, as the phones beside it are plaintext then.
    plain_index: Hmac<Sha256>,
}

/// What a stored value is sealed with.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SealedWith {
    Plaintext,
    Key(String),
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RingFile {
    #[serde(default)]
    algorithm: Option<String>,
    index_key: String,
    keys: Vec<KeyFile>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    id: String,
    key: String,
    #[serde(default)]
    algorithm: Option<String>,
}

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key).expect("HMAC takes any key length")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // The OS RNG does not fail on supported platforms; if it ever did, sealing must not go on
    // with a zero nonce.
    getrandom::fill(&mut b).expect("the OS random number generator");
    b
}

impl Keyring {
    /// Parses a keyring file. Every problem names the key it is about.
    pub fn from_toml(text: &str) -> Result<Keyring, PiiError> {
        let f: RingFile =
            toml::from_str(text).map_err(|e| PiiError::Config(e.message().to_string()))?;
        let default = Algorithm::parse(f.algorithm.as_deref().unwrap_or("aes-256-gcm"))?;
        let index = B64
            .decode(f.index_key.trim())
            .map_err(|_| PiiError::Config("`index_key` is not base64".into()))?;
        if index.len() < 32 {
            return Err(PiiError::Config(
                "`index_key` must be at least 32 bytes (base64 of 32 random bytes)".into(),
            ));
        }
        if f.keys.is_empty() {
            return Err(PiiError::Config(
                "`keys` is empty: the first key seals".into(),
            ));
        }
        let mut keys: Vec<Key> = Vec::with_capacity(f.keys.len());
        for k in f.keys {
            let id = k.id.trim().to_string();
            let ok = !id.is_empty()
                && id.len() <= 32
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                return Err(PiiError::Config(format!(
                    "key id `{id}`: 1 to 32 of a-z A-Z 0-9 - _"
                )));
            }
            if keys.iter().any(|x| x.id == id) {
                return Err(PiiError::Config(format!("key id `{id}` appears twice")));
            }
            let algorithm = match k.algorithm.as_deref() {
                Some(a) => Algorithm::parse(a)?,
                None => default,
            };
            let raw = B64
                .decode(k.key.trim())
                .map_err(|_| PiiError::Config(format!("key `{id}`: `key` is not base64")))?;
            if raw.len() != algorithm.key_len() {
                return Err(PiiError::Config(format!(
                    "key `{id}`: {} takes a {}-byte key, this one has {}",
                    algorithm.as_str(),
                    algorithm.key_len(),
                    raw.len()
                )));
            }
            let cipher = match algorithm {
                Algorithm::Aes256Gcm => Cipher::Aes(Box::new(
                    Aes256Gcm::new_from_slice(&raw).expect("length checked"),
                )),
                Algorithm::Sm4Gcm => Cipher::Sm4(Box::new(
                    Sm4Gcm::new_from_slice(&raw).expect("length checked"),
                )),
            };
            let mut m = hmac(&raw);
            m.update(b"jiesu pii key check v1");
            let check = hex(&m.finalize().into_bytes()[..16]);
            keys.push(Key {
                id,
                algorithm,
                cipher,
                check,
            });
        }
        Ok(Keyring {
            keys,
            index: hmac(&index),
        })
    }

    /// A new keyring file with one fresh key and a fresh index key.
    pub fn generate(algorithm: Algorithm, id: &str) -> String {
        let key = match algorithm {
            Algorithm::Aes256Gcm => B64.encode(random::<32>()),
            Algorithm::Sm4Gcm => B64.encode(random::<16>()),
        };
        format!(
            "# jiesu PII keyring. Keep it secret (chmod 600) and backed up apart from the\n\
             # database: without it, callers' names and phones cannot be read.\n\
             # The first key seals; every key opens. Never change `index_key`.\n\
             algorithm = \"{}\"\n\
             index_key = \"{}\"\n\n\
             [[keys]]\n\
             id = \"{id}\"\n\
             key = \"{key}\"\n",
            algorithm.as_str(),
            B64.encode(random::<32>()),
        )
    }

    /// The same keyring file with a fresh key put first (it seals from the next start on),
    /// keeping every key already there and the index key.
    pub fn with_new_key(text: &str, algorithm: Algorithm, id: &str) -> Result<String, PiiError> {
        let ring = Keyring::from_toml(text)?;
        if ring.keys.iter().any(|k| k.id == id) {
            return Err(PiiError::Config(format!(
                "key id `{id}` is already in the keyring"
            )));
        }
        let key = match algorithm {
            Algorithm::Aes256Gcm => B64.encode(random::<32>()),
            Algorithm::Sm4Gcm => B64.encode(random::<16>()),
        };
        let mut doc: toml::Table =
            toml::from_str(text).map_err(|e| PiiError::Config(e.message().to_string()))?;
        let mut entry = toml::Table::new();
        entry.insert("id".into(), toml::Value::String(id.into()));
        entry.insert("key".into(), toml::Value::String(key));
        entry.insert(
            "algorithm".into(),
            toml::Value::String(algorithm.as_str().into()),
        );
        let keys = doc
            .get_mut("keys")
            .and_then(|v| v.as_array_mut())
            .ok_or_else(|| PiiError::Config("`keys` is missing".into()))?;
        keys.insert(0, toml::Value::Table(entry));
        let body = toml::to_string(&doc).map_err(|e| PiiError::Config(e.to_string()))?;
        Keyring::from_toml(&body)?;
        Ok(format!(
            "# jiesu PII keyring. Keep it secret (chmod 600) and backed up apart from the\n\
             # database. The first key seals; every key opens. Never change `index_key`.\n{body}"
        ))
    }

    pub fn active_id(&self) -> &str {
        &self.keys[0].id
    }

    /// (id, algorithm, check value) of every key, the sealing one first.
    pub fn fingerprints(&self) -> Vec<(String, &'static str, String)> {
        self.keys
            .iter()
            .map(|k| (k.id.clone(), k.algorithm.as_str(), k.check.clone()))
            .collect()
    }
}

impl Pii {
    /// No keyring: values are stored as given (development, demos without a key).
    pub fn off() -> Pii {
        Pii {
            ring: None,
            plain_index: hmac(b"jiesu blind index without a keyring"),
        }
    }

    pub fn with_keyring(ring: Keyring) -> Pii {
        Pii {
            ring: Some(ring),
            ..Pii::off()
        }
    }

    /// The keyring the environment names: `JIESU_PII_KEY_FILE` (a path) or `JIESU_PII_KEYRING`
    /// (the file's text); neither means off.
    pub fn from_env() -> Result<Pii, PiiError> {
        let text = match (
            std::env::var("JIESU_PII_KEY_FILE")
                .ok()
                .filter(|s| !s.is_empty()),
            std::env::var("JIESU_PII_KEYRING")
                .ok()
                .filter(|s| !s.is_empty()),
        ) {
            (Some(_), Some(_)) => {
                return Err(PiiError::Config(
                    "set JIESU_PII_KEY_FILE or JIESU_PII_KEYRING, not both".into(),
                ));
            }
            (Some(path), None) => std::fs::read_to_string(&path)
                .map_err(|e| PiiError::Config(format!("JIESU_PII_KEY_FILE `{path}`: {e}")))?,
            (None, Some(text)) => text,
            (None, None) => return Ok(Pii::off()),
        };
        Ok(Pii::with_keyring(Keyring::from_toml(&text)?))
    }

    pub fn keyring(&self) -> Option<&Keyring> {
        self.ring.as_ref()
    }

    pub fn is_on(&self) -> bool {
        self.ring.is_some()
    }

    /// Seals one field's value under the active key. `field` is bound into the ciphertext (as
    /// associated data), so a sealed phone cannot be moved into the name and still open.
    pub fn seal(&self, field: &str, plain: &str) -> String {
        let Some(ring) = &self.ring else {
            return plain.to_string();
        };
        let key = &ring.keys[0];
        let nonce = random::<NONCE_LEN>();
        let aad = aad(field, &key.id);
        let ct = key.cipher.seal(&nonce, aad.as_bytes(), plain.as_bytes());
        let mut blob = Vec::with_capacity(NONCE_LEN + ct.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ct);
        format!("{PREFIX}{}:{}", key.id, B64.encode(blob))
    }

    /// Opens what `seal` wrote (under any key of the ring); plaintext from before encryption
    /// was turned on passes through.
    pub fn open(&self, field: &str, stored: &str) -> Result<String, PiiError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let (id, b64) = rest.split_once(':').ok_or(PiiError::Malformed)?;
        let ring = self
            .ring
            .as_ref()
            .ok_or_else(|| PiiError::UnknownKey(id.to_string()))?;
        let key = ring
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| PiiError::UnknownKey(id.to_string()))?;
        let blob = B64.decode(b64).map_err(|_| PiiError::Malformed)?;
        if blob.len() < NONCE_LEN {
            return Err(PiiError::Malformed);
        }
        let (nonce, ct) = blob.split_at(NONCE_LEN);
        let plain = key
            .cipher
            .open(nonce, aad(field, id).as_bytes(), ct)
            .ok_or_else(|| PiiError::Tampered(id.to_string()))?;
        String::from_utf8(plain).map_err(|_| PiiError::Malformed)
    }

    /// Which key sealed a stored value.
    pub fn sealed_with(stored: &str) -> SealedWith {
        match stored.strip_prefix(PREFIX).and_then(|r| r.split_once(':')) {
            Some((id, _)) => SealedWith::Key(id.to_string()),
            None => SealedWith::Plaintext,
        }
    }

    /// Whether a stored value should be sealed again: plaintext while a keyring is set, or
    /// sealed under a key that is not the active one.
    pub fn needs_reseal(&self, stored: &str) -> bool {
        match (&self.ring, Self::sealed_with(stored)) {
            (None, _) => false,
            (Some(_), SealedWith::Plaintext) => true,
            (Some(r), SealedWith::Key(id)) => id != r.keys[0].id,
        }
    }

    /// The blind index of a phone number: equal for the same number however it was written
    /// (spaces, dashes, +86), different for different numbers, and useless without the key.
    /// None when the value has no digits.
    pub fn phone_index(&self, phone: &str) -> Option<String> {
        let digits = normalise_phone(phone)?;
        let mut m = match &self.ring {
            Some(r) => r.index.clone(),
            None => self.plain_index.clone(),
        };
        m.update(b"phone:");
        m.update(digits.as_bytes());
        Some(hex(&m.finalize().into_bytes()[..16]))
    }
}

impl Pii {
    /// A blind index of an exact value of `kind` (e.g. an ID number, upper-cased by the
    /// caller): equal for equal values, useless without the key.
    pub fn value_index(&self, kind: &str, value: &str) -> String {
        let mut m = match &self.ring {
            Some(r) => r.index.clone(),
            None => self.plain_index.clone(),
        };
        m.update(kind.as_bytes());
        m.update(b":");
        m.update(value.as_bytes());
        hex(&m.finalize().into_bytes()[..16])
    }
}

fn aad(field: &str, key_id: &str) -> String {
    format!("jiesu pii v1|{field}|{key_id}")
}

/// Digits only, without a leading +86 / 0086 on a mobile number.
pub fn normalise_phone(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        return None;
    }
    let d = digits.as_str();
    let d = if d.len() == 13 && d.starts_with("86") {
        &d[2..]
    } else if d.len() == 15 && d.starts_with("0086") {
        &d[4..]
    } else {
        d
    };
    Some(d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> String {
        Keyring::generate(Algorithm::Aes256Gcm, "k1")
    }

    #[test]
    fn seals_and_opens_and_binds_the_field() {
        for alg in [Algorithm::Aes256Gcm, Algorithm::Sm4Gcm] {
            let pii = Pii::with_keyring(Keyring::from_toml(&Keyring::generate(alg, "a")).unwrap());
            let s = pii.seal("caller.phone", "13812345678");
            assert!(s.starts_with("enc1:a:"), "{s}");
            assert!(!s.contains("13812345678"));
            assert_ne!(
                s,
                pii.seal("caller.phone", "13812345678"),
                "fresh nonce each time"
            );
            assert_eq!(pii.open("caller.phone", &s).unwrap(), "13812345678");
            assert_eq!(
                pii.open("caller.name", &s),
                Err(PiiError::Tampered("a".into()))
            );
        }
    }

    #[test]
    fn a_changed_byte_or_an_unknown_key_is_refused() {
        let pii = Pii::with_keyring(Keyring::from_toml(&ring()).unwrap());
        let s = pii.seal("caller.name", "张三");
        let mut b = B64.decode(s.rsplit(':').next().unwrap()).unwrap();
        b[14] ^= 1;
        let bad = format!("enc1:k1:{}", B64.encode(b));
        assert_eq!(
            pii.open("caller.name", &bad),
            Err(PiiError::Tampered("k1".into()))
        );
        let other = Pii::with_keyring(
            Keyring::from_toml(&Keyring::generate(Algorithm::Aes256Gcm, "k2")).unwrap(),
        );
        assert_eq!(
            other.open("caller.name", &s),
            Err(PiiError::UnknownKey("k1".into()))
        );
        assert_eq!(
            Pii::off().open("caller.name", &s),
            Err(PiiError::UnknownKey("k1".into()))
        );
        assert_eq!(pii.open("caller.name", "enc1:k1"), Err(PiiError::Malformed));
        assert_eq!(
            pii.open("caller.name", "enc1:k1:!!"),
            Err(PiiError::Malformed)
        );
    }

    #[test]
    fn plaintext_passes_and_off_stores_as_given() {
        let pii = Pii::with_keyring(Keyring::from_toml(&ring()).unwrap());
        assert_eq!(pii.open("caller.name", "李四").unwrap(), "李四");
        assert!(pii.needs_reseal("李四"));
        assert_eq!(Pii::off().seal("caller.name", "李四"), "李四");
        assert!(!Pii::off().needs_reseal("李四"));
    }

    #[test]
    fn rotation_keeps_old_keys_opening_and_the_index_stable() {
        let v1 = ring();
        let old = Pii::with_keyring(Keyring::from_toml(&v1).unwrap());
        let sealed = old.seal("caller.phone", "13800000000");
        let v2 = Keyring::with_new_key(&v1, Algorithm::Sm4Gcm, "k2").unwrap();
        let new = Pii::with_keyring(Keyring::from_toml(&v2).unwrap());
        assert_eq!(new.keyring().unwrap().active_id(), "k2");
        assert_eq!(new.open("caller.phone", &sealed).unwrap(), "13800000000");
        assert!(new.needs_reseal(&sealed));
        assert!(new.seal("caller.phone", "1").starts_with("enc1:k2:"));
        assert_eq!(
            old.phone_index("13800000000"),
            new.phone_index("138-0000-0000")
        );
        assert_eq!(
            Keyring::with_new_key(&v2, Algorithm::Aes256Gcm, "k1").err(),
            Some(PiiError::Config(
                "key id `k1` is already in the keyring".into()
            ))
        );
    }

    #[test]
    fn the_blind_index_normalises_and_needs_the_key() {
        let a = Pii::with_keyring(Keyring::from_toml(&ring()).unwrap());
        let b = Pii::with_keyring(Keyring::from_toml(&ring()).unwrap());
        let i = a.phone_index("13812345678").unwrap();
        assert_eq!(Some(i.clone()), a.phone_index("+86 138 1234 5678"));
        assert_eq!(Some(i.clone()), a.phone_index("0086-138-1234-5678"));
        assert_ne!(Some(i.clone()), a.phone_index("13812345679"));
        assert_ne!(Some(i), b.phone_index("13812345678"), "another index key");
        assert_eq!(a.phone_index("无"), None);
        assert_eq!(
            normalise_phone("010-6612 3456").as_deref(),
            Some("01066123456")
        );
    }

    #[test]
    fn bad_keyrings_name_the_problem() {
        let e = |t: &str| match Keyring::from_toml(t) {
            Err(PiiError::Config(m)) => m,
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("accepted {t}"),
        };
        let idx = B64.encode([7u8; 32]);
        let k32 = B64.encode([1u8; 32]);
        assert!(e("keys = []").contains("index_key"));
        assert!(e(&format!("index_key = \"{idx}\"\nkeys = []")).contains("`keys` is empty"));
        assert!(
            e(&format!(
                "index_key = \"abc\"\n[[keys]]\nid=\"a\"\nkey=\"{k32}\""
            ))
            .contains("index_key")
        );
        assert!(
            e(&format!(
                "index_key = \"{idx}\"\n[[keys]]\nid=\"a b\"\nkey=\"{k32}\""
            ))
            .contains("key id `a b`")
        );
        assert!(e(&format!("index_key = \"{idx}\"\n[[keys]]\nid=\"a\"\nkey=\"{k32}\"\n[[keys]]\nid=\"a\"\nkey=\"{k32}\"")).contains("twice"));
        assert!(
            e(&format!(
                "index_key = \"{idx}\"\n[[keys]]\nid=\"a\"\nkey=\"{k32}\"\nalgorithm=\"sm4-gcm\""
            ))
            .contains("16-byte")
        );
        assert!(
            e(&format!(
                "index_key = \"{idx}\"\nalgorithm = \"des\"\n[[keys]]\nid=\"a\"\nkey=\"{k32}\""
            ))
            .contains("`des`")
        );
        assert!(
            e(&format!(
                "index_key = \"{idx}\"\ncolour = 1\n[[keys]]\nid=\"a\"\nkey=\"{k32}\""
            ))
            .contains("colour")
        );
    }

    /// RFC 8998 appendix A.1: SM4-GCM test vector, so the generic GCM over SM4 is the standard one.
    #[test]
    fn sm4_gcm_matches_rfc_8998() {
        let unhex = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let key = unhex("0123456789ABCDEFFEDCBA9876543210");
        let iv: [u8; 12] = unhex("00001234567800000000ABCD").try_into().unwrap();
        let aad = unhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
        let pt = unhex(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDDEEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
        );
        let want = unhex(
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D83DE3541E4C2B58177E065A9BF7B62EC",
        );
        let c = Cipher::Sm4(Box::new(Sm4Gcm::new_from_slice(&key).unwrap()));
        assert_eq!(c.seal(&iv, &aad, &pt), want);
    }
}
