//! The controlled-substance register (SPEC §1 step 5; shared/clinical/dosing.md,
//! "Controlled substance (US)"): vials received, draws for a session,
//! administrations, wastes, counts, corrections and the resolution of
//! discrepancies, each an entry with its vial's running balance after it.
//!
//! Append-only: this module has no UPDATE or DELETE of a register table, and
//! the migration's triggers refuse them on both engines. A correction is a
//! new entry naming the entry it corrects.
//!
//! A balance never goes below zero: every write that changes a vial locks it
//! first (SQLite: `BEGIN IMMEDIATE`, the database's write lock; PostgreSQL:
//! `SELECT … FOR UPDATE` on the vial's row), reads its balance, applies
//! `respite_clinical::register::apply`, and inserts, in one transaction with
//! the audit entry. Two draws at once are serialised on the vial; the second
//! sees the first's balance. The column's `CHECK (balance_ug >= 0)` is the
//! last guard.

use jiff::civil::Date;
use jiff::Timestamp;
use respite_clinical::dosing::units::{MgPerMl, Millilitres};
use respite_clinical::register::{
    apply, check_vial_drug, discrepancy, unaccounted, BalanceChange, DrugAmount, RegisterDrug,
    RegisterRule, WastePolicy,
};
use respite_clinical::session::{check_rescue_draw, RescueDrug, RescueRefusal, RescueVial};

use crate::{from_millis, to_millis, Engine, Store, StoreError, StoreResult};

/// What an entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    Receipt,
    Draw,
    Administration,
    Waste,
    Count,
    Correction,
    Resolution,
}

impl EntryKind {
    pub const ALL: [EntryKind; 7] = [
        EntryKind::Receipt,
        EntryKind::Draw,
        EntryKind::Administration,
        EntryKind::Waste,
        EntryKind::Count,
        EntryKind::Correction,
        EntryKind::Resolution,
    ];

    /// The stored code (also the export's).
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Receipt => "receipt",
            EntryKind::Draw => "draw",
            EntryKind::Administration => "administration",
            EntryKind::Waste => "waste",
            EntryKind::Count => "count",
            EntryKind::Correction => "correction",
            EntryKind::Resolution => "resolution",
        }
    }

    fn parse(code: &str) -> StoreResult<EntryKind> {
        EntryKind::ALL
            .into_iter()
            .find(|k| k.as_str() == code)
            .ok_or_else(|| StoreError::Corrupt(format!("register entry kind `{code}`")))
    }
}

/// Which count: the end of a day's work, or the biennial inventory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountKind {
    EndOfDay,
    /// 21 CFR 1304.11(c): a full count at least every two years.
    Biennial,
}

impl CountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CountKind::EndOfDay => "end-of-day",
            CountKind::Biennial => "biennial",
        }
    }

    pub fn parse(code: &str) -> Option<CountKind> {
        match code {
            "end-of-day" => Some(CountKind::EndOfDay),
            "biennial" => Some(CountKind::Biennial),
            _ => None,
        }
    }
}

/// When a count was taken: 21 CFR 1304.11(a) asks the inventory to say
/// whether it was taken at the opening or the close of business.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusinessTime {
    Opening,
    Close,
}

impl BusinessTime {
    pub fn as_str(self) -> &'static str {
        match self {
            BusinessTime::Opening => "opening",
            BusinessTime::Close => "close",
        }
    }

    pub fn parse(code: &str) -> Option<BusinessTime> {
        match code {
            "opening" => Some(BusinessTime::Opening),
            "close" => Some(BusinessTime::Close),
            _ => None,
        }
    }
}

/// A delivery of identical vials.
#[derive(Clone, Debug)]
pub struct NewReceipt {
    /// Which drug the vials hold (0022: one drug a vial).
    pub drug: RegisterDrug,
    pub ndc: String,
    pub lot: String,
    pub expiry: Date,
    pub concentration: MgPerMl,
    pub volume: Millilitres,
    pub vials: u32,
    pub supplier: String,
    pub note: String,
}

/// A draw from a vial for a patient's infusion session.
#[derive(Clone, Debug)]
pub struct NewDraw {
    pub vial_id: i64,
    pub amount: DrugAmount,
    pub patient_id: i64,
    /// The session, where one is recorded (`infusion_sessions`).
    pub session_id: Option<i64>,
    pub note: String,
}

/// A waste: of what is left of a draw, or (no draw) from the vial itself.
#[derive(Clone, Debug)]
pub struct NewWaste {
    pub vial_id: i64,
    pub draw_id: Option<i64>,
    pub amount: DrugAmount,
    /// The witness, checked by the caller (`check_witness`).
    pub witness_id: Option<i64>,
    pub note: String,
}

/// A vial with its label and running balance.
#[derive(Clone, Debug)]
pub struct VialRecord {
    pub id: i64,
    pub drug: RegisterDrug,
    pub ndc: String,
    pub lot: String,
    pub expiry: Date,
    pub concentration: MgPerMl,
    pub volume_ml: f64,
    pub content: DrugAmount,
    pub supplier: String,
    pub received_at: Timestamp,
    pub balance: DrugAmount,
}

