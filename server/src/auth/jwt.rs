//! JWT issue and verification: Easel's own HS256 tokens (`EASEL_JWT_SECRET`) and, when
//! configured, RS256/ES256 tokens from an external identity provider.
//!
//! Owns the claim set, the keys (including the development key kept under the data
//! directory) and validation rules: the key is chosen by the header's `alg` (HS256 is
//! Easel's secret, RS256/ES256 the external key, anything else refused), `exp` and `sub`
//! required, `nbf` honoured, a small leeway; external tokens must also carry the configured
//! `iss` and `aud`. Never logs a token or a key.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AuthError;
use crate::config::{Config, ExternalAlgorithm, ExternalIssuer, Mode, Secret};
use crate::domain::{BoardId, Role, UserId};

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: u64 = 30;
const ALGORITHM: Algorithm = Algorithm::HS256;
const SECRET_FILE: &str = "jwt_secret";
const ADMIN_ROLE: &str = "admin";

/// The claims Easel puts in and reads from a token.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
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
    /// The token's unique id: Easel puts a random one in every token it issues, and logout
    /// revokes by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Board-scoped grants: board id -> `owner` | `editor` | `viewer`. They give access to
    /// those boards without an account or a membership row.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub boards: BTreeMap<String, String>,
    /// The share link a guest token was issued for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Whether the bearer is a guest (no account; came in through a share link).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub guest: bool,
    /// The issuer; required (and checked) on external tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The audience; required (and checked) on external tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
}

/// A token's `aud`: one string or an array of them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Audience {
    /// `"aud": "easel"`.
    One(String),
    /// `"aud": ["easel", "other"]`.
    Many(Vec<String>),
}

/// What a caller asks a token for. Start from [`TokenRequest::new`] and set what differs.
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
    /// Board-scoped grants the token carries.
    pub grants: HashMap<BoardId, Role>,
    /// The share link a guest token is issued for.
    pub link: Option<Uuid>,
    /// Whether the bearer is a guest; a guest token cannot be an admin token.
    pub guest: bool,
}

impl TokenRequest {
    /// A plain user token: no name, not admin, no grants, no link, not a guest.
    pub fn new(user: UserId, ttl: Duration) -> Self {
        Self {
            user,
            name: None,
            admin: false,
            ttl,
            grants: HashMap::new(),
            link: None,
            guest: false,
        }
    }
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
    /// The token's id (`jti`), if it has one.
    pub jti: Option<String>,
    /// Board-scoped grants from the token's `boards` claim.
    pub grants: HashMap<BoardId, Role>,
    /// The share link a guest token was issued for.
    pub link: Option<Uuid>,
    /// Whether the bearer is a guest.
    pub guest: bool,
    /// Whether the token came from the external identity provider (verified with its key).
    pub external: bool,
}

/// The external identity provider's verification key and rules.
#[derive(Clone)]
struct ExternalKey {
    algorithm: Algorithm,
    decoding: DecodingKey,
    validation: Validation,
}

/// The keys that sign and verify Easel's own tokens, and verify an external issuer's.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    external: Option<ExternalKey>,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys([redacted])")
    }
}

fn validation(algorithm: Algorithm) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.algorithms = vec![algorithm];
    validation.leeway = LEEWAY_SECS;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "sub"]);
    validation
}

