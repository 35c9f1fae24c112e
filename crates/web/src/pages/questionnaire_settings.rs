//! `/staff/settings/questionnaires`: which questionnaires patients answer
//! and when, the clinic's licences of licensed instruments, and how
//! patients are reminded (SPEC §2: clinic settings are the administrator's,
//! ManageClinicSettings). The defaults and the rules are respite-clinical's
//! (`instruments::schedule`); a form that breaks a rule comes back with
//! 422, the messages beside the fields and what was typed kept. Each save
//! is audited as `ClinicSetting`, in the same transaction.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use jiff::civil::Date;
use respite_clinical::instruments::schedule::{ConditionGroup, TimepointKind};
use respite_clinical::instruments::{Instrument, Licence};
use respite_domain::inquiry::FieldError;
use respite_store::{AuditStamp, QuestionnaireLicence};
use serde::Deserialize;

use super::{field_error, form_status, render_with, Nav, StaffPage};
use crate::access::AuditedRecord;
use crate::questionnaire_schedule::{
    self as schedule, CHANNEL_SETTING, INSTRUMENTS_SETTING, TIMEPOINTS_SETTING,
};
use crate::words::questionnaires as words;
use crate::{AppError, AppState};

/// The form's fields of each licensed instrument: (instrument id, holder,
/// terms, date). Field names are static so that an error can name them.
const LICENCE_FIELDS: [(&str, &str, &str, &str); 4] = [
    (
        "bpi-sf",
        "licence_holder_bpi-sf",
        "licence_terms_bpi-sf",
        "licence_date_bpi-sf",
    ),
    (
        "odi",
        "licence_holder_odi",
        "licence_terms_odi",
        "licence_date_odi",
    ),
    (
        "hit-6",
        "licence_holder_hit-6",
        "licence_terms_hit-6",
        "licence_date_hit-6",
    ),
    (
        "fiqr",
        "licence_holder_fiqr",
        "licence_terms_fiqr",
        "licence_date_fiqr",
    ),
];

/// One instrument's row on the page.
struct InstrumentRow {
    id: &'static str,
    name: &'static str,
    chosen: bool,
    /// Who it is for, in words.
    for_whom: &'static str,
    /// The licence's state, in words.
    licence: String,
}

/// One licensed instrument's licence fields.
struct LicenceRow {
    id: &'static str,
    name: &'static str,
    /// The holder of the instrument's copyright.
    owner: &'static str,
    holder_field: &'static str,
    terms_field: &'static str,
    date_field: &'static str,
    holder: String,
    terms: String,
    date: String,
    /// "Recorded by … on …", when recorded.
    recorded: String,
}

struct TimepointRow {
    key: String,
    words: String,
    chosen: bool,
}

struct ChannelRow {
    code: &'static str,
    words: &'static str,
    chosen: bool,
}

#[derive(Template)]
#[template(path = "questionnaire_settings.html")]
struct SettingsPage {
    nav: Nav,
    instruments: Vec<InstrumentRow>,
    timepoints: Vec<TimepointRow>,
    channels: Vec<ChannelRow>,
    licences: Vec<LicenceRow>,
    errors: Vec<FieldError>,
    saved: bool,
}

impl SettingsPage {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }

    /// The field's name in words, for the error summary.
    fn label(&self, field: &str) -> String {
        match field {
            "instrument" => "Questionnaires".to_owned(),
            "timepoint" => "When".to_owned(),
            "channel" => "Reminders".to_owned(),
            other => {
                let row = LICENCE_FIELDS
                    .iter()
                    .find(|(_, h, t, d)| *h == other || *t == other || *d == other);
                match row {
                    Some((id, h, t, _)) => {
                        let what = if *h == other {
                            "licence holder"
                        } else if *t == other {
                            "licence number or terms"
                        } else {
                            "date granted"
                        };
                        format!("{}: {what}", instrument_name(id))
                    }
                    None => "A field".to_owned(),
                }
            }
        }
    }
}

fn instrument_name(id: &str) -> &'static str {
    Instrument::from_id(id)
        .map(|i| i.definition().name)
        .unwrap_or("A questionnaire")
}

/// The instruments a clinic schedules (the discharge score is staff's).
fn schedulable() -> impl Iterator<Item = Instrument> {
    Instrument::ALL
        .into_iter()
        .filter(|i| *i != Instrument::ModifiedAldrete)
}

