//! `/staff/settings`: the clinic's public details — name, telephone,
//! e-mail, address, opening hours and privacy notice — which every public
//! page shows (SPEC §2: clinic settings are the administrator's,
//! ManageClinicSettings). The rules are `respite_domain::clinic`'s; a form
//! that breaks one comes back with 422, the messages beside the fields and
//! what was typed kept. Each save is audited as `Organization`, in the same
//! transaction.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use respite_domain::clinic::{ClinicProfileForm, DEFAULT_PRIVACY_NOTICE};
use respite_domain::inquiry::FieldError;
use respite_store::AuditStamp;
use serde::Deserialize;

use super::{field_error, form_status, render_with, Nav, StaffPage};
use crate::access::AuditedRecord;
use crate::{AppError, AppState};

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    nav: Nav,
    form: ClinicProfileForm,
    errors: Vec<FieldError>,
    /// "Saved by … on …", or that nothing was saved yet.
    last_saved: String,
    saved: bool,
}

impl SettingsPage {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }

    /// The field's name in words, for the error summary.
    fn label(&self, field: &str) -> &'static str {
        match field {
            "name" => "Clinic name",
            "phone" => "Telephone",
            "email" => "E-mail",
            "address" => "Address",
            "hours" => "Opening hours",
            "privacy_notice" => "Privacy notice",
            _ => "A field",
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SavedQuery {
    saved: String,
}

/// `GET /staff/settings`.
pub async fn settings_page(
    State(state): State<AppState>,
    page: StaffPage,
    Query(query): Query<SavedQuery>,
) -> Result<Response, AppError> {
    let stored = state.store.clinic_profile().await?;
    let form = match &stored {
        Some(record) => {
            let mut form = ClinicProfileForm::from(&record.profile);
            form.phone = record
                .profile
                .phone
                .as_ref()
                .map(|p| p.for_people(&page.region))
                .unwrap_or_default();
            form
        }
        None => ClinicProfileForm {
            name: state.config.clinic_name.clone(),
            privacy_notice: DEFAULT_PRIVACY_NOTICE.to_owned(),
            ..ClinicProfileForm::default()
        },
    };
    let last_saved = match &stored {
        Some(record) => format!(
            "Last saved by {} on {}.",
            record.updated_by,
            page.time(record.updated_at)
        ),
        None => "Not saved yet: the public pages show the server's clinic name, no contact details and the notice below.".to_owned(),
    };
    show(&page, form, Vec::new(), last_saved, query.saved == "1")
}

fn show(
    page: &StaffPage,
    form: ClinicProfileForm,
    errors: Vec<FieldError>,
    last_saved: String,
    saved: bool,
) -> Result<Response, AppError> {
    render_with(
        form_status(&errors),
        &SettingsPage {
            nav: page.nav(),
            form,
            errors,
            last_saved,
            saved,
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SettingsInput {
    name: String,
    phone: String,
    email: String,
    address: String,
    hours: String,
    privacy_notice: String,
}

/// `POST /staff/settings`: saves the clinic's public details.
pub async fn save_settings(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Form(input): Form<SettingsInput>,
) -> Result<Response, AppError> {
    let form = ClinicProfileForm {
        name: input.name,
        phone: input.phone,
        email: input.email,
        address: input.address,
        hours: input.hours,
        privacy_notice: input.privacy_notice,
    };
    let profile = match form.validate(&state.config.clinic_region) {
        Ok(profile) => profile,
        Err(errors) => return show(&page, form, errors, "Nothing was saved.".to_owned(), false),
    };
    state
        .store
        .stamped(&audit)
        .save_clinic_profile(&profile, &page.session.user.email, page.now)
        .await?;
    let mut response = Redirect::to("/staff/settings?saved=1").into_response();
    response
        .extensions_mut()
        .insert(AuditedRecord("clinic".to_owned()));
    Ok(response)
}
