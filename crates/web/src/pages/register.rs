//! `/staff/register`: the controlled-substance register (SPEC §1 step 5;
//! shared/clinical/dosing.md, "Controlled substance (US)"), as the person who
//! keeps it works with it on a laptop or a tablet: vials received with their
//! running balance, draws for a session, what was given and wasted (a waste
//! witnessed by a second licensed person when the clinic's setting says so),
//! end-of-day counts and the biennial inventory (21 CFR 1304.11), the
//! discrepancies a clinician or the administrator resolves, and the export
//! for an inspection.
//!
//! The rules are `respite_clinical::register`'s; the store applies the
//! balance rule under the vial's lock. Every read and write is audited
//! (`routes.rs`); nothing here edits or deletes an entry.
//!
//! The witness: the second person types their own password on the same
//! device, checked like a sign-in (argon2 on the bounded workers, the
//! per-account back-off after failures, each failure recorded), so that a
//! witness is a person who was there, not a name picked from a list; the
//! waste's audit entry and the register row name both.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use jiff::civil::Date;
use respite_clinical::dosing::units::{MgPerMl, Millilitres};
use respite_clinical::register::{
    check_vial_drug, check_witness, next_biennial_inventory, parse_amount, AmountUnit,
    BalanceChange, DrugAmount, RegisterDrug, StaffMember, WastePolicy,
};
use respite_domain::{Permission, Role};
use respite_store::{
    AuditEntry, AuditStamp, BusinessTime, CountKind, CountRecord, DiscrepancyRecord, EntryRecord,
    NewDraw, NewReceipt, NewWaste, OpenDraw, Outcome, RegisterEntryKind as EntryKind,
    RegisterSession, StaffUser, VialRecord,
};
use serde::Deserialize;

use super::{parse_id, render_with, Nav, StaffPage};
use crate::access::AuditedRecord;
use crate::auth::{sign_in_wait, signed};
use crate::client::ClientAddress;
use crate::words::register as words;
use crate::{AppError, AppState};

/// The drugs the register holds, each with its schedule, for the heading
/// and the receive form.
fn drug_lines() -> Vec<(&'static str, &'static str, String)> {
    RegisterDrug::ALL
        .into_iter()
        .map(|d| (d.code(), words::drug(d), words::drug_line(d)))
        .collect()
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    nav: Nav,
    /// A refused form's field and rule, in words.
    error: String,
    kept: Kept,
    /// (code, name, product and schedule) of each drug the register holds.
    drugs: Vec<(&'static str, &'static str, String)>,
    vials: Vec<VialRow>,
    empty_vials: i64,
    discrepancies: Vec<DiscrepancyRow>,
    counts: Vec<CountRow>,
    biennial_due: String,
    keeps: bool,
    resolves: bool,
    exports: bool,
    manages: bool,
    witness_required: bool,
    setting_saved: String,
    done: String,
    today: String,
}

struct VialRow {
    vial: VialRecord,
    balance: String,
    expired: bool,
}

struct DiscrepancyRow {
    record: DiscrepancyRecord,
    when: String,
    expected: String,
    counted: String,
    difference: String,
    resolved: String,
}

struct CountRow {
    record: CountRecord,
    when: String,
}

#[derive(Template)]
#[template(path = "register_vial.html")]
struct VialPage {
    nav: Nav,
    /// A refused form's field and rule, in words.
    error: String,
    kept: Kept,
    vial: VialRecord,
    /// The vial's drug: product and schedule.
    drug: String,
    balance: String,
    content: String,
    entries: Vec<EntryRow>,
    open_draws: Vec<OpenDrawRow>,
    sessions: Vec<SessionOption>,
    witnesses: Vec<StaffUser>,
    witness_required: bool,
    keeps: bool,
    done: String,
}

