//! Key fixtures for unit tests: real keys generated once with `openssl genpkey`, inlined
//! so tests need no key generation at run time. Test-only; nothing outside tests uses them.

/// An RSA-2048 private key (PKCS#8).
pub const RSA_PRIVATE: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDm7upX+iiA2cQV\n\
ndawaYmHzXhlt0Z4vqS6m9zLpVhRzg55XcIqUPhjMzBpFSOcvBa3Y8kfWwa8/WV8\n\
w2sQsyI0UvGw1222pEnGKl/q/PERCo4yqs1UPi8o+56wH9DVfjSSddj0fEiiNcXV\n\
CKpV3XTFrfk0Nlm9EkLnEsBj7srXVGJNB0/NCtjjS0L8TY+nlKlvBYrJDleKEloR\n\
j8fDa0msJlk5kX1AKrNTzRcoxD/BoSyZTdYg0N5Yjokq4Y6VEaIYwCoxVV4RnosL\n\
bb7xJ75UCXd18sXq/lZDu7C3rvdeHzhiohfw40Oxer0ESMyIXFX09p7fQWG2wDAt\n\
8RA1XZr1AgMBAAECggEABHxiY09x3IdXSF+MCcwD6kuUpjIPYDhLYajSpapHvcFJ\n\
U7D9ZBHSB5nyH0sbVCe0TCZ0WVAwhAqHZosyzUdpFdmruzoRZ80D9hNvbP8yEnyd\n\
ufXm3GVYnbsFGUgwfUKEgpVfyllWlk3XNletlSf4D8ej+qy4tvs8OATEnoU5BOzA\n\
M87S6KlBBr/eq6gz+fQgdNWp91SuzsrrLClaUI+ZqcoNvOcTtkn+n/7iA686vIig\n\
DmaINQey/NdIW3l03nnEks7LrkUwjw2jXQ4kE8N5ikwC1EnIT2an6ilZvexmkTdF\n\
NRnaSMSs3fD/9ywIpzUFaIHBD91tvu/cATksgBLw4QKBgQD4BUi2FK+IILRmLeGo\n\
3JxS2l8yv8jkqHWmCaSjtrEje61L9t5Egp7zczcL1eU2tHLiG/XH5aGrx2ihfmLw\n\
VHu/ATBmENlR9pHAadNodbGjp3afdWqrnvomOTBuZNenU2tGEvoyZ8hiSVVUGaDW\n\
+8UcOyb6hwbeSNiDr058KqUn0QKBgQDuXOYD8aKH78FPDduMF3bl/RekkyJGT6Fh\n\
ScgqvJCXCOdYQQF03CuzgEAy3oZKu6TWn13PSdO1b4XOz0mKDmh5rswSyO98TJFw\n\
Xprs9lQjDduaJq7Wb8AWoPOOK08nUd2tWgW00E9+lKXE7+J0uWvbI/F9V7G3OeEj\n\
jrKWSx1t5QKBgQDWqxwoHPdhB42c8xFiKrBTNhc3wa+L2hMaRzZtTO89Gwr/uQjg\n\
m34gkRSP9e6SztSwyCqPfj3UhKAXR2EzSqxgwhK2BNdUjenRdMc6nsPGNmgB1Isj\n\
SFKTSuSUaEwP07AB0uMjRZi3GWn1hMklynzs1nYCWWSkeMCOGeoAppiUQQKBgEae\n\
/YMjn0z5KuPaLjb2aMLBVrTq5tfAFgc2Dfkjfw9QkwJh2CWgac437E1mApG3wKHZ\n\
+7hDnlb+IL3iSl594FRVBp92KwY/xUNutCYK4Wi1XV/xoBFmcJoDu8VebYgvyCbp\n\
KhGlOjg9oFOV4xlEKoF1x8GkLsIjguG/EIhY3vJFAoGAWBLlxTZRJQ4DyhPSp4Ni\n\
YftvaDN8Sb4m9+8kvBkdSRyZ9r+VbxjlTRpp9Uzy0naPGySo7bTTPSND7+CLIVFe\n\
bJUFUEP4u6rjSzLBEkwXioFVJ7fnXlDRauV0uZQZpXQSM0qlpxCpbA8v05Aps2F0\n\
8AF8x+jn9UjuedbNUpCaHZE=\n\
-----END PRIVATE KEY-----\n";

