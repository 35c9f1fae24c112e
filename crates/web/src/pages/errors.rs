//! The clinic around a refusal: a 403, 404 or other client error page
//! (`error::page`, which stays minimal so that it cannot fail itself) is
//! shown again inside the staff navigation for a signed-in staff member, or
//! inside the public pages' header and footer for anyone else. A layer inside the CSRF check
//! (it needs the request's form token for the sign-out button), around every
//! route and the fallback. If the session or the clinic's details cannot be
//! read, the minimal page goes out as it was.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::Nav;
use crate::csrf::CsrfToken;
use crate::error::ErrorPage;
use crate::words::public::ClinicFacts;
use crate::AppState;

#[derive(Template)]
#[template(path = "error_staff.html")]
struct StaffErrorPage<'a> {
    nav: Nav,
    /// A refusal by role: the page points to what the role gives access to.
    forbidden: bool,
    title: &'a str,
    message: &'a str,
}

#[derive(Template)]
#[template(path = "error_public.html")]
struct PublicErrorPage<'a> {
    clinic: &'a ClinicFacts,
    title: &'a str,
    message: &'a str,
    /// The page's own ways on; none: the clinic's home page.
    links: &'a [(String, String)],
}

/// The layer: refusals, pages not found and other client errors get the
/// navigation that fits the visitor.
pub async fn with_navigation(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let csrf = request.extensions().get::<CsrfToken>().cloned();
    let headers = request.headers().clone();
    let response = next.run(request).await;
    let status = response.status();
    // Refusals (403), pages not found (404) and the other client errors a
    // person can meet (a used booking link, 410; a conflict, 409). A 401
    // leads to the sign-in page or answers a form without a session.
    if !status.is_client_error() || status == StatusCode::UNAUTHORIZED {
        return response;
    }
    let Some(error) = response.extensions().get::<ErrorPage>().cloned() else {
        return response;
    };
    let now = state.config.clock.now();
    let session =
        match crate::auth::current_session(&state.store, &state.config, &headers, now).await {
            Ok(session) => session,
            Err(err) => {
                tracing::warn!(error = %err, "error page: session lookup failed");
                return response;
            }
        };
    let rendered = match (session, csrf) {
        (Some(session), Some(csrf)) => StaffErrorPage {
            nav: Nav::new(&session, &csrf.0, &state.config.clinic_region),
            forbidden: status == StatusCode::FORBIDDEN,
            title: &error.title,
            message: &error.message,
        }
        .render(),
        _ => match super::clinic_facts(&state).await {
            Ok(clinic) => PublicErrorPage {
                clinic: &clinic,
                title: &error.title,
                message: &error.message,
                links: &error.links,
            }
            .render(),
            Err(err) => {
                tracing::warn!(error = %err, "error page: clinic details unreadable");
                return response;
            }
        },
    };
    match rendered {
        Ok(body) => {
            let (mut parts, _) = response.into_parts();
            parts.headers.remove(axum::http::header::CONTENT_LENGTH);
            let mut decorated = (status, Html(body)).into_response();
            for (name, value) in parts.headers.iter() {
                if name != axum::http::header::CONTENT_TYPE {
                    decorated.headers_mut().insert(name.clone(), value.clone());
                }
            }
            decorated
        }
        Err(err) => {
            tracing::warn!(error = %err, "error page: template failed");
            response
        }
    }
}