/// One entry of the register, with the names of the people in it.
#[derive(Clone, Debug)]
pub struct EntryRecord {
    pub id: i64,
    pub vial_id: i64,
    pub kind: EntryKind,
    pub at: Timestamp,
    pub recorded_by: String,
    /// The signed change of the vial's balance, in micrograms.
    pub change_ug: i64,
    pub amount: DrugAmount,
    pub balance: DrugAmount,
    pub patient_id: Option<i64>,
    pub patient_name: Option<String>,
    pub session_id: Option<i64>,
    pub draw_id: Option<i64>,
    pub witness: Option<String>,
    pub count_id: Option<i64>,
    pub corrects_id: Option<i64>,
    pub note: String,
}

/// A draw not yet fully accounted for by administration and waste.
#[derive(Clone, Debug)]
pub struct OpenDraw {
    pub entry: EntryRecord,
    pub unaccounted: DrugAmount,
    /// The session's dose (`infusion_sessions.total_mg`), when one is named.
    pub session_dose: Option<DrugAmount>,
}

/// A count whose amount differs from the balance, and its resolution.
#[derive(Clone, Debug)]
pub struct DiscrepancyRecord {
    pub count_entry: EntryRecord,
    /// The running balance the count was held against.
    pub expected: DrugAmount,
    pub vial: VialRecord,
    pub resolution: Option<EntryRecord>,
}

/// A dated count (end of day or biennial inventory).
#[derive(Clone, Debug)]
pub struct CountRecord {
    pub id: i64,
    pub kind: CountKind,
    pub business: BusinessTime,
    pub taken_at: Timestamp,
    pub taken_by: String,
    pub note: String,
    pub vials: i64,
    /// What was found, per drug (mg of different drugs are not added).
    pub totals: Vec<(RegisterDrug, DrugAmount)>,
    pub discrepancies: i64,
}

/// An infusion session a draw can be for.
#[derive(Clone, Debug)]
pub struct RegisterSession {
    pub id: i64,
    pub patient_id: i64,
    pub patient_name: String,
    pub started_at: Timestamp,
    pub dose: DrugAmount,
}

/// The register's setting, with who saved it and when (None: the default).
#[derive(Clone, Debug)]
pub struct RegisterSettings {
    pub policy: WastePolicy,
    pub saved: Option<(String, Timestamp)>,
}

#[derive(sqlx::FromRow)]
struct CountRow {
    id: i64,
    kind: String,
    business: String,
    taken_at: i64,
    taken_by: String,
    note: String,
    vials: i64,
    discrepancies: i64,
}

#[derive(sqlx::FromRow)]
struct VialRow {
    id: i64,
    drug: String,
    ndc: String,
    lot: String,
    expiry: String,
    concentration_mg_per_ml: f64,
    volume_ml: f64,
    content_ug: i64,
    supplier: String,
    received_at: i64,
    balance_ug: i64,
}

impl VialRow {
    fn parse(self) -> StoreResult<VialRecord> {
        Ok(VialRecord {
            id: self.id,
            drug: RegisterDrug::parse(&self.drug)
                .ok_or_else(|| StoreError::Corrupt(format!("vial drug `{}`", self.drug)))?,
            expiry: self
                .expiry
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("vial expiry `{}`", self.expiry)))?,
            concentration: MgPerMl::new(self.concentration_mg_per_ml)
                .map_err(|err| StoreError::Corrupt(err.to_string()))?,
            volume_ml: self.volume_ml,
            content: amount(self.content_ug)?,
            supplier: self.supplier,
            received_at: from_millis(self.received_at)?,
            balance: amount(self.balance_ug)?,
            ndc: self.ndc,
            lot: self.lot,
        })
    }
}

const VIAL_COLUMNS: &str = "v.id, v.drug, v.ndc, v.lot, v.expiry, v.concentration_mg_per_ml, v.volume_ml, \
     v.content_ug, v.supplier, v.received_at, \
     (SELECT e.balance_ug FROM register_entries e WHERE e.vial_id = v.id ORDER BY e.id DESC LIMIT 1) \
     AS balance_ug";

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    vial_id: i64,
    kind: String,
    at: i64,
    recorded_by: String,
    change_ug: i64,
    amount_ug: i64,
    balance_ug: i64,
    patient_id: Option<i64>,
    patient_name: Option<String>,
    session_id: Option<i64>,
    draw_id: Option<i64>,
    witness: Option<String>,
    count_id: Option<i64>,
    corrects_id: Option<i64>,
    note: String,
}

impl EntryRow {
    fn parse(self) -> StoreResult<EntryRecord> {
        Ok(EntryRecord {
            id: self.id,
            vial_id: self.vial_id,
            kind: EntryKind::parse(&self.kind)?,
            at: from_millis(self.at)?,
            recorded_by: self.recorded_by,
            change_ug: self.change_ug,
            amount: amount(self.amount_ug)?,
            balance: amount(self.balance_ug)?,
            patient_id: self.patient_id,
            patient_name: self.patient_name,
            session_id: self.session_id,
            draw_id: self.draw_id,
            witness: self.witness,
            count_id: self.count_id,
            corrects_id: self.corrects_id,
            note: self.note,
        })
    }
}

const ENTRY_SELECT: &str = "SELECT e.id, e.vial_id, e.kind, e.at, r.display_name AS recorded_by, \
     e.change_ug, e.amount_ug, e.balance_ug, e.patient_id, \
     CASE WHEN p.id IS NULL THEN NULL ELSE p.family_name || ', ' || p.given_name END AS patient_name, \
     e.session_id, e.draw_id, w.display_name AS witness, e.count_id, e.corrects_id, e.note \
     FROM register_entries e \
     JOIN staff_users r ON r.id = e.recorded_by \
     LEFT JOIN staff_users w ON w.id = e.witness_id \
     LEFT JOIN patients p ON p.id = e.patient_id";

