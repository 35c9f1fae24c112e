//! The demo clinic's controlled-substance register (shared/clinical/dosing.md,
//! "Controlled substance (US)"): vials received before the first session, a
//! draw for every past infusion session in the session's dose rounded up to
//! the syringe's 0.5 mL, what was given (the session's dose) and the rest
//! wasted with a witness, an end-of-day count on every session day and an
//! opening biennial inventory, all reconciling to zero — except one count,
//! yesterday at the close of business, that found 0.2 mL missing from the
//! opened vial: an open discrepancy for a visitor to resolve.
//!
//! With the first delivery, ten vials of midazolam (the protocols' controlled
//! rescue drug, Schedule IV, 21 CFR 1308.14(c)): 1 mg/mL in 2 mL vials, a
//! presentation of midazolam injection USP (also sold at 5 mg/mL, and in
//! 5 and 10 mL vials). The demo's sessions give ondansetron as their rescue
//! drug, so the midazolam vials stay sealed and are counted with the rest.
//!
//! The NDC and lot numbers are invented, in the label's 5-4-2 shape.

use jiff::civil::Date;
use jiff::Timestamp;
use respite_clinical::dosing::units::{MgPerMl, Millilitres};
use respite_clinical::register::{BalanceChange, DrugAmount, RegisterDrug};

use super::{add_days, DemoClock};
use crate::register::{
    append_entry, insert_count, insert_receipt, BusinessTime, CountKind, Entry, EntryKind,
    NewReceipt,
};
use crate::{from_millis, StoreError, StoreResult};

/// 50 mg/mL in 10 mL vials (dosing.md: 10, 50 and 100 mg/mL are sold).
const CONCENTRATION_MG_PER_ML: f64 = 50.0;
const VIAL_ML: f64 = 10.0;
/// A delivery: 25 vials.
const VIALS_PER_RECEIPT: u32 = 25;
/// Reorder when fewer vials than this are sealed.
const REORDER_BELOW: usize = 6;
/// The syringe is read to 0.5 mL: 25 mg at 50 mg/mL.
const DRAW_STEP_UG: i64 = 25_000;

/// Midazolam 1 mg/mL in 2 mL vials, ten of them.
const MIDAZOLAM_MG_PER_ML: f64 = 1.0;
const MIDAZOLAM_VIAL_ML: f64 = 2.0;
const MIDAZOLAM_VIALS: u32 = 10;

/// One vial as the demo tracks it while writing.
#[derive(Clone, Copy)]
struct DemoVial {
    id: i64,
    balance: i64,
}

