//! Staff sign-in and sign-out.

use askama::Template;
use axum::extract::{Extension, Query, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use jiff::Timestamp;
use respite_store::{AuditEntry, Outcome, MAX_STORED_EMAIL_CHARS};
use serde::Deserialize;

use super::render;
use crate::auth::{
    clear_cookie, random_hex, session_cookie_header, sign_in_wait, signed, token_hash, CookieNames,
    StaffSession,
};
use crate::client::ClientAddress;
use crate::csrf::CsrfToken;
use crate::{AppError, AppState};

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    clinic_name: &'a str,
    clinic: &'a crate::words::public::ClinicFacts,
    csrf: &'a str,
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NextQuery {
    next: String,
}

pub async fn form(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Query(query): Query<NextQuery>,
) -> Result<Response, AppError> {
    let clinic = super::clinic_facts(&state).await?;
    render(&SignInPage {
        clinic_name: &clinic.name,
        clinic: &clinic,
        csrf: &csrf.0,
        email: String::new(),
        next: safe_next(&query.next),
        error: None,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignInInput {
    email: String,
    password: String,
    next: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    client: ClientAddress,
    Form(input): Form<SignInInput>,
) -> Result<Response, AppError> {
    let now = state.config.clock.now();
    let email = input.email.trim().to_lowercase();
    let next = safe_next(&input.next);
    let clinic = super::clinic_facts(&state).await?;
    let refuse = |status: StatusCode, message: String| -> Result<Response, AppError> {
        let mut response = render(&SignInPage {
            clinic_name: &clinic.name,
            clinic: &clinic,
            csrf: &csrf.0,
            email: input.email.clone(),
            next: next.clone(),
            error: Some(message),
        })?;
        *response.status_mut() = status;
        Ok(response)
    };
    if email.is_empty() || input.password.is_empty() {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "E-mail and password: both are required.".into(),
        );
    }

    if email.chars().count() > MAX_STORED_EMAIL_CHARS {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("E-mail: must be at most {MAX_STORED_EMAIL_CHARS} characters."),
        );
    }

    // Back-off per account and source: after too many failures from this
    // address, refuse without checking the password; other addresses are
    // not slowed (docs/SECURITY.md, "Sign-in throttle").
    let source = client.limit_key_text();
    let window = signed(state.config.lockout_window);
    let failures = state
        .store
        .login_failures_since(&email, &source, now - window)
        .await?;
    if let Some(wait) = sign_in_wait(&failures, &state.config, now) {
        audit_sign_in(&state, &email, client, now, Outcome::Denied).await?;
        let seconds = wait.as_secs().max(1).unsigned_abs();
        let mut response = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed attempts for this account from this address. Try again in {}.",
                in_words(seconds)
            ),
        )?;
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
        return Ok(response);
    }

    let user = state.store.staff_user_for_sign_in(&email).await?;
    // An unknown e-mail costs the same as a wrong password.
    let stored_hash = user.as_ref().map(|(_, hash)| hash.clone());
    let matches = match state
        .passwords
        .verify(input.password.clone(), stored_hash)
        .await
    {
        Ok(matches) => matches,
        Err(busy) => {
            let mut response = refuse(StatusCode::SERVICE_UNAVAILABLE, busy.to_string())?;
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("2"));
            return Ok(response);
        }
    };
    let user = user.map(|(user, _)| user);
    let Some(user) = user.filter(|u| matches && u.active) else {
        state
            .store
            .record_login_failure(&email, &source, now, now - window)
            .await?;
        audit_sign_in(&state, &email, client, now, Outcome::Denied).await?;
        return refuse(
            StatusCode::UNAUTHORIZED,
            "The e-mail or the password is not right.".into(),
        );
    };

    state.store.clear_login_failures(&email, &source).await?;
    let token = random_hex(32);
    if token.is_empty() {
        return Err(AppError::BadRequest {
            field: "session",
            message: "no randomness available".into(),
        });
    }
    state
        .store
        .create_session(&token_hash(&token), user.id, now)
        .await?;
    audit_sign_in(&state, &email, client, now, Outcome::Success).await?;
    let mut response = Redirect::to(&next).into_response();
    session_cookie_header(response.headers_mut(), &token, &state.config);
    let csrf = crate::csrf::issue_for(&state, Some(&token_hash(&token))).await?;
    response.headers_mut().append(SET_COOKIE, csrf);
    Ok(response)
}

pub async fn sign_out(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
) -> Result<Response, AppError> {
    state.store.delete_session(&session.token_hash).await?;
    let mut response = Redirect::to("/staff/login").into_response();
    let names = CookieNames::new(state.config.secure_cookies);
    response
        .headers_mut()
        .append(SET_COOKIE, clear_cookie(names.session, names.secure));
    let csrf = crate::csrf::issue_for(&state, None).await?;
    response.headers_mut().append(SET_COOKIE, csrf);
    Ok(response)
}

async fn audit_sign_in(
    state: &AppState,
    email: &str,
    client: ClientAddress,
    at: Timestamp,
    outcome: Outcome,
) -> Result<(), AppError> {
    state
        .store
        .append_audit(&AuditEntry {
            at,
            actor: email.chars().take(254).collect(),
            actor_role: "staff".into(),
            action: "sign-in".into(),
            resource_type: "Session".into(),
            resource_id: "*".into(),
            source_address: client.to_string(),
            outcome,
        })
        .await?;
    Ok(())
}

/// A wait as a person reads it: seconds under two minutes, else minutes.
fn in_words(seconds: u64) -> String {
    if seconds < 120 {
        format!("{seconds} seconds")
    } else {
        format!("{} minutes", seconds.div_ceil(60))
    }
}

/// Only staff pages of this site are valid places to return to.
fn safe_next(next: &str) -> String {
    let next = next.trim();
    let ok = next.starts_with("/staff")
        && !next.starts_with("//")
        && !next.contains("://")
        && !next.contains('\\')
        && next.chars().all(|c| c.is_ascii_graphic());
    if ok {
        next.to_owned()
    } else {
        "/staff".to_owned()
    }
}