impl JwtKeys {
    /// Keys from a shared secret, accepting only Easel's own HS256 tokens.
    pub fn from_secret(secret: &Secret) -> Self {
        let bytes = secret.expose().as_bytes();
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation: validation(ALGORITHM),
            external: None,
        }
    }

    /// These keys, also accepting tokens from `issuer`: signed with its public key in its
    /// algorithm, carrying its `iss` and its audience in `aud`.
    pub fn with_external_issuer(mut self, issuer: &ExternalIssuer) -> Result<Self, AuthError> {
        let pem = issuer.public_key_pem.as_bytes();
        let (algorithm, decoding) = match issuer.algorithm {
            ExternalAlgorithm::Rs256 => (Algorithm::RS256, DecodingKey::from_rsa_pem(pem)),
            ExternalAlgorithm::Es256 => (Algorithm::ES256, DecodingKey::from_ec_pem(pem)),
        };
        let decoding =
            decoding.map_err(|e| AuthError::Key(format!("EASEL_JWT_PUBLIC_KEY: {e}")))?;
        let mut validation = validation(algorithm);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.set_issuer(&[&issuer.issuer]);
        validation.set_audience(&[&issuer.audience]);
        self.external = Some(ExternalKey {
            algorithm,
            decoding,
            validation,
        });
        Ok(self)
    }

    /// Keys for a configuration: `EASEL_JWT_SECRET` when set; otherwise, in development
    /// mode only, a random secret generated once and kept in `EASEL_DATA_DIR/jwt_secret`
    /// so tokens survive restarts and `easel token` signs with the same key as the server.
    /// Plus the external issuer's key when `EASEL_JWT_PUBLIC_KEY` is set.
    pub fn from_config(config: &Config) -> Result<Self, AuthError> {
        let keys = if let Some(secret) = &config.jwt_secret {
            Self::from_secret(secret)
        } else if config.mode == Mode::Production {
            return Err(AuthError::Key(
                "EASEL_JWT_SECRET is required in production".into(),
            ));
        } else {
            let secret = load_or_create_secret(&config.data_dir).map_err(|e| {
                AuthError::Key(format!(
                    "{}: {e}",
                    config.data_dir.join(SECRET_FILE).display()
                ))
            })?;
            Self::from_secret(&secret)
        };
        match &config.external_issuer {
            Some(issuer) => keys.with_external_issuer(issuer),
            None => Ok(keys),
        }
    }

    /// Signs a token for `req`, with a fresh random `jti`.
    pub fn issue(&self, req: &TokenRequest) -> Result<String, AuthError> {
        if req.guest && req.admin {
            return Err(AuthError::Invalid("a guest token cannot be admin".into()));
        }
        let now = now_secs();
        let claims = Claims {
            sub: req.user.as_str().to_owned(),
            name: req.name.clone(),
            exp: now.saturating_add(req.ttl.as_secs()),
            iat: Some(now),
            nbf: None,
            role: req.admin.then(|| ADMIN_ROLE.to_owned()),
            jti: Some(Uuid::new_v4().simple().to_string()),
            boards: req
                .grants
                .iter()
                .map(|(board, role)| (board.to_string(), role.as_str().to_owned()))
                .collect(),
            link: req.link.map(|l| l.to_string()),
            guest: req.guest,
            iss: None,
            aud: None,
        };
        self.sign(&claims)
    }

    /// Signs arbitrary claims with Easel's secret (tests use this to build edge cases such
    /// as `nbf` in the future).
    pub fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        jsonwebtoken::encode(&Header::new(ALGORITHM), claims, &self.encoding)
            .map_err(|e| AuthError::Key(e.to_string()))
    }

    /// Verifies a token. The header's `alg` picks the key: HS256 is Easel's secret; RS256
    /// or ES256 is the external issuer's key, when one is configured for that algorithm
    /// (and then `iss` and `aud` must match); anything else, `none` included, is refused.
    /// Then the signature, `exp`, `nbf`, a valid `sub`, well-formed `boards` grants and
    /// `link`, and no `role=admin` on a guest token.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| AuthError::Invalid("malformed token".into()))?;
        let (decoding, validation, external) = match (&self.external, header.alg) {
            (_, ALGORITHM) => (&self.decoding, &self.validation, false),
            (Some(ext), alg) if alg == ext.algorithm => (&ext.decoding, &ext.validation, true),
            _ => return Err(AuthError::Invalid("algorithm not allowed".into())),
        };
        let data =
            jsonwebtoken::decode::<Claims>(token, decoding, validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature => AuthError::Expired,
                    ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                    ErrorKind::InvalidSignature => AuthError::Invalid("bad signature".into()),
                    ErrorKind::InvalidAlgorithm => {
                        AuthError::Invalid("algorithm not allowed".into())
                    }
                    ErrorKind::InvalidIssuer => AuthError::Invalid("wrong issuer".into()),
                    ErrorKind::InvalidAudience => AuthError::Invalid("wrong audience".into()),
                    ErrorKind::MissingRequiredClaim(c) => {
                        AuthError::Invalid(format!("missing claim {c}"))
                    }
                    _ => AuthError::Invalid("malformed token".into()),
                }
            })?;
        principal(data.claims, external)
    }
}

