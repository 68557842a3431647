//! JWT issue and verification with a pinned algorithm (HS256 with `EASEL_JWT_SECRET`).
//!
//! Owns the claim set, the signing key (including the development key kept under the data
//! directory) and validation rules: `alg` pinned, `exp` and `sub` required, `nbf` honoured,
//! a small leeway. Never logs a token or a key.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::AuthError;
use crate::config::{Config, Mode, Secret};
use crate::domain::UserId;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: u64 = 30;
const ALGORITHM: Algorithm = Algorithm::HS256;
const SECRET_FILE: &str = "jwt_secret";

/// The claims Easel puts in and reads from a token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The display name shown to other people on a board.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issued at, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Not valid before, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// `admin` for administrators; absent for everyone else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// What a caller asks a token for.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// Whose token it is.
    pub user: UserId,
    /// Display name, if any.
    pub name: Option<String>,
    /// Whether the token grants the admin role.
    pub admin: bool,
    /// How long the token is valid from now.
    pub ttl: Duration,
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user id from `sub`.
    pub user: UserId,
    /// The display name from `name`, if any.
    pub name: Option<String>,
    /// Whether the token carries `role=admin`.
    pub admin: bool,
    /// When the token expires, seconds since the Unix epoch.
    pub expires_at: u64,
}

/// The keys that sign and verify Easel's own tokens.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys([redacted])")
    }
}