fn amount(micrograms: i64) -> StoreResult<DrugAmount> {
    DrugAmount::from_micrograms(micrograms)
        .map_err(|_| StoreError::Corrupt(format!("register amount {micrograms}")))
}

/// A register rule broken by the state of the register (409).
fn refused(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::RegisterRefused {
        field,
        message: message.into(),
    }
}

/// One entry to insert; the balance is computed by [`append_entry`].
pub(crate) struct Entry {
    pub(crate) vial_id: i64,
    pub(crate) kind: EntryKind,
    pub(crate) at: Timestamp,
    pub(crate) recorded_by: i64,
    pub(crate) change: BalanceChange,
    pub(crate) amount: DrugAmount,
    pub(crate) patient_id: Option<i64>,
    pub(crate) session_id: Option<i64>,
    pub(crate) draw_id: Option<i64>,
    pub(crate) witness_id: Option<i64>,
    pub(crate) count_id: Option<i64>,
    pub(crate) corrects_id: Option<i64>,
    pub(crate) note: String,
}

impl Entry {
    pub(crate) fn new(vial_id: i64, kind: EntryKind, at: Timestamp, recorded_by: i64) -> Entry {
        Entry {
            vial_id,
            kind,
            at,
            recorded_by,
            change: BalanceChange::None,
            amount: DrugAmount::ZERO,
            patient_id: None,
            session_id: None,
            draw_id: None,
            witness_id: None,
            count_id: None,
            corrects_id: None,
            note: String::new(),
        }
    }
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

impl Store {
    /// The waste-witness setting (on until an administrator turns it off).
    pub async fn register_settings(&self) -> StoreResult<RegisterSettings> {
        let row: Option<(i64, i64, String)> = sqlx::query_as(
            "SELECT waste_witness_required, updated_at, updated_by FROM register_settings WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            None => RegisterSettings {
                policy: WastePolicy::default(),
                saved: None,
            },
            Some((required, at, by)) => RegisterSettings {
                policy: WastePolicy {
                    witness_required: required != 0,
                },
                saved: Some((by, from_millis(at)?)),
            },
        })
    }

    /// Saves the waste-witness setting, with the stamp's audit entry.
    pub async fn save_register_settings(
        &self,
        policy: WastePolicy,
        by: &str,
        at: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO register_settings (id, waste_witness_required, updated_at, updated_by) \
             VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET \
             waste_witness_required = excluded.waste_witness_required, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(i64::from(policy.witness_required))
        .bind(to_millis(at))
        .bind(by)
        .execute(&mut *tx)
        .await?;
        self.commit(tx, Some("register-settings")).await
    }

    /// Receives `receipt.vials` vials, each its own row with a receipt entry
    /// of its whole content; returns their ids.
    pub async fn receive_vials(
        &self,
        receipt: &NewReceipt,
        by: i64,
        at: Timestamp,
    ) -> StoreResult<Vec<i64>> {
        let content = DrugAmount::from_ml(receipt.volume, receipt.concentration)
            .map_err(|rule| refused("volume_ml", rule.to_string()))?;
        let mut tx = self.begin_write().await?;
        let ids = insert_receipt(&mut tx, receipt, content, by, at).await?;
        let first = ids.first().map(i64::to_string);
        self.commit(tx, first.as_deref()).await?;
        Ok(ids)
    }

    /// Draws from a vial for a patient (and their session, when one is
    /// recorded); refused when the vial holds less.
    pub async fn record_draw(&self, draw: &NewDraw, by: i64, at: Timestamp) -> StoreResult<i64> {
        let NewDraw {
            vial_id,
            amount,
            patient_id,
            session_id,
            ref note,
        } = *draw;
        let mut tx = self.lock_vial(vial_id).await?;
        if let Some(session_id) = session_id {
            // A session's draw is its infusion's ketamine; a controlled
            // rescue drug is drawn with the session's rescue-drug entry
            // (`sessions.rs`), from a vial of that drug.
            let drug = vial_drug(&mut tx, vial_id).await?;
            if let Err(wrong) = check_vial_drug(RegisterDrug::Ketamine, drug) {
                return Err(refused("vial", wrong_drug_words(wrong.wanted, wrong.vial)));
            }
            let owner: Option<(i64,)> =
                sqlx::query_as("SELECT patient_id FROM infusion_sessions WHERE id = $1")
                    .bind(session_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match owner {
                None => return Err(refused("session", "is not a recorded infusion session")),
                Some((owner,)) if owner != patient_id => {
                    return Err(refused("session", "is another patient's session"))
                }
                Some(_) => {}
            }
        }
        let known: Option<(i64,)> = sqlx::query_as("SELECT id FROM patients WHERE id = $1")
            .bind(patient_id)
            .fetch_optional(&mut *tx)
            .await?;
        if known.is_none() {
            return Err(refused("patient", "is not a patient of the clinic"));
        }
        let mut entry = Entry::new(vial_id, EntryKind::Draw, at, by);
        entry.change = BalanceChange::Remove(amount);
        entry.amount = amount;
        entry.patient_id = Some(patient_id);
        entry.session_id = session_id;
        entry.note = note.to_owned();
        let id = append_entry(&mut tx, entry).await?;
        self.commit(tx, Some(&id.to_string())).await?;
        Ok(id)
    }

    /// Records that `amount` of draw `draw_id` was given to its patient;
    /// refused beyond what is left of the draw.
    pub async fn record_administration(
        &self,
        vial_id: i64,
        draw_id: i64,
        amount: DrugAmount,
        note: &str,
        by: i64,
        at: Timestamp,
    ) -> StoreResult<i64> {
        let mut tx = self.lock_vial(vial_id).await?;
        let draw = open_draw_in(&mut tx, vial_id, draw_id).await?;
        if amount > draw.unaccounted {
            return Err(refused(
                "amount",
                format!("is more than is left of the draw ({})", draw.unaccounted),
            ));
        }
        let mut entry = Entry::new(vial_id, EntryKind::Administration, at, by);
        entry.amount = amount;
        entry.draw_id = Some(draw_id);
        entry.patient_id = draw.entry.patient_id;
        entry.session_id = draw.entry.session_id;
        entry.note = note.to_owned();
        let id = append_entry(&mut tx, entry).await?;
        self.commit(tx, Some(&id.to_string())).await?;
        Ok(id)
    }

    /// Records a waste: of what is left of a draw, or (without one) from
    /// the vial itself, which lowers its balance. The witness was checked by
    /// the caller against the clinic's setting.
    pub async fn record_waste(&self, waste: &NewWaste, by: i64, at: Timestamp) -> StoreResult<i64> {
        let NewWaste {
            vial_id,
            draw_id,
            amount,
            witness_id,
            ref note,
        } = *waste;
        let mut tx = self.lock_vial(vial_id).await?;
        let mut entry = Entry::new(vial_id, EntryKind::Waste, at, by);
        entry.amount = amount;
        entry.witness_id = witness_id;
        entry.note = note.to_owned();
        match draw_id {
            Some(draw_id) => {
                let draw = open_draw_in(&mut tx, vial_id, draw_id).await?;
                if amount > draw.unaccounted {
                    return Err(refused(
                        "amount",
                        format!("is more than is left of the draw ({})", draw.unaccounted),
                    ));
                }
                entry.draw_id = Some(draw_id);
                entry.patient_id = draw.entry.patient_id;
                entry.session_id = draw.entry.session_id;
            }
            None => entry.change = BalanceChange::Remove(amount),
        }
        let id = append_entry(&mut tx, entry).await?;
        self.commit(tx, Some(&id.to_string())).await?;
        Ok(id)
    }

    /// A correction of entry `corrects_id` of the same vial: a signed change
    /// of the balance, with the reason.
    pub async fn record_correction(
        &self,
        vial_id: i64,
        corrects_id: i64,
        change: BalanceChange,
        note: &str,
        by: i64,
        at: Timestamp,
    ) -> StoreResult<i64> {
        let mut tx = self.lock_vial(vial_id).await?;
        let corrected: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM register_entries WHERE id = $1 AND vial_id = $2")
                .bind(corrects_id)
                .bind(vial_id)
                .fetch_optional(&mut *tx)
                .await?;
        if corrected.is_none() {
            return Err(refused("corrects", "is not an entry of this vial"));
        }
        let mut entry = Entry::new(vial_id, EntryKind::Correction, at, by);
        entry.change = change;
        entry.amount = match change {
            BalanceChange::Add(a) | BalanceChange::Remove(a) => a,
            BalanceChange::None => DrugAmount::ZERO,
        };
        entry.corrects_id = Some(corrects_id);
        entry.note = note.to_owned();
        let id = append_entry(&mut tx, entry).await?;
        self.commit(tx, Some(&id.to_string())).await?;
        Ok(id)
    }

    /// A dated count of the vials in `counts` (vial, amount found); each a
    /// count entry held against the running balance at that moment. Every
    /// vial on hand must be counted (a full count); returns the count's id.
    pub async fn record_count(
        &self,
        kind: CountKind,
        business: BusinessTime,
        counts: &[(i64, DrugAmount)],
        note: &str,
        by: i64,
        at: Timestamp,
    ) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        if self.engine == Engine::Postgres {
            // Every vial counted is locked, in id order (a fixed order, so
            // two counts at once cannot deadlock).
            let mut ids: Vec<i64> = counts.iter().map(|(id, _)| *id).collect();
            ids.sort_unstable();
            for id in ids {
                sqlx::query("SELECT id FROM register_vials WHERE id = $1 FOR UPDATE")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let on_hand = on_hand_ids(&mut tx).await?;
        if let Some(missing) = on_hand
            .iter()
            .find(|id| !counts.iter().any(|(v, _)| v == *id))
        {
            return Err(refused(
                "count",
                format!("vial {missing} is on hand and was not counted; a count covers every vial"),
            ));
        }
        let count_id = insert_count(&mut tx, kind, business, note, by, at).await?;
        for (vial_id, counted) in counts {
            let mut entry = Entry::new(*vial_id, EntryKind::Count, at, by);
            entry.amount = *counted;
            entry.count_id = Some(count_id);
            append_entry(&mut tx, entry).await?;
        }
        self.commit(tx, Some(&count_id.to_string())).await?;
        Ok(count_id)
    }

    /// Resolves the discrepancy of count entry `count_entry_id` with a note:
    /// the balance becomes what was counted (a resolution entry naming the
    /// count). Refused when the count has no discrepancy or is resolved.
    pub async fn resolve_discrepancy(
        &self,
        count_entry_id: i64,
        note: &str,
        by: i64,
        at: Timestamp,
    ) -> StoreResult<i64> {
        let vial: Option<(i64,)> =
            sqlx::query_as("SELECT vial_id FROM register_entries WHERE id = $1 AND kind = 'count'")
                .bind(count_entry_id)
                .fetch_optional(&self.pool)
                .await?;
        let Some((vial_id,)) = vial else {
            return Err(StoreError::RegisterNotFound);
        };
        let mut tx = self.lock_vial(vial_id).await?;
        let found = discrepancy_of(&mut tx, count_entry_id).await?;
        let Some((expected, counted, resolved)) = found else {
            return Err(refused("discrepancy", "this count matches the register"));
        };
        if resolved {
            return Err(refused("discrepancy", "is resolved already"));
        }
        let balance = current_balance(&mut tx, vial_id).await?;
        // The balance moves by the difference the count found, from where it
        // stands now (entries may have followed the count).
        let difference = counted.micrograms() - expected.micrograms();
        let mut entry = Entry::new(vial_id, EntryKind::Resolution, at, by);
        entry.change = BalanceChange::from_signed_micrograms(difference);
        entry.amount = amount(difference.abs())?;
        entry.corrects_id = Some(count_entry_id);
        entry.note = note.to_owned();
        if apply(balance, entry.change).is_err() {
            return Err(refused(
                "discrepancy",
                "the vial holds less now than the count found missing; record a count again",
            ));
        }
        let id = append_entry(&mut tx, entry).await?;
        self.commit(tx, Some(&count_entry_id.to_string())).await?;
        Ok(id)
    }

    /// Vials that still hold drug, by expiry then id.
    pub async fn vials_on_hand(&self) -> StoreResult<Vec<VialRecord>> {
        let rows: Vec<VialRow> = sqlx::query_as(&format!(
            "SELECT * FROM (SELECT {VIAL_COLUMNS} FROM register_vials v) x \
             WHERE balance_ug > 0 ORDER BY expiry, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(VialRow::parse).collect()
    }

    /// How many vials were received and are empty now.
    pub async fn empty_vial_count(&self) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM (SELECT {VIAL_COLUMNS} FROM register_vials v) x WHERE balance_ug = 0"
        ))
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }

    pub async fn vial(&self, id: i64) -> StoreResult<Option<VialRecord>> {
        let row: Option<VialRow> = sqlx::query_as(&format!(
            "SELECT {VIAL_COLUMNS} FROM register_vials v WHERE v.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(VialRow::parse).transpose()
    }

    /// A vial's entries, oldest first.
    pub async fn vial_entries(&self, vial_id: i64) -> StoreResult<Vec<EntryRecord>> {
        let rows: Vec<EntryRow> = sqlx::query_as(&format!(
            "{ENTRY_SELECT} WHERE e.vial_id = $1 ORDER BY e.id"
        ))
        .bind(vial_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(EntryRow::parse).collect()
    }

    /// The entries naming an infusion session (its draws, administrations
    /// and wastes), oldest first: the session record shows them.
    pub async fn session_register_entries(&self, session_id: i64) -> StoreResult<Vec<EntryRecord>> {
        let rows: Vec<EntryRow> = sqlx::query_as(&format!(
            "{ENTRY_SELECT} WHERE e.session_id = $1 ORDER BY e.id"
        ))
        .bind(session_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(EntryRow::parse).collect()
    }

    /// Every entry of the register, oldest first (the export).
    pub async fn register_entries(&self) -> StoreResult<Vec<EntryRecord>> {
        let rows: Vec<EntryRow> = sqlx::query_as(&format!("{ENTRY_SELECT} ORDER BY e.id"))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(EntryRow::parse).collect()
    }

    /// Every vial ever received, by id (the export).
    pub async fn all_vials(&self) -> StoreResult<Vec<VialRecord>> {
        let rows: Vec<VialRow> = sqlx::query_as(&format!(
            "SELECT {VIAL_COLUMNS} FROM register_vials v ORDER BY v.id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(VialRow::parse).collect()
    }

    /// A vial's draws that administration and waste do not yet account for.
    pub async fn open_draws(&self, vial_id: i64) -> StoreResult<Vec<OpenDraw>> {
        let mut tx = self.pool.begin().await?;
        let draws: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM register_entries WHERE vial_id = $1 AND kind = 'draw' ORDER BY id",
        )
        .bind(vial_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut open = Vec::new();
        for (id,) in draws {
            let draw = open_draw_in(&mut tx, vial_id, id).await;
            match draw {
                Ok(draw) => open.push(draw),
                Err(StoreError::RegisterRefused { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        tx.commit().await?;
        Ok(open)
    }

    /// Counts whose amount differed from the balance: the open ones first,
    /// then the resolved, newest first; at most `limit`.
    pub async fn discrepancies(&self, limit: i64) -> StoreResult<Vec<DiscrepancyRecord>> {
        // A count entry's balance is the balance it was held against (a
        // count does not change it); a discrepancy is amount ≠ balance.
        let rows: Vec<EntryRow> = sqlx::query_as(&format!(
            "{ENTRY_SELECT} WHERE e.kind = 'count' AND e.amount_ug <> e.balance_ug \
             ORDER BY e.id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in rows {
            let count_entry = row.parse()?;
            let resolution: Option<EntryRow> = sqlx::query_as(&format!(
                "{ENTRY_SELECT} WHERE e.kind = 'resolution' AND e.corrects_id = $1"
            ))
            .bind(count_entry.id)
            .fetch_optional(&self.pool)
            .await?;
            let vial = self
                .vial(count_entry.vial_id)
                .await?
                .ok_or_else(|| StoreError::Corrupt("count of a missing vial".into()))?;
            out.push(DiscrepancyRecord {
                expected: count_entry.balance,
                count_entry,
                vial,
                resolution: resolution.map(EntryRow::parse).transpose()?,
            });
        }
        out.sort_by_key(|d| d.resolution.is_some());
        Ok(out)
    }

    /// When the latest count of `kind` was taken, if any.
    pub async fn last_count_at(&self, kind: CountKind) -> StoreResult<Option<Timestamp>> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT taken_at FROM register_counts WHERE kind = $1 ORDER BY taken_at DESC, id DESC LIMIT 1",
        )
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(at,)| from_millis(at)).transpose()
    }

    /// The latest counts, newest first, with their totals.
    pub async fn register_counts(&self, limit: i64) -> StoreResult<Vec<CountRecord>> {
        let rows: Vec<CountRow> = sqlx::query_as(
            "SELECT c.id, c.kind, c.business, c.taken_at, s.display_name AS taken_by, c.note, \
             CAST(COUNT(e.id) AS BIGINT) AS vials, \
             CAST(COALESCE(SUM(CASE WHEN e.amount_ug <> e.balance_ug THEN 1 ELSE 0 END), 0) AS BIGINT) \
             AS discrepancies \
             FROM register_counts c JOIN staff_users s ON s.id = c.taken_by \
             LEFT JOIN register_entries e ON e.count_id = c.id \
             GROUP BY c.id, c.kind, c.business, c.taken_at, s.display_name, c.note \
             ORDER BY c.id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut counts = Vec::with_capacity(rows.len());
        for row in rows {
            let by_drug: Vec<(String, i64)> = sqlx::query_as(
                "SELECT v.drug, CAST(COALESCE(SUM(e.amount_ug), 0) AS BIGINT) \
                 FROM register_entries e JOIN register_vials v ON v.id = e.vial_id \
                 WHERE e.count_id = $1 GROUP BY v.drug ORDER BY v.drug",
            )
            .bind(row.id)
            .fetch_all(&self.pool)
            .await?;
            let mut totals = Vec::with_capacity(by_drug.len());
            for (code, ug) in by_drug {
                let drug = RegisterDrug::parse(&code)
                    .ok_or_else(|| StoreError::Corrupt(format!("vial drug `{code}`")))?;
                totals.push((drug, amount(ug)?));
            }
            counts.push((row, totals));
        }
        counts
            .into_iter()
            .map(
                |(
                    CountRow {
                        id,
                        kind,
                        business,
                        taken_at,
                        taken_by,
                        note,
                        vials,
                        discrepancies,
                    },
                    totals,
                )| {
                    Ok(CountRecord {
                        id,
                        kind: CountKind::parse(&kind)
                            .ok_or_else(|| StoreError::Corrupt(format!("count kind `{kind}`")))?,
                        business: BusinessTime::parse(&business).ok_or_else(|| {
                            StoreError::Corrupt(format!("count business `{business}`"))
                        })?,
                        taken_at: from_millis(taken_at)?,
                        taken_by,
                        note,
                        vials,
                        totals,
                        discrepancies,
                    })
                },
            )
            .collect()
    }

    /// The latest infusion sessions a draw can name, newest first, with the
    /// patient.
    pub async fn register_sessions(&self, limit: i64) -> StoreResult<Vec<RegisterSession>> {
        let rows: Vec<(i64, i64, String, i64, f64)> = sqlx::query_as(
            "SELECT s.id, s.patient_id, p.family_name || ', ' || p.given_name, s.started_at, \
             s.total_mg FROM infusion_sessions s JOIN patients p ON p.id = s.patient_id \
             ORDER BY s.started_at DESC, s.id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, patient_id, patient_name, started_at, total_mg)| {
                Ok(RegisterSession {
                    id,
                    patient_id,
                    patient_name,
                    started_at: from_millis(started_at)?,
                    dose: DrugAmount::from_mg(total_mg)
                        .map_err(|_| StoreError::Corrupt("session dose".into()))?,
                })
            })
            .collect()
    }

    /// The patient with this medical record number, for a draw without a
    /// recorded session: (id, "Family, Given").
    pub async fn register_patient_by_mrn(&self, mrn: &str) -> StoreResult<Option<(i64, String)>> {
        let row: Option<(i64, String)> = sqlx::query_as(
            "SELECT id, family_name || ', ' || given_name FROM patients WHERE mrn = $1",
        )
        .bind(mrn)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row)
    }

    /// One session a draw can name.
    pub async fn register_session(&self, id: i64) -> StoreResult<Option<RegisterSession>> {
        let row: Option<(i64, i64, String, i64, f64)> = sqlx::query_as(
            "SELECT s.id, s.patient_id, p.family_name || ', ' || p.given_name, s.started_at, \
             s.total_mg FROM infusion_sessions s JOIN patients p ON p.id = s.patient_id \
             WHERE s.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(id, patient_id, patient_name, started_at, total_mg)| {
            Ok(RegisterSession {
                id,
                patient_id,
                patient_name,
                started_at: from_millis(started_at)?,
                dose: DrugAmount::from_mg(total_mg)
                    .map_err(|_| StoreError::Corrupt("session dose".into()))?,
            })
        })
        .transpose()
    }

    /// A write transaction holding the vial's lock, or
    /// [`StoreError::RegisterNotFound`] when there is no such vial.
    async fn lock_vial(&self, vial_id: i64) -> StoreResult<Tx> {
        let mut tx = self.begin_write().await?;
        let sql = match self.engine {
            // BEGIN IMMEDIATE holds the database's write lock already.
            Engine::Sqlite => "SELECT id FROM register_vials WHERE id = $1",
            Engine::Postgres => "SELECT id FROM register_vials WHERE id = $1 FOR UPDATE",
        };
        let found: Option<(i64,)> = sqlx::query_as(sql)
            .bind(vial_id)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Err(StoreError::RegisterNotFound);
        }
        Ok(tx)
    }
}

/// Inserts the vials of a receipt and their receipt entries (also the demo).
pub(crate) async fn insert_receipt(
    conn: &mut sqlx::AnyConnection,
    receipt: &NewReceipt,
    content: DrugAmount,
    by: i64,
    at: Timestamp,
) -> StoreResult<Vec<i64>> {
    let mut ids = Vec::new();
    for _ in 0..receipt.vials {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO register_vials (ndc, lot, expiry, concentration_mg_per_ml, volume_ml, \
             content_ug, supplier, received_at, received_by, drug) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(&receipt.ndc)
        .bind(&receipt.lot)
        .bind(receipt.expiry.to_string())
        .bind(receipt.concentration.value())
        .bind(receipt.volume.value())
        .bind(content.micrograms())
        .bind(&receipt.supplier)
        .bind(to_millis(at))
        .bind(by)
        .bind(receipt.drug.code())
        .fetch_one(&mut *conn)
        .await?;
        let mut entry = Entry::new(id, EntryKind::Receipt, at, by);
        entry.change = BalanceChange::Add(content);
        entry.amount = content;
        entry.note = receipt.note.clone();
        append_entry(conn, entry).await?;
        ids.push(id);
    }
    Ok(ids)
}

/// A count's row; its entries follow (also the demo).
pub(crate) async fn insert_count(
    conn: &mut sqlx::AnyConnection,
    kind: CountKind,
    business: BusinessTime,
    note: &str,
    by: i64,
    at: Timestamp,
) -> StoreResult<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO register_counts (kind, business, taken_at, taken_by, note) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(kind.as_str())
    .bind(business.as_str())
    .bind(to_millis(at))
    .bind(by)
    .bind(note)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// The vial's balance now: its latest entry's.
async fn current_balance(conn: &mut sqlx::AnyConnection, vial_id: i64) -> StoreResult<DrugAmount> {
    let balance: Option<(i64,)> = sqlx::query_as(
        "SELECT balance_ug FROM register_entries WHERE vial_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(vial_id)
    .fetch_optional(&mut *conn)
    .await?;
    amount(balance.map_or(0, |(b,)| b))
}

/// Appends `entry` with the balance after it; refused (on `amount`) when it
/// would take the vial below zero. The caller holds the vial's lock.
pub(crate) async fn append_entry(conn: &mut sqlx::AnyConnection, entry: Entry) -> StoreResult<i64> {
    let balance = current_balance(conn, entry.vial_id).await?;
    let after = apply(balance, entry.change).map_err(|rule| match rule {
        RegisterRule::BelowZero => refused(
            "amount",
            format!("is more than the vial holds ({balance}); nothing was recorded"),
        ),
        other => refused("amount", other.to_string()),
    })?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO register_entries (vial_id, kind, at, recorded_by, change_ug, amount_ug, \
         balance_ug, patient_id, session_id, draw_id, witness_id, count_id, corrects_id, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
    )
    .bind(entry.vial_id)
    .bind(entry.kind.as_str())
    .bind(to_millis(entry.at))
    .bind(entry.recorded_by)
    .bind(entry.change.signed_micrograms())
    .bind(entry.amount.micrograms())
    .bind(after.micrograms())
    .bind(entry.patient_id)
    .bind(entry.session_id)
    .bind(entry.draw_id)
    .bind(entry.witness_id)
    .bind(entry.count_id)
    .bind(entry.corrects_id)
    .bind(&entry.note)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// Draw `draw_id` of vial `vial_id` and what is left of it to account for;
/// refused on `draw` when it is not a draw of the vial or nothing is left.
async fn open_draw_in(
    conn: &mut sqlx::AnyConnection,
    vial_id: i64,
    draw_id: i64,
) -> StoreResult<OpenDraw> {
    let row: Option<EntryRow> = sqlx::query_as(&format!(
        "{ENTRY_SELECT} WHERE e.id = $1 AND e.vial_id = $2 AND e.kind = 'draw'"
    ))
    .bind(draw_id)
    .bind(vial_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Err(refused("draw", "is not a draw from this vial"));
    };
    let entry = row.parse()?;
    let (administered, wasted): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN kind = 'administration' THEN amount_ug ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN kind = 'waste' THEN amount_ug ELSE 0 END), 0) AS BIGINT) \
         FROM register_entries WHERE draw_id = $1",
    )
    .bind(draw_id)
    .fetch_one(&mut *conn)
    .await?;
    let left = unaccounted(entry.amount, amount(administered)?, amount(wasted)?)
        .map_err(|_| StoreError::Corrupt(format!("draw {draw_id} over-accounted")))?;
    if left.is_zero() {
        return Err(refused("draw", "is fully accounted for already"));
    }
    let session_dose = match entry.session_id {
        Some(session_id) => {
            let dose: Option<(f64,)> =
                sqlx::query_as("SELECT total_mg FROM infusion_sessions WHERE id = $1")
                    .bind(session_id)
                    .fetch_optional(&mut *conn)
                    .await?;
            dose.and_then(|(mg,)| DrugAmount::from_mg(mg).ok())
        }
        None => None,
    };
    Ok(OpenDraw {
        entry,
        unaccounted: left,
        session_dose,
    })
}

/// The ids of vials that hold drug now.
async fn on_hand_ids(conn: &mut sqlx::AnyConnection) -> StoreResult<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as(&format!(
        "SELECT id FROM (SELECT {VIAL_COLUMNS} FROM register_vials v) x WHERE balance_ug > 0"
    ))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// A count entry's (expected, counted, resolved), when it is a discrepancy.
async fn discrepancy_of(
    conn: &mut sqlx::AnyConnection,
    count_entry_id: i64,
) -> StoreResult<Option<(DrugAmount, DrugAmount, bool)>> {
    let (balance, counted): (i64, i64) = sqlx::query_as(
        "SELECT balance_ug, amount_ug FROM register_entries WHERE id = $1 AND kind = 'count'",
    )
    .bind(count_entry_id)
    .fetch_one(&mut *conn)
    .await?;
    let Some(found) = discrepancy(amount(balance)?, amount(counted)?) else {
        return Ok(None);
    };
    let resolved: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM register_entries WHERE kind = 'resolution' AND corrects_id = $1",
    )
    .bind(count_entry_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(Some((found.balance, found.counted, resolved.is_some())))
}

/// The drug vial `vial_id` holds; [`StoreError::RegisterNotFound`] for none.
async fn vial_drug(conn: &mut sqlx::AnyConnection, vial_id: i64) -> StoreResult<RegisterDrug> {
    let row: Option<(String,)> = sqlx::query_as("SELECT drug FROM register_vials WHERE id = $1")
        .bind(vial_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some((code,)) = row else {
        return Err(StoreError::RegisterNotFound);
    };
    RegisterDrug::parse(&code).ok_or_else(|| StoreError::Corrupt(format!("vial drug `{code}`")))
}

/// A draw's refusal when the vial holds another drug than the one given
/// (the field is `vial`).
fn wrong_drug_words(wanted: RegisterDrug, vial: RegisterDrug) -> String {
    format!(
        "is a vial of {}; this draw is of {}: choose a vial of {}",
        vial.code(),
        wanted.code(),
        wanted.code()
    )
}

/// A controlled rescue dose drawn from a register vial for a session.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RescueDraw {
    pub(crate) vial_id: i64,
    pub(crate) drug: RescueDrug,
    pub(crate) dose: DrugAmount,
    pub(crate) drawn: DrugAmount,
    /// The clinic's date today: an expired vial is not drawn.
    pub(crate) today: Date,
    pub(crate) patient_id: i64,
    pub(crate) session_id: i64,
}

/// Why a rescue draw is refused: the rule, or no such vial.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RescueDrawRefusal {
    NoSuchVial,
    Rule(RescueRefusal),
}

/// In the caller's write transaction: locks the vial (PostgreSQL
/// `FOR UPDATE`; SQLite holds the write lock already), checks the rescue
/// rule against its drug, expiry and balance, and appends the draw and the
/// administration of the dose. What is left of the draw stays open, to be
/// wasted with a witness. Returns the draw's id.
pub(crate) async fn rescue_draw_in(
    conn: &mut sqlx::AnyConnection,
    engine: Engine,
    draw: RescueDraw,
    by: i64,
    at: Timestamp,
) -> StoreResult<Result<i64, RescueDrawRefusal>> {
    if engine == Engine::Postgres {
        sqlx::query("SELECT id FROM register_vials WHERE id = $1 FOR UPDATE")
            .bind(draw.vial_id)
            .execute(&mut *conn)
            .await?;
    }
    let row: Option<VialRow> = sqlx::query_as(&format!(
        "SELECT {VIAL_COLUMNS} FROM register_vials v WHERE v.id = $1"
    ))
    .bind(draw.vial_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(vial) = row.map(VialRow::parse).transpose()? else {
        return Ok(Err(RescueDrawRefusal::NoSuchVial));
    };
    let held = RescueVial {
        drug: vial.drug,
        balance: current_balance(conn, vial.id).await?,
        expired: vial.expiry < draw.today,
    };
    if let Err(rule) = check_rescue_draw(draw.drug, draw.dose, Some((held, draw.drawn))) {
        return Ok(Err(RescueDrawRefusal::Rule(rule)));
    }
    let note = format!(
        "{} for infusion session {} (rescue drug)",
        draw.drug.ingredient(),
        draw.session_id
    );
    let mut entry = Entry::new(vial.id, EntryKind::Draw, at, by);
    entry.change = BalanceChange::Remove(draw.drawn);
    entry.amount = draw.drawn;
    entry.patient_id = Some(draw.patient_id);
    entry.session_id = Some(draw.session_id);
    entry.note = note.clone();
    let draw_id = append_entry(conn, entry).await?;
    let mut given = Entry::new(vial.id, EntryKind::Administration, at, by);
    given.amount = draw.dose;
    given.draw_id = Some(draw_id);
    given.patient_id = Some(draw.patient_id);
    given.session_id = Some(draw.session_id);
    given.note = note;
    append_entry(conn, given).await?;
    Ok(Ok(draw_id))
}
