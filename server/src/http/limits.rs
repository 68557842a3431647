//! Request rate limits that keep one client address or one account from taking more than
//! its share: login attempts per address and per account-and-address pair, sign-ups per
//! address, boards created per user.
//!
//! Owns the keyed token buckets (governor, in memory, per node), how a client address is
//! keyed (an IPv6 client by its /64, since one host holds a whole /64) and the 429 with
//! `Retry-After` a refusal becomes. It must not touch the store, passwords or rooms: the
//! handlers ask it before doing the work it guards.

use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;
use crate::config::Config;
use crate::domain::UserId;

/// Keys a limiter holds before it forgets those that have refilled.
const MAX_KEYS: usize = 100_000;

/// One token bucket per key.
pub struct KeyedLimit<K: Hash + Eq + Clone> {
    buckets: DefaultKeyedRateLimiter<K>,
}

impl<K: Hash + Eq + Clone> KeyedLimit<K> {
    /// A limit of `quota` for each key.
    pub fn new(quota: Quota) -> Self {
        Self {
            buckets: RateLimiter::keyed(quota),
        }
    }

    /// Takes one token from `key`'s bucket, or refuses with 429 and how many seconds until
    /// one is back.
    pub fn check(&self, key: &K) -> Result<(), ApiError> {
        if self.buckets.len() > MAX_KEYS {
            self.buckets.retain_recent();
        }
        self.buckets.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::TooManyRequests((wait.as_secs_f64().ceil() as u64).max(1))
        })
    }
}

/// `n` a minute, in a burst of up to `n`.
pub fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

/// The key of a client address: an IPv4 address (an IPv4-mapped IPv6 one as IPv4), or an
/// IPv6 address's /64 prefix. Anyone holding one IPv6 address holds the 2^64 addresses of
/// its /64, so keying by the address alone would give them 2^64 buckets.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(Ipv6Addr::from(segments))
            }
        },
    }
}

/// Every request rate limit of a node.
pub struct Limits {
    logins_by_address: KeyedLimit<IpAddr>,
    logins_by_account: KeyedLimit<(String, IpAddr)>,
    signups: KeyedLimit<IpAddr>,
    boards: KeyedLimit<UserId>,
}

impl Limits {
    /// The limits the configuration asks for.
    pub fn new(config: &Config) -> Self {
        let logins = per_minute(config.login_attempts_per_minute);
        Self {
            logins_by_address: KeyedLimit::new(logins),
            logins_by_account: KeyedLimit::new(logins),
            signups: KeyedLimit::new(per_minute(config.signup_attempts_per_minute)),
            boards: KeyedLimit::new(Quota::per_hour(
                NonZeroU32::new(config.boards_per_hour).unwrap_or(NonZeroU32::MIN),
            )),
        }
    }

    /// Counts a board `user` creates, by any route (`EASEL_BOARDS_PER_HOUR` per user).
    pub fn new_board(&self, user: &UserId) -> Result<(), ApiError> {
        self.boards.check(user)
    }

    /// Counts a login attempt on `account` from `client`: `EASEL_LOGIN_ATTEMPTS_PER_MINUTE`
    /// per address, and as many per account from each address. An account is counted per
    /// address so that strangers' wrong passwords from elsewhere never lock its owner out;
    /// one address still cannot hammer it (nor many accounts). A request with no peer
    /// address (not over TCP) counts against the account alone.
    pub fn login(&self, client: Option<IpAddr>, account: &str) -> Result<(), ApiError> {
        let address = client.map(address_key);
        if let Some(address) = address {
            self.logins_by_address.check(&address)?;
        }
        let address = address.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        self.logins_by_account.check(&(account.to_owned(), address))
    }

