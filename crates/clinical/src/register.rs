//! The controlled-substance register's rules: amounts, mg ↔ mL, the running
//! balance that never goes below zero, who may witness a waste, and when a
//! count is a discrepancy. Pure: the store applies these inside the write's
//! transaction, the web shows their verdicts.
//!
//! Sources (shared/clinical/dosing.md, "Controlled substance (US)"):
//! - ketamine is DEA Schedule III (64 FR 37673, 13 Jul 1999; 21 CFR 1308.13);
//! - midazolam, a protocol's rescue drug, is Schedule IV (21 CFR 1308.14(c):
//!   cited from the CFR, not yet in shared/clinical/ [to check]);
//! - records of receipt, dispensing/administration and a biennial inventory,
//!   kept at least two years (21 CFR 1304; dosing.md [checked, secondary]);
//! - the biennial inventory is a dated full count of the stock on hand, taken
//!   at the opening or the close of business and saying which
//!   (21 CFR 1304.11(a), (c)); for Schedule III an opened container may be
//!   estimated (21 CFR 1304.11(e)(3)): here it is measured in mL. These
//!   subsections are not in dosing.md [to check]; the Schedule III estimate
//!   is the rule of the regulation's 1971 text (21 CFR 304.17(b), 36 FR 7791);
//! - a waste witnessed by a second licensed person is state and clinic
//!   practice, not 21 CFR 1304: a clinic setting, on by default;
//! - the log is append-only and reconciles to zero discrepancy or raises it.
//!
//! Amounts are whole micrograms, so that the balance arithmetic is exact
//! (a floating-point balance could drift below zero by rounding).

use std::fmt;

use respite_units::{MgPerMl, Millilitres};

/// A DEA schedule of controlled substances (21 CFR 1308).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Schedule {
    /// 21 CFR 1308.13: ketamine (dosing.md, "Controlled substance (US)").
    III,
    /// 21 CFR 1308.14(c): midazolam among the depressants. From the CFR's
    /// text; not yet in shared/clinical/ [to check].
    IV,
}

impl Schedule {
    /// `III`, `IV`: as the DEA writes it.
    pub fn roman(self) -> &'static str {
        match self {
            Schedule::III => "III",
            Schedule::IV => "IV",
        }
    }

    /// The section of 21 CFR 1308 that lists it.
    pub fn cfr(self) -> &'static str {
        match self {
            Schedule::III => "21 CFR 1308.13",
            Schedule::IV => "21 CFR 1308.14",
        }
    }
}

/// A controlled drug the register holds vials of: ketamine for the
/// infusion, midazolam as a protocol's rescue drug. Each vial is of one
/// drug; a draw is from a vial of the drug given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegisterDrug {
    /// Ketamine hydrochloride injection: Schedule III (64 FR 37673;
    /// 21 CFR 1308.13; dosing.md, "Controlled substance (US)").
    Ketamine,
    /// Midazolam injection: Schedule IV (21 CFR 1308.14(c), from the CFR's
    /// text [to check in shared/clinical/]).
    Midazolam,
}

impl RegisterDrug {
    pub const ALL: [RegisterDrug; 2] = [RegisterDrug::Ketamine, RegisterDrug::Midazolam];

    /// The stored code (also the export's): the ingredient's name.
    pub fn code(self) -> &'static str {
        match self {
            RegisterDrug::Ketamine => "ketamine",
            RegisterDrug::Midazolam => "midazolam",
        }
    }

    pub fn parse(code: &str) -> Option<RegisterDrug> {
        RegisterDrug::ALL.into_iter().find(|d| d.code() == code)
    }

    pub fn schedule(self) -> Schedule {
        match self {
            RegisterDrug::Ketamine => Schedule::III,
            RegisterDrug::Midazolam => Schedule::IV,
        }
    }

    /// The RxNorm ingredient (RxCUI): midazolam 6960 (screening.md, from
    /// CPIC's drug table [checked, secondary]); ketamine 6130 (codes.md
    /// [to check in RxNav]).
    pub fn rxnorm(self) -> &'static str {
        match self {
            RegisterDrug::Ketamine => "6130",
            RegisterDrug::Midazolam => "6960",
        }
    }

    /// The highest strength the register takes at receipt (mg/mL): ketamine
    /// injection comes as 10, 50 or 100 mg/mL (dosing.md); midazolam
    /// injection as 1 or 5 mg/mL (FDA labels of midazolam injection, USP).
    pub fn max_concentration_mg_per_ml(self) -> f64 {
        match self {
            RegisterDrug::Ketamine => 100.0,
            RegisterDrug::Midazolam => 5.0,
        }
    }
}