/// The public half of [`RSA_PRIVATE`] (SPKI).
pub const RSA_PUBLIC: &str = "\
-----BEGIN PUBLIC KEY-----\n\
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA5u7qV/oogNnEFZ3WsGmJ\n\
h814ZbdGeL6kupvcy6VYUc4OeV3CKlD4YzMwaRUjnLwWt2PJH1sGvP1lfMNrELMi\n\
NFLxsNdttqRJxipf6vzxEQqOMqrNVD4vKPuesB/Q1X40knXY9HxIojXF1QiqVd10\n\
xa35NDZZvRJC5xLAY+7K11RiTQdPzQrY40tC/E2Pp5SpbwWKyQ5XihJaEY/Hw2tJ\n\
rCZZOZF9QCqzU80XKMQ/waEsmU3WINDeWI6JKuGOlRGiGMAqMVVeEZ6LC22+8Se+\n\
VAl3dfLF6v5WQ7uwt673Xh84YqIX8ONDsXq9BEjMiFxV9Pae30FhtsAwLfEQNV2a\n\
9QIDAQAB\n\
-----END PUBLIC KEY-----\n";

/// The public half of [`RSA_PRIVATE`] (PKCS#1).
pub const RSA_PUBLIC_PKCS1: &str = "\
-----BEGIN RSA PUBLIC KEY-----\n\
MIIBCgKCAQEA5u7qV/oogNnEFZ3WsGmJh814ZbdGeL6kupvcy6VYUc4OeV3CKlD4\n\
YzMwaRUjnLwWt2PJH1sGvP1lfMNrELMiNFLxsNdttqRJxipf6vzxEQqOMqrNVD4v\n\
KPuesB/Q1X40knXY9HxIojXF1QiqVd10xa35NDZZvRJC5xLAY+7K11RiTQdPzQrY\n\
40tC/E2Pp5SpbwWKyQ5XihJaEY/Hw2tJrCZZOZF9QCqzU80XKMQ/waEsmU3WINDe\n\
WI6JKuGOlRGiGMAqMVVeEZ6LC22+8Se+VAl3dfLF6v5WQ7uwt673Xh84YqIX8OND\n\
sXq9BEjMiFxV9Pae30FhtsAwLfEQNV2a9QIDAQAB\n\
-----END RSA PUBLIC KEY-----\n";