impl JwtKeys {
    /// Keys from a shared secret.
    pub fn from_secret(secret: &Secret) -> Self {
        let bytes = secret.expose().as_bytes();
        let mut validation = Validation::new(ALGORITHM);
        validation.algorithms = vec![ALGORITHM];
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
        }
    }

    /// Keys for a configuration: `EASEL_JWT_SECRET` when set; otherwise, in development
    /// mode only, a random secret generated once and kept in `EASEL_DATA_DIR/jwt_secret`
    /// so tokens survive restarts and `easel token` signs with the same key as the server.
    pub fn from_config(config: &Config) -> Result<Self, AuthError> {
        if let Some(secret) = &config.jwt_secret {
            return Ok(Self::from_secret(secret));
        }
        if config.mode == Mode::Production {
            return Err(AuthError::Key(
                "EASEL_JWT_SECRET is required in production".into(),
            ));
        }
        let secret = load_or_create_secret(&config.data_dir).map_err(|e| {
            AuthError::Key(format!(
                "{}: {e}",
                config.data_dir.join(SECRET_FILE).display()
            ))
        })?;
        Ok(Self::from_secret(&secret))
    }

    /// Signs a token for `req`.
    pub fn issue(&self, req: &TokenRequest) -> Result<String, AuthError> {
        let now = now_secs();
        let claims = Claims {
            sub: req.user.as_str().to_owned(),
            name: req.name.clone(),
            exp: now.saturating_add(req.ttl.as_secs()),
            iat: Some(now),
            nbf: None,
            role: req.admin.then(|| "admin".to_owned()),
        };
        self.sign(&claims)
    }

    /// Signs arbitrary claims (tests use this to build edge cases such as `nbf` in the future).
    pub fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        jsonwebtoken::encode(&Header::new(ALGORITHM), claims, &self.encoding)
            .map_err(|e| AuthError::Key(e.to_string()))
    }

    /// Verifies a token: signature, pinned algorithm, `exp`, `nbf`, and a valid `sub`.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                ErrorKind::InvalidSignature => AuthError::Invalid("bad signature".into()),
                ErrorKind::InvalidAlgorithm => AuthError::Invalid("algorithm not allowed".into()),
                ErrorKind::MissingRequiredClaim(c) => {
                    AuthError::Invalid(format!("missing claim {c}"))
                }
                _ => AuthError::Invalid("malformed token".into()),
            })?;
        let claims = data.claims;
        let user = UserId::parse(&claims.sub).map_err(|e| AuthError::Invalid(e.to_string()))?;
        Ok(Principal {
            user,
            name: claims.name,
            admin: claims.role.as_deref() == Some("admin"),
            expires_at: claims.exp,
        })
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn load_or_create_secret(dir: &Path) -> std::io::Result<Secret> {
    let path = dir.join(SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= crate::config::MIN_JWT_SECRET_BYTES => {
            return Ok(Secret::new(s.trim()));
        }
        Ok(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the file is too short to be a key; delete it to generate a new one",
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(dir)?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(secret.as_bytes())?;
            file.sync_all()?;
            tracing::warn!(
                path = %path.display(),
                "EASEL_JWT_SECRET is not set: generated a development signing key; set EASEL_JWT_SECRET in production"
            );
            Ok(Secret::new(secret))
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create_secret(dir),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::from_secret(&Secret::new("unit-test-secret-unit-test-secret!!"))
    }

    fn request(ttl: Duration) -> TokenRequest {
        TokenRequest {
            user: UserId::parse("alice").unwrap(),
            name: Some("Alice".into()),
            admin: false,
            ttl,
        }
    }

    #[test]
    fn issued_tokens_verify() {
        let k = keys();
        let token = k.issue(&request(Duration::from_secs(3600))).unwrap();
        let p = k.verify(&token).unwrap();
        assert_eq!(p.user.as_str(), "alice");
        assert_eq!(p.name.as_deref(), Some("Alice"));
        assert!(!p.admin);
        let admin = k
            .issue(&TokenRequest {
                admin: true,
                ..request(Duration::from_secs(60))
            })
            .unwrap();
        assert!(k.verify(&admin).unwrap().admin);
    }

    #[test]
    fn wrong_key_garbage_and_empty_are_refused() {
        let token = keys().issue(&request(Duration::from_secs(3600))).unwrap();
        let other = JwtKeys::from_secret(&Secret::new("another-secret-another-secret-1234"));
        assert!(matches!(other.verify(&token), Err(AuthError::Invalid(_))));
        assert!(matches!(
            keys().verify("not.a.jwt"),
            Err(AuthError::Invalid(_))
        ));
        assert!(matches!(keys().verify(""), Err(AuthError::Missing)));
    }

    #[test]
    fn expiry_and_not_before_are_enforced_with_leeway() {
        let k = keys();
        let now = now_secs();
        let claims = |exp, nbf| Claims {
            sub: "bob".into(),
            name: None,
            exp,
            iat: None,
            nbf,
            role: None,
        };
        assert!(matches!(
            k.verify(&k.sign(&claims(now - 120, None)).unwrap()),
            Err(AuthError::Expired)
        ));
        assert!(
            k.verify(&k.sign(&claims(now - 5, None)).unwrap()).is_ok(),
            "within leeway"
        );
        assert!(matches!(
            k.verify(&k.sign(&claims(now + 3600, Some(now + 600))).unwrap()),
            Err(AuthError::NotYetValid)
        ));
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let now = now_secs();
        let b64 = |s: &str| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
        };
        let payload = b64(&format!(r#"{{"sub":"mallory","exp":{}}}"#, now + 3600));
        let none = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), payload);
        assert!(matches!(keys().verify(&none), Err(AuthError::Invalid(_))));
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &Claims {
                sub: "mallory".into(),
                name: None,
                exp: now + 3600,
                iat: None,
                nbf: None,
                role: None,
            },
            &EncodingKey::from_secret(b"unit-test-secret-unit-test-secret!!"),
        )
        .unwrap();
        assert!(matches!(keys().verify(&hs512), Err(AuthError::Invalid(_))));
    }

    #[test]
    fn tokens_without_exp_or_with_a_bad_sub_are_refused() {
        #[derive(Serialize)]
        struct NoExp {
            sub: String,
        }
        let t = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &NoExp { sub: "x".into() },
            &EncodingKey::from_secret(b"unit-test-secret-unit-test-secret!!"),
        )
        .unwrap();
        assert!(matches!(keys().verify(&t), Err(AuthError::Invalid(_))));
        let k = keys();
        let empty_sub = Claims {
            sub: String::new(),
            name: None,
            exp: now_secs() + 60,
            iat: None,
            nbf: None,
            role: None,
        };
        assert!(matches!(
            k.verify(&k.sign(&empty_sub).unwrap()),
            Err(AuthError::Invalid(_))
        ));
    }

    #[test]
    fn development_secret_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_secret(dir.path()).unwrap();
        let b = load_or_create_secret(dir.path()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.expose().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