/// What a refused form held, shown again in it (never a password).
#[derive(Default)]
struct Kept {
    /// Which form: `draw`, `vial-waste`, `correction`, or `given-ID` /
    /// `waste-ID` for a draw's forms.
    form: String,
    fields: Vec<(&'static str, String)>,
}

impl Kept {
    fn new(form: impl Into<String>, fields: Vec<(&'static str, String)>) -> Kept {
        Kept {
            form: form.into(),
            fields,
        }
    }

    /// The value `field` had in `form`, or nothing.
    fn get(&self, form: &str, field: &str) -> &str {
        if self.form != form {
            return "";
        }
        self.fields
            .iter()
            .find(|(name, _)| *name == field)
            .map_or("", |(_, value)| value.as_str())
    }

    /// The same for a draw's form (`given` or `waste`).
    fn get_for(&self, form: &str, draw: &i64, field: &str) -> &str {
        self.get(&format!("{form}-{draw}"), field)
    }
}

struct EntryRow {
    entry: EntryRecord,
    when: String,
    amount: String,
    change: String,
    balance: String,
}

struct OpenDrawRow {
    draw: OpenDraw,
    when: String,
    left: String,
    /// The session's dose, as the administration's suggestion (mg).
    suggested_mg: String,
}

struct SessionOption {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "register_count.html")]
struct CountPage {
    nav: Nav,
    /// A refused form's field and rule, in words.
    error: String,
    vials: Vec<VialRow>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DoneQuery {
    done: String,
}

/// `GET /staff/register`.
pub async fn register_page(
    State(state): State<AppState>,
    page: StaffPage,
    Query(query): Query<DoneQuery>,
) -> Result<Response, AppError> {
    show_register(
        &state,
        &page,
        &query.done,
        (String::new(), Kept::default()),
        StatusCode::OK,
    )
    .await
}

async fn show_register(
    state: &AppState,
    page: &StaffPage,
    done: &str,
    (error, kept): (String, Kept),
    status: StatusCode,
) -> Result<Response, AppError> {
    let store = &state.store;
    let today = page.today();
    let vials = store
        .vials_on_hand()
        .await?
        .into_iter()
        .map(|vial| vial_row(vial, today))
        .collect();
    let discrepancies = store
        .discrepancies(50)
        .await?
        .into_iter()
        .map(|record| {
            let c = record.vial.concentration;
            let difference = record.count_entry.amount.micrograms() - record.expected.micrograms();
            DiscrepancyRow {
                when: page.time(record.count_entry.at),
                expected: words::amount(record.expected, c),
                counted: words::amount(record.count_entry.amount, c),
                difference: words::change(difference),
                resolved: record
                    .resolution
                    .as_ref()
                    .map(|r| {
                        format!(
                            "Resolved by {} on {}: {}",
                            r.recorded_by,
                            page.time(r.at),
                            r.note
                        )
                    })
                    .unwrap_or_default(),
                record,
            }
        })
        .collect();
    let counts: Vec<CountRow> = store
        .register_counts(10)
        .await?
        .into_iter()
        .map(|record| CountRow {
            when: page.time(record.taken_at),
            record,
        })
        .collect();
    let last_biennial = store
        .last_count_at(CountKind::Biennial)
        .await?
        .map(|at| at.to_zoned(page.zone.clone()).date());
    let biennial_due = match last_biennial.and_then(next_biennial_inventory) {
        Some(due) => format!("The next biennial inventory is due by {due} (21 CFR 1304.11(c): at least every two years)."),
        None => "No biennial inventory is recorded: take one (21 CFR 1304.11).".to_owned(),
    };
    let settings = store.register_settings().await?;
    let setting_saved = match &settings.saved {
        Some((by, at)) => format!("Last changed by {by} on {}.", page.time(*at)),
        None => "The default: on.".to_owned(),
    };
    render_with(
        status,
        &RegisterPage {
            nav: page.nav(),
            error,
            kept,
            drugs: drug_lines(),
            vials,
            empty_vials: store.empty_vial_count().await?,
            discrepancies,
            counts,
            biennial_due,
            keeps: page.may(Permission::KeepControlledSubstanceRegister),
            resolves: page.may(Permission::ResolveRegisterDiscrepancies),
            exports: page.may(Permission::ExportControlledSubstanceRegister),
            manages: page.may(Permission::ManageClinicSettings),
            witness_required: settings.policy.witness_required,
            setting_saved,
            done: done_words(done),
            today: today.to_string(),
        },
    )
}

fn vial_row(vial: VialRecord, today: Date) -> VialRow {
    VialRow {
        balance: words::amount(vial.balance, vial.concentration),
        expired: vial.expiry < today,
        vial,
    }
}

/// What a redirect's `done` says was recorded.
fn done_words(done: &str) -> String {
    match done {
        "receipt" => "Received: each vial is in the list with its full content.",
        "draw" => "Draw recorded; the balance below is after it.",
        "administration" => "Administration recorded.",
        "waste" => "Waste recorded with its witness.",
        "waste-unwitnessed" => "Waste recorded.",
        "correction" => "Correction recorded: it names the entry it corrects.",
        "count" => "Count recorded.",
        "resolved" => "Discrepancy resolved: the balance is now what was counted.",
        "settings" => "Setting saved.",
        _ => "",
    }
    .to_owned()
}

/// `GET /staff/register/vials/{id}`.
pub async fn vial_page(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, AppError> {
    show_vial(
        &state,
        &page,
        &id,
        &query.done,
        (String::new(), Kept::default()),
        StatusCode::OK,
    )
    .await
}

async fn show_vial(
    state: &AppState,
    page: &StaffPage,
    id: &str,
    done: &str,
    (error, kept): (String, Kept),
    status: StatusCode,
) -> Result<Response, AppError> {
    let id = parse_id(id)?;
    let store = &state.store;
    let vial = store.vial(id).await?.ok_or(AppError::NotFound)?;
    let c = vial.concentration;
    let entries = store
        .vial_entries(id)
        .await?
        .into_iter()
        .map(|entry| EntryRow {
            when: page.time(entry.at),
            amount: words::amount(entry.amount, c),
            change: words::change(entry.change_ug),
            balance: words::amount(entry.balance, c),
            entry,
        })
        .collect();
    let open_draws = store
        .open_draws(id)
        .await?
        .into_iter()
        .map(|draw| OpenDrawRow {
            when: page.time(draw.entry.at),
            left: words::amount(draw.unaccounted, c),
            // The session's dose is its ketamine: no suggestion for another
            // drug's draw.
            suggested_mg: draw
                .session_dose
                .filter(|dose| vial.drug == RegisterDrug::Ketamine && *dose <= draw.unaccounted)
                .map(|dose| respite_clinical::register::trim_decimals(dose.mg(), 3))
                .unwrap_or_default(),
            draw,
        })
        .collect();
    // The latest sessions, newest first: today's, or a late entry for a
    // recent one.
    // Only those who record draws are shown the sessions (minimum necessary).
    let keeps = page.may(Permission::KeepControlledSubstanceRegister);
    // A session's draw from this page is its infusion's ketamine; a
    // controlled rescue drug is drawn with the session's rescue-drug entry.
    let sessions = if keeps && vial.drug == RegisterDrug::Ketamine {
        store
            .register_sessions(40)
            .await?
            .into_iter()
            .map(|s| session_option(page, &s))
            .collect()
    } else {
        Vec::new()
    };
    let me = page.session.user.id;
    let witnesses = store
        .staff_users()
        .await?
        .into_iter()
        .filter(|u| u.active && u.id != me && licensed(u.role))
        .collect();
    render_with(
        status,
        &VialPage {
            nav: page.nav(),
            error,
            kept,
            balance: words::amount(vial.balance, c),
            content: words::amount(vial.content, c),
            drug: words::drug_line(vial.drug),
            vial,
            entries,
            open_draws,
            sessions,
            witnesses,
            witness_required: store.register_settings().await?.policy.witness_required,
            keeps,
            done: done_words(done),
        },
    )
}

fn session_option(page: &StaffPage, s: &RegisterSession) -> SessionOption {
    SessionOption {
        value: format!("{}:{}", s.patient_id, s.id),
        label: format!(
            "{} — {}, session of {}",
            page.time(s.started_at),
            s.patient_name,
            s.dose
        ),
    }
}

/// Nurses and clinicians hold a licence to handle the drug (SPEC §2).
fn licensed(role: Role) -> bool {
    matches!(role, Role::Nurse | Role::Clinician)
}

/// `GET /staff/register/count`: the count form, every vial on hand.
pub async fn count_form(
    State(state): State<AppState>,
    page: StaffPage,
) -> Result<Response, AppError> {
    show_count(&state, &page, String::new(), StatusCode::OK).await
}

async fn show_count(
    state: &AppState,
    page: &StaffPage,
    error: String,
    status: StatusCode,
) -> Result<Response, AppError> {
    let today = page.today();
    let vials = state
        .store
        .vials_on_hand()
        .await?
        .into_iter()
        .map(|v| vial_row(v, today))
        .collect();
    render_with(
        status,
        &CountPage {
            nav: page.nav(),
            error,
            vials,
        },
    )
}

fn bad(field: &'static str, message: impl Into<String>) -> AppError {
    AppError::BadRequest {
        field,
        message: message.into(),
    }
}

fn required<'a>(field: &'static str, text: &'a str, max: usize) -> Result<&'a str, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(bad(field, "is required"));
    }
    if text.chars().count() > max {
        return Err(bad(field, format!("must be at most {max} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(bad(field, "must not contain control characters"));
    }
    Ok(text)
}

fn optional_note(text: &str) -> Result<String, AppError> {
    let text = text.trim();
    if text.chars().count() > 500 {
        return Err(bad("note", "must be at most 500 characters"));
    }
    Ok(text.to_owned())
}

fn positive(field: &'static str, text: &str) -> Result<f64, AppError> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| bad(field, "must be a number"))?;
    if !value.is_finite() {
        return Err(bad(field, "must be a number"));
    }
    if value <= 0.0 {
        return Err(bad(field, "must be more than zero"));
    }
    Ok(value)
}

/// An NDC as printed on the label: 10 digits in 4-4-2, 5-3-2 or 5-4-1
/// groups, or the 11-digit 5-4-2 billing form (FDA, National Drug Code
/// Directory).
fn parse_ndc(text: &str) -> Result<String, AppError> {
    let text = text.trim();
    let groups: Vec<usize> = text.split('-').map(str::len).collect();
    let digits = text
        .chars()
        .filter(|c| *c != '-')
        .all(|c| c.is_ascii_digit());
    let shapes: [&[usize]; 4] = [&[4, 4, 2], &[5, 3, 2], &[5, 4, 1], &[5, 4, 2]];
    if !digits || !shapes.contains(&groups.as_slice()) {
        return Err(bad(
            "ndc",
            "must be the label's National Drug Code, e.g. 0143-9508-10 (groups 4-4-2, 5-3-2, 5-4-1 or 5-4-2)",
        ));
    }
    Ok(text.to_owned())
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ReceiptInput {
    drug: String,
    ndc: String,
    lot: String,
    expiry: String,
    concentration: String,
    volume_ml: String,
    vials: String,
    supplier: String,
    note: String,
}

/// `POST /staff/register/receipts`: vials received, each its own row.
async fn receive_inner(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Form(input): Form<ReceiptInput>,
) -> Result<Response, AppError> {
    let drug = RegisterDrug::parse(input.drug.trim()).ok_or_else(|| {
        bad(
            "drug",
            "choose the drug the vials hold: ketamine or midazolam (the label's name)",
        )
    })?;
    let ndc = parse_ndc(&input.ndc)?;
    let lot = required("lot", &input.lot, 40)?.to_owned();
    let expiry: Date = input
        .expiry
        .trim()
        .parse()
        .map_err(|_| bad("expiry", "must be a date (YYYY-MM-DD)"))?;
    if expiry < page.today() {
        return Err(bad(
            "expiry",
            "is in the past: an expired vial is not received into stock",
        ));
    }
    let concentration = MgPerMl::new(positive("concentration", &input.concentration)?)
        .map_err(|_| bad("concentration", "must be more than zero"))?;
    let max = drug.max_concentration_mg_per_ml();
    if concentration.value() > max {
        // Ketamine injection is sold at 10, 50 and 100 mg/mL (dosing.md);
        // midazolam injection at 1 and 5 mg/mL.
        let sold = match drug {
            RegisterDrug::Ketamine => "ketamine comes as 10, 50 or 100 mg/mL",
            RegisterDrug::Midazolam => "midazolam comes as 1 or 5 mg/mL",
        };
        return Err(bad(
            "concentration",
            format!(
                "must be at most {} mg/mL ({sold})",
                respite_clinical::register::trim_decimals(max, 1)
            ),
        ));
    }
    let volume_ml = positive("volume_ml", &input.volume_ml)?;
    if volume_ml > 100.0 {
        return Err(bad("volume_ml", "must be at most 100 mL"));
    }
    let volume =
        Millilitres::new(volume_ml).map_err(|_| bad("volume_ml", "must be more than zero"))?;
    let vials: i64 = input
        .vials
        .trim()
        .parse()
        .map_err(|_| bad("vials", "must be a whole number"))?;
    if !(1..=200).contains(&vials) {
        return Err(bad("vials", "must be from 1 to 200"));
    }
    let receipt = NewReceipt {
        drug,
        ndc,
        lot,
        expiry,
        concentration,
        volume,
        vials: vials as u32,
        supplier: required("supplier", &input.supplier, 200)?.to_owned(),
        note: optional_note(&input.note)?,
    };
    let ids = state
        .store
        .stamped(&audit)
        .receive_vials(&receipt, page.session.user.id, page.now)
        .await?;
    let first = ids.first().copied().unwrap_or_default();
    done(Redirect::to("/staff/register?done=receipt#on-hand"), first)
}

fn done(redirect: Redirect, record: i64) -> Result<Response, AppError> {
    let mut response = redirect.into_response();
    response
        .extensions_mut()
        .insert(AuditedRecord(record.to_string()));
    Ok(response)
}

/// The vial named by the path, or 404.
async fn load_vial(state: &AppState, id: &str) -> Result<VialRecord, AppError> {
    let id = parse_id(id)?;
    state.store.vial(id).await?.ok_or(AppError::NotFound)
}

fn amount_of(text: &str, unit: &str, concentration: MgPerMl) -> Result<DrugAmount, AppError> {
    let unit = AmountUnit::parse(unit).ok_or_else(|| bad("unit", "must be mg or mL"))?;
    parse_amount(text, unit, concentration).map_err(|rule| bad("amount", words::rule(rule)))
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct DrawInput {
    /// `PATIENT:SESSION` from the session list; empty when no session is
    /// recorded, and then the patient's MRN names who the draw is for.
    session: String,
    mrn: String,
    amount: String,
    unit: String,
    note: String,
}

/// `POST /staff/register/vials/{id}/draws`.
async fn draw_inner(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(input): Form<DrawInput>,
) -> Result<Response, AppError> {
    let vial = load_vial(&state, &id).await?;
    // An expired vial is not given to a patient: it is wasted from the vial.
    if vial.expiry < page.today() {
        return Err(bad(
            "vial",
            format!(
                "expired on {}; record its content as a waste from the vial instead",
                vial.expiry
            ),
        ));
    }
    let (patient, session) = match input.session.trim() {
        "" => {
            let mrn = input.mrn.trim();
            if mrn.is_empty() {
                return Err(bad(
                    "session",
                    "choose the infusion session, or give the patient's MRN when no session is recorded",
                ));
            }
            let (patient, _) = state
                .store
                .register_patient_by_mrn(mrn)
                .await?
                .ok_or_else(|| bad("mrn", "is not a patient of the clinic"))?;
            (patient, None)
        }
        text => {
            // A session's draw is its infusion's ketamine; a controlled
            // rescue drug is drawn on the session's page with the rescue
            // drug's entry.
            if let Err(wrong) = check_vial_drug(RegisterDrug::Ketamine, vial.drug) {
                return Err(bad(
                    "vial",
                    format!(
                        "is a vial of {}; an infusion session's draw here is of {}. Record a \
                         rescue dose of {} on the session's page",
                        words::drug(wrong.vial).to_lowercase(),
                        words::drug(wrong.wanted).to_lowercase(),
                        words::drug(wrong.vial).to_lowercase()
                    ),
                ));
            }
            text.split_once(':')
                .and_then(|(p, s)| Some((p.parse::<i64>().ok()?, Some(s.parse::<i64>().ok()?))))
                .ok_or_else(|| bad("session", "choose the infusion session from the list"))?
        }
    };
    let amount = amount_of(&input.amount, &input.unit, vial.concentration)?;
    let entry = state
        .store
        .stamped(&audit)
        .record_draw(
            &NewDraw {
                vial_id: vial.id,
                amount,
                patient_id: patient,
                session_id: session,
                note: optional_note(&input.note)?,
            },
            page.session.user.id,
            page.now,
        )
        .await?;
    done(
        Redirect::to(&format!(
            "/staff/register/vials/{}?done=draw#ledger",
            vial.id
        )),
        entry,
    )
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct AdministrationInput {
    draw: String,
    amount: String,
    unit: String,
    note: String,
}

/// `POST /staff/register/vials/{id}/administrations`: what was given of a
/// draw, from the session record.
async fn administration_inner(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(input): Form<AdministrationInput>,
) -> Result<Response, AppError> {
    let vial = load_vial(&state, &id).await?;
    let draw = input
        .draw
        .trim()
        .parse::<i64>()
        .map_err(|_| bad("draw", "choose the draw the dose was given from"))?;
    let amount = amount_of(&input.amount, &input.unit, vial.concentration)?;
    let entry = state
        .store
        .stamped(&audit)
        .record_administration(
            vial.id,
            draw,
            amount,
            &optional_note(&input.note)?,
            page.session.user.id,
            page.now,
        )
        .await?;
    done(
        Redirect::to(&format!(
            "/staff/register/vials/{}?done=administration#ledger",
            vial.id
        )),
        entry,
    )
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct WasteInput {
    /// The draw whose remainder is wasted; empty: from the vial itself.
    draw: String,
    amount: String,
    unit: String,
    /// The witness's staff user id.
    witness: String,
    witness_password: String,
    note: String,
}

/// `POST /staff/register/vials/{id}/waste`: witnessed by a second licensed
/// person who confirms with their password, when the setting asks it.
async fn waste_inner(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    client: ClientAddress,
    Path(id): Path<String>,
    Form(input): Form<WasteInput>,
) -> Result<Response, AppError> {
    let vial = load_vial(&state, &id).await?;
    let draw = match input.draw.trim() {
        "" => None,
        text => Some(
            text.parse::<i64>()
                .map_err(|_| bad("draw", "choose a draw or the vial itself"))?,
        ),
    };
    let amount = amount_of(&input.amount, &input.unit, vial.concentration)?;
    let note = optional_note(&input.note)?;
    if draw.is_none() && note.is_empty() {
        return Err(bad(
            "note",
            "is required for a waste from the vial: say why (broken, contaminated, expired)",
        ));
    }
    let policy = state.store.register_settings().await?.policy;
    let witness_user = witness(&state, &page, client, policy, &input, vial.id).await?;
    let witness = witness_user.as_ref().map(|u| u.id);
    let entry = state
        .store
        .stamped(&audit)
        .record_waste(
            &NewWaste {
                vial_id: vial.id,
                draw_id: draw,
                amount,
                witness_id: witness,
                note,
            },
            page.session.user.id,
            page.now,
        )
        .await?;
    // The witness's confirmation is their own act in the audit trail, after
    // the waste it confirms is stored.
    if let Some(user) = &witness_user {
        audit_witness(&state, user, client, vial.id, page.now, Outcome::Success).await?;
    }
    let what = if witness.is_some() {
        "waste"
    } else {
        "waste-unwitnessed"
    };
    done(
        Redirect::to(&format!(
            "/staff/register/vials/{}?done={what}#ledger",
            vial.id
        )),
        entry,
    )
}

/// The waste's witness, checked: a staff member other than the recorder,
/// licensed and active, whose password matches. `None` when none is given
/// and the policy does not ask one.
async fn witness(
    state: &AppState,
    page: &StaffPage,
    client: ClientAddress,
    policy: WastePolicy,
    input: &WasteInput,
    vial_id: i64,
) -> Result<Option<StaffUser>, AppError> {
    let me = &page.session.user;
    let recorder = StaffMember {
        user_id: me.id,
        licensed: licensed(me.role),
        active: me.active,
    };
    let chosen = match input.witness.trim() {
        "" => None,
        text => {
            let id: i64 = text
                .parse()
                .map_err(|_| bad("witness", "choose the witness from the list"))?;
            let user = state
                .store
                .staff_users()
                .await?
                .into_iter()
                .find(|u| u.id == id)
                .ok_or_else(|| bad("witness", "is not a member of staff"))?;
            Some(user)
        }
    };
    let candidate = chosen.as_ref().map(|u| StaffMember {
        user_id: u.id,
        licensed: licensed(u.role),
        active: u.active,
    });
    check_witness(policy, recorder, candidate)
        .map_err(|refusal| bad("witness", words::witness_refusal(refusal)))?;
    let Some(user) = chosen else {
        return Ok(None);
    };
    if input.witness_password.is_empty() {
        return Err(bad(
            "witness_password",
            "is required: the witness confirms with their own password",
        ));
    }
    // The witness's password is a sign-in: the same back-off per account
    // and address, the same bounded argon2 workers, each failure recorded.
    let now = page.now;
    let source = client.limit_key_text();
    let window = signed(state.config.lockout_window);
    let failures = state
        .store
        .login_failures_since(&user.email, &source, now - window)
        .await?;
    if sign_in_wait(&failures, &state.config, now).is_some() {
        return Err(bad(
            "witness_password",
            "too many failed attempts for this account from this address; try again later",
        ));
    }
    let hash = state
        .store
        .staff_user_for_sign_in(&user.email)
        .await?
        .map(|(_, hash)| hash);
    let matches = state
        .passwords
        .verify(input.witness_password.clone(), hash)
        .await
        .map_err(|_| {
            AppError::Unavailable("the server is busy checking passwords; try again in a moment")
        })?;
    if !matches {
        state
            .store
            .record_login_failure(&user.email, &source, now, now - window)
            .await?;
        audit_witness(state, &user, client, vial_id, now, Outcome::Denied).await?;
        return Err(bad("witness_password", "is not the witness's password"));
    }
    Ok(Some(user))
}

/// An audit entry whose actor is the witness: their confirmation of a
/// waste (success, after the waste is stored) or a wrong password (denied).
async fn audit_witness(
    state: &AppState,
    witness: &StaffUser,
    client: ClientAddress,
    vial_id: i64,
    at: jiff::Timestamp,
    outcome: Outcome,
) -> Result<(), AppError> {
    state
        .store
        .append_audit(&AuditEntry {
            at,
            actor: witness.email.clone(),
            actor_role: witness.role.as_str().to_owned(),
            action: "witness".to_owned(),
            resource_type: "DrugRegister".to_owned(),
            resource_id: vial_id.to_string(),
            source_address: client.to_string(),
            outcome,
        })
        .await?;
    Ok(())
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct CorrectionInput {
    corrects: String,
    /// `add` or `remove`.
    direction: String,
    amount: String,
    unit: String,
    note: String,
}

/// `POST /staff/register/vials/{id}/corrections`: a new entry naming the one
/// it corrects; nothing is edited.
async fn correction_inner(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(input): Form<CorrectionInput>,
) -> Result<Response, AppError> {
    let vial = load_vial(&state, &id).await?;
    let corrects = input
        .corrects
        .trim()
        .parse::<i64>()
        .map_err(|_| bad("corrects", "give the number of the entry corrected"))?;
    let amount = amount_of(&input.amount, &input.unit, vial.concentration)?;
    let change = match input.direction.as_str() {
        "add" => BalanceChange::Add(amount),
        "remove" => BalanceChange::Remove(amount),
        _ => return Err(bad("direction", "must add to or remove from the balance")),
    };
    let note = optional_note(&input.note)?;
    if note.is_empty() {
        return Err(bad("note", "is required: say what was wrong"));
    }
    let entry = state
        .store
        .stamped(&audit)
        .record_correction(
            vial.id,
            corrects,
            change,
            &note,
            page.session.user.id,
            page.now,
        )
        .await?;
    done(
        Redirect::to(&format!(
            "/staff/register/vials/{}?done=correction#ledger",
            vial.id
        )),
        entry,
    )
}

/// `POST /staff/register/counts`: `kind`, `business`, `note`, and for each
/// vial on hand `vial_{id}` (mL found) — a full count.
async fn count_inner(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Form(input): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let field = |name: &str| {
        input
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let kind = CountKind::parse(field("kind")).ok_or_else(|| {
        bad(
            "kind",
            "must be an end-of-day count or the biennial inventory",
        )
    })?;
    let business = BusinessTime::parse(field("business"))
        .ok_or_else(|| bad("business", "must be the opening or the close of business"))?;
    let note = optional_note(field("note"))?;
    let mut counts = Vec::new();
    for (name, value) in &input {
        let Some(id) = name.strip_prefix("vial_") else {
            continue;
        };
        let id: i64 = id
            .parse()
            .map_err(|_| bad("vial", "is not a vial of the register"))?;
        let vial = state
            .store
            .vial(id)
            .await?
            .ok_or_else(|| bad("vial", format!("{id} is not a vial of the register")))?;
        let ml: f64 = value.trim().parse().map_err(|_| {
            bad(
                "count",
                format!("vial {id}: must be the mL found, a number"),
            )
        })?;
        if !ml.is_finite() || ml < 0.0 {
            return Err(bad("count", format!("vial {id}: must not be negative")));
        }
        if ml > vial.volume_ml {
            return Err(bad(
                "count",
                format!(
                    "vial {id}: is more than the vial's {}",
                    words::ml(vial.volume_ml)
                ),
            ));
        }
        let found = Millilitres::new(ml)
            .ok()
            .and_then(|ml| DrugAmount::from_ml(ml, vial.concentration).ok())
            .unwrap_or(DrugAmount::ZERO);
        counts.push((id, found));
    }
    let count = state
        .store
        .stamped(&audit)
        .record_count(
            kind,
            business,
            &counts,
            &note,
            page.session.user.id,
            page.now,
        )
        .await?;
    done(Redirect::to("/staff/register?done=count#counts"), count)
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ResolveInput {
    note: String,
}

/// `POST /staff/register/discrepancies/{id}/resolve`: the path id is the
/// count entry's.
async fn resolve_inner(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(input): Form<ResolveInput>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let note = optional_note(&input.note)?;
    if note.is_empty() {
        return Err(bad("note", "is required: say what was found and done"));
    }
    state
        .store
        .stamped(&audit)
        .resolve_discrepancy(id, &note, page.session.user.id, page.now)
        .await?;
    done(
        Redirect::to("/staff/register?done=resolved#discrepancies"),
        id,
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SettingsInput {
    waste_witness_required: String,
}

/// `POST /staff/register/settings`: whether a waste needs a witness
/// (ManageClinicSettings).
async fn save_settings_inner(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Form(input): Form<SettingsInput>,
) -> Result<Response, AppError> {
    let witness_required = match input.waste_witness_required.as_str() {
        "yes" => true,
        "no" => false,
        _ => return Err(bad("waste_witness_required", "must be yes or no")),
    };
    state
        .store
        .stamped(&audit)
        .save_register_settings(
            WastePolicy { witness_required },
            &page.session.user.email,
            page.now,
        )
        .await?;
    let mut response = Redirect::to("/staff/register?done=settings#settings").into_response();
    response
        .extensions_mut()
        .insert(AuditedRecord("register-settings".to_owned()));
    Ok(response)
}

/// `GET /staff/register/export.csv`: every vial and entry, for an inspection
/// (codes allowed: this is a file for an inspector's tools).
pub async fn export(State(state): State<AppState>, page: StaffPage) -> Result<Response, AppError> {
    let vials = state.store.all_vials().await?;
    let entries = state.store.register_entries().await?;
    let mut csv = String::from(
        "entry,at,kind,vial,drug,schedule,ndc,lot,expiry,concentration_mg_per_ml,vial_ml,supplier,change_mg,amount_mg,amount_ml,balance_mg,balance_ml,patient_id,patient,session_id,draw_entry,witness,recorded_by,count_id,corrects_entry,note\r\n",
    );
    for e in &entries {
        let Some(v) = vials.iter().find(|v| v.id == e.vial_id) else {
            continue;
        };
        let c = v.concentration;
        let opt = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        let fields = [
            e.id.to_string(),
            e.at.to_string(),
            e.kind.as_str().to_owned(),
            v.id.to_string(),
            v.drug.code().to_owned(),
            v.drug.schedule().roman().to_owned(),
            v.ndc.clone(),
            v.lot.clone(),
            v.expiry.to_string(),
            c.value().to_string(),
            v.volume_ml.to_string(),
            v.supplier.clone(),
            (e.change_ug as f64 / 1000.0).to_string(),
            e.amount.mg().to_string(),
            format!("{:.3}", e.amount.ml(c)),
            e.balance.mg().to_string(),
            format!("{:.3}", e.balance.ml(c)),
            opt(e.patient_id),
            e.patient_name.clone().unwrap_or_default(),
            opt(e.session_id),
            opt(e.draw_id),
            e.witness.clone().unwrap_or_default(),
            e.recorded_by.clone(),
            opt(e.count_id),
            opt(e.corrects_id),
            e.note.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        csv.push_str(&line.join(","));
        csv.push_str("\r\n");
    }
    let name = format!("controlled-substance-register-{}.csv", page.today());
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        csv,
    )
        .into_response())
}

/// One CSV field (RFC 4180): quoted when it holds a comma, quote or line
/// break; a leading `=`, `+`, `-` or `@` is prefixed with `'` so that a
/// spreadsheet does not run it as a formula (OWASP, CSV injection).
pub(crate) fn csv_field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '@'])
        || (text.starts_with('-') && text.parse::<f64>().is_err())
    {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// A form refused by a rule (422) or by the register's state (409): its
/// status and the field and rule in words; `None` for any other error.
fn refusal(err: &AppError) -> Option<(StatusCode, String)> {
    let (status, field, message) = match err {
        AppError::BadRequest { field, message } => {
            (StatusCode::UNPROCESSABLE_ENTITY, *field, message.clone())
        }
        AppError::Conflict { field, message } => (StatusCode::CONFLICT, *field, message.clone()),
        AppError::Store(store) => {
            let (field, message) = crate::error::conflict(store)?;
            (StatusCode::CONFLICT, field, message)
        }
        _ => return None,
    };
    Some((
        status,
        format!(
            "{}: {}. Nothing was recorded.",
            crate::words::public::field_label(field),
            message.trim_end_matches('.')
        ),
    ))
}

/// The vial's page again with the refusal at its top, or the error as is.
async fn on_vial(
    state: &AppState,
    page: &StaffPage,
    id: &str,
    kept: Kept,
    result: Result<Response, AppError>,
) -> Result<Response, AppError> {
    match result {
        Err(err) => match refusal(&err) {
            Some((status, message)) => {
                show_vial(state, page, id, "", (message, kept), status).await
            }
            None => Err(err),
        },
        ok => ok,
    }
}

/// The register's page again with the refusal at its top, or the error.
async fn on_register(
    state: &AppState,
    page: &StaffPage,
    kept: Kept,
    result: Result<Response, AppError>,
) -> Result<Response, AppError> {
    match result {
        Err(err) => match refusal(&err) {
            Some((status, message)) => {
                show_register(state, page, "", (message, kept), status).await
            }
            None => Err(err),
        },
        ok => ok,
    }
}

/// `POST /staff/register/receipts`.
pub async fn receive(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Form(input): Form<ReceiptInput>,
) -> Result<Response, AppError> {
    let kept = Kept::new(
        "receive",
        vec![
            ("drug", input.drug.clone()),
            ("ndc", input.ndc.clone()),
            ("lot", input.lot.clone()),
            ("expiry", input.expiry.clone()),
            ("concentration", input.concentration.clone()),
            ("volume_ml", input.volume_ml.clone()),
            ("vials", input.vials.clone()),
            ("supplier", input.supplier.clone()),
            ("note", input.note.clone()),
        ],
    );
    let result = receive_inner(
        State(state.clone()),
        Extension(audit),
        page.clone(),
        Form(input),
    )
    .await;
    on_register(&state, &page, kept, result).await
}

/// `POST /staff/register/vials/{id}/draws`.
pub async fn draw(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(input): Form<DrawInput>,
) -> Result<Response, AppError> {
    let kept = Kept::new(
        "draw",
        vec![
            ("session", input.session.clone()),
            ("mrn", input.mrn.clone()),
            ("amount", input.amount.clone()),
            ("unit", input.unit.clone()),
            ("note", input.note.clone()),
        ],
    );
    let result = draw_inner(
        State(state.clone()),
        Extension(audit),
        page.clone(),
        Path(id.clone()),
        Form(input.clone()),
    )
    .await;
    on_vial(&state, &page, &id, kept, result).await
}

/// `POST /staff/register/vials/{id}/administrations`.
pub async fn administration(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(input): Form<AdministrationInput>,
) -> Result<Response, AppError> {
    let kept = Kept::new(
        format!("given-{}", input.draw.trim()),
        vec![
            ("amount", input.amount.clone()),
            ("note", input.note.clone()),
        ],
    );
    let result = administration_inner(
        State(state.clone()),
        Extension(audit),
        page.clone(),
        Path(id.clone()),
        Form(input.clone()),
    )
    .await;
    on_vial(&state, &page, &id, kept, result).await
}

/// `POST /staff/register/vials/{id}/waste`.
pub async fn waste(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    client: ClientAddress,
    Path(id): Path<String>,
    Form(input): Form<WasteInput>,
) -> Result<Response, AppError> {
    let kept = Kept::new(
        match input.draw.trim() {
            "" => "vial-waste".to_owned(),
            draw => format!("waste-{draw}"),
        },
        vec![
            ("amount", input.amount.clone()),
            ("witness", input.witness.clone()),
            ("note", input.note.clone()),
        ],
    );
    let result = waste_inner(
        State(state.clone()),
        Extension(audit),
        page.clone(),
        client,
        Path(id.clone()),
        Form(input.clone()),
    )
    .await;
    on_vial(&state, &page, &id, kept, result).await
}

/// `POST /staff/register/vials/{id}/corrections`.
pub async fn correction(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(input): Form<CorrectionInput>,
) -> Result<Response, AppError> {
    let kept = Kept::new(
        "correction",
        vec![
            ("corrects", input.corrects.clone()),
            ("direction", input.direction.clone()),
            ("amount", input.amount.clone()),
            ("note", input.note.clone()),
        ],
    );
    let result = correction_inner(
        State(state.clone()),
        Extension(audit),
        page.clone(),
        Path(id.clone()),
        Form(input.clone()),
    )
    .await;
    on_vial(&state, &page, &id, kept, result).await
}

/// `POST /staff/register/counts`.
pub async fn count(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Form(input): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let result = count_inner(
        State(state.clone()),
        Extension(audit),
        page.clone(),
        Form(input),
    )
    .await;
    match result {
        Err(err) => match refusal(&err) {
            Some((status, message)) => show_count(&state, &page, message, status).await,
            None => Err(err),
        },
        ok => ok,
    }
}

/// `POST /staff/register/discrepancies/{id}/resolve`.
pub async fn resolve(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(input): Form<ResolveInput>,
) -> Result<Response, AppError> {
    let kept = Kept::new(
        format!("resolve-{}", id.trim()),
        vec![("note", input.note.clone())],
    );
    let result = resolve_inner(
        State(state.clone()),
        Extension(audit),
        page.clone(),
        Path(id),
        Form(input),
    )
    .await;
    on_register(&state, &page, kept, result).await
}

/// `POST /staff/register/settings`.
pub async fn save_settings(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Form(input): Form<SettingsInput>,
) -> Result<Response, AppError> {
    let result = save_settings_inner(
        State(state.clone()),
        Extension(audit),
        page.clone(),
        Form(input),
    )
    .await;
    on_register(&state, &page, Kept::default(), result).await
}

impl VialPage {
    fn kind_code(&self, kind: &EntryKind) -> &'static str {
        kind.as_str()
    }
}