/// Writes the register for every infusion session already in the demo.
pub(super) async fn seed(conn: &mut sqlx::AnyConnection, clock: &DemoClock) -> StoreResult<()> {
    let nurse = staff_of(conn, "nurse").await?;
    let clinician = staff_of(conn, "clinician").await?;
    let (Some(nurse), Some(clinician)) = (nurse, clinician) else {
        // A clinic without a nurse and a clinician keeps no demo register.
        return Ok(());
    };
    // Each session's stop (demo/sessions.rs documents them first), or four
    // hours after its start: what was given is recorded when the pump stops.
    let sessions: Vec<(i64, i64, i64, f64, i64)> = sqlx::query_as(
        "SELECT id, patient_id, started_at, total_mg, \
         COALESCE(stopped_at, started_at + 14400000) FROM infusion_sessions \
         ORDER BY started_at, id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let Some(first) = sessions.first() else {
        return Ok(());
    };
    let corrupt = |what: &str| StoreError::Corrupt(format!("demo register: {what}"));
    let concentration = MgPerMl::new(CONCENTRATION_MG_PER_ML).map_err(|_| corrupt("strength"))?;
    let volume = Millilitres::new(VIAL_ML).map_err(|_| corrupt("volume"))?;
    let content = DrugAmount::from_ml(volume, concentration).map_err(|_| corrupt("content"))?;
    let expiry = clock.days(400)?;

    let first_day = day_of(clock, from_millis(first.2)?);
    let mut receipts = 0;
    let mut stock: Vec<DemoVial> = Vec::new();
    let receive = |receipts: &mut i32, day: Date| {
        *receipts += 1;
        let lot = format!("KD{}{:02}", 24 + *receipts / 10, *receipts % 10 + 11);
        (
            NewReceipt {
                drug: RegisterDrug::Ketamine,
                ndc: "55150-0239-10".to_owned(),
                lot,
                expiry,
                concentration,
                volume,
                vials: VIALS_PER_RECEIPT,
                supplier: "Cascade Medical Supply, Portland OR (DEA registration on file)"
                    .to_owned(),
                note: format!("Invoice CMS-{}", 40_000 + *receipts),
            },
            day,
        )
    };

    // The first delivery, and the opening biennial inventory the next
    // morning (21 CFR 1304.11(a), (c)).
    let (receipt, day) = receive(&mut receipts, add_days(first_day, -3)?);
    let at = clock.at(day, 8, 30)?;
    for id in insert_receipt(conn, &receipt, content, nurse, at).await? {
        stock.push(DemoVial {
            id,
            balance: content.micrograms(),
        });
    }
    let midazolam = receive_midazolam(conn, expiry, nurse, at).await?;
    // Every count covers the midazolam vials too (a count is of every vial
    // on hand); they stay sealed.
    let on_hand = |stock: &[DemoVial]| [stock, &midazolam[..]].concat();
    let opening = clock.at(add_days(first_day, -2)?, 8, 0)?;
    count(
        conn,
        &on_hand(&stock),
        CountKind::Biennial,
        BusinessTime::Opening,
        None,
        nurse,
        opening,
    )
    .await?;

    let mut day_open: Option<Date> = None;
    for (index, (session_id, patient_id, started_at, total_mg, stopped_at)) in
        sessions.iter().enumerate()
    {
        let started = from_millis(*started_at)?;
        let day = day_of(clock, started);
        if day_open.is_some_and(|open| open != day) {
            let close = clock.at(day_open.unwrap_or(day), 17, 30)?;
            count(
                conn,
                &on_hand(&stock),
                CountKind::EndOfDay,
                BusinessTime::Close,
                None,
                nurse,
                close,
            )
            .await?;
        }
        day_open = Some(day);
        stock.retain(|v| v.balance > 0);
        let sealed = stock
            .iter()
            .filter(|v| v.balance == content.micrograms())
            .count();
        if sealed < REORDER_BELOW {
            let (receipt, _) = receive(&mut receipts, day);
            let at = clock.at(day, 8, 0)?;
            for id in insert_receipt(conn, &receipt, content, nurse, at).await? {
                stock.push(DemoVial {
                    id,
                    balance: content.micrograms(),
                });
            }
        }
        let dose = DrugAmount::from_mg(*total_mg).map_err(|_| corrupt("session dose"))?;
        // Drawn: the dose rounded up to the syringe's 0.5 mL.
        let drawn = (dose.micrograms() + DRAW_STEP_UG - 1) / DRAW_STEP_UG * DRAW_STEP_UG;
        // The witness: the clinician, or the nurse when the clinician draws.
        let (keeper, witness) = if index % 5 == 4 {
            (clinician, nurse)
        } else {
            (nurse, clinician)
        };
        let draw_at = started - jiff::SignedDuration::from_mins(10);
        let end_at = from_millis(*stopped_at)?;
        let mut left_to_draw = drawn;
        let mut left_to_give = dose.micrograms();
        let mut draws = Vec::new();
        // The opened vial first, then the next sealed one.
        stock.sort_by_key(|v| (v.balance == content.micrograms(), v.id));
        for vial in stock.iter_mut() {
            if left_to_draw == 0 {
                break;
            }
            let take = left_to_draw.min(vial.balance);
            if take == 0 {
                continue;
            }
            let mut entry = Entry::new(vial.id, EntryKind::Draw, draw_at, keeper);
            entry.change = BalanceChange::Remove(amount(take)?);
            entry.amount = amount(take)?;
            entry.patient_id = Some(*patient_id);
            entry.session_id = Some(*session_id);
            let draw_id = append_entry(conn, entry).await?;
            vial.balance -= take;
            left_to_draw -= take;
            draws.push((vial.id, draw_id, take));
        }
        if left_to_draw > 0 {
            return Err(corrupt("stock ran out"));
        }
        for (vial_id, draw_id, take) in draws {
            let given = take.min(left_to_give);
            left_to_give -= given;
            if given > 0 {
                let mut entry = Entry::new(vial_id, EntryKind::Administration, end_at, keeper);
                entry.amount = amount(given)?;
                entry.draw_id = Some(draw_id);
                entry.patient_id = Some(*patient_id);
                entry.session_id = Some(*session_id);
                entry.note = "As delivered by the pump, from the session record".to_owned();
                append_entry(conn, entry).await?;
            }
            let wasted = take - given;
            if wasted > 0 {
                let mut entry = Entry::new(
                    vial_id,
                    EntryKind::Waste,
                    end_at + jiff::SignedDuration::from_mins(2),
                    keeper,
                );
                entry.amount = amount(wasted)?;
                entry.draw_id = Some(draw_id);
                entry.patient_id = Some(*patient_id);
                entry.session_id = Some(*session_id);
                entry.witness_id = Some(witness);
                entry.note = "Remainder of the syringe into the drug-disposal container".to_owned();
                append_entry(conn, entry).await?;
            }
        }
    }
    if let Some(day) = day_open {
        let close = clock.at(day, 17, 30)?;
        count(
            conn,
            &on_hand(&stock),
            CountKind::EndOfDay,
            BusinessTime::Close,
            None,
            nurse,
            close,
        )
        .await?;
    }
    // Yesterday's count at the close of business found 0.2 mL (10 mg) less
    // in the opened vial than the register says: left open.
    stock.retain(|v| v.balance > 0);
    stock.sort_by_key(|v| (v.balance == content.micrograms(), v.id));
    let short = stock.first().map(|v| (v.id, 10_000));
    let yesterday = clock.at(clock.days(-1)?, 17, 30)?;
    count(
        conn,
        &on_hand(&stock),
        CountKind::EndOfDay,
        BusinessTime::Close,
        short,
        nurse,
        yesterday,
    )
    .await?;
    Ok(())
}