fn principal(claims: Claims, external: bool) -> Result<Principal, AuthError> {
    let user = UserId::parse(&claims.sub).map_err(|e| AuthError::Invalid(e.to_string()))?;
    let admin = claims.role.as_deref() == Some(ADMIN_ROLE);
    if admin && claims.guest {
        return Err(AuthError::Invalid("a guest token cannot be admin".into()));
    }
    let grants = claims
        .boards
        .iter()
        .map(|(board, role)| Ok((BoardId::parse(board)?, Role::parse(role)?)))
        .collect::<Result<HashMap<_, _>, crate::domain::DomainError>>()
        .map_err(|e| AuthError::Invalid(format!("bad board grant: {e}")))?;
    let link = claims
        .link
        .as_deref()
        .map(Uuid::parse_str)
        .transpose()
        .map_err(|_| AuthError::Invalid("bad link id".into()))?;
    Ok(Principal {
        user,
        name: claims.name,
        admin,
        expires_at: claims.exp,
        jti: claims.jti,
        grants,
        link,
        guest: claims.guest,
        external,
    })
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
            crate::private_fs::tighten(&path)?;
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
    crate::private_fs::create_dir_all(dir)?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    match crate::private_fs::file_options()
        .create_new(true)
        .open(&path)
    {
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
    use crate::auth::test_keys;

    fn keys() -> JwtKeys {
        JwtKeys::from_secret(&Secret::new("unit-test-secret-unit-test-secret!!"))
    }

    fn request(ttl: Duration) -> TokenRequest {
        TokenRequest {
            name: Some("Alice".into()),
            ..TokenRequest::new(UserId::parse("alice").unwrap(), ttl)
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
            exp,
            nbf,
            ..Claims::default()
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
                exp: now + 3600,
                ..Claims::default()
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
            exp: now_secs() + 60,
            ..Claims::default()
        };
        assert!(matches!(
            k.verify(&k.sign(&empty_sub).unwrap()),
            Err(AuthError::Invalid(_))
        ));
    }

    #[test]
    fn issued_tokens_carry_a_jti_grants_and_guest_links() {
        let k = keys();
        let board = BoardId::new();
        let link = Uuid::new_v4();
        let token = k
            .issue(&TokenRequest {
                grants: HashMap::from([(board, Role::Editor)]),
                link: Some(link),
                guest: true,
                ..request(Duration::from_secs(600))
            })
            .unwrap();
        let p = k.verify(&token).unwrap();
        assert_eq!(p.grants, HashMap::from([(board, Role::Editor)]));
        assert_eq!(p.link, Some(link));
        assert!(p.guest && !p.admin && !p.external);
        let jti = p.jti.unwrap();
        assert_eq!(jti.len(), 32);
        let again = k.verify(&k.issue(&request(Duration::from_secs(60))).unwrap());
        let again = again.unwrap();
        assert_ne!(
            again.jti.as_deref(),
            Some(jti.as_str()),
            "a fresh jti each time"
        );
        assert!(again.grants.is_empty() && again.link.is_none() && !again.guest);
    }

    #[test]
    fn malformed_grants_links_and_guest_admins_are_refused() {
        let k = keys();
        let base = Claims {
            sub: "carol".into(),
            exp: now_secs() + 600,
            ..Claims::default()
        };
        let board = BoardId::new().to_string();
        let ok = Claims {
            boards: BTreeMap::from([(board.clone(), "viewer".into())]),
            ..base.clone()
        };
        assert!(k.verify(&k.sign(&ok).unwrap()).is_ok());
        for bad in [
            Claims {
                boards: BTreeMap::from([("not-a-board".into(), "viewer".into())]),
                ..base.clone()
            },
            Claims {
                boards: BTreeMap::from([(board.clone(), "admin".into())]),
                ..base.clone()
            },
            Claims {
                link: Some("not-a-uuid".into()),
                ..base.clone()
            },
            Claims {
                guest: true,
                role: Some("admin".into()),
                ..base.clone()
            },
        ] {
            assert!(
                matches!(k.verify(&k.sign(&bad).unwrap()), Err(AuthError::Invalid(_))),
                "{bad:?}"
            );
        }
        let guest_admin = TokenRequest {
            guest: true,
            admin: true,
            ..request(Duration::from_secs(60))
        };
        assert!(k.issue(&guest_admin).is_err());
    }

    const ISSUER: &str = "https://id.example.com";
    const AUDIENCE: &str = "easel";

    fn external(algorithm: ExternalAlgorithm, pem: &str) -> JwtKeys {
        keys()
            .with_external_issuer(&ExternalIssuer {
                algorithm,
                public_key_pem: pem.into(),
                issuer: ISSUER.into(),
                audience: AUDIENCE.into(),
            })
            .unwrap()
    }

    fn rsa_keys() -> JwtKeys {
        external(ExternalAlgorithm::Rs256, test_keys::RSA_PUBLIC)
    }

    fn ec_keys() -> JwtKeys {
        external(ExternalAlgorithm::Es256, test_keys::EC_PUBLIC)
    }

    fn external_claims() -> Claims {
        Claims {
            sub: "idp|42".into(),
            name: Some("Dana".into()),
            exp: now_secs() + 600,
            iss: Some(ISSUER.into()),
            aud: Some(Audience::One(AUDIENCE.into())),
            ..Claims::default()
        }
    }

    fn sign_with(alg: Algorithm, key: &EncodingKey, claims: &Claims) -> String {
        jsonwebtoken::encode(&Header::new(alg), claims, key).unwrap()
    }

    fn rs256(private_pem: &str, claims: &Claims) -> String {
        let key = EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap();
        sign_with(Algorithm::RS256, &key, claims)
    }

    fn es256(claims: &Claims) -> String {
        let key = EncodingKey::from_ec_pem(test_keys::EC_PRIVATE.as_bytes()).unwrap();
        sign_with(Algorithm::ES256, &key, claims)
    }

    #[test]
    fn external_rs256_and_es256_tokens_verify() {
        let board = BoardId::new();
        let claims = Claims {
            role: Some("admin".into()),
            aud: Some(Audience::Many(vec!["other".into(), AUDIENCE.into()])),
            boards: BTreeMap::from([(board.to_string(), "owner".into())]),
            ..external_claims()
        };
        let p = rsa_keys()
            .verify(&rs256(test_keys::RSA_PRIVATE, &claims))
            .unwrap();
        assert_eq!(p.user.as_str(), "idp|42");
        assert!(
            p.external && p.admin,
            "the configured issuer may grant admin"
        );
        assert_eq!(p.grants, HashMap::from([(board, Role::Owner)]));
        let p = ec_keys().verify(&es256(&external_claims())).unwrap();
        assert!(p.external && !p.admin);
        assert_eq!(p.name.as_deref(), Some("Dana"));
        let pkcs1 = external(ExternalAlgorithm::Rs256, test_keys::RSA_PUBLIC_PKCS1);
        assert!(
            pkcs1
                .verify(&rs256(test_keys::RSA_PRIVATE, &external_claims()))
                .is_ok()
        );
    }

    #[test]
    fn own_tokens_still_verify_when_an_issuer_is_configured() {
        let k = rsa_keys();
        let p = k
            .verify(&k.issue(&request(Duration::from_secs(60))).unwrap())
            .unwrap();
        assert!(!p.external);
    }

    #[test]
    fn external_tokens_need_the_right_issuer_audience_and_key() {
        let k = rsa_keys();
        let refused = |claims: &Claims| {
            matches!(
                k.verify(&rs256(test_keys::RSA_PRIVATE, claims)),
                Err(AuthError::Invalid(_))
            )
        };
        assert!(refused(&Claims {
            iss: Some("https://evil.example.com".into()),
            ..external_claims()
        }));
        assert!(refused(&Claims {
            aud: Some(Audience::One("someone-else".into())),
            ..external_claims()
        }));
        assert!(refused(&Claims {
            iss: None,
            ..external_claims()
        }));
        assert!(refused(&Claims {
            aud: None,
            ..external_claims()
        }));
        assert!(matches!(
            k.verify(&rs256(test_keys::OTHER_RSA_PRIVATE, &external_claims())),
            Err(AuthError::Invalid(_))
        ));
        assert!(matches!(
            k.verify(&rs256(
                test_keys::RSA_PRIVATE,
                &Claims {
                    exp: now_secs() - 120,
                    ..external_claims()
                }
            )),
            Err(AuthError::Expired)
        ));
    }

    #[test]
    fn algorithm_confusion_is_refused() {
        // An HS256 token whose HMAC key is the issuer's public key text: a classic attack on
        // verifiers that let the token choose how the key is used.
        let forged = sign_with(
            Algorithm::HS256,
            &EncodingKey::from_secret(test_keys::RSA_PUBLIC.as_bytes()),
            &Claims {
                role: Some("admin".into()),
                ..external_claims()
            },
        );
        assert!(matches!(
            rsa_keys().verify(&forged),
            Err(AuthError::Invalid(_))
        ));
        let token = es256(&external_claims());
        assert!(
            matches!(rsa_keys().verify(&token), Err(AuthError::Invalid(_))),
            "ES256 with only an RSA key configured"
        );
        let token = rs256(test_keys::RSA_PRIVATE, &external_claims());
        assert!(
            matches!(ec_keys().verify(&token), Err(AuthError::Invalid(_))),
            "RS256 with only an EC key configured"
        );
        assert!(
            matches!(keys().verify(&token), Err(AuthError::Invalid(_))),
            "RS256 with no issuer configured"
        );
        let ps256 = sign_with(
            Algorithm::PS256,
            &EncodingKey::from_rsa_pem(test_keys::RSA_PRIVATE.as_bytes()).unwrap(),
            &external_claims(),
        );
        assert!(matches!(
            rsa_keys().verify(&ps256),
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