/// Another RSA-2048 private key, whose public half is configured nowhere.
pub const OTHER_RSA_PRIVATE: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCZDQb/jTjR/qFN\n\
Vw+64YpbvoefisxnOH95Ooj9fPzWELPFcdcyywGooZF6CpzqUQnCVe2GMiQg5ByR\n\
A5DZU/ISP4I9adGkrGLhenaIjscnXLfTn/73hQ5T3k0mjpAcqQV3VHmLbcWDp1xe\n\
940VSfzyWf8Yw32Kjj+qTUXx1YKzLNidasKqHd7VS02QMoi+/G8s/sUL4q+uzTrk\n\
QXbR3zBakFKMNPypD4TDyo0YR8TXchj8q7hL6P0YonSbabzLoC/j87rb+o7m3bfU\n\
sfPFIGkWzwO2u2WrqN/MoFtSgnnzP17kPLvcRRxBd6KASBNrpkuTymD8s84vOtYF\n\
Scce+ntLAgMBAAECggEAAqyiGda6Dp1QQeg1YP1uQVJ6ed9fLqc46aw2rECXWxbj\n\
9UgbIQrqvADFaH2v++jaQ/g5aXYN1eShL9LWoJ2MEM/lnYoa/NwlnC1beIu6JNDE\n\
xjYOVVKQtgbKj/5qET4jgiV1PD+joGcia5G6zYuYl77agMXFt0/rV9/4IBTW2aeg\n\
3nMEtjeNmVGUeOpMTxUUErVQmvKWq5VaKqI3G1tfOj/U+dewXQbEADxCWV68hKeX\n\
1bj4iqQb5/2f7/CFDAE7PjgFKzoTSujD+lpgw7sZ/GlZkg1wBZ9A11c3LPgAFzqw\n\
/6lpXpD93EJwasYL/fFJDqRDM8R9/6gYZlAvIm06gQKBgQDLb1FPdahGC2gkVKTC\n\
sjKkbt7nfEHwVAFecS1zB99IiyWZ2q490s8Tea5gBdjdNQogV0dEZJQzdwgEExz/\n\
kc1mFsOOqqEa+dE7fDcq3BHHgChJmWD9ebcDUA8jZt9+SjFLQ1f8UmahpPziUXff\n\
mHyJoVE706zZmQFxxuveItWfywKBgQDAmPGCueVM4qlFgzcPstXULex0LIP1Ooad\n\
+JAa1e1LfFFyiOpdW+ec/jHN2UwrBXNM0ODyhMmLM6XbTLJOwBOP1tEA4YZ+Uwxc\n\
plgItYWfRovBlo0/YlsfmsVWuppc9tx490caOsOYUwOicM4rG922yTtLYVrprJhj\n\
EmI02tQigQKBgD4HmERhPMj2y29ge8h962EmCUOOKNDt3Gj+m3wap2OIQhPSkRR6\n\
xfdLP/c5cTGp7YeE9U8OV/4FSmVrqojm3TlGsaQ7tNnz2G+J5YxlA+rP0fj3EpLX\n\
XQ1eiO8je/wXBUbMpvRh77dUBmO/sYx1A2w3yvwyA99pfv5BSEQ4XOjXAoGBAICl\n\
qKypf4Db5jWIcD8MNciE5Gy1T29+qGzcm2VRgC/r2num+OVjflJfeOUHQNl7yoiE\n\
/b0A9Z8F4MObd38ize5Gj1UHT88RqjA47JTkq1y4wqGM7sxn5nY165sDChkOzDYA\n\
9n2Owxf8W3El6JDjDDYMNI8leJSdtSx4GyEzCoABAoGAL231sn+fzWB3vA5rPcJt\n\
mj15/uLiKkASbyRQPaI8FPGzJ85jgRYCMhMIy29MvvoT2XavLut33+qz6P6HYn7O\n\
boLBYpb17mPbi3KJfPRnCfnR8onsSgz5YXzzT8ZlArNiojBM6UqibtjBOovoICIn\n\
8p+WWF2J3EMGE7SbiaZiVWo=\n\
-----END PRIVATE KEY-----\n";

/// A P-256 private key (PKCS#8).
pub const EC_PRIVATE: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVD1Nk9qGqrGQUGCR\n\
igim8V4giS4gmwWG5FUkAfnjPpKhRANCAATFWeVZEcuUSocdAuyCtotWTqSS2COi\n\
xrXwpxy2V72Nr0Gy2FAv2wrGvrgvnNuMnRD5J5gYUUijWTB8Cwfi5dzv\n\
-----END PRIVATE KEY-----\n";

/// The public half of [`EC_PRIVATE`] (SPKI).
pub const EC_PUBLIC: &str = "\
-----BEGIN PUBLIC KEY-----\n\
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExVnlWRHLlEqHHQLsgraLVk6kktgj\n\
osa18Kcctle9ja9BsthQL9sKxr64L5zbjJ0Q+SeYGFFIo1kwfAsH4uXc7w==\n\
-----END PUBLIC KEY-----\n";

/// A P-384 public key: a curve Easel does not accept.
pub const P384_PUBLIC: &str = "\
-----BEGIN PUBLIC KEY-----\n\
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE+QofWn6EnUyYMrOCDEWhxbeSBFRyIFsk\n\
5BcPy8M3CZXM6H7tz8jCbtUw6AmPgn78H81h6eqjJ7oVvyt/xO8VLb1b/55Vb4UQ\n\
oUGnWBatuPpiTNbmDG2WgrwRSIOrXyxM\n\
-----END PUBLIC KEY-----\n";

/// An RSA-1024 public key: too short to accept.
pub const RSA_1024_PUBLIC: &str = "\
-----BEGIN PUBLIC KEY-----\n\
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDK7biTiATK+XZN/JYvoJB4dFyO\n\
m1tMLetWhpi5pp5D+ITst1wTj7P6Odnp5fExux2x2SbbbOo1f/+9NuloDP4nJDoz\n\
yeFaM/m/XtbqoXAFT6wx0ujAaMtSVae1ih4PVR7yrg4dMSq4Oau00UUkPTen8/fn\n\
uq9xRnvTS3YTwhIeawIDAQAB\n\
-----END PUBLIC KEY-----\n";
