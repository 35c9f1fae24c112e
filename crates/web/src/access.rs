//! The one access check. Every route passes through [`authorize`], which
//! finds the signed-in staff member, asks the role table (domain
//! `Role::grants`) whether the route's permission is granted, refuses
//! otherwise, and writes the audit entry for every route that touches health
//! data, with its outcome. A request refused earlier, by the CSRF layer, is
//! audited through [`audit_refusal`], so that every request to an audited
//! route leaves exactly one entry.
//!
//! A write must not be stored without its entry, nor the entry without the
//! write (SPEC §1). So the guard puts the request's entry, outcome success,
//! into the request's extensions as an [`AuditStamp`]; the handler of a
//! write route makes its write through `state.store.stamped(&stamp)`, whose
//! transaction appends the entry just before it commits. The guard then
//! sees the stamp written and appends nothing. A request whose write did
//! not commit (refused, failed, rolled back) is audited by the guard as
//! before, with its outcome: there is no change to pair it with.

use axum::extract::{RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use respite_domain::Permission;
use respite_store::{AuditEntry, AuditStamp, Outcome};

use crate::auth::{current_session, StaffSession};
use crate::{AppError, AppState};

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
/// that an entry the guard appends (when the write did not carry it, e.g. a
/// webhook delivered twice) names it rather than `*`.
#[derive(Clone, Debug)]
pub struct AuditedRecord(pub String);

/// Put on a response by `AppError::Forbidden`: the handler refused the
/// signed-in role a part of what it asked (e.g. the front desk asking the
/// patient list by condition), audited as denied rather than invalid.
#[derive(Clone, Copy, Debug)]
pub struct RefusedByRole;

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

/// The guard of every route: who is asking, may they, run the handler,
/// audit the outcome.
pub async fn authorize(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let Guard { app, spec } = guard;
    let now = app.config.clock.now();
    let (mut parts, body) = request.into_parts();
    let subject = Subject::of(&mut parts).await;
    let session = match current_session(&app.store, &app.config, &parts.headers, now).await {
        Ok(session) => session,
        Err(err) => {
            tracing::error!(error = %err, "session lookup failed");
            return AppError::Unavailable(DATABASE_UNREACHABLE).into_response();
        }
    };

    if let Err(refusal) = check_access(spec, session.as_ref(), &parts) {
        subject
            .record(&app, spec, session.as_ref(), Outcome::Denied, now)
            .await
            .ok();
        return refusal.into_response();
    }

    let stamp = subject
        .entry(spec, session.as_ref(), Outcome::Success, now)
        .map(AuditStamp::new);
    let mut request = Request::from_parts(parts, body);
    if let Some(session) = &session {
        request.extensions_mut().insert(session.clone());
    }
    if let Some(stamp) = &stamp {
        request.extensions_mut().insert(stamp.clone());
    }
    let response = next.run(request).await;
    if stamp.as_ref().is_some_and(AuditStamp::is_written) {
        // The handler's write committed with its entry.
        return no_store(spec, response);
    }
    finish(&app, spec, subject, session.as_ref(), response, now).await
}

/// Audits a request to an audited route that a layer before the guard (the
/// CSRF check) refused: outcome denied, the actor from the session if one
/// is live, the resource from the route.
pub async fn audit_refusal(app: &AppState, spec: RouteSpec, parts: &mut Parts) {
    if spec.audited.is_none() {
        return;
    }
    let now = app.config.clock.now();
    let subject = Subject::of(parts).await;
    let session = current_session(&app.store, &app.config, &parts.headers, now)
        .await
        .unwrap_or_else(|err| {
            tracing::error!(error = %err, "session lookup failed");
            None
        });
    subject
        .record(app, spec, session.as_ref(), Outcome::Denied, now)
        .await
        .ok();
}

const DATABASE_UNREACHABLE: &str =
    "The clinic's database cannot be reached. Try again in a moment.";
const AUDIT_UNWRITABLE: &str =
    "The audit trail cannot be written, so this page is not shown. Try again in a moment.";

/// Deny unless granted.
fn check_access(
    spec: RouteSpec,
    session: Option<&StaffSession>,
    parts: &Parts,
) -> Result<(), AppError> {
    match (spec.access, session) {
        (Access::Public, _) | (Access::SignedIn, Some(_)) => Ok(()),
        (Access::SignedIn | Access::Staff(_), None) => Err(AppError::Unauthorised {
            // A page can be come back to after signing in; a form cannot.
            return_to: (parts.method == Method::GET).then(|| parts.uri.path().to_owned()),
        }),
        (Access::Staff(permission), Some(s)) if s.user.role.grants(permission) => Ok(()),
        (Access::Staff(_), Some(s)) => Err(AppError::Forbidden {
            role: s.user.role.label(),
        }),
    }
}

/// Audits a served request with the outcome its status shows; a response
/// whose access cannot be audited is replaced by 503. Staff pages are
/// marked not to be cached.
async fn finish(
    app: &AppState,
    spec: RouteSpec,
    mut subject: Subject,
    session: Option<&StaffSession>,
    response: Response,
    now: Timestamp,
) -> Response {
    let status = response.status();
    let outcome = if status.is_server_error() {
        Outcome::Error
    } else if response.extensions().get::<RefusedByRole>().is_some() {
        Outcome::Denied
    } else if status.is_client_error() {
        Outcome::Invalid
    } else {
        Outcome::Success
    };
    if let Some(created) = response.extensions().get::<AuditedRecord>() {
        subject.resource_id = created.0.clone();
    }
    if subject
        .record(app, spec, session, outcome, now)
        .await
        .is_err()
    {
        // An access to health data that cannot be audited is not served.
        return AppError::Unavailable(AUDIT_UNWRITABLE).into_response();
    }
    no_store(spec, response)
}

/// Staff pages are marked not to be cached.
fn no_store(spec: RouteSpec, mut response: Response) -> Response {
    if spec.access != Access::Public {
        // Staff pages hold health data: never keep them in a shared cache.
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    response
}

/// What an audit entry says about the request, whoever is asking: where it
/// came from and the record its path names.
struct Subject {
    source: String,
    /// The first path parameter (at most 64 characters), else `*`.
    resource_id: String,
}

impl Subject {
    async fn of(parts: &mut Parts) -> Subject {
        let source = crate::client::of_extensions(&parts.extensions).to_string();
        let resource_id = match axum::RequestPartsExt::extract::<RawPathParams>(parts).await {
            Ok(params) => params.iter().next().map_or_else(
                || "*".to_owned(),
                |(_, value)| value.chars().take(64).collect(),
            ),
            Err(_) => "*".to_owned(),
        };
        Subject {
            source,
            resource_id,
        }
    }

    /// The route's audit entry, if it has one.
    fn entry(
        &self,
        spec: RouteSpec,
        session: Option<&StaffSession>,
        outcome: Outcome,
        at: Timestamp,
    ) -> Option<AuditEntry> {
        let audited = spec.audited?;
        let (actor, actor_role) = match session {
            Some(s) => (s.user.email.clone(), s.user.role.as_str().to_owned()),
            None if spec.access == Access::Public => ("public".to_owned(), "public".to_owned()),
            None => ("anonymous".to_owned(), "none".to_owned()),
        };
        Some(AuditEntry {
            at,
            actor,
            actor_role,
            action: audited.action.to_owned(),
            resource_type: audited.resource.to_owned(),
            resource_id: self.resource_id.clone(),
            source_address: self.source.clone(),
            outcome,
        })
    }

    /// Appends the route's audit entry, if it has one; a failure is logged
    /// and returned.
    async fn record(
        &self,
        app: &AppState,
        spec: RouteSpec,
        session: Option<&StaffSession>,
        outcome: Outcome,
        at: Timestamp,
    ) -> Result<(), ()> {
        let Some(entry) = self.entry(spec, session, outcome, at) else {
            return Ok(());
        };
        app.store
            .append_audit(&entry)
            .await
            .map_err(|err| tracing::error!(error = %err, "audit append failed"))
    }
}
