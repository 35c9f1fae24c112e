//! The one access check. Every route passes through [`authorize`], which
//! finds the signed-in staff member, asks the role table (domain
//! `Role::grants`) whether the route's permission is granted, refuses
//! otherwise, and writes the audit entry for every route that touches health
//! data, with its outcome.

use axum::extract::{RawPathParams, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use respite_domain::Permission;
use respite_store::{AuditEntry, Outcome};

use crate::auth::{current_session, StaffSession};
use crate::error::page;
use crate::AppState;

/// Who may use a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in staff member.
    SignedIn,
    /// A signed-in staff member whose role grants the permission.
    Staff(Permission),
}

/// What a route does to health data, for its audit entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Audited {
    /// The FHIR-style resource type, e.g. `Patient`, `Inquiry`.
    pub resource: &'static str,
    /// `read`, `search`, `create`, `update`.
    pub action: &'static str,
}

/// Put in a response's extensions by a handler that created a record, so
/// that the audit entry names it rather than `*`.
#[derive(Clone, Debug)]
pub struct AuditedRecord(pub String);

/// One route of the application and the rules it obeys.
#[derive(Clone, Copy, Debug)]
pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    /// `Some` for every route that reads or writes health data.
    pub audited: Option<Audited>,
}

/// The state the access layer of one route carries.
#[derive(Clone)]
pub struct Guard {
    pub app: AppState,
    pub spec: RouteSpec,
}

pub async fn authorize(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let Guard { app, spec } = guard;
    let now = Timestamp::now();
    let source = crate::client::of_extensions(request.extensions()).to_string();
    let (mut parts, body) = request.into_parts();
    let resource_id = match axum::RequestPartsExt::extract::<RawPathParams>(&mut parts).await {
        Ok(params) => params.iter().next().map_or_else(
            || "*".to_owned(),
            |(_, value)| value.chars().take(64).collect(),
        ),
        Err(_) => "*".to_owned(),
    };
    let is_get = parts.method == Method::GET;
    let original_path = parts.uri.path().to_owned();

    let session = match current_session(&app.store, &app.config, &parts.headers, now).await {
        Ok(session) => session,
        Err(err) => {
            tracing::error!(error = %err, "session lookup failed");
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Unavailable",
                "The clinic's database cannot be reached. Try again in a moment.",
            );
        }
    };

    let audit = |actor: Option<&StaffSession>, outcome: Outcome, record: Option<String>| {
        let store = app.store.clone();
        let source = source.clone();
        let resource_id = record.unwrap_or_else(|| resource_id.clone());
        let (actor, role) = match actor {
            Some(s) => (s.user.email.clone(), s.user.role.as_str().to_owned()),
            None if spec.access == Access::Public => ("public".to_owned(), "public".to_owned()),
            None => ("anonymous".to_owned(), "none".to_owned()),
        };
        async move {
            let Some(audited) = spec.audited else {
                return Ok(());
            };
            store
                .append_audit(&AuditEntry {
                    at: now,
                    actor,
                    actor_role: role,
                    action: audited.action.to_owned(),
                    resource_type: audited.resource.to_owned(),
                    resource_id,
                    source_address: source,
                    outcome,
                })
                .await
        }
    };

    // Deny unless granted.
    let refusal = match (spec.access, &session) {
        (Access::Public, _) => None,
        (Access::SignedIn | Access::Staff(_), None) => Some(if is_get {
            let next = percent_encode_path(&original_path);
            Redirect::to(&format!("/staff/login?next={next}")).into_response()
        } else {
            page(
                StatusCode::UNAUTHORIZED,
                "Please sign in",
                "session: sign in to continue.",
            )
        }),
        (Access::SignedIn, Some(_)) => None,
        (Access::Staff(permission), Some(s)) if s.user.role.grants(permission) => None,
        (Access::Staff(_), Some(s)) => Some(page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            &format!(
                "role: the {} role does not give access to this page.",
                s.user.role.label()
            ),
        )),
    };
    if let Some(refusal) = refusal {
        if let Err(err) = audit(session.as_ref(), Outcome::Denied, None).await {
            tracing::error!(error = %err, "audit append failed");
        }
        return refusal;
    }

    let mut request = Request::from_parts(parts, body);
    if let Some(session) = &session {
        request.extensions_mut().insert(session.clone());
    }
    let mut response = next.run(request).await;
    let status = response.status();
    let outcome = if status.is_server_error() {
        Outcome::Error
    } else if status.is_client_error() {
        Outcome::Invalid
    } else {
        Outcome::Success
    };
    let created = response
        .extensions()
        .get::<AuditedRecord>()
        .map(|r| r.0.clone());
    if let Err(err) = audit(session.as_ref(), outcome, created).await {
        // An access to health data that cannot be audited is not served.
        tracing::error!(error = %err, "audit append failed");
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Unavailable",
            "The audit trail cannot be written, so this page is not shown. Try again in a moment.",
        );
    }
    if spec.access != Access::Public {
        // Staff pages hold health data: never keep them in a shared cache.
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    response
}

fn percent_encode_path(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