/// A draw from a vial of another drug than the one given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrongDrug {
    pub wanted: RegisterDrug,
    pub vial: RegisterDrug,
}

/// Whether a vial of `vial` may be drawn for a dose of `wanted`: only a vial
/// of that drug (a draw records which drug the patient received).
pub fn check_vial_drug(wanted: RegisterDrug, vial: RegisterDrug) -> Result<(), WrongDrug> {
    if wanted == vial {
        Ok(())
    } else {
        Err(WrongDrug { wanted, vial })
    }
}

/// An amount of drug in whole micrograms: exact, never negative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DrugAmount(i64);

impl DrugAmount {
    pub const ZERO: DrugAmount = DrugAmount(0);

    /// An amount from whole micrograms; a negative one is refused.
    pub fn from_micrograms(micrograms: i64) -> Result<DrugAmount, RegisterRule> {
        if micrograms < 0 {
            return Err(RegisterRule::Negative);
        }
        Ok(DrugAmount(micrograms))
    }

    /// An amount from milligrams, rounded to the microgram.
    pub fn from_mg(mg: f64) -> Result<DrugAmount, RegisterRule> {
        if !mg.is_finite() {
            return Err(RegisterRule::NotANumber);
        }
        if mg < 0.0 {
            return Err(RegisterRule::Negative);
        }
        if mg > MAX_MG {
            return Err(RegisterRule::TooLarge);
        }
        Ok(DrugAmount((mg * 1000.0).round() as i64))
    }

    /// The amount in `ml` of a solution of `concentration`.
    pub fn from_ml(ml: Millilitres, concentration: MgPerMl) -> Result<DrugAmount, RegisterRule> {
        DrugAmount::from_mg((ml * concentration).value())
    }

    pub fn micrograms(self) -> i64 {
        self.0
    }

    pub fn mg(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// The volume this amount takes at `concentration`.
    pub fn ml(self, concentration: MgPerMl) -> f64 {
        self.mg() / concentration.value()
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for DrugAmount {
    /// `12.5 mg`: at most three decimals, no trailing zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} mg", trim_decimals(self.mg(), 3))
    }
}

/// The largest amount one entry may name: 100 g is far beyond any vial
/// (a 10 mL vial at 100 mg/mL holds 1 g) and keeps micrograms in range.
pub const MAX_MG: f64 = 100_000.0;

/// A number with at most `places` decimals and no trailing zeros.
pub fn trim_decimals(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// A rule an amount or a change of balance breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegisterRule {
    #[error("must be a number")]
    NotANumber,
    #[error("must not be negative")]
    Negative,
    #[error("must be more than zero")]
    Zero,
    #[error("is larger than any vial holds")]
    TooLarge,
    /// The change would take the vial below zero: it holds `balance`.
    #[error("is more than the vial holds")]
    BelowZero,
}

/// How an amount is entered: as mg or as mL of the vial's solution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmountUnit {
    Milligrams,
    Millilitres,
}

impl AmountUnit {
    /// `mg` or `mL` (UCUM codes, SPEC §4).
    pub fn parse(code: &str) -> Option<AmountUnit> {
        match code {
            "mg" => Some(AmountUnit::Milligrams),
            "mL" => Some(AmountUnit::Millilitres),
            _ => None,
        }
    }
}

/// A positive amount typed as `text` in `unit`, for a vial of
/// `concentration`: a number, more than zero.
pub fn parse_amount(
    text: &str,
    unit: AmountUnit,
    concentration: MgPerMl,
) -> Result<DrugAmount, RegisterRule> {
    let value: f64 = text.trim().parse().map_err(|_| RegisterRule::NotANumber)?;
    if !value.is_finite() {
        return Err(RegisterRule::NotANumber);
    }
    if value < 0.0 {
        return Err(RegisterRule::Negative);
    }
    let mg = match unit {
        AmountUnit::Milligrams => value,
        AmountUnit::Millilitres => value * concentration.value(),
    };
    let amount = DrugAmount::from_mg(mg)?;
    if amount.is_zero() {
        return Err(RegisterRule::Zero);
    }
    Ok(amount)
}

/// The change an entry makes to its vial's balance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BalanceChange {
    /// Received into the vial (a receipt: its whole content).
    Add(DrugAmount),
    /// Taken out of the vial (a draw, a waste from the vial).
    Remove(DrugAmount),
    /// No change (an administration of a drawn dose, a count).
    None,
}

