//! Token auth: a read scope (queries) and a write scope (push, remote write).
//!
//! A token arrives as the password of HTTP Basic auth (any user name) or as
//! `Authorization: Bearer TOKEN`. Missing or unknown credentials get 401 with
//! `WWW-Authenticate`; a valid token of the other scope gets 403. Tokens are
//! compared in constant time, and every configured token is compared, so the
//! time taken does not reveal which token (if any) matched.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use subtle::ConstantTimeEq;

/// What an endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Read,
    Write,
}

/// The configured tokens. Auth is off when there are none at all.
pub(crate) struct Auth {
    read: Vec<Vec<u8>>,
    write: Vec<Vec<u8>>,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denied {
    /// No credentials, unreadable credentials, or an unknown token (401).
    Unauthorized,
    /// A valid token without the endpoint's scope (403).
    Forbidden,
}

impl Auth {
    pub fn new(read: &[String], write: &[String]) -> Self {
        let bytes = |v: &[String]| v.iter().filter(|t| !t.is_empty()).map(|t| t.as_bytes().to_vec()).collect();
        Auth { read: bytes(read), write: bytes(write) }
    }

    pub fn enabled(&self) -> bool {
        !self.read.is_empty() || !self.write.is_empty()
    }

    /// Checks the request's credentials against `scope`.
    pub fn check(&self, headers: &HeaderMap, scope: Scope) -> Result<(), Denied> {
        if !self.enabled() {
            return Ok(());
        }
        let token = presented_token(headers).ok_or(Denied::Unauthorized)?;
        let in_read = contains(&self.read, &token);
        let in_write = contains(&self.write, &token);
        let allowed = match scope {
            Scope::Read => in_read,
            Scope::Write => in_write,
        };
        if allowed {
            Ok(())
        } else if in_read || in_write {
            Err(Denied::Forbidden)
        } else {
            Err(Denied::Unauthorized)
        }
    }
}

/// Constant-time membership: compares against every token without stopping early.
fn contains(tokens: &[Vec<u8>], candidate: &[u8]) -> bool {
    let mut found = subtle::Choice::from(0);
    for t in tokens {
        found |= t.as_slice().ct_eq(candidate);
    }
    found.into()
}

/// The token in `Authorization: Bearer T` or the password of `Authorization: Basic`.
fn presented_token(headers: &HeaderMap) -> Option<Vec<u8>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        Some(rest.as_bytes().to_vec())
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest).ok()?;
        let colon = decoded.iter().position(|&b| b == b':')?;
        Some(decoded[colon + 1..].to_vec())
    } else {
        None
    }
}

/// Middleware guarding a group of routes with one scope.
pub(crate) async fn require(
    State((state, scope)): State<(super::State, Scope)>,
    request: Request,
    next: Next,
) -> Response {
    match state.auth.check(request.headers(), scope) {
        Ok(()) => next.run(request).await,
        Err(Denied::Unauthorized) => {
            let mut r = (StatusCode::UNAUTHORIZED, "401 Unauthorized: a valid token is required\n").into_response();
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"promlite\""));
            r
        }
        Err(Denied::Forbidden) => {
            let what = match scope {
                Scope::Read => "query",
                Scope::Write => "write",
            };
            (StatusCode::FORBIDDEN, format!("403 Forbidden: this token may not {what}\n")).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(auth).unwrap());
        h
    }

    fn basic(user: &str, pass: &str) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")))
    }

    #[test]
    fn scopes_bearer_and_basic() {
        let auth = Auth::new(&["r1".into(), "r2".into()], &["w:1".into()]);
        assert!(auth.enabled());
        assert_eq!(auth.check(&HeaderMap::new(), Scope::Read), Err(Denied::Unauthorized));
        assert_eq!(auth.check(&headers("Bearer r2"), Scope::Read), Ok(()));
        assert_eq!(auth.check(&headers("bearer r1"), Scope::Write), Err(Denied::Forbidden));
        assert_eq!(auth.check(&headers("Bearer nope"), Scope::Read), Err(Denied::Unauthorized));
        // The password is everything after the first colon; the user name is ignored.
        assert_eq!(auth.check(&headers(&basic("metrics", "w:1")), Scope::Write), Ok(()));
        assert_eq!(auth.check(&headers(&basic("", "w:1")), Scope::Read), Err(Denied::Forbidden));
        assert_eq!(auth.check(&headers(&basic("r1", "")), Scope::Read), Err(Denied::Unauthorized));
        assert_eq!(auth.check(&headers("Basic !!notbase64"), Scope::Read), Err(Denied::Unauthorized));
        assert_eq!(auth.check(&headers("Digest r1"), Scope::Read), Err(Denied::Unauthorized));
    }

    #[test]
    fn no_tokens_means_open() {
        let auth = Auth::new(&[], &["".into()]);
        assert!(!auth.enabled());
        assert_eq!(auth.check(&HeaderMap::new(), Scope::Write), Ok(()));
    }
}