    /// Counts a sign-up from `client` (`EASEL_SIGNUP_ATTEMPTS_PER_MINUTE` per address).
    /// A request with no peer address (not over TCP) is not limited.
    pub fn signup(&self, client: Option<IpAddr>) -> Result<(), ApiError> {
        match client {
            Some(ip) => self.signups.check(&address_key(ip)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(n: u32) -> KeyedLimit<IpAddr> {
        KeyedLimit::new(per_minute(n))
    }

    #[test]
    fn a_key_gets_its_burst_then_waits() {
        let l = limit(3);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert!(l.check(&a).is_ok());
        }
        match l.check(&a) {
            Err(ApiError::TooManyRequests(secs)) => assert!((1..=20).contains(&secs), "{secs}"),
            other => panic!("expected a 429, got {other:?}"),
        }
        assert!(l.check(&b).is_ok(), "another key has its own bucket");
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let key = |s: &str| address_key(s.parse().unwrap());
        assert_eq!(
            key("2001:db8:1:2:3:4:5:6"),
            key("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
        assert_ne!(key("192.0.2.7"), key("192.0.2.8"));
        let l = limit(2);
        assert!(l.check(&key("2001:db8::1")).is_ok());
        assert!(l.check(&key("2001:db8::2")).is_ok());
        assert!(
            l.check(&key("2001:db8::3")).is_err(),
            "same /64, same bucket"
        );
    }

    fn limits(login: u32, signup: u32) -> Limits {
        let mut config = crate::config::Config::from_lookup(|_| None).unwrap();
        config.login_attempts_per_minute = login;
        config.signup_attempts_per_minute = signup;
        Limits::new(&config)
    }

    #[test]
    fn strangers_wrong_passwords_do_not_lock_an_account() {
        let limits = limits(3, 1);
        let address = |n: u8| Some(IpAddr::from([203, 0, 113, n]));
        for n in 1..=10 {
            assert!(
                limits.login(address(n), "victim@example.com").is_ok(),
                "from .{n}"
            );
        }
        assert!(
            limits.login(address(100), "victim@example.com").is_ok(),
            "the owner"
        );
        // One address gets three tries at the account...
        for _ in 0..2 {
            assert!(limits.login(address(1), "victim@example.com").is_ok());
        }
        assert!(limits.login(address(1), "victim@example.com").is_err());
        // ...and three in all, whatever accounts it tries.
        assert!(limits.login(address(2), "a@example.com").is_ok());
        assert!(limits.login(address(2), "b@example.com").is_ok());
        assert!(limits.login(address(2), "c@example.com").is_err());
    }

    #[test]
    fn logins_without_an_address_count_per_account() {
        let limits = limits(2, 1);
        assert!(limits.login(None, "a@example.com").is_ok());
        assert!(limits.login(None, "a@example.com").is_ok());
        assert!(limits.login(None, "a@example.com").is_err());
        assert!(limits.login(None, "b@example.com").is_ok());
    }

    #[test]
    fn boards_are_limited_per_user_per_hour() {
        let mut config = crate::config::Config::from_lookup(|_| None).unwrap();
        config.boards_per_hour = 2;
        let limits = Limits::new(&config);
        let (ann, bob) = (UserId::parse("ann").unwrap(), UserId::parse("bob").unwrap());
        assert!(limits.new_board(&ann).is_ok() && limits.new_board(&ann).is_ok());
        match limits.new_board(&ann) {
            Err(ApiError::TooManyRequests(secs)) => {
                assert!(
                    (1_000..=1_800).contains(&secs),
                    "half an hour per board: {secs}"
                )
            }
            other => panic!("expected a 429, got {other:?}"),
        }
        assert!(limits.new_board(&bob).is_ok());
    }

    #[test]
    fn sign_ups_are_limited_per_address() {
        let limits = limits(10, 2);
        let one = Some("198.51.100.1".parse().unwrap());
        let two = Some("198.51.100.2".parse().unwrap());
        assert!(limits.signup(one).is_ok() && limits.signup(one).is_ok());
        assert!(limits.signup(one).is_err());
        assert!(limits.signup(two).is_ok());
        assert!(limits.signup(None).is_ok(), "no address, no bucket");
    }
}