impl BalanceChange {
    /// The signed change in micrograms, as the register stores it.
    pub fn signed_micrograms(self) -> i64 {
        match self {
            BalanceChange::Add(a) => a.micrograms(),
            BalanceChange::Remove(a) => -a.micrograms(),
            BalanceChange::None => 0,
        }
    }

    /// From a signed change in micrograms.
    pub fn from_signed_micrograms(change: i64) -> BalanceChange {
        match change.cmp(&0) {
            std::cmp::Ordering::Greater => BalanceChange::Add(DrugAmount(change)),
            std::cmp::Ordering::Less => BalanceChange::Remove(DrugAmount(change.saturating_neg())),
            std::cmp::Ordering::Equal => BalanceChange::None,
        }
    }
}

/// The balance after `change`: never below zero. The store calls this with
/// the vial's balance read under the vial's lock, in the transaction that
/// writes the entry, so that two draws at once cannot both pass.
pub fn apply(balance: DrugAmount, change: BalanceChange) -> Result<DrugAmount, RegisterRule> {
    match change {
        BalanceChange::Add(amount) => balance
            .0
            .checked_add(amount.0)
            .map(DrugAmount)
            .ok_or(RegisterRule::TooLarge),
        BalanceChange::Remove(amount) if amount.0 > balance.0 => Err(RegisterRule::BelowZero),
        BalanceChange::Remove(amount) => Ok(DrugAmount(balance.0 - amount.0)),
        BalanceChange::None => Ok(balance),
    }
}

/// What is left of a draw to account for: drawn − administered − wasted.
/// Zero when the draw is fully accounted for.
pub fn unaccounted(
    drawn: DrugAmount,
    administered: DrugAmount,
    wasted: DrugAmount,
) -> Result<DrugAmount, RegisterRule> {
    let used = administered
        .0
        .checked_add(wasted.0)
        .ok_or(RegisterRule::TooLarge)?;
    if used > drawn.0 {
        return Err(RegisterRule::BelowZero);
    }
    Ok(DrugAmount(drawn.0 - used))
}

/// The clinic's rule for wastes (dosing.md: state and clinic practice, on by
/// default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WastePolicy {
    pub witness_required: bool,
}

impl Default for WastePolicy {
    fn default() -> WastePolicy {
        WastePolicy {
            witness_required: true,
        }
    }
}

/// A staff member as the witness rule sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaffMember {
    pub user_id: i64,
    /// Holds a licence to handle the drug (nurse or clinician, SPEC §2).
    pub licensed: bool,
    pub active: bool,
}

/// Why a waste's witness is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WitnessRefusal {
    #[error(
        "is required: the clinic's setting asks a second licensed person to witness every waste"
    )]
    Missing,
    #[error("must be another person than the one recording the waste")]
    SamePerson,
    #[error("must be a licensed member of staff (a nurse or a clinician)")]
    NotLicensed,
    #[error("is not an active member of staff")]
    Inactive,
}

/// Whether `witness` may witness a waste that `recorder` records, under
/// `policy`. Without a witness, fine only when the policy does not ask one;
/// a witness given is always checked.
pub fn check_witness(
    policy: WastePolicy,
    recorder: StaffMember,
    witness: Option<StaffMember>,
) -> Result<(), WitnessRefusal> {
    let Some(witness) = witness else {
        return if policy.witness_required {
            Err(WitnessRefusal::Missing)
        } else {
            Ok(())
        };
    };
    if witness.user_id == recorder.user_id {
        return Err(WitnessRefusal::SamePerson);
    }
    if !witness.active {
        return Err(WitnessRefusal::Inactive);
    }
    if !witness.licensed {
        return Err(WitnessRefusal::NotLicensed);
    }
    Ok(())
}

