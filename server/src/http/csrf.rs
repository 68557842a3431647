//! Cross-site request forgery: a state-changing request a browser sends with the session
//! cookie must come from a page of an allowed origin.
//!
//! Owns that rule, applied to every route by one middleware: a request with a method other
//! than GET, HEAD, OPTIONS or TRACE, carrying the `easel_token` cookie and no bearer token,
//! must carry an `Origin` (or, lacking one, a `Referer`) naming the server's own origin
//! (the request's host, or `EASEL_PUBLIC_URL`) or one of `EASEL_ALLOWED_ORIGINS`; otherwise
//! it is refused with 403 before any handler runs. `SameSite=Lax` alone lets a sibling
//! subdomain (same site, another origin) post forms with the cookie. Bearer tokens are
//! never attached by a browser on its own, so those requests pass untouched. It must not
//! read bodies or verify tokens.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, ResponseError, web};
use url::Url;

use super::AppState;
use super::api::bearer_token;
use super::error::ApiError;
use super::ws::TOKEN_COOKIE;
use crate::config::Config;

/// Middleware: refuses a cookie-authenticated, state-changing request from another origin.
pub async fn same_origin(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, Error> {
    let refused = rides_the_cookie(req.request())
        && !origin_allowed(
            req.request(),
            req.app_data::<web::Data<AppState>>()
                .map(|state| state.config.as_ref()),
        );
    if refused {
        tracing::debug!("cross-site request refused");
        let response = ApiError::Forbidden(
            "cross-site request refused: send it from an allowed origin, or authenticate with an Authorization: Bearer header",
        )
        .error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// Whether the request changes something and would be authenticated by the cookie alone.
fn rides_the_cookie(req: &HttpRequest) -> bool {
    let safe = [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE];
    !safe.contains(req.method())
        && req.cookie(TOKEN_COOKIE).is_some()
        && bearer_token(req).is_none()
}

/// Whether the page that sent the request (its `Origin`, else its `Referer`) is the server
/// itself, `EASEL_PUBLIC_URL` or one of `EASEL_ALLOWED_ORIGINS` (`*` allows any).
pub(super) fn origin_allowed(req: &HttpRequest, config: Option<&Config>) -> bool {
    let headers = req.headers();
    let sender = match headers.get(header::ORIGIN) {
        Some(origin) => origin.to_str().ok(),
        None => headers.get(header::REFERER).and_then(|r| r.to_str().ok()),
    };
    // An opaque origin ("null") or garbage does not parse: refused.
    let Some(sender) = sender.and_then(|s| Url::parse(s).ok()) else {
        return false;
    };
    let sender = sender.origin();
    let same = |url: &str| Url::parse(url).is_ok_and(|u| u.origin() == sender);
    let scheme = match &sender {
        url::Origin::Tuple(scheme, ..) => scheme.as_str(),
        url::Origin::Opaque(_) => return false,
    };
    let info = req.connection_info();
    let hosts = [
        headers.get(header::HOST).and_then(|h| h.to_str().ok()),
        Some(info.host()),
    ];
    if hosts
        .into_iter()
        .flatten()
        .any(|host| same(&format!("{scheme}://{host}")))
    {
        return true;
    }
    let Some(config) = config else {
        return false;
    };
    config.public_url.as_deref().is_some_and(same)
        || config
            .allowed_origins
            .iter()
            .flatten()
            .any(|allowed| allowed == "*" || same(allowed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_lookup(|k| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        })
        .unwrap()
    }

    fn from(sender: &[(header::HeaderName, &str)]) -> HttpRequest {
        let mut req = TestRequest::post()
            .uri("/api/boards")
            .insert_header((header::HOST, "easel.example.com"));
        for (name, value) in sender {
            req = req.insert_header((name.clone(), *value));
        }
        req.to_http_request()
    }

    #[test]
    fn the_servers_own_pages_are_allowed() {
        let none = config(&[]);
        for sender in [
            vec![(header::ORIGIN, "https://easel.example.com")],
            vec![(header::ORIGIN, "http://easel.example.com")],
            vec![(header::ORIGIN, "https://EASEL.example.com")],
            vec![(header::REFERER, "https://easel.example.com/boards/1?x=2")],
        ] {
            assert!(origin_allowed(&from(&sender), Some(&none)), "{sender:?}");
        }
    }

    #[test]
    fn other_origins_and_missing_ones_are_refused() {
        let none = config(&[]);
        for sender in [
            vec![],
            vec![(header::ORIGIN, "null")],
            vec![(header::ORIGIN, "https://evil.example")],
            vec![(header::ORIGIN, "https://easel.example.com.evil.example")],
            vec![(header::ORIGIN, "https://easel.example.com:8443")],
            vec![(header::REFERER, "https://evil.example/easel.example.com")],
            vec![
                (header::ORIGIN, "https://evil.example"),
                (header::REFERER, "https://easel.example.com/"),
            ],
        ] {
            assert!(!origin_allowed(&from(&sender), Some(&none)), "{sender:?}");
        }
    }

    #[test]
    fn configured_origins_are_allowed() {
        let allowed = config(&[
            (
                "EASEL_ALLOWED_ORIGINS",
                "https://app.example.com, https://other.example/",
            ),
            ("EASEL_PUBLIC_URL", "https://public.example.com/easel"),
        ]);
        for origin in [
            "https://app.example.com",
            "https://other.example",
            "https://public.example.com",
        ] {
            let req = from(&[(header::ORIGIN, origin)]);
            assert!(origin_allowed(&req, Some(&allowed)), "{origin}");
        }
        let req = from(&[(header::ORIGIN, "https://app.example.com:444")]);
        assert!(!origin_allowed(&req, Some(&allowed)));
        let any = config(&[("EASEL_ALLOWED_ORIGINS", "*")]);
        assert!(origin_allowed(
            &from(&[(header::ORIGIN, "https://x.example")]),
            Some(&any)
        ));
    }

    #[test]
    fn only_state_changing_cookie_requests_are_checked() {
        let cookie = [(header::COOKIE, "easel_token=t")];
        let with = |method: Method, headers: &[(header::HeaderName, &str)]| {
            let mut req = TestRequest::default().method(method);
            for (name, value) in headers {
                req = req.insert_header((name.clone(), *value));
            }
            rides_the_cookie(&req.to_http_request())
        };
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(with(method.clone(), &cookie), "{method}");
            assert!(!with(method.clone(), &[]), "{method} without the cookie");
            let bearer = (header::AUTHORIZATION, "Bearer t");
            assert!(
                !with(method.clone(), &[cookie[0].clone(), bearer]),
                "{method} with a bearer"
            );
            let basic = (header::AUTHORIZATION, "Basic dTpw");
            assert!(
                with(method, &[cookie[0].clone(), basic]),
                "a browser's Basic auth is no bearer"
            );
        }
        for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert!(!with(method.clone(), &cookie), "{method}");
        }
    }
}
