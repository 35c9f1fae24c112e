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
use crate::portal_auth::{current_portal_session, PortalSession};
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
    /// A patient signed in to the portal (SPEC §2, patient role): the
    /// handler finds every record through the session's patient id, so a
    /// patient reaches only their own. Staff sessions do not count here.
    Patient,
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
    let who = match Who::of(&app, spec, &parts, now).await {
        Ok(who) => who,
        Err(err) => {
            tracing::error!(error = %err, "session lookup failed");
            return AppError::Unavailable(DATABASE_UNREACHABLE).into_response();
        }
    };
    let session = who.staff.clone();

    if let Some(refusal) = refusal(spec, &who, &parts) {
        subject
            .record(&app, spec, &who, Outcome::Denied, now)
            .await
            .ok();
        return refusal;
    }

    let stamp = subject
        .entry(spec, &who, Outcome::Success, now)
        .map(AuditStamp::new);
    let mut request = Request::from_parts(parts, body);
    if let Some(session) = &session {
        request.extensions_mut().insert(session.clone());
    }
    if let Some(patient) = &who.patient {
        request.extensions_mut().insert(patient.clone());
    }
    if let Some(stamp) = &stamp {
        request.extensions_mut().insert(stamp.clone());
    }
    let mut response = next.run(request).await;
    if spec.access == Access::Patient {
        response = with_portal_links(response);
    }
    if stamp.as_ref().is_some_and(AuditStamp::is_written) {
        // The handler's write committed with its entry.
        return no_store(spec, response);
    }
    finish(&app, spec, subject, &who, response, now).await
}

/// An error page on a portal route (another patient's id: 404; an answer
/// refused) leads the patient back to their page and to help, never to the
/// staff application. Status, headers and extensions (what the audit
/// entry reads) are kept.
fn with_portal_links(response: Response) -> Response {
    let Some(error) = response.extensions().get::<crate::error::ErrorPage>() else {
        return response;
    };
    if !error.links.is_empty() {
        return response;
    }
    let mut portal = crate::error::page_with_links(
        response.status(),
        &error.title,
        &error.message,
        &[
            ("/portal/", "Back to your page"),
            ("/portal/crisis", "Need help now?"),
        ],
    );
    let (parts, _) = response.into_parts();
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_LENGTH && name != axum::http::header::CONTENT_TYPE {
            portal.headers_mut().insert(name.clone(), value.clone());
        }
    }
    let page = portal.extensions_mut().remove::<crate::error::ErrorPage>();
    portal.extensions_mut().extend(parts.extensions);
    if let Some(page) = page {
        portal.extensions_mut().insert(page);
    }
    portal
}

/// Who is asking: the staff session on staff and public routes, the
/// portal's patient on portal routes (never both).
#[derive(Clone, Debug, Default)]
pub struct Who {
    pub staff: Option<StaffSession>,
    pub patient: Option<PortalSession>,
}

impl Who {
    async fn of(
        app: &AppState,
        spec: RouteSpec,
        parts: &Parts,
        now: Timestamp,
    ) -> respite_store::StoreResult<Who> {
        if spec.access == Access::Patient {
            let patient =
                current_portal_session(&app.store, &app.config, &parts.headers, now).await?;
            return Ok(Who {
                staff: None,
                patient,
            });
        }
        let staff = current_session(&app.store, &app.config, &parts.headers, now).await?;
        Ok(Who {
            staff,
            patient: None,
        })
    }

    /// The audit actor: the staff member's e-mail and role, or the patient
    /// as `Patient/{id}` with role `patient`.
    fn actor(&self, spec: RouteSpec) -> (String, String) {
        match (&self.staff, &self.patient) {
            (Some(s), _) => (s.user.email.clone(), s.user.role.as_str().to_owned()),
            (None, Some(p)) => (patient_actor(p.patient_id), "patient".to_owned()),
            (None, None) if spec.access == Access::Public => {
                ("public".to_owned(), "public".to_owned())
            }
            (None, None) => ("anonymous".to_owned(), "none".to_owned()),
        }
    }
}

/// The audit actor of a patient acting in the portal.
pub fn patient_actor(patient_id: i64) -> String {
    format!("Patient/{patient_id}")
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
    let who = Who::of(app, spec, parts, now).await.unwrap_or_else(|err| {
        tracing::error!(error = %err, "session lookup failed");
        Who::default()
    });
    subject
        .record(app, spec, &who, Outcome::Denied, now)
        .await
        .ok();
}

const DATABASE_UNREACHABLE: &str =
    "The clinic's database cannot be reached. Try again in a moment.";
const AUDIT_UNWRITABLE: &str =
    "The audit trail cannot be written, so this page is not shown. Try again in a moment.";

/// Deny unless granted: the refusal, or `None` when the request may go on.
fn refusal(spec: RouteSpec, who: &Who, parts: &Parts) -> Option<Response> {
    if spec.access == Access::Patient {
        if who.patient.is_some() {
            return None;
        }
        // A page can be come back to after signing in; a form cannot.
        return Some(if parts.method == Method::GET {
            axum::response::Redirect::to("/portal/sign-in").into_response()
        } else {
            // A patient whose session ended (idle, or signed out in another
            // tab) is led back to the portal's sign-in, not the staff's.
            crate::error::page_with_links(
                axum::http::StatusCode::UNAUTHORIZED,
                "Please sign in",
                "Your portal session has ended, or you are not signed in. The answers you saved \
                 before are kept: sign in again to continue.",
                &[
                    ("/portal/sign-in", "Sign in to the portal"),
                    ("/portal/crisis", "Need help now?"),
                ],
            )
        });
    }
    check_staff_access(spec, who.staff.as_ref(), parts)
        .err()
        .map(IntoResponse::into_response)
}

fn check_staff_access(
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
        (Access::Patient, _) => Err(AppError::Internal("portal route in the staff check")),
    }
}

/// Audits a served request with the outcome its status shows; a response
/// whose access cannot be audited is replaced by 503. Staff pages are
/// marked not to be cached.
async fn finish(
    app: &AppState,
    spec: RouteSpec,
    mut subject: Subject,
    who: &Who,
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
    if subject.record(app, spec, who, outcome, now).await.is_err() {
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
        who: &Who,
        outcome: Outcome,
        at: Timestamp,
    ) -> Option<AuditEntry> {
        let audited = spec.audited?;
        let (actor, actor_role) = who.actor(spec);
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
        who: &Who,
        outcome: Outcome,
        at: Timestamp,
    ) -> Result<(), ()> {
        let Some(entry) = self.entry(spec, who, outcome, at) else {
            return Ok(());
        };
        app.store
            .append_audit(&entry)
            .await
            .map_err(|err| tracing::error!(error = %err, "audit append failed"))
    }
}
