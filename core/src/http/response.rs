//! The Prometheus API JSON envelope and the mapping of errors to HTTP statuses.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{Error, ErrorKind};
use crate::value::write_json_string;

/// A successful API response: `{"status":"success","data":…}` plus warnings and infos.
pub(crate) struct ApiSuccess {
    /// The `data` member, already rendered as JSON.
    pub data: String,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

impl ApiSuccess {
    pub fn new(data: String) -> Self {
        ApiSuccess { data, warnings: Vec::new(), infos: Vec::new() }
    }

    pub fn with_warning(mut self, warning: impl Into<String>) -> Self {
        self.warnings.push(warning.into());
        self
    }
}

impl IntoResponse for ApiSuccess {
    fn into_response(self) -> Response {
        let mut out = String::with_capacity(self.data.len() + 40);
        out.push_str("{\"status\":\"success\",\"data\":");
        out.push_str(&self.data);
        for (key, list) in [("warnings", &self.warnings), ("infos", &self.infos)] {
            if !list.is_empty() {
                out.push_str(",\"");
                out.push_str(key);
                out.push_str("\":");
                out.push_str(&json_string_array(list));
            }
        }
        out.push('}');
        json_response(StatusCode::OK, out)
    }
}

/// An API error: the Prometheus `errorType` decides the HTTP status.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
    /// Overrides the status derived from `kind` (e.g. 413 for an oversized body).
    pub status: Option<StatusCode>,
}

impl ApiError {
    pub fn bad_data(message: impl Into<String>) -> Self {
        ApiError { kind: ErrorKind::BadData, message: message.into(), status: None }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError { kind: ErrorKind::Internal, message: message.into(), status: None }
    }

    /// `invalid parameter "name": cause`, as Prometheus words it.
    pub fn invalid_param(name: &str, cause: impl std::fmt::Display) -> Self {
        ApiError::bad_data(format!("invalid parameter {name:?}: {cause}"))
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status.unwrap_or(match self.kind {
            ErrorKind::BadData => StatusCode::BAD_REQUEST,
            ErrorKind::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Timeout | ErrorKind::Canceled => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        })
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError { kind: e.kind(), message: e.to_string(), status: None }
    }
}

impl From<super::BodyError> for ApiError {
    fn from(e: super::BodyError) -> Self {
        ApiError::bad_data(e.message()).with_status(e.status())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut out = String::from("{\"status\":\"error\",\"errorType\":\"");
        out.push_str(self.kind.error_type());
        out.push_str("\",\"error\":");
        write_json_string(&mut out, &self.message);
        out.push('}');
        json_response(self.status(), out)
    }
}

pub(crate) type ApiResult = Result<ApiSuccess, ApiError>;

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `["a","b"]`
pub(crate) fn json_string_array<S: AsRef<str>>(items: &[S]) -> String {
    let mut out = String::from("[");
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_string(&mut out, s.as_ref());
    }
    out.push(']');
    out
}

/// A plain-text error for the push and remote-write endpoints, which are not
/// JSON APIs (Pushgateway clients and remote-write senders log the body as text).
#[derive(Debug)]
pub(crate) struct TextError {
    pub status: StatusCode,
    pub message: String,
}

impl TextError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        TextError { status, message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        TextError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<Error> for TextError {
    fn from(e: Error) -> Self {
        let status = match e.kind() {
            ErrorKind::BadData => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        TextError::new(status, e.to_string())
    }
}

impl From<super::BodyError> for TextError {
    fn from(e: super::BodyError) -> Self {
        TextError::new(e.status(), e.message())
    }
}

impl IntoResponse for TextError {
    fn into_response(self) -> Response {
        let mut message = self.message;
        message.push('\n');
        (self.status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message).into_response()
    }
}