/// A count that differs from the running balance: the difference is
/// `counted − balance` (negative: drug missing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Discrepancy {
    pub balance: DrugAmount,
    pub counted: DrugAmount,
}

impl Discrepancy {
    /// The signed difference in micrograms: counted − balance.
    pub fn difference_micrograms(self) -> i64 {
        self.counted.0 - self.balance.0
    }

    /// Whether the count found less than the register says.
    pub fn is_shortage(self) -> bool {
        self.counted < self.balance
    }
}

/// The discrepancy of a count, if it differs from the balance. The
/// register reconciles to zero or raises it (dosing.md): any difference,
/// however small, is one.
pub fn discrepancy(balance: DrugAmount, counted: DrugAmount) -> Option<Discrepancy> {
    (balance != counted).then_some(Discrepancy { balance, counted })
}

/// When the next biennial inventory is due: two years after the last one
/// (21 CFR 1304.11(c): "at least every two years").
pub fn next_biennial_inventory(last: jiff::civil::Date) -> Option<jiff::civil::Date> {
    last.checked_add(jiff::Span::new().years(2)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mg(value: f64) -> DrugAmount {
        DrugAmount::from_mg(value).unwrap()
    }

    fn conc(value: f64) -> MgPerMl {
        MgPerMl::new(value).unwrap()
    }

    #[test]
    fn amounts_convert_between_mg_and_ml_at_the_vial_concentration() {
        // 50 mg/mL: 2.5 mL is 125 mg; 100 mg/mL: 0.35 mL is 35 mg.
        let check = |text: &str, unit, c: f64, expected_mg: f64| {
            assert_eq!(
                parse_amount(text, unit, conc(c)),
                Ok(mg(expected_mg)),
                "{text}"
            );
        };
        check("2.5", AmountUnit::Millilitres, 50.0, 125.0);
        check("0.35", AmountUnit::Millilitres, 100.0, 35.0);
        check("125", AmountUnit::Milligrams, 50.0, 125.0);
        check(" 10 ", AmountUnit::Milligrams, 10.0, 10.0);
        assert!((mg(125.0).ml(conc(50.0)) - 2.5).abs() < 1e-12);
        assert_eq!(mg(12.5).to_string(), "12.5 mg");
        assert_eq!(mg(500.0).to_string(), "500 mg");
    }

    #[test]
    fn amounts_that_break_a_rule_name_it() {
        let c = conc(50.0);
        let check = |text: &str, rule| {
            assert_eq!(
                parse_amount(text, AmountUnit::Milligrams, c),
                Err(rule),
                "{text}"
            );
        };
        check("", RegisterRule::NotANumber);
        check("ten", RegisterRule::NotANumber);
        check("NaN", RegisterRule::NotANumber);
        check("inf", RegisterRule::NotANumber);
        check("-5", RegisterRule::Negative);
        check("0", RegisterRule::Zero);
        check("0.0001", RegisterRule::Zero);
        check("1e9", RegisterRule::TooLarge);
        assert_eq!(DrugAmount::from_micrograms(-1), Err(RegisterRule::Negative));
    }

    #[test]
    fn a_balance_never_goes_below_zero() {
        let balance = mg(100.0);
        assert_eq!(
            apply(balance, BalanceChange::Remove(mg(40.0))),
            Ok(mg(60.0))
        );
        assert_eq!(
            apply(balance, BalanceChange::Remove(mg(100.0))),
            Ok(DrugAmount::ZERO)
        );
        assert_eq!(
            apply(balance, BalanceChange::Remove(mg(100.001))),
            Err(RegisterRule::BelowZero)
        );
        assert_eq!(apply(balance, BalanceChange::Add(mg(0.5))), Ok(mg(100.5)));
        assert_eq!(apply(balance, BalanceChange::None), Ok(balance));
        for signed in [-5_000, 0, 7_000] {
            assert_eq!(
                BalanceChange::from_signed_micrograms(signed).signed_micrograms(),
                signed
            );
        }
    }

    #[test]
    fn exact_arithmetic_keeps_a_vial_at_zero_after_many_small_draws() {
        // Ten draws of 0.1 mL at 10 mg/mL from a 1 mL vial: exactly empty,
        // where floating point would leave 1e-15 or refuse the last draw.
        let c = conc(10.0);
        let mut balance = parse_amount("1", AmountUnit::Millilitres, c).unwrap();
        for _ in 0..10 {
            let draw = parse_amount("0.1", AmountUnit::Millilitres, c).unwrap();
            balance = apply(balance, BalanceChange::Remove(draw)).unwrap();
        }
        assert_eq!(balance, DrugAmount::ZERO);
    }

    #[test]
    fn a_draw_is_accounted_for_by_administration_and_waste() {
        assert_eq!(
            unaccounted(mg(200.0), mg(174.0), mg(26.0)),
            Ok(DrugAmount::ZERO)
        );
        assert_eq!(
            unaccounted(mg(200.0), mg(174.0), DrugAmount::ZERO),
            Ok(mg(26.0))
        );
        assert_eq!(
            unaccounted(mg(200.0), mg(180.0), mg(26.0)),
            Err(RegisterRule::BelowZero)
        );
    }

    #[test]
    fn a_waste_needs_another_licensed_active_witness_when_the_setting_says_so() {
        let nurse = StaffMember {
            user_id: 1,
            licensed: true,
            active: true,
        };
        let clinician = StaffMember {
            user_id: 2,
            licensed: true,
            active: true,
        };
        let front_desk = StaffMember {
            user_id: 3,
            licensed: false,
            active: true,
        };
        let gone = StaffMember {
            user_id: 4,
            licensed: true,
            active: false,
        };
        let on = WastePolicy::default();
        let off = WastePolicy {
            witness_required: false,
        };
        assert!(on.witness_required, "on by default (dosing.md)");
        assert_eq!(check_witness(on, nurse, Some(clinician)), Ok(()));
        assert_eq!(check_witness(on, nurse, None), Err(WitnessRefusal::Missing));
        assert_eq!(
            check_witness(on, nurse, Some(nurse)),
            Err(WitnessRefusal::SamePerson)
        );
        assert_eq!(
            check_witness(on, nurse, Some(front_desk)),
            Err(WitnessRefusal::NotLicensed)
        );
        assert_eq!(
            check_witness(on, nurse, Some(gone)),
            Err(WitnessRefusal::Inactive)
        );
        assert_eq!(check_witness(off, nurse, None), Ok(()));
        // A witness given is checked even when none is required.
        assert_eq!(
            check_witness(off, nurse, Some(nurse)),
            Err(WitnessRefusal::SamePerson)
        );
    }

    #[test]
    fn any_difference_between_count_and_balance_is_a_discrepancy() {
        assert_eq!(discrepancy(mg(250.0), mg(250.0)), None);
        let short = discrepancy(mg(250.0), mg(200.0)).unwrap();
        assert!(short.is_shortage());
        assert_eq!(short.difference_micrograms(), -50_000);
        let tiny = discrepancy(mg(250.0), mg(250.001)).unwrap();
        assert!(!tiny.is_shortage());
        assert_eq!(tiny.difference_micrograms(), 1);
    }

    #[test]
    fn each_register_drug_has_its_schedule_and_a_draw_takes_a_vial_of_it() {
        // 21 CFR 1308.13 (ketamine, III); 21 CFR 1308.14(c) (midazolam, IV).
        assert_eq!(RegisterDrug::Ketamine.schedule(), Schedule::III);
        assert_eq!(RegisterDrug::Midazolam.schedule(), Schedule::IV);
        assert_eq!(RegisterDrug::Midazolam.rxnorm(), "6960");
        for drug in RegisterDrug::ALL {
            assert_eq!(RegisterDrug::parse(drug.code()), Some(drug));
            assert_eq!(check_vial_drug(drug, drug), Ok(()));
        }
        assert_eq!(RegisterDrug::parse("diazepam"), None);
        assert_eq!(
            check_vial_drug(RegisterDrug::Ketamine, RegisterDrug::Midazolam),
            Err(WrongDrug {
                wanted: RegisterDrug::Ketamine,
                vial: RegisterDrug::Midazolam
            })
        );
        assert!(check_vial_drug(RegisterDrug::Midazolam, RegisterDrug::Ketamine).is_err());
    }

    #[test]
    fn the_biennial_inventory_is_due_two_years_after_the_last() {
        let last = jiff::civil::date(2025, 2, 28);
        assert_eq!(
            next_biennial_inventory(last),
            Some(jiff::civil::date(2027, 2, 28))
        );
    }
}