/// The midazolam delivery, received with the first ketamine one.
async fn receive_midazolam(
    conn: &mut sqlx::AnyConnection,
    expiry: Date,
    by: i64,
    at: Timestamp,
) -> StoreResult<Vec<DemoVial>> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("demo register: {what}"));
    let concentration =
        MgPerMl::new(MIDAZOLAM_MG_PER_ML).map_err(|_| corrupt("midazolam strength"))?;
    let volume = Millilitres::new(MIDAZOLAM_VIAL_ML).map_err(|_| corrupt("midazolam volume"))?;
    let content = DrugAmount::from_ml(volume, concentration).map_err(|_| corrupt("content"))?;
    let receipt = NewReceipt {
        drug: RegisterDrug::Midazolam,
        ndc: "60505-0771-02".to_owned(),
        lot: "MZ2411".to_owned(),
        expiry,
        concentration,
        volume,
        vials: MIDAZOLAM_VIALS,
        supplier: "Cascade Medical Supply, Portland OR (DEA registration on file)".to_owned(),
        note: "Invoice CMS-40000: rescue drug".to_owned(),
    };
    Ok(insert_receipt(conn, &receipt, content, by, at)
        .await?
        .into_iter()
        .map(|id| DemoVial {
            id,
            balance: content.micrograms(),
        })
        .collect())
}

/// A full count of `stock`, each vial found as the register says except
/// `short`: (vial, micrograms missing).
async fn count(
    conn: &mut sqlx::AnyConnection,
    stock: &[DemoVial],
    kind: CountKind,
    business: BusinessTime,
    short: Option<(i64, i64)>,
    by: i64,
    at: Timestamp,
) -> StoreResult<()> {
    let count_id = insert_count(conn, kind, business, "", by, at).await?;
    let mut vials: Vec<&DemoVial> = stock.iter().filter(|v| v.balance > 0).collect();
    vials.sort_by_key(|v| v.id);
    for vial in vials {
        let missing = short
            .filter(|(id, _)| *id == vial.id)
            .map_or(0, |(_, ug)| ug);
        let mut entry = Entry::new(vial.id, EntryKind::Count, at, by);
        entry.amount = amount(vial.balance - missing)?;
        entry.count_id = Some(count_id);
        append_entry(conn, entry).await?;
    }
    Ok(())
}

fn amount(micrograms: i64) -> StoreResult<DrugAmount> {
    DrugAmount::from_micrograms(micrograms)
        .map_err(|_| StoreError::Corrupt(format!("demo register amount {micrograms}")))
}

fn day_of(clock: &DemoClock, at: Timestamp) -> Date {
    at.to_zoned(clock.tz.clone()).date()
}

/// The first active staff member of `role`, if any.
async fn staff_of(conn: &mut sqlx::AnyConnection, role: &str) -> StoreResult<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM staff_users WHERE role = $1 AND active = 1 ORDER BY id LIMIT 1",
    )
    .bind(role)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(id,)| id))
}