fn for_whom(instrument: Instrument) -> &'static str {
    let group = [
        ConditionGroup::BackPain,
        ConditionGroup::Headache,
        ConditionGroup::Fibromyalgia,
    ]
    .into_iter()
    .find(|g| g.instrument() == instrument);
    match group {
        Some(ConditionGroup::BackPain) => {
            "Patients with back pain (ICD-10-CM M54.50, M54.51, M54.59, M51.36-, M51.37-, M41)"
        }
        Some(ConditionGroup::Headache) => {
            "Patients with headache (ICD-10-CM G43, G44.0, G44.2, H53.14)"
        }
        Some(ConditionGroup::Fibromyalgia) => "Patients with fibromyalgia (ICD-10-CM M79.7)",
        None => "Every patient",
    }
}

/// What the form holds.
struct Choices {
    instruments: Vec<String>,
    timepoints: Vec<String>,
    channel: String,
    licences: Vec<(String, String, String, String)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SavedQuery {
    saved: String,
}

/// `GET /staff/settings/questionnaires`.
pub async fn settings_page(
    State(state): State<AppState>,
    page: StaffPage,
    Query(query): Query<SavedQuery>,
) -> Result<Response, AppError> {
    let settings = schedule::settings(&state.store).await?;
    let stored = state.store.questionnaire_licences().await?;
    let choices = Choices {
        instruments: settings
            .instruments
            .iter()
            .map(|i| i.id().to_owned())
            .collect(),
        timepoints: settings.timepoints.iter().map(|k| k.key()).collect(),
        channel: schedule::reminder_channel(&state.store).await?,
        licences: stored
            .iter()
            .map(|r| {
                (
                    r.licence.instrument.clone(),
                    r.licence.holder.clone(),
                    r.licence.terms.clone(),
                    r.licence.licensed_on.clone(),
                )
            })
            .collect(),
    };
    let recorded: Vec<(String, String)> = stored
        .iter()
        .map(|r| {
            (
                r.licence.instrument.clone(),
                format!(
                    "Recorded by {} on {}.",
                    r.recorded_by,
                    page.time(r.recorded_at)
                ),
            )
        })
        .collect();
    show(&page, &choices, &recorded, Vec::new(), query.saved == "1")
}

fn show(
    page: &StaffPage,
    choices: &Choices,
    recorded: &[(String, String)],
    errors: Vec<FieldError>,
    saved: bool,
) -> Result<Response, AppError> {
    let licence_of = |id: &str| choices.licences.iter().find(|l| l.0 == id);
    let instruments = schedulable()
        .map(|instrument| {
            let id = instrument.id();
            let licence = match instrument.definition().licence {
                Licence::Free => "Free to use".to_owned(),
                Licence::Licensed { .. } if licence_of(id).is_some() => {
                    "Licensed: the clinic's licence is recorded below".to_owned()
                }
                Licence::Licensed { .. } => format!(
                    "Licensed: {}",
                    words::not_given(respite_clinical::instruments::schedule::NotGiven::NoLicence)
                ),
            };
            InstrumentRow {
                id,
                name: instrument.definition().name,
                chosen: choices.instruments.iter().any(|c| c == id),
                for_whom: for_whom(instrument),
                licence,
            }
        })
        .collect();
    let licences = LICENCE_FIELDS
        .iter()
        .map(|(id, holder_field, terms_field, date_field)| {
            let stored = licence_of(id);
            let owner = match Instrument::from_id(id).map(|i| i.definition().licence) {
                Ok(Licence::Licensed { holder }) => holder,
                _ => "",
            };
            LicenceRow {
                id,
                name: instrument_name(id),
                owner,
                holder_field,
                terms_field,
                date_field,
                holder: stored.map(|l| l.1.clone()).unwrap_or_default(),
                terms: stored.map(|l| l.2.clone()).unwrap_or_default(),
                date: stored.map(|l| l.3.clone()).unwrap_or_default(),
                recorded: recorded
                    .iter()
                    .find(|(i, _)| i == id)
                    .map(|(_, r)| r.clone())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let mut kinds: Vec<TimepointKind> = TimepointKind::DEFAULTS.to_vec();
    for key in &choices.timepoints {
        if let Some(kind) = TimepointKind::parse(key) {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
    }
    let timepoints = kinds
        .into_iter()
        .map(|kind| TimepointRow {
            key: kind.key(),
            words: words::timepoint_kind(kind),
            chosen: choices.timepoints.contains(&kind.key()),
        })
        .collect();
    let channels = words::REMINDER_CHANNELS
        .iter()
        .map(|code| ChannelRow {
            code,
            words: words::reminder_channel(code),
            chosen: choices.channel == *code,
        })
        .collect();
    render_with(
        form_status(&errors),
        &SettingsPage {
            nav: page.nav(),
            instruments,
            timepoints,
            channels,
            licences,
            errors,
            saved,
        },
    )
}

/// `POST /staff/settings/questionnaires`: saves the schedule settings and
/// the licences.
pub async fn save_settings(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let all = |name: &str| -> Vec<String> {
        fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    };
    let one = |name: &str| -> String {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let mut errors = Vec::new();
    let instruments = all("instrument");
    if instruments.is_empty() {
        errors.push(FieldError {
            field: "instrument",
            message: "choose at least one questionnaire".into(),
        });
    }
    if let Some(bad) = instruments
        .iter()
        .find(|id| !schedulable().any(|i| i.id() == id.as_str()))
    {
        errors.push(FieldError {
            field: "instrument",
            message: format!("“{bad}” is not a questionnaire patients answer"),
        });
    }
    let timepoints = all("timepoint");
    if timepoints.is_empty() {
        errors.push(FieldError {
            field: "timepoint",
            message: "choose at least one timepoint".into(),
        });
    }
    if let Some(bad) = timepoints
        .iter()
        .find(|k| TimepointKind::parse(k).is_none())
    {
        errors.push(FieldError {
            field: "timepoint",
            message: format!("“{bad}” is not a timepoint"),
        });
    }
    let channel = one("channel");
    if !words::REMINDER_CHANNELS.contains(&channel.as_str()) {
        errors.push(FieldError {
            field: "channel",
            message: "choose how patients are reminded".into(),
        });
    }
    let today = page.now.to_zoned(page.zone.clone()).date();
    let mut licences = Vec::new();
    let mut typed = Vec::new();
    for (id, holder_field, terms_field, date_field) in LICENCE_FIELDS {
        let (holder, terms, date) = (one(holder_field), one(terms_field), one(date_field));
        typed.push((id.to_owned(), holder.clone(), terms.clone(), date.clone()));
        if holder.is_empty() && terms.is_empty() && date.is_empty() {
            continue;
        }
        let before = errors.len();
        if holder.is_empty() || holder.chars().count() > 200 {
            errors.push(FieldError {
                field: holder_field,
                message: "give who holds the licence (at most 200 characters), or clear all three fields to remove it".into(),
            });
        }
        if terms.is_empty() || terms.chars().count() > 500 {
            errors.push(FieldError {
                field: terms_field,
                message: "give the licence number or its terms (at most 500 characters)".into(),
            });
        }
        match date.parse::<Date>() {
            Ok(on) if on <= today => {}
            Ok(_) => errors.push(FieldError {
                field: date_field,
                message: "the date granted cannot be in the future".into(),
            }),
            Err(_) => errors.push(FieldError {
                field: date_field,
                message: "give the date the licence was granted, as YYYY-MM-DD".into(),
            }),
        }
        if errors.len() == before {
            licences.push(QuestionnaireLicence {
                instrument: id.to_owned(),
                holder,
                terms,
                licensed_on: date,
            });
        }
    }
    if !errors.is_empty() {
        let choices = Choices {
            instruments,
            timepoints,
            channel,
            licences: typed,
        };
        return show(&page, &choices, &[], errors, false);
    }
    let settings = [
        (INSTRUMENTS_SETTING, instruments.join(",")),
        (TIMEPOINTS_SETTING, timepoints.join(",")),
        (CHANNEL_SETTING, channel),
    ];
    state
        .store
        .stamped(&audit)
        .save_questionnaire_schedule(&settings, &licences, &page.session.user.email, page.now)
        .await?;
    let mut response = Redirect::to("/staff/settings/questionnaires?saved=1").into_response();
    response
        .extensions_mut()
        .insert(AuditedRecord("questionnaire-schedule".to_owned()));
    Ok(response)
}
